#!/usr/bin/env bash
# Local infrastructure of Parley without Docker.
#
#   scripts/infra.sh up|down|status [server ...]
#
# servers: postgres redis nats kafka cassandra elasticsearch (default: all six).
#
# - postgres, redis, nats: reused when their port already answers (never stopped by
#   `down` then); otherwise started from the Debian packages (installed with apt-get
#   when missing) and recorded in .infra/<server>/started-by-us.
# - nats is the project's own server (port 4322, not the machine's 4222): users and
#   permissions from infra/nats/nats.conf, no anonymous access. A config edited while our
#   server runs is applied by `up` with a reload (SIGHUP), without a restart.
# - kafka, cassandra, elasticsearch: JVM servers whose jars Maven resolves from
#   infra/<server>/pom.xml into .infra/<server>/lib; launched in parallel, each
#   waited for with a real readiness probe.
#
# All state lives under .infra/ (PARLEY_INFRA_DIR): <server>/lib, data, logs/<server>.log,
# pid, started-by-us. `down` stops only what `up` started and keeps the data.
# See docs/infra.md for ports, environment variables and failure modes.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
INFRA_DIR=${PARLEY_INFRA_DIR:-$ROOT/.infra}
mkdir -p "$INFRA_DIR"
INFRA_DIR=$(cd "$INFRA_DIR" && pwd)
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

ALL_SERVERS=(postgres redis nats kafka cassandra elasticsearch)

PG_PORT=${PARLEY_POSTGRES_PORT:-5432}
REDIS_PORT=${PARLEY_REDIS_PORT:-6379}
# Not 4222: a NATS the machine runs there for others (without authentication) is never ours.
NATS_PORT=${PARLEY_NATS_PORT:-4322}
NATS_MONITOR_PORT=${PARLEY_NATS_MONITOR_PORT:-8322}
NATS_CONFIG=$ROOT/infra/nats/nats.conf
KAFKA_PORT=${PARLEY_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${PARLEY_KAFKA_CONTROLLER_PORT:-9093}
CASSANDRA_PORT=${PARLEY_CASSANDRA_PORT:-9042}
CASSANDRA_STORAGE_PORT=${PARLEY_CASSANDRA_STORAGE_PORT:-7000}
ES_PORT=${PARLEY_ELASTICSEARCH_PORT:-9200}
ES_TRANSPORT_PORT=${PARLEY_ELASTICSEARCH_TRANSPORT_PORT:-9300}

KAFKA_HEAP=${PARLEY_KAFKA_HEAP:-512m}
ES_HEAP=${PARLEY_ELASTICSEARCH_HEAP:-1g}
# Cassandra's heap is in infra/cassandra/jvm.options (-Xms1g -Xmx1g).

STOP_TIMEOUT=${PARLEY_STOP_TIMEOUT:-30}
NATIVE_TIMEOUT=${PARLEY_NATIVE_TIMEOUT:-30}
KAFKA_TIMEOUT=${PARLEY_KAFKA_TIMEOUT:-120}
CASSANDRA_TIMEOUT=${PARLEY_CASSANDRA_TIMEOUT:-180}
ES_TIMEOUT=${PARLEY_ELASTICSEARCH_TIMEOUT:-180}

MAVEN_SETTINGS=$ROOT/infra/maven-settings.xml
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.6.1

# --------------------------------------------------------------------------- helpers

say() { printf '[infra] %s\n' "$*"; }
warn() { printf '[infra] WARNING: %s\n' "$*" >&2; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
  cat >&2 <<EOF
usage: scripts/infra.sh up|down|status [server ...]
servers: ${ALL_SERVERS[*]} (default: all)
EOF
  exit 2
}

now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

sdir() { printf '%s/%s' "$INFRA_DIR" "$1"; }
logfile() { printf '%s/%s/logs/%s.log' "$INFRA_DIR" "$1" "$1"; }

prepare_dirs() { mkdir -p "$(sdir "$1")/data" "$(sdir "$1")/logs"; }

port_of() {
  case $1 in
    postgres) echo "$PG_PORT" ;;
    redis) echo "$REDIS_PORT" ;;
    nats) echo "$NATS_PORT" ;;
    kafka) echo "$KAFKA_PORT" ;;
    cassandra) echo "$CASSANDRA_PORT" ;;
    elasticsearch) echo "$ES_PORT" ;;
  esac
}

# A word that the command line of this server's process contains (guards against pid reuse).
cmd_marker() {
  case $1 in
    postgres) echo postgres ;;
    redis) echo redis-server ;;
    nats) echo nats-server ;;
    kafka) echo kafka.Kafka ;;
    cassandra) echo CassandraDaemon ;;
    elasticsearch) echo org.elasticsearch ;;
  esac
}

tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

pid_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

