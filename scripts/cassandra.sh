#!/usr/bin/env bash
# Run a real single-node Apache Cassandra 5.0 on 127.0.0.1:9042 for development
# and CI, without Docker: the server jars come from Maven Central
# (org.apache.cassandra:cassandra-all) and run on the machine's JDK 17.
#
# Usage: scripts/cassandra.sh fetch|start|stop|status|restart|logs
#
#   fetch    download cassandra-all and its runtime dependencies into
#            $CASSANDRA_HOME/lib (skipped when already complete)
#   start    fetch if needed, wipe and recreate $CASSANDRA_HOME/run, start the
#            node in the background and wait until CQL clients can connect.
#            No-op when a node started by this script is already up.
#   stop     SIGTERM, wait up to 30 s, then SIGKILL. No-op when not running.
#   status   exit 0 when the node is running and its CQL port accepts connections
#   restart  stop then start (fresh data)
#   logs     print the last 60 lines of the node's system.log
#
# Environment:
#   CASSANDRA_HOME           where lib/ and run/ live   (default: <repo>/.cassandra)
#   CASSANDRA_VERSION        cassandra-all version      (default: 5.0.8)
#   CASSANDRA_HEAP           -Xms/-Xmx                  (default: 1g)
#   CASSANDRA_PORT           CQL native port            (default: 9042)
#   CASSANDRA_START_TIMEOUT  seconds to wait for ready  (default: 180)
#   CASSANDRA_JVM_OPTS       extra JVM options, appended as-is
#   JAVA_HOME                JDK to use (must be 11 or 17; Cassandra 5.0 refuses 21+)
#
# Every start is a brand-new, empty node: keyspaces do not survive a restart.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC_DIR="$REPO/scripts/cassandra"
CASSANDRA_HOME="${CASSANDRA_HOME:-$REPO/.cassandra}"
CASSANDRA_VERSION="${CASSANDRA_VERSION:-5.0.8}"
CASSANDRA_HEAP="${CASSANDRA_HEAP:-1g}"
CASSANDRA_PORT="${CASSANDRA_PORT:-9042}"
CASSANDRA_START_TIMEOUT="${CASSANDRA_START_TIMEOUT:-180}"
HOST=127.0.0.1

LIB_DIR="$CASSANDRA_HOME/lib"
LIB_MARKER="$LIB_DIR/.complete"        # holds the version whose jars are fully copied
RUN_DIR="$CASSANDRA_HOME/run"
LOG_DIR="$RUN_DIR/logs"
PID_FILE="$CASSANDRA_HOME/cassandra.pid" # outside RUN_DIR so that wiping it cannot lose a live pid
SYSTEM_LOG="$LOG_DIR/system.log"
STDOUT_LOG="$LOG_DIR/stdout.log"

log() { printf '[cassandra] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- helpers

# True when something accepts TCP connections on HOST:CASSANDRA_PORT.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$CASSANDRA_PORT" 2>/dev/null
}

