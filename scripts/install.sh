#!/usr/bin/env bash
# Installs node dependencies from the lockfile when node_modules is missing or older than it.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.parley-installed
if [[ -f $stamp && $stamp -nt package-lock.json ]]; then exit 0; fi
echo "installing node dependencies (npm ci)"
npm ci --no-audit --no-fund --loglevel=error
touch "$stamp"
