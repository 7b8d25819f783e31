#!/usr/bin/env bash
# Parley's trace backend for `make up` and the tracing tests: Zipkin's server from Maven Central
# (io.zipkin:zipkin-server:3.5.1, classifier exec), in-memory storage.
#
#   scripts/zipkin.sh up|down|status|url|jar
#
# - Listens on 127.0.0.1:PARLEY_ZIPKIN_PORT (9411): UI at /zipkin/, spans in at /api/v2/spans.
#   Heap PARLEY_ZIPKIN_HEAP (256m), at most PARLEY_ZIPKIN_MAX_SPANS (100000) kept; a restart
#   forgets every trace. Log .infra/zipkin/logs/zipkin.log (PARLEY_INFRA_DIR).
# - The jar is fetched by Maven once into .cache/zipkin (git-ignored); `jar` fetches it and
#   prints its path (tests start their own server from it on a random port).
# - `up` reuses a Zipkin that already answers on the port; `down` stops only one `up` started.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
INFRA_DIR=${PARLEY_INFRA_DIR:-$ROOT/.infra}
DIR=$INFRA_DIR/zipkin
PORT=${PARLEY_ZIPKIN_PORT:-9411}
URL=http://127.0.0.1:$PORT
HEAP=${PARLEY_ZIPKIN_HEAP:-256m}
MAX_SPANS=${PARLEY_ZIPKIN_MAX_SPANS:-100000}
TIMEOUT=${PARLEY_ZIPKIN_TIMEOUT:-90}
VERSION=3.5.1
CACHE=$ROOT/.cache/zipkin
JAR=$CACHE/zipkin-server-$VERSION-exec.jar

say() { printf '[zipkin] %s\n' "$*" >&2; }
die() { printf '[zipkin] ERROR: %s\n' "$*" >&2; exit 1; }
# shellcheck source=lib/daemon.sh
source "$ROOT/scripts/lib/daemon.sh"

answers() { curl -fsS -m 2 "$URL/health" 2>/dev/null | grep -q '"zipkin"'; }
our_pid() {
  local pid
  pid=$(cat "$DIR/pid" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$JAR" && echo "$pid"
}

ensure_jar() {
  [[ -s $JAR ]] && return 0
  command -v java >/dev/null || die "java not found (apt-get install openjdk-17-jre-headless)"
  command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
  mkdir -p "$CACHE"
  say "fetching io.zipkin:zipkin-server:$VERSION:exec with Maven (once)"
  local tmp=$CACHE/.download
  rm -rf "$tmp"
  mvn -B -q -Dstyle.color=never -s "$ROOT/infra/maven-settings.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
    "-Dartifact=io.zipkin:zipkin-server:$VERSION:jar:exec" -DoutputDirectory="$tmp" >&2 || die "Maven could not fetch zipkin-server $VERSION"
  mv -f "$tmp/zipkin-server-$VERSION-exec.jar" "$JAR"
  rm -rf "$tmp"
}

cmd_up() {
  if answers; then
    local pid
    if pid=$(our_pid); then say "already running (pid $pid, started by us): $URL/zipkin/"; else say "already running on $URL (external, reused)"; fi
    return 0
  fi
  ensure_jar
  mkdir -p "$DIR/logs"
  local log=$DIR/logs/zipkin.log
  [[ -f $log ]] && mv -f "$log" "$log.1"
  MEM_MAX_SPANS=$MAX_SPANS nohup setsid java "-Xms$HEAP" "-Xmx$HEAP" -XX:+UseSerialGC -jar "$JAR" \
    "--armeria.ports[0].ip=127.0.0.1" "--armeria.ports[0].port=$PORT" >>"$log" 2>&1 </dev/null 9>&- &
  echo $! >"$DIR/pid"
  daemon_wait_ready "$DIR" "$log" "$TIMEOUT" "$URL/zipkin/"
}

cmd_down() { daemon_down "$DIR"; }

cmd_status() { daemon_status zipkin "$URL"; }

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  url) echo "$URL" ;;
  jar) ensure_jar; echo "$JAR" ;;
  *) echo "usage: $0 up|down|status|url|jar" >&2; exit 2 ;;
esac