# Prints the pid of the node started by this script, if that process is alive.
running_pid() {
  local pid
  [[ -f "$PID_FILE" ]] || return 1
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Guard against pid reuse: the process must be our CassandraDaemon.
  grep -q 'org.apache.cassandra.service.CassandraDaemon' "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

tail_logs() {
  local f
  for f in "$SYSTEM_LOG" "$STDOUT_LOG"; do
    if [[ -s "$f" ]]; then
      log "last 60 lines of $f:"
      tail -n 60 "$f" >&2
    fi
  done
}

# Picks a java binary that Cassandra 5.0 accepts (JDK 11 or 17).
find_java() {
  local candidates=() j major
  [[ -n "${JAVA_HOME:-}" ]] && candidates+=("$JAVA_HOME/bin/java")
  command -v java >/dev/null 2>&1 && candidates+=("$(command -v java)")
  candidates+=(/usr/lib/jvm/java-17-openjdk-*/bin/java /usr/lib/jvm/*17*/bin/java)
  for j in "${candidates[@]}"; do
    [[ -x "$j" ]] || continue
    major="$("$j" -XshowSettings:properties -version 2>&1 \
      | sed -n 's/^ *java\.specification\.version = //p')"
    if [[ "$major" == 17 || "$major" == 11 ]]; then
      echo "$j"
      return 0
    fi
  done
  die "no JDK 17 (or 11) found; Cassandra 5.0 does not run on newer JDKs. Set JAVA_HOME."
}

# ---------------------------------------------------------------- fetch

cmd_fetch() {
  if [[ -f "$LIB_MARKER" && "$(cat "$LIB_MARKER")" == "$CASSANDRA_VERSION" ]] \
     && compgen -G "$LIB_DIR/cassandra-all-$CASSANDRA_VERSION.jar" >/dev/null; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn (Maven) is required to download the Cassandra jars"
  # A previous partial download or another version: start from an empty lib dir
  # so that jars of two versions never end up on one classpath.
  rm -rf "$LIB_DIR"
  mkdir -p "$LIB_DIR"
  log "downloading cassandra-all $CASSANDRA_VERSION and dependencies into $LIB_DIR ..."
  local t0=$SECONDS
  # Output goes to a log (even -q prints stray ANSI codes); shown only on failure.
  if ! mvn -q -B -Dstyle.color=never -f "$SRC_DIR/pom.xml" dependency:copy-dependencies \
      -Dcassandra.version="$CASSANDRA_VERSION" \
      -Dcassandra.lib.dir="$LIB_DIR" >"$CASSANDRA_HOME/fetch.log" 2>&1; then
    tail -n 40 "$CASSANDRA_HOME/fetch.log" >&2
    die "maven could not fetch cassandra-all $CASSANDRA_VERSION (try CASSANDRA_VERSION=5.0.6)"
  fi
  compgen -G "$LIB_DIR/jamm-*.jar" >/dev/null || die "jamm jar missing from $LIB_DIR"
  echo "$CASSANDRA_VERSION" > "$LIB_MARKER"
  log "fetched $(find "$LIB_DIR" -name '*.jar' | wc -l) jars ($(du -sh "$LIB_DIR" | cut -f1)) in $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------- start

# Waits until the node logged that CQL is up AND the port accepts connections.
wait_ready() {
  local pid="$1" t0=$SECONDS
  while (( SECONDS - t0 < CASSANDRA_START_TIMEOUT )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail_logs
      die "Cassandra (pid $pid) exited during start-up"
    fi
    if grep -qE 'Starting listening for CQL clients|Startup complete' "$SYSTEM_LOG" 2>/dev/null \
       && port_open; then
      log "ready on $HOST:$CASSANDRA_PORT (pid $pid) after $((SECONDS - t0)) s"
      return 0
    fi
    sleep 1
  done
  tail_logs
  die "Cassandra not ready after ${CASSANDRA_START_TIMEOUT} s (pid $pid still running; 'scripts/cassandra.sh stop' to end it)"
}

cmd_start() {
  local pid java jamm
  if pid="$(running_pid)"; then
    if port_open; then
      log "already running (pid $pid) on $HOST:$CASSANDRA_PORT"
      return 0
    fi
    # Started by an earlier call that is perhaps still waiting: just wait too.
    log "pid $pid is running but the port is not open yet; waiting"
    wait_ready "$pid"
    return 0
  fi
  if port_open; then
    die "$HOST:$CASSANDRA_PORT is already in use by a process not started by this script"
  fi

  cmd_fetch
  java="$(find_java)"
  jamm="$(compgen -G "$LIB_DIR/jamm-*.jar" | head -n 1)"

  # Fresh node every time: stale data from another cluster name or schema
  # would refuse to start or leak state between test runs.
  rm -rf "$RUN_DIR"
  mkdir -p "$LOG_DIR"
  sed -e "s/@NATIVE_PORT@/$CASSANDRA_PORT/" "$SRC_DIR/cassandra.yaml" > "$RUN_DIR/cassandra.yaml"
  cp "$SRC_DIR/logback.xml" "$RUN_DIR/logback.xml"

  local jvm_opts=(
    "-Xms$CASSANDRA_HEAP" "-Xmx$CASSANDRA_HEAP" -Xss256k
    -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxGCPauseMillis=300
    -XX:+ExitOnOutOfMemoryError       # a half-dead node is worse than a dead one in tests
    -XX:+PerfDisableSharedMem          # no /tmp/hsperfdata mmap writes (as upstream)
    -Djava.net.preferIPv4Stack=true
    # jamm measures object sizes (memtables, caches); without the agent start-up
    # fails with a field-offset error on JDK 17 hidden classes.
    "-javaagent:$jamm"
    # JDK 17 module access, as in Cassandra 5.0's conf/jvm17-server.options.
    -Djdk.attach.allowAttachSelf=true
    --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
    --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
    --add-exports java.sql/java.sql=ALL-UNNAMED
    --add-exports java.base/java.lang.ref=ALL-UNNAMED
    --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
    --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
    --add-opens java.base/java.lang.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
    --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
    --add-opens java.base/jdk.internal.math=ALL-UNNAMED
    --add-opens java.base/jdk.internal.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
    --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
    --add-opens java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens java.base/java.io=ALL-UNNAMED
    --add-opens java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
    --add-opens java.base/java.lang=ALL-UNNAMED
    --add-opens java.base/java.util=ALL-UNNAMED
    # UDF sandboxing installs a SecurityManager at run time.
    -Djava.security.manager=allow
    # Netty direct buffers via Unsafe (also from jvm17-server.options).
    -Dio.netty.tryReflectionSetAccessible=true
    -Dio.netty.allocator.useCacheForAllThreads=true
    -Dio.netty.allocator.maxOrder=11
    # Where things are. storagedir holds data/, commitlog/, hints/, saved_caches/.
    "-Dcassandra.config=file://$RUN_DIR/cassandra.yaml"
    "-Dcassandra.storagedir=$RUN_DIR"
    "-Dcassandra.logdir=$LOG_DIR"
    "-Dlogback.configurationFile=file://$RUN_DIR/logback.xml"
    # Otherwise the daemon closes stdout/stderr and fatal errors are lost.
    -Dcassandra-foreground=yes
    # Fast, non-durable single node for tests:
    -Dcassandra.skip_wait_for_gossip_to_settle=0  # no 8+ s gossip settle wait
    -Dcassandra.initial_token=0                   # no token allocation on first boot
    -Dcassandra.unsafesystem=true                 # system keyspace writes skip the commit log
    -Dcassandra.skip_sync=true                    # no fsync anywhere
    # JMX stays off (cassandra.jmx.local.port unset), so nodetool does not work.
  )
  # shellcheck disable=SC2206  # intentional word splitting of user-supplied options
  [[ -n "${CASSANDRA_JVM_OPTS:-}" ]] && jvm_opts+=(${CASSANDRA_JVM_OPTS})

  log "starting Cassandra $CASSANDRA_VERSION (heap $CASSANDRA_HEAP) in $RUN_DIR"
  (
    cd "$RUN_DIR"
    nohup "$java" "${jvm_opts[@]}" -cp "$LIB_DIR/*" \
      org.apache.cassandra.service.CassandraDaemon \
      </dev/null >"$STDOUT_LOG" 2>&1 &
    echo $! > "$PID_FILE"
  )
  pid="$(cat "$PID_FILE")"
  wait_ready "$pid"
}

# ---------------------------------------------------------------- stop / status

cmd_stop() {
  local pid i
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  log "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 30; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "still alive after 30 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  fi
  rm -f "$PID_FILE"
  log "stopped"
}

cmd_status() {
  local pid
  if pid="$(running_pid)" && port_open; then
    echo "running (pid $pid) on $HOST:$CASSANDRA_PORT"
    return 0
  fi
  if [[ -n "${pid:-}" ]]; then
    echo "starting or unhealthy (pid $pid, port $CASSANDRA_PORT closed)"
  else
    echo "not running"
  fi
  return 1
}

case "${1:-}" in
  fetch)   cmd_fetch ;;
  start)   cmd_start ;;
  stop)    cmd_stop ;;
  status)  cmd_status ;;
  restart) cmd_stop; cmd_start ;;
  logs)    [[ -f "$SYSTEM_LOG" ]] && tail -n 60 "$SYSTEM_LOG" ;;
  *)       echo "usage: $0 fetch|start|stop|status|restart|logs" >&2; exit 2 ;;
esac