# Prints the pid recorded for this server when that process is alive and is that server.
our_pid() {
  local f pid
  f="$(sdir "$1")/pid"
  [[ -f $f ]] || return 1
  pid=$(head -n1 "$f" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  pid_alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$(cmd_marker "$1")" || return 1
  echo "$pid"
}

started_by_us() { [[ -f "$(sdir "$1")/started-by-us" ]]; }
mark_started() { date -u +%FT%TZ >"$(sdir "$1")/started-by-us"; }
unmark_started() { rm -f "$(sdir "$1")/started-by-us"; }

# pid listening on a port (for status of servers we did not start); empty when unknown.
listener_pid() {
  command -v ss >/dev/null || return 0
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2 || true
}

log_tail() {
  local f
  f=$(logfile "$1")
  if [[ -s $f ]]; then
    printf '[infra] ---- last 40 lines of %s ----\n' "$f" >&2
    tail -n 40 "$f" >&2
    printf '[infra] ---- end of %s ----\n' "$f" >&2
    local first
    first=$(grep -m 5 -E '(^|[] ])(ERROR|FATAL|Fatal)|Exception:|Caused by:|^Error' "$f" 2>/dev/null | cut -c1-300 || true)
    if [[ -n $first ]]; then
      printf '[infra] first error lines of %s:\n%s\n' "$f" "$first" >&2
    fi
  else
    printf '[infra] (log %s is empty or missing)\n' "$f" >&2
  fi
}

apt_install() {
  [[ $EUID -eq 0 ]] || die "missing $*; install it (apt-get install -y $*) or run as root"
  command -v apt-get >/dev/null || die "missing $* and no apt-get to install it"
  say "installing $* with apt-get"
  if [[ -z ${APT_UPDATED:-} ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 9>&-
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 9>&-
}

need_cmd() { # cmd apt-package
  command -v "$1" >/dev/null || apt_install "$2"
  command -v "$1" >/dev/null || die "$1 still missing after installing $2"
}

# Stops a process and its descendants: SIGTERM, wait up to STOP_TIMEOUT s, then SIGKILL.
stop_pid() {
  local pid=$1 name=$2 kids i
  kids=$(pgrep -P "$pid" 2>/dev/null | tr '\n' ' ' || true)
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 2; i++)); do
    pid_alive "$pid" || break
    sleep 0.5
  done
  if pid_alive "$pid"; then
    warn "$name (pid $pid) still alive after ${STOP_TIMEOUT}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  local k
  for k in $kids; do
    for ((i = 0; i < 20; i++)); do pid_alive "$k" || break; sleep 0.5; done
    pid_alive "$k" && kill -KILL "$k" 2>/dev/null || true
  done
  for ((i = 0; i < 20; i++)); do pid_alive "$pid" || break; sleep 0.25; done
  return 0
}

# Runs "$@" detached from this shell (own session, stdin closed, output to the log).
# The pid recorded is the server's own: setsid and nohup exec, they do not fork here.
launch() {
  local srv=$1
  shift
  local log
  log=$(logfile "$srv")
  [[ -f $log ]] && mv -f "$log" "$log.1"
  nohup setsid "$@" >>"$log" 2>&1 </dev/null 9>&- &
  echo $! >"$(sdir "$srv")/pid"
}

# ----------------------------------------------------------------- readiness probes

probe_postgres() {
  if command -v pg_isready >/dev/null; then
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 2
  else
    tcp_open "$PG_PORT"
  fi
}

probe_redis() {
  if command -v redis-cli >/dev/null; then
    [[ $(timeout 3 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
  else
    timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT; printf 'PING\r\n' >&3; read -r l <&3; [[ \$l == +PONG* ]]" 2>/dev/null
  fi
}

# NATS greets every client with an INFO line; it says whether JetStream is on.
nats_info() {
  timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$NATS_PORT; read -r l <&3; printf '%s' \"\$l\"" 2>/dev/null
}
probe_nats() {
  local info
  info=$(nats_info) || return 1
  [[ $info == INFO* ]]
}

KAFKA_PROBE_OUT=
probe_kafka() {
  tcp_open "$KAFKA_PORT" || return 1
  local lib cfg
  lib="$(sdir kafka)/lib"
  [[ -f $lib/.complete ]] || return 0 # external broker and no jars here: TCP is all we can check
  cfg="$(sdir kafka)/probe.properties"
  printf 'request.timeout.ms=5000\ndefault.api.timeout.ms=8000\n' >"$cfg"
  KAFKA_PROBE_OUT="$(sdir kafka)/logs/probe.log"
  timeout 30 java -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j.configuration="file:$ROOT/infra/kafka/log4j.properties" \
    -cp "$lib/*" org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "127.0.0.1:$KAFKA_PORT" --command-config "$cfg" --list \
    >"$KAFKA_PROBE_OUT" 2>&1
}

# A CQL native-protocol (v4) client in a few lines of Node: STARTUP, then
# SELECT release_version FROM system.local; prints the version.
read -r -d '' CQL_PROBE_JS <<'JS' || true
const net = require('net');
const host = process.argv[1], port = Number(process.argv[2]);
const fail = (m) => { console.error(m); process.exit(1); };
setTimeout(() => fail('timeout'), 5000).unref();
const frame = (stream, op, body) => {
  const h = Buffer.alloc(9); h[0] = 4; h[1] = 0; h.writeInt16BE(stream, 2); h[4] = op;
  h.writeInt32BE(body.length, 5); return Buffer.concat([h, body]);
};
const short = (n) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const str = (s) => { const b = Buffer.from(s); return Buffer.concat([short(b.length), b]); };
const longStr = (s) => { const b = Buffer.from(s); const l = Buffer.alloc(4); l.writeInt32BE(b.length); return Buffer.concat([l, b]); };
const sock = net.connect({ host, port });
sock.on('error', (e) => fail(e.message));
sock.on('connect', () => sock.write(frame(1, 0x01, Buffer.concat([short(1), str('CQL_VERSION'), str('3.0.0')]))));
let buf = Buffer.alloc(0);
sock.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  while (buf.length >= 9) {
    const len = buf.readInt32BE(5);
    if (buf.length < 9 + len) return;
    const op = buf[4], b = buf.subarray(9, 9 + len);
    buf = buf.subarray(9 + len);
    if (op === 0x00) fail('CQL error: ' + b.subarray(6, 6 + b.readUInt16BE(4)).toString());
    if (op === 0x02) { // READY
      sock.write(frame(2, 0x07, Buffer.concat([longStr('SELECT release_version FROM system.local'), short(1), Buffer.from([0])])));
      continue;
    }
    if (op !== 0x08) fail('unexpected opcode ' + op);
    let o = 0;
    if (b.readInt32BE(o) !== 2) fail('not a rows result'); o += 4;
    const flags = b.readInt32BE(o); o += 4;
    const cols = b.readInt32BE(o); o += 4;
    const skipStr = () => { o += 2 + b.readUInt16BE(o); };
    if (flags & 0x02) { const n = b.readInt32BE(o); o += 4 + Math.max(n, 0); }
    if (!(flags & 0x04)) {
      if (flags & 0x01) { skipStr(); skipStr(); }
      for (let i = 0; i < cols; i++) { if (!(flags & 0x01)) { skipStr(); skipStr(); } skipStr(); o += 2; }
    }
    if (b.readInt32BE(o) < 1) fail('system.local is empty'); o += 4;
    const n = b.readInt32BE(o); o += 4;
    console.log(b.subarray(o, o + n).toString());
    process.exit(0);
  }
});
JS

CASSANDRA_VERSION_SEEN=
probe_cassandra() {
  tcp_open "$CASSANDRA_PORT" || return 1
  if command -v node >/dev/null; then
    local v
    v=$(timeout 10 node -e "$CQL_PROBE_JS" 127.0.0.1 "$CASSANDRA_PORT" 2>/dev/null) || return 1
    CASSANDRA_VERSION_SEEN=$v
    return 0
  fi
  # No node: the port answers; for our own server also require the log line.
  if our_pid cassandra >/dev/null; then
    grep -q 'Starting listening for CQL clients' "$(logfile cassandra)" 2>/dev/null
  fi
}

probe_elasticsearch() {
  curl -fsS -m 5 "http://127.0.0.1:$ES_PORT/_cluster/health?wait_for_status=yellow&timeout=2s" >/dev/null 2>&1
}

probe() { "probe_$1"; }

# ------------------------------------------------------------------ jars (Maven)

# Resolves infra/<srv>/pom.xml into .infra/<srv>/lib unless a marker says a previous
# resolution of the same pom finished. A half download (no marker) is redone from scratch.
ensure_jars() {
  local srv=$1 lib pom sum
  lib="$(sdir "$srv")/lib"
  pom="$ROOT/infra/$srv/pom.xml"
  sum=$(sha256sum "$pom" | cut -d' ' -f1)
  if [[ -f $lib/.complete && $(cat "$lib/.complete") == "$sum" ]]; then
    return 0
  fi
  need_cmd java openjdk-17-jre-headless
  need_cmd mvn maven
  rm -rf "$lib"
  mkdir -p "$lib" "$(sdir "$srv")/logs"
  local t0 mlog
  t0=$(now)
  mlog="$(sdir "$srv")/logs/maven.log"
  say "$srv: resolving jars with Maven (first run downloads them)"
  if ! mvn -B -q -Dstyle.color=never -s "$MAVEN_SETTINGS" -f "$pom" \
    "$DEP_PLUGIN:copy-dependencies" -DincludeScope=runtime -DoutputDirectory="$lib" >"$mlog" 2>&1; then
    tail -n 40 "$mlog" >&2
    die "$srv: Maven could not resolve $pom (full output: $mlog)"
  fi
  if [[ $srv == elasticsearch ]]; then
    need_cmd unzip unzip
    local zip
    zip=$(ls "$lib"/elasticsearch-*.zip 2>/dev/null | head -n1)
    [[ -n $zip ]] || die "elasticsearch: no distribution zip in $lib"
    unzip -q -o "$zip" -d "$lib" || die "elasticsearch: could not unzip $zip"
    rm -f "$zip"
  fi
  echo "$sum" >"$lib/.complete"
  say "$srv: jars ready in $(since "$t0")s ($(du -sh "$lib" | cut -f1))"
}

# ---------------------------------------------------------------- native servers

start_postgres() {
  local fresh=
  command -v pg_ctlcluster >/dev/null || fresh=1
  need_cmd pg_ctlcluster postgresql
  need_cmd pg_isready postgresql-client
  probe_postgres && { say "postgres: running after package installation (external)"; return 0; }
  local ver cluster=${PARLEY_POSTGRES_CLUSTER:-main}
  ver=${PARLEY_POSTGRES_VERSION:-$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)}
  ver=${ver:-$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n1)}
  [[ -n $ver ]] || die "postgres: no PostgreSQL version found under /usr/lib/postgresql"
  prepare_dirs postgres
  local log
  log=$(logfile postgres)
  if [[ ! -d /etc/postgresql/$ver/$cluster ]]; then
    say "postgres: creating cluster $ver/$cluster on port $PG_PORT"
    fresh=1
    pg_createcluster "$ver" "$cluster" --port "$PG_PORT" >>"$log" 2>&1 9>&- || { log_tail postgres; die "postgres: pg_createcluster failed"; }
  fi
  say "postgres: starting cluster $ver/$cluster"
  if ! pg_ctlcluster --skip-systemctl-redirect "$ver" "$cluster" start >>"$log" 2>&1 9>&-; then
    tail -n 40 "/var/log/postgresql/postgresql-$ver-$cluster.log" >>"$log" 2>/dev/null || true
    log_tail postgres
    die "postgres: pg_ctlcluster $ver $cluster start failed"
  fi
  echo "$ver $cluster" >"$(sdir postgres)/cluster"
  mark_started postgres
  wait_native postgres
  # A database named like the project; on a cluster created just now also a password for
  # the postgres role (Debian's default host authentication asks for one).
  if [[ $EUID -eq 0 ]] && command -v runuser >/dev/null; then
    runuser -u postgres -- psql -p "$PG_PORT" -Atqc "SELECT 1 FROM pg_database WHERE datname='parley'" 2>/dev/null | grep -q 1 ||
      runuser -u postgres -- createdb -p "$PG_PORT" parley 2>/dev/null || true
    if [[ -n $fresh ]]; then
      runuser -u postgres -- psql -p "$PG_PORT" -qc "ALTER ROLE postgres PASSWORD 'postgres'" >/dev/null 2>&1 || true
    fi
  fi
}

