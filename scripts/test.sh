#!/usr/bin/env bash
# Runs node's built-in test runner over the unit (test/) and integration (test-int/) folders.
# Node 20's runner takes no globs, so the files are listed here.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-all}
case $kind in
  unit) pattern='*/test/*' ;;
  integration) pattern='*/test-int/*' ;;
  all) pattern='*/test*/*' ;;
  *) echo "usage: $0 unit|integration|all" >&2; exit 2 ;;
esac
mapfile -t files < <(find packages cmd e2e bench -path '*/node_modules' -prune -o -path "$pattern" -name '*.test.ts' -print 2>/dev/null | sort)
if [[ ${#files[@]} -eq 0 ]]; then echo "no test files for $kind" >&2; exit 1; fi
# Two cores: two test files at a time keeps the servers responsive.
exec node --import tsx --test --test-force-exit --test-concurrency="${PARLEY_TEST_CONCURRENCY:-2}" --test-timeout="${PARLEY_TEST_TIMEOUT_MS:-240000}" "${files[@]}"
