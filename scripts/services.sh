#!/usr/bin/env bash
# Runs Parley's services in the background for `make up`:
#   scripts/services.sh start|stop|status|logs [svc ...] | run <svc>
# Each service logs JSON to .run/logs/<svc>.log; its pid is in .run/<svc>.pid. A start moves
# the previous log to <svc>.log.1 (and .1 to .2, .2 to .3): the log that says why a service
# died survives its restart. A service is ready when it logs "service ready" (see
# @parley/service) in the log of this start.
#
# Credentials (docs/security.md): each service that uses NATS connects as its own user of
# infra/nats/nats.conf (local dev passwords) to the project's NATS on PARLEY_NATS_PORT (4322).
# web-gateway proves what it forwards with a proxy secret, generated once into
# .run/proxy-secret (or PARLEY_PROXY_SECRET); user-svc and the edge believe X-Forwarded-For
# only from 127.0.0.1/::1 with that secret, so a client on this host cannot pick its address.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN_DIR=${PARLEY_RUN_DIR:-.run}
mkdir -p "$RUN_DIR/logs"
cmd=${1:-status}; shift || true
svcs=("$@")
# Without names: every cmd/* that runs as a service (the terminal client in cmd/parley-cli does not).
if [[ ${#svcs[@]} -eq 0 ]]; then mapfile -t svcs < <(grep -l startService cmd/*/main.ts 2>/dev/null | cut -d/ -f2); fi

NATS_PORT=${PARLEY_NATS_PORT:-4322}
LOG_KEEP=3

alive() { [[ -f $RUN_DIR/$1.pid ]] && kill -0 "$(cat "$RUN_DIR/$1.pid")" 2>/dev/null; }

# A secret generated once into $RUN_DIR/<name> (mode 600) unless the environment gives one.
run_secret() {
  local f=$RUN_DIR/$1 given=$2
  if [[ -n $given ]]; then printf '%s' "$given"; return; fi
  if [[ ! -s $f ]]; then
    (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$f")
  fi
  cat "$f"
}

# The secret web-gateway shares with user-svc and the edge.
proxy_secret() { run_secret proxy-secret "${PARLEY_PROXY_SECRET:-}"; }

# The operator token of chat-query-svc's admin API (make erase), generated once like the proxy secret.
admin_token() { run_secret admin-token "${QUERY_ADMIN_TOKEN:-}"; }

# The NATS user of infra/nats/nats.conf a service connects as (none: it does not use NATS).
nats_url() {
  case $1 in
    user-svc | room-svc | chat-realtime-svc | chat-ingestion-svc | chat-command-cql-svc | chat-query-svc)
      printf 'nats://%s:local-dev-%s@127.0.0.1:%s' "$1" "$1" "$NATS_PORT" ;;
  esac
}

# Exports one service's environment (in the subshell that becomes the service). Everything runs
# on one host behind web-gateway: the services trust its address, and only with the secret.
service_env() {
  local url secret
  url=$(nats_url "$1")
  secret=$(proxy_secret)
  if [[ -n $url ]]; then export NATS_URL=$url; fi
  # Every message traced into the local Zipkin (scripts/zipkin.sh); TRACE_SAMPLE_RATIO=0 turns it off.
  export TRACE_SAMPLE_RATIO=${TRACE_SAMPLE_RATIO-1} TRACE_URL=${TRACE_URL-http://127.0.0.1:${PARLEY_ZIPKIN_PORT:-9411}/api/v2/spans}
  case $1 in
    user-svc) export USER_TRUSTED_PROXIES=${USER_TRUSTED_PROXIES-127.0.0.1,::1} USER_PROXY_SECRET=$secret ;;
    chat-realtime-svc) export REALTIME_TRUSTED_PROXIES=${REALTIME_TRUSTED_PROXIES-127.0.0.1,::1} REALTIME_PROXY_SECRET=$secret ;;
    web-gateway) export WEB_PROXY_SECRET=$secret ;;
    chat-query-svc) QUERY_ADMIN_TOKEN=$(admin_token) && export QUERY_ADMIN_TOKEN ;;
    # The workers have no API port: their /healthz and /readyz live on an ops port.
    chat-ingestion-svc) export OPS_PORT=${INGESTION_OPS_PORT:-8005} ;;
    chat-command-cql-svc) export OPS_PORT=${CQL_OPS_PORT:-8006} ;;
    chat-command-elastic-svc) export OPS_PORT=${ELASTIC_OPS_PORT:-8007} ;;
  esac
}

# <svc>.log -> .1 -> .2 ... -> .LOG_KEEP (the oldest is dropped).
rotate_log() {
  local log=$1 i
  [[ -s $log ]] || { rm -f "$log"; return 0; }
  for ((i = LOG_KEEP - 1; i >= 1; i--)); do
    [[ -f $log.$i ]] && mv -f "$log.$i" "$log.$((i + 1))"
  done
  mv -f "$log" "$log.1"
}

start_one() {
  local svc=$1 log=$RUN_DIR/logs/$1.log
  if [[ ! -f cmd/$svc/main.ts ]]; then echo "  $svc: not built yet, skipped"; return 0; fi
  if alive "$svc"; then echo "  $svc: already running (pid $(cat "$RUN_DIR/$svc.pid"))"; return 0; fi
  rotate_log "$log"
  printf '{"msg":"scripts/services.sh start","service":"%s","time":"%s"}\n' "$svc" "$(date -u +%FT%TZ)" >"$log"
  (service_env "$svc" && exec nohup node --import tsx "cmd/$svc/main.ts" >>"$log" 2>&1) &
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
  run) # one service in the foreground with the environment `start` gives it (make start-<svc>)
    [[ ${#svcs[@]} -eq 1 && -f cmd/${svcs[0]}/main.ts ]] || { echo "usage: $0 run <svc>" >&2; exit 2; }
    service_env "${svcs[0]}"
    exec node --import tsx "cmd/${svcs[0]}/main.ts" ;;
  start) proxy_secret >/dev/null; for s in "${svcs[@]}"; do start_one "$s"; done ;;
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
  *) echo "usage: $0 start|stop|status|logs [svc ...] | run <svc>" >&2; exit 2 ;;
esac