start_redis() {
  need_cmd redis-server redis-server
  prepare_dirs redis
  local pidf log
  pidf="$(sdir redis)/pid"
  log=$(logfile redis)
  [[ -f $log ]] && mv -f "$log" "$log.1"
  rm -f "$pidf"
  say "redis: starting on 127.0.0.1:$REDIS_PORT"
  if ! redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$(sdir redis)/data" --logfile "$log" --pidfile "$pidf" >>"$log" 2>&1 9>&-; then
    log_tail redis
    die "redis: redis-server failed to start"
  fi
  mark_started redis
  wait_native redis
}

nats_config_sum() { sha256sum "$NATS_CONFIG" | cut -d' ' -f1; }

# nats-server -t parses the file without starting: a typo fails here, with the server's words.
check_nats_config() {
  local out
  if ! out=$(PARLEY_NATS_STORE_DIR="$(sdir nats)/data" nats-server -c "$NATS_CONFIG" -t 2>&1 | tr -d '\0'); then
    printf '%s\n' "$out" >&2
    die "nats: $NATS_CONFIG is invalid"
  fi
}

start_nats() {
  need_cmd nats-server nats-server
  [[ -f $NATS_CONFIG ]] || die "nats: $NATS_CONFIG is missing"
  check_nats_config
  prepare_dirs nats
  say "nats: starting on 127.0.0.1:$NATS_PORT (JetStream, users of infra/nats/nats.conf, monitor $NATS_MONITOR_PORT)"
  nats_config_sum >"$(sdir nats)/config.sha256"
  # Flags win over the file: address and ports are the local ones (docker-compose keeps the file's).
  launch nats env PARLEY_NATS_STORE_DIR="$(sdir nats)/data" nats-server -c "$NATS_CONFIG" -a 127.0.0.1 -p "$NATS_PORT" \
    -m "$NATS_MONITOR_PORT" -l "$(logfile nats)"
  mark_started nats
  wait_native nats
}

