#!/usr/bin/env bash
# Runs Parley's services in the background for `make up`:
#   scripts/services.sh start|stop|status|logs [svc ...]
# Each service logs JSON to .run/logs/<svc>.log; its pid is in .run/<svc>.pid.
# A service is ready when it logs "service ready" (see @parley/service).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN_DIR=${PARLEY_RUN_DIR:-.run}
mkdir -p "$RUN_DIR/logs"
cmd=${1:-status}; shift || true
svcs=("$@")
# Without names: every cmd/* that runs as a service (the terminal client in cmd/parley-cli does not).
if [[ ${#svcs[@]} -eq 0 ]]; then mapfile -t svcs < <(grep -l startService cmd/*/main.ts 2>/dev/null | cut -d/ -f2); fi

alive() { [[ -f $RUN_DIR/$1.pid ]] && kill -0 "$(cat "$RUN_DIR/$1.pid")" 2>/dev/null; }

start_one() {
  local svc=$1 log=$RUN_DIR/logs/$1.log
  if [[ ! -f cmd/$svc/main.ts ]]; then echo "  $svc: not built yet, skipped"; return 0; fi
  if alive "$svc"; then echo "  $svc: already running (pid $(cat "$RUN_DIR/$svc.pid"))"; return 0; fi
  : >"$log"
  # Everything runs on one host behind web-gateway: trust it (and only it) to name the client IP.
  USER_TRUSTED_PROXIES=${USER_TRUSTED_PROXIES-127.0.0.1,::1} REALTIME_TRUSTED_PROXIES=${REALTIME_TRUSTED_PROXIES-127.0.0.1,::1} \
    nohup node --import tsx "cmd/$svc/main.ts" >>"$log" 2>&1 &
  echo $! >"$RUN_DIR/$svc.pid"
  local deadline=$((SECONDS + ${PARLEY_SERVICE_START_TIMEOUT:-60}))
  while ((SECONDS < deadline)); do
    if grep -q '"msg":"service ready"' "$log"; then
      local where
      where=$(grep -o '"listening":"[^"]*"' "$log" | cut -d'"' -f4 | paste -sd' ' - || true)
      echo "  $svc: ready (pid $(cat "$RUN_DIR/$svc.pid")) ${where:-(worker, no port)}"
      return 0
    fi
    if ! alive "$svc"; then
      echo "  $svc: FAILED to start; last lines of $log:" >&2
      tail -n 30 "$log" >&2
      rm -f "$RUN_DIR/$svc.pid"
      return 1
    fi
    sleep 0.3
  done
  echo "  $svc: not ready within timeout; last lines of $log:" >&2
  tail -n 30 "$log" >&2
  return 1
}

stop_one() {
  local svc=$1
  alive "$svc" || { rm -f "$RUN_DIR/$svc.pid"; return 0; }
  local pid; pid=$(cat "$RUN_DIR/$svc.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then echo "  $svc: did not stop in 20 s, killing"; kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$RUN_DIR/$svc.pid"
  echo "  $svc: stopped"
}

case $cmd in
  start) for s in "${svcs[@]}"; do start_one "$s"; done ;;
  stop) for ((i = ${#svcs[@]} - 1; i >= 0; i--)); do stop_one "${svcs[$i]}"; done ;;
  status)
    for s in "${svcs[@]}"; do
      if alive "$s"; then echo "  $s: running (pid $(cat "$RUN_DIR/$s.pid"))"
      elif [[ -f cmd/$s/main.ts ]]; then echo "  $s: stopped"
      else echo "  $s: not built yet"; fi
    done ;;
  logs) files=(); for s in "${svcs[@]}"; do [[ -f $RUN_DIR/logs/$s.log ]] && files+=("$RUN_DIR/logs/$s.log"); done
    [[ ${#files[@]} -gt 0 ]] || { echo "no logs yet"; exit 0; }
    exec tail -n 50 -F "${files[@]}" ;;
  *) echo "usage: $0 start|stop|status|logs [svc ...]" >&2; exit 2 ;;
esac
