# Shared by the scripts that run one local server in the background for `make up`
# (scripts/prometheus.sh, scripts/zipkin.sh). The caller defines say, die, answers and our_pid.

# daemon_wait_ready DIR LOG TIMEOUT_S READY_URL: the server whose pid is in DIR/pid answers
# (`answers`) within TIMEOUT_S, or this dies with the tail of LOG.
daemon_wait_ready() {
  local dir=$1 log=$2 timeout=$3 ready_url=$4 i
  for ((i = 0; i < timeout * 4; i++)); do
    if answers; then say "ready (pid $(cat "$dir/pid")): $ready_url"; return 0; fi
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || { tail -n 30 "$log" >&2; die "exited during startup (log: $log)"; }
    sleep 0.25
  done
  tail -n 30 "$log" >&2
  die "not ready after ${timeout}s (log: $log)"
}

# daemon_down DIR: stops the server `up` started (TERM, then KILL after 20 s); others are left alone.
daemon_down() {
  local dir=$1 pid i
  if ! pid=$(our_pid); then say "not started by us; left alone"; rm -f "$dir/pid"; return 0; fi
  kill -TERM "$pid"
  for ((i = 0; i < 80; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  rm -f "$dir/pid"
  say "stopped"
}

# daemon_status NAME URL: one line, as scripts/infra.sh status prints its servers.
daemon_status() {
  local name=$1 url=$2 pid owner=external
  if pid=$(our_pid); then owner="started-by-us pid=$pid"; fi
  if answers; then printf '%-14s %-9s %s %s\n' "$name" up "$url" "$owner"; else printf '%-14s %-9s %s\n' "$name" down "$url"; fi
}