# Our server runs with an older infra/nats/nats.conf: reload it in place (users and
# permissions change without dropping JetStream or the clients that stay authorised).
reload_nats_if_changed() {
  local pid=$1 sumf want log before i
  sumf="$(sdir nats)/config.sha256"
  want=$(nats_config_sum)
  [[ -f $sumf && $(cat "$sumf") == "$want" ]] && return 0
  check_nats_config
  log=$(logfile nats)
  before=$(grep -c 'Reloaded server configuration' "$log" 2>/dev/null || true)
  say "nats: $NATS_CONFIG changed since pid $pid started; reloading it"
  kill -HUP "$pid"
  for ((i = 0; i < 40; i++)); do
    if (($(grep -c 'Reloaded server configuration' "$log" 2>/dev/null || true) > ${before:-0})); then
      echo "$want" >"$sumf"
      say "nats: configuration reloaded"
      return 0
    fi
    sleep 0.25
  done
  log_tail nats
  die "nats: pid $pid did not confirm the reload (see its log); restart it with: scripts/infra.sh down nats && scripts/infra.sh up nats"
}

# Waits for postgres/redis/nats after starting them.
wait_native() {
  local srv=$1 t0 pid
  t0=$(now)
  for ((i = 0; i < NATIVE_TIMEOUT * 4; i++)); do
    if probe "$srv"; then
      say "$srv: ready in $(since "$t0")s"
      return 0
    fi
    if [[ $srv == nats || ($srv == redis && -f "$(sdir redis)/pid") ]]; then
      pid=$(head -n1 "$(sdir "$srv")/pid" 2>/dev/null || true)
      if [[ -n $pid ]] && ! pid_alive "$pid"; then
        log_tail "$srv"
        unmark_started "$srv"
        die "$srv: process $pid exited during startup"
      fi
    fi
    sleep 0.25
  done
  log_tail "$srv"
  die "$srv: not ready after ${NATIVE_TIMEOUT}s"
}

