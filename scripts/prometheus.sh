#!/usr/bin/env bash
# Parley's Prometheus for `make up`: Debian's server with infra/prometheus/prometheus.yml,
# scraping every service on the ports scripts/services.sh gives them.
#
#   scripts/prometheus.sh up|down|status|url
#
# - Listens on 127.0.0.1:PARLEY_PROMETHEUS_PORT (9090). Data under .infra/prometheus/data
#   (PARLEY_INFRA_DIR), kept 7 days; log .infra/prometheus/logs/prometheus.log.
# - `up` reuses a Prometheus that already answers on the port when it scrapes Parley's jobs
#   (and reloads the repo's config into it when it is ours); one that answers with another
#   configuration is not ours to change: `up` says so and stops.
# - Installs the package when missing (scripts/ensure-prometheus.sh). `down` stops only a
#   server `up` started.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
INFRA_DIR=${PARLEY_INFRA_DIR:-$ROOT/.infra}
DIR=$INFRA_DIR/prometheus
PORT=${PARLEY_PROMETHEUS_PORT:-9090}
URL=http://127.0.0.1:$PORT
CONFIG=$ROOT/infra/prometheus/prometheus.yml
TIMEOUT=${PARLEY_PROMETHEUS_TIMEOUT:-30}

say() { printf '[prometheus] %s\n' "$*"; }
die() { printf '[prometheus] ERROR: %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib/daemon.sh
source "$ROOT/scripts/lib/daemon.sh"

answers() { curl -fsS -m 2 "$URL/-/ready" >/dev/null 2>&1; }
# Its loaded configuration scrapes Parley's services (job chat-ingestion-svc, say).
is_parleys() { curl -fsS -m 3 "$URL/api/v1/status/config" 2>/dev/null | grep -q 'job_name: chat-ingestion-svc'; }
our_pid() {
  local pid
  pid=$(cat "$DIR/pid" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--config.file=$CONFIG" && echo "$pid"
}

cmd_up() {
  if answers; then
    is_parleys || die "a Prometheus on $URL scrapes something else; stop it or set PARLEY_PROMETHEUS_PORT"
    local pid
    if pid=$(our_pid); then
      promtool check config "$CONFIG" >/dev/null || die "$CONFIG is invalid (promtool check config)"
      curl -fsS -m 5 -X POST "$URL/-/reload" >/dev/null || die "pid $pid did not reload $CONFIG"
      say "already running (pid $pid, started by us; configuration reloaded): $URL"
    else
      say "already running on $URL (external, reused)"
    fi
    return 0
  fi
  "$ROOT/scripts/ensure-prometheus.sh"
  local out
  out=$(promtool check config "$CONFIG" 2>&1) || { printf '%s\n' "$out" >&2; die "$CONFIG is invalid"; }
  mkdir -p "$DIR/data" "$DIR/logs"
  local log=$DIR/logs/prometheus.log
  [[ -f $log ]] && mv -f "$log" "$log.1"
  nohup setsid prometheus --config.file="$CONFIG" --storage.tsdb.path="$DIR/data" --storage.tsdb.retention.time=7d \
    --web.listen-address="127.0.0.1:$PORT" --web.enable-lifecycle >>"$log" 2>&1 </dev/null 9>&- &
  echo $! >"$DIR/pid"
  daemon_wait_ready "$DIR" "$log" "$TIMEOUT" "$URL"
}

cmd_down() { daemon_down "$DIR"; }

cmd_status() { daemon_status prometheus "$URL"; }

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  url) echo "$URL" ;;
  *) echo "usage: $0 up|down|status|url" >&2; exit 2 ;;
esac
