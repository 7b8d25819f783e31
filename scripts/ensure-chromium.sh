#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests when it is missing (no browser download by
# the test tool: the distribution's package is the one the tests drive).
set -euo pipefail
if [[ -x /usr/bin/chromium ]]; then exit 0; fi
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
echo "installing chromium from the distribution's packages"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version