up_native() {
  local srv=$1 pid
  if probe "$srv"; then
    if pid=$(our_pid "$srv"); then
      say "$srv: already running (pid $pid, started by us)"
    elif [[ $srv == postgres ]] && started_by_us postgres; then
      say "$srv: already running (started by us)"
    else
      unmark_started "$srv"
      say "$srv: already running on 127.0.0.1:$(port_of "$srv") (external, reused)"
    fi
    if [[ $srv == nats ]]; then
      local info
      info=$(nats_info)
      [[ $info == *'"jetstream":true'* ]] || warn "nats on port $NATS_PORT does not have JetStream enabled (start it with -js)"
      # Without authentication it lets anyone publish chat messages (docs/security.md).
      [[ $info == *'"auth_required":true'* ]] || warn "nats on port $NATS_PORT does not require authentication: it is not started from infra/nats/nats.conf"
      if pid=$(our_pid nats); then reload_nats_if_changed "$pid"; fi
    fi
    return 0
  fi
  "start_$srv"
}

# ------------------------------------------------------------------ JVM servers

kafka_config() {
  local cfg
  cfg="$(sdir kafka)/server.properties"
  {
    cat "$ROOT/infra/kafka/server.properties"
    printf '\n# ---- appended by scripts/infra.sh ----\n'
    printf 'log.dirs=%s\n' "$(sdir kafka)/data"
    printf 'listeners=PLAINTEXT://127.0.0.1:%s,CONTROLLER://127.0.0.1:%s\n' "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"
    printf 'advertised.listeners=PLAINTEXT://127.0.0.1:%s\n' "$KAFKA_PORT"
    printf 'controller.quorum.voters=1@127.0.0.1:%s\n' "$KAFKA_CONTROLLER_PORT"
  } >"$cfg"
  echo "$cfg"
}

