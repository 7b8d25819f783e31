#!/usr/bin/env bash
# Installs Debian's Prometheus (prometheus and promtool) when it is missing. The package's own
# daemon is not started: Parley runs its own server with the repo's config (scripts/prometheus.sh).
set -euo pipefail
if command -v prometheus >/dev/null && command -v promtool >/dev/null; then exit 0; fi
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
echo "installing prometheus from the distribution's packages"
# While installing, forbid the package from starting its service (the usual policy-rc.d way).
policy=/usr/sbin/policy-rc.d
added=
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  added=1
fi
trap '[[ -n $added ]] && $SUDO rm -f "$policy"' EXIT
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
prometheus --version 2>&1 | head -n1
