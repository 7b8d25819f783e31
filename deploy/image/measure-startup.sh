#!/usr/bin/env bash
# Start-up time and memory of the services as the image runs them (compiled JavaScript) and as
# `make up` runs them (TypeScript through the tsx loader), on this machine:
#
#   deploy/image/measure-startup.sh <compiled-tree> [reps]
#
# <compiled-tree> is what deploy/image/build-tree.sh made; the tsx runs use this checkout.
# Two measures per service and mode, each the median of [reps] (5) runs:
#   load:  node start -> exit 78 on a bad LOG_LEVEL: the whole module graph is loaded (main
#          imports the app statically) and config is parsed, but nothing connects. Needs no
#          server. Max RSS from /usr/bin/time.
#   ready: node start -> "service ready" in its log, and RSS 3 s later (VmRSS), for the
#          services whose servers run here (PostgreSQL, Redis and the project's NATS on 4322:
#          user-svc, room-svc, chat-realtime-svc; web-gateway needs none). Ports are 0 (free).
# The tsx runs get an empty TMPDIR each time: a container starts with tsx's cache empty.
set -euo pipefail
compiled=$(cd "${1:?usage: $0 <compiled-tree> [reps]}" && pwd)
reps=${2:-5}
src=$(cd "$(dirname "$0")/../.." && pwd)
nats=${PARLEY_NATS_PORT:-4322}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

env_of() {
  case $1 in
    user-svc) echo "USER_HTTP_PORT=0 USER_GRPC_PORT=0 NATS_URL=nats://user-svc:local-dev-user-svc@127.0.0.1:$nats DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/parley" ;;
    room-svc) echo "ROOM_HTTP_PORT=0 ROOM_GRPC_PORT=0 NATS_URL=nats://room-svc:local-dev-room-svc@127.0.0.1:$nats DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/parley" ;;
    chat-realtime-svc) echo "REALTIME_PORT=0 NATS_URL=nats://chat-realtime-svc:local-dev-chat-realtime-svc@127.0.0.1:$nats" ;;
    web-gateway) echo "WEB_PORT=0" ;;
  esac
}

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

load_once() {
  local mode=$1 svc=$2 tmp=$work/tmp-$RANDOM dir cmd
  mkdir -p "$tmp"
  if [[ $mode == js ]]; then dir=$compiled; cmd="node cmd/$svc/main.js"; else dir=$src; cmd="node --import tsx cmd/$svc/main.ts"; fi
  (cd "$dir" && TMPDIR=$tmp LOG_LEVEL=bogus /usr/bin/time -f '%e %M' -o "$work/time" $cmd >/dev/null 2>&1) || true
  tail -n1 "$work/time"
  rm -rf "$tmp"
}

ready_once() {
  local mode=$1 svc=$2 tmp=$work/tmp-$RANDOM dir cmd log=$work/log pid t0 t1 rss
  mkdir -p "$tmp"
  if [[ $mode == js ]]; then dir=$compiled; cmd="node cmd/$svc/main.js"; else dir=$src; cmd="node --import tsx cmd/$svc/main.ts"; fi
  : >"$log"
  t0=$(date +%s.%N)
  (cd "$dir" && exec env TMPDIR="$tmp" $(env_of "$svc") $cmd >"$log" 2>&1) &
  pid=$!
  until grep -q '"msg":"service ready"' "$log"; do
    kill -0 "$pid" 2>/dev/null || { echo "$svc ($mode) exited before ready:" >&2; tail -n 5 "$log" >&2; return 1; }
    sleep 0.02
  done
  t1=$(date +%s.%N)
  sleep 3
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$tmp"
  echo "$(echo "$t1 - $t0" | bc) $rss"
}

printf '%-26s %-5s %12s %14s %12s %14s\n' service mode 'load s' 'load maxRSS MB' 'ready s' 'RSS@ready+3s MB'
for svc in user-svc room-svc chat-query-svc chat-realtime-svc chat-ingestion-svc chat-command-cql-svc chat-command-elastic-svc web-gateway; do
  for mode in js tsx; do
    : >"$work/load"; : >"$work/ready"
    for _ in $(seq 1 "$reps"); do load_once "$mode" "$svc" >>"$work/load"; done
    lt=$(cut -d' ' -f1 "$work/load" | median); lm=$(cut -d' ' -f2 "$work/load" | median)
    rt=-; rm=-
    if [[ -n $(env_of "$svc") ]]; then
      for _ in $(seq 1 "$reps"); do ready_once "$mode" "$svc" >>"$work/ready"; done
      rt=$(cut -d' ' -f1 "$work/ready" | median); rm=$(( $(cut -d' ' -f2 "$work/ready" | median) / 1024 ))
    fi
    printf '%-26s %-5s %12s %14s %12s %14s\n' "$svc" "$mode" "$lt" "$((lm / 1024))" "$rt" "$rm"
  done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