launch_kafka() {
  local lib cfg d
  d=$(sdir kafka)
  lib="$d/lib"
  cfg=$(kafka_config)
  if [[ ! -f $d/data/meta.properties ]]; then
    local id out
    if [[ -s $d/cluster-id ]]; then
      id=$(cat "$d/cluster-id")
    else
      id=$(java -cp "$lib/*" -Dlog4j.configuration="file:$ROOT/infra/kafka/log4j.properties" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)
      [[ -n $id ]] || die "kafka: StorageTool random-uuid printed nothing"
      echo "$id" >"$d/cluster-id"
    fi
    say "kafka: formatting storage (cluster id $id)"
    if ! out=$(java -cp "$lib/*" -Dlog4j.configuration="file:$ROOT/infra/kafka/log4j.properties" \
      kafka.tools.StorageTool format -t "$id" -c "$cfg" -g 2>&1); then
      printf '%s\n' "$out" >&2
      die "kafka: storage format failed"
    fi
  fi
  say "kafka: starting on 127.0.0.1:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT, heap $KAFKA_HEAP)"
  launch kafka java -Xms256m -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$ROOT/infra/kafka/log4j.properties" -Dkafka.logs.dir="$d/logs" \
    -cp "$lib/*" kafka.Kafka "$cfg"
}

launch_cassandra() {
  local d lib opts=() line
  d=$(sdir cassandra)
  lib="$d/lib"
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%%#*}
    [[ -z ${line// /} ]] && continue
    read -ra parts <<<"$line"
    opts+=("${parts[@]}")
  done <"$ROOT/infra/cassandra/jvm.options"
  mkdir -p "$d/triggers"
  # As root Cassandra mlockall()s its whole memory, which costs ~6 s at start and pins
  # 1 GiB+ of RAM: drop CAP_IPC_LOCK so the lock is refused (logged as a warning).
  local nolock=()
  if [[ $EUID -eq 0 ]] && setpriv --bounding-set=-ipc_lock true 2>/dev/null; then
    nolock=(setpriv --bounding-set=-ipc_lock)
  fi
  say "cassandra: starting on 127.0.0.1:$CASSANDRA_PORT (storage port $CASSANDRA_STORAGE_PORT)"
  launch cassandra "${nolock[@]}" java "${opts[@]}" \
    -Dcassandra.config="file://$ROOT/infra/cassandra/cassandra.yaml" \
    -Dcassandra.storagedir="$d/data" -Dcassandra.logdir="$d/logs" -Dcassandra.triggers_dir="$d/triggers" \
    -Dlogback.configurationFile="$ROOT/infra/cassandra/logback.xml" \
    -Dcassandra.native_transport_port="$CASSANDRA_PORT" -Dcassandra.storage_port="$CASSANDRA_STORAGE_PORT" \
    -cp "$lib/*" org.apache.cassandra.service.CassandraDaemon
}

# Elasticsearch refuses to run as root: as root it runs as PARLEY_ELASTICSEARCH_USER (nobody).
es_user() {
  if [[ $EUID -eq 0 ]]; then echo "${PARLEY_ELASTICSEARCH_USER:-nobody}"; else id -un; fi
}

# Elasticsearch runs as an unprivileged user. When that user cannot reach the infra folder
# (a clone under /root, whose mode is 700), its files move to a world-reachable folder under
# /var/tmp and .infra/elasticsearch becomes a link to it; everything else stays in .infra/.
place_elasticsearch() {
  [[ $EUID -eq 0 ]] || return 0
  local link user target
  link=$(sdir elasticsearch)
  [[ -L $link ]] && return 0
  user=$(es_user)
  if setpriv --reuid="$user" --regid="$(id -g "$user" 2>/dev/null || echo 65534)" --clear-groups test -x "$INFRA_DIR" 2>/dev/null; then return 0; fi
  target="/var/tmp/parley-es-$(printf '%s' "$INFRA_DIR" | sha256sum | cut -c1-12)"
  mkdir -p "$target"
  chmod 755 "$target"
  if [[ -d $link ]]; then cp -a "$link"/. "$target"/ && rm -rf "$link"; fi
  ln -s "$target" "$link"
  say "elasticsearch: $INFRA_DIR is closed to user $user; its files live in $target"
}

launch_elasticsearch() {
  local d home conf user
  d=$(readlink -f "$(sdir elasticsearch)")
  home=$(ls -d "$d"/lib/elasticsearch-*/ 2>/dev/null | head -n1)
  home=${home%/}
  [[ -x $home/bin/elasticsearch ]] || die "elasticsearch: no distribution under $d/lib (delete $d/lib and retry)"
  conf="$d/config"
  # Its own temp dir: ES refuses to boot when its home lies under its temp dir (e.g. /tmp).
  mkdir -p "$conf/jvm.options.d" "$d/logs/es" "$d/tmp"
  # The distribution's config files (jvm.options, log4j2.properties, ...) refreshed at each
  # start, so a version bump brings its own; ours are written on top.
  cp -rf "$home"/config/. "$conf/"
  cat >"$conf/elasticsearch.yml" <<EOF
# Written by scripts/infra.sh at each start; edit the script, not this file.
cluster.name: parley-local
node.name: parley-es-1
network.host: 127.0.0.1
http.port: $ES_PORT
transport.port: $ES_TRANSPORT_PORT
discovery.type: single-node
path.data: $d/data
path.logs: $d/logs/es
# Plain HTTP, no authentication (like the docker-compose service).
xpack.security.enabled: false
# A nearly full disk must not turn indices read-only on a development machine.
cluster.routing.allocation.disk.threshold_enabled: false
action.auto_create_index: true
EOF
  # Heap; no pre-touching of it (faster start); GC log kept to 2 x 16 MB instead of 32 x 64 MB.
  cat >"$conf/jvm.options.d/parley.options" <<EOF
-Xms$ES_HEAP
-Xmx$ES_HEAP
-XX:-AlwaysPreTouch
-Xlog:disable
-Xlog:all=warning:stderr:uptime,level,tags
-Xlog:gc:file=gc.log:utctime,level,pid,tags:filecount=2,filesize=16m
EOF
  user=$(es_user)
  local run=()
  if [[ $EUID -eq 0 ]]; then
    id "$user" >/dev/null 2>&1 || die "elasticsearch: user $user does not exist (set PARLEY_ELASTICSEARCH_USER)"
    chown -R "$user" "$d/data" "$d/logs/es" "$d/tmp" "$conf"
    if ! setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups test -r "$home/lib" -a -w "$d/data"; then
      die "elasticsearch: user $user cannot read $home or write $d/data (is a parent directory closed? set PARLEY_INFRA_DIR to a world-readable place)"
    fi
    run=(setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups)
  fi
  local java_home
  java_home=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
  say "elasticsearch: starting on 127.0.0.1:$ES_PORT (heap $ES_HEAP, user $user)"
  launch elasticsearch "${run[@]}" env -i PATH=/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 \
    ES_JAVA_HOME="$java_home" ES_PATH_CONF="$conf" ES_TMPDIR="$d/tmp" \
    "$home/bin/elasticsearch"
}

timeout_of() {
  case $1 in
    kafka) echo "$KAFKA_TIMEOUT" ;;
    cassandra) echo "$CASSANDRA_TIMEOUT" ;;
    elasticsearch) echo "$ES_TIMEOUT" ;;
  esac
}

# Waits for one launched JVM server; run in a background subshell per server.
wait_jvm() {
  local srv=$1 t0=$2 limit pid
  limit=$(timeout_of "$srv")
  pid=$(head -n1 "$(sdir "$srv")/pid")
  while :; do
    if ! pid_alive "$pid"; then
      printf '[infra] ERROR: %s: process %s exited during startup\n' "$srv" "$pid" >&2
      log_tail "$srv"
      unmark_started "$srv"
      rm -f "$(sdir "$srv")/pid"
      return 1
    fi
    local ready=1
    case $srv in
      kafka) grep -q 'Kafka Server started' "$(logfile kafka)" 2>/dev/null && probe_kafka && ready=0 ;;
      *) probe "$srv" && ready=0 ;;
    esac
    if ((ready == 0)); then
      local extra=
      [[ $srv == cassandra && -n $CASSANDRA_VERSION_SEEN ]] && extra=" (release_version $CASSANDRA_VERSION_SEEN)"
      say "$srv: ready in $(since "$t0")s on 127.0.0.1:$(port_of "$srv")$extra"
      return 0
    fi
    if awk -v a="$t0" -v b="$(now)" -v l="$limit" 'BEGIN { exit !(b - a > l) }'; then
      printf '[infra] ERROR: %s: not ready after %ss (raise PARLEY_%s_TIMEOUT?); stopping it\n' \
        "$srv" "$limit" "${srv^^}" >&2
      log_tail "$srv"
      stop_pid "$pid" "$srv"
      unmark_started "$srv"
      rm -f "$(sdir "$srv")/pid"
      return 1
    fi
    sleep 0.5
  done
}

up_jvm() { # srv... : download all, launch all, then wait for all in parallel
  local srv pid to_start=() to_wait=() starts=()
  for srv in "$@"; do
    if pid=$(our_pid "$srv"); then
      if probe "$srv"; then
        say "$srv: already running (pid $pid, started by us)"
      else
        say "$srv: process $pid is up but not ready yet; waiting for it"
        to_wait+=("$srv")
        starts+=("$(now)")
      fi
    elif probe "$srv"; then
      say "$srv: already running on 127.0.0.1:$(port_of "$srv") (external, reused)"
    else
      local port
      port=$(port_of "$srv")
      if tcp_open "$port"; then
        die "$srv: port $port is taken by another process ($(listener_pid "$port" || true)) that does not answer like $srv"
      fi
      to_start+=("$srv")
    fi
  done
  ((${#to_start[@]} + ${#to_wait[@]} > 0)) || return 0
  if ((${#to_start[@]} > 0)); then
    need_cmd java openjdk-17-jre-headless
    for srv in "${to_start[@]}"; do
      [[ $srv == elasticsearch ]] && place_elasticsearch
      ensure_jars "$srv"
    done
    for srv in "${to_start[@]}"; do
      prepare_dirs "$srv"
      starts+=("$(now)")
      "launch_$srv"
      mark_started "$srv"
      to_wait+=("$srv")
    done
  fi
  local waiters=() i failed=0
  for i in "${!to_wait[@]}"; do
    wait_jvm "${to_wait[$i]}" "${starts[$i]}" &
    waiters+=($!)
  done
  for pid in "${waiters[@]}"; do
    wait "$pid" || failed=1
  done
  ((failed == 0)) || die "some servers failed to start (see above)"
}

# ------------------------------------------------------------------------ commands

# The project's database on whichever PostgreSQL answers (one reused from the machine too):
# the services and tests use DATABASE_URL's default, postgres://postgres@127.0.0.1/parley.
ensure_database() {
  local q="SELECT 1 FROM pg_database WHERE datname='parley'"
  if psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -Atqc "$q" 2>/dev/null | grep -q 1; then return 0; fi
  if psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qc 'CREATE DATABASE parley' >/dev/null 2>&1; then
    say "postgres: created database parley"
  elif [[ $EUID -eq 0 ]] && command -v runuser >/dev/null && runuser -u postgres -- createdb -p "$PG_PORT" parley 2>/dev/null; then
    say "postgres: created database parley"
  else
    say "postgres: could not create database parley (create it, or set DATABASE_URL)"
  fi
}

cmd_up() {
  local t0 srv jvm=()
  t0=$(now)
  for srv in "$@"; do
    case $srv in
      postgres) up_native postgres && ensure_database ;;
      redis | nats) up_native "$srv" ;;
      *) jvm+=("$srv") ;;
    esac
  done
  ((${#jvm[@]} == 0)) || up_jvm "${jvm[@]}"
  say "up: done in $(since "$t0")s"
}

down_one() {
  local srv=$1 pid
  case $srv in
    postgres)
      if started_by_us postgres; then
        local cl
        cl=$(cat "$(sdir postgres)/cluster" 2>/dev/null || true)
        if [[ -n $cl ]]; then
          say "postgres: stopping cluster $cl"
          # shellcheck disable=SC2086
          pg_ctlcluster --skip-systemctl-redirect $cl stop -m fast || warn "postgres: pg_ctlcluster stop failed"
        fi
        unmark_started postgres
      elif probe_postgres; then
        say "postgres: external, left running"
      else
        say "postgres: not running"
      fi
      return 0
      ;;
  esac
  if pid=$(our_pid "$srv"); then
    say "$srv: stopping pid $pid"
    stop_pid "$pid" "$srv"
    pid_alive "$pid" && die "$srv: pid $pid would not die"
    say "$srv: stopped"
  elif started_by_us "$srv"; then
    say "$srv: not running"
  elif probe "$srv"; then
    say "$srv: external (not started by infra.sh), left running"
  else
    say "$srv: not running"
  fi
  rm -f "$(sdir "$srv")/pid"
  unmark_started "$srv"
}

cmd_down() {
  local i
  for ((i = $# ; i >= 1; i--)); do down_one "${!i}"; done
}

cmd_status() {
  local srv state pid owner port
  for srv in "$@"; do
    port=$(port_of "$srv")
    pid=-
    owner=-
    state=down
    local p
    if p=$(our_pid "$srv"); then
      pid=$p
      owner=started-by-us
    elif started_by_us "$srv"; then
      owner=started-by-us
    fi
    if probe "$srv"; then
      state=up
      if [[ $owner == - ]]; then owner=external; fi
      if [[ $pid == - ]]; then p=$(listener_pid "$port"); pid=${p:--}; fi
    elif [[ $pid != - ]]; then
      state=starting
    fi
    local extra=
    if [[ $srv == nats && $state == up ]]; then
      if [[ $(nats_info) == *'"auth_required":true'* ]]; then extra=' auth=required'; else extra=' auth=NONE'; fi
    fi
    printf '%-14s %-9s pid=%-8s port=%-6s %s%s\n' "$srv" "$state" "$pid" "$port" "$owner" "$extra"
  done
}

# --------------------------------------------------------------------------- main

[[ $# -ge 1 ]] || usage
cmd=$1
shift
servers=("$@")
((${#servers[@]} > 0)) || servers=("${ALL_SERVERS[@]}")
for s in "${servers[@]}"; do
  [[ " ${ALL_SERVERS[*]} " == *" $s "* ]] || { echo "unknown server: $s" >&2; usage; }
done
# Keep the canonical order whatever order was given.
ordered=()
for s in "${ALL_SERVERS[@]}"; do
  [[ " ${servers[*]} " == *" $s "* ]] && ordered+=("$s")
done

# One up/down at a time (fd 9 is closed in every server we launch, so they do not hold it).
if [[ $cmd == up || $cmd == down ]] && command -v flock >/dev/null; then
  exec 9>"$INFRA_DIR/.lock"
  flock -w 600 9 || die "another scripts/infra.sh up/down holds $INFRA_DIR/.lock"
fi

case $cmd in
  up) cmd_up "${ordered[@]}" ;;
  down) cmd_down "${ordered[@]}" ;;
  status) cmd_status "${ordered[@]}" ;;
  *) usage ;;
esac
