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
LOG_PREFIX=cassandra
# shellcheck source=scripts/cassandra/common.sh
source "$REPO/scripts/cassandra/common.sh"
CASSANDRA_HEAP="${CASSANDRA_HEAP:-1g}"
CASSANDRA_PORT="${CASSANDRA_PORT:-9042}"
CASSANDRA_START_TIMEOUT="${CASSANDRA_START_TIMEOUT:-180}"
HOST=127.0.0.1

RUN_DIR="$CASSANDRA_HOME/run"
LOG_DIR="$RUN_DIR/logs"
PID_FILE="$CASSANDRA_HOME/cassandra.pid" # outside RUN_DIR so that wiping it cannot lose a live pid
SYSTEM_LOG="$LOG_DIR/system.log"
STDOUT_LOG="$LOG_DIR/stdout.log"

# Prints the pid of the node started by this script, if that process is alive.
running_pid() { daemon_pid "$PID_FILE"; }

cmd_fetch() { fetch_jars; }

# ---------------------------------------------------------------- start

# Waits until the node logged that CQL is up AND the port accepts connections.
wait_ready() {
  local pid="$1" t0=$SECONDS
  while (( SECONDS - t0 < CASSANDRA_START_TIMEOUT )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail_logs "$SYSTEM_LOG" "$STDOUT_LOG"
      die "Cassandra (pid $pid) exited during start-up"
    fi
    if grep -qE 'Starting listening for CQL clients|Startup complete' "$SYSTEM_LOG" 2>/dev/null \
       && port_open "$HOST" "$CASSANDRA_PORT"; then
      log "ready on $HOST:$CASSANDRA_PORT (pid $pid) after $((SECONDS - t0)) s"
      return 0
    fi
    sleep 1
  done
  tail_logs "$SYSTEM_LOG" "$STDOUT_LOG"
  die "Cassandra not ready after ${CASSANDRA_START_TIMEOUT} s (pid $pid still running; 'scripts/cassandra.sh stop' to end it)"
}

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    if port_open "$HOST" "$CASSANDRA_PORT"; then
      log "already running (pid $pid) on $HOST:$CASSANDRA_PORT"
      return 0
    fi
    # Started by an earlier call that is perhaps still waiting: just wait too.
    log "pid $pid is running but the port is not open yet; waiting"
    wait_ready "$pid"
    return 0
  fi
  if port_open "$HOST" "$CASSANDRA_PORT"; then
    die "$HOST:$CASSANDRA_PORT is already in use by a process not started by this script"
  fi

  cmd_fetch
  find_java >/dev/null # fail before wiping anything when there is no usable JDK

  # Fresh node every time: stale data from another cluster name or schema
  # would refuse to start or leak state between test runs.
  rm -rf "$RUN_DIR"
  mkdir -p "$LOG_DIR"
  write_node_config "$RUN_DIR" concord-dev "$HOST" "$CASSANDRA_PORT" "$HOST:7000" SimpleSnitch false

  node_jvm_opts "$RUN_DIR" "$CASSANDRA_HEAP"
  # Fast, non-durable single node for tests:
  JVM_OPTS+=(
    -Dcassandra.initial_token=0                   # no token allocation on first boot
    -Dcassandra.unsafesystem=true                 # system keyspace writes skip the commit log
  )
  # shellcheck disable=SC2206  # intentional word splitting of user-supplied options
  [[ -n "${CASSANDRA_JVM_OPTS:-}" ]] && JVM_OPTS+=(${CASSANDRA_JVM_OPTS})

  log "starting Cassandra $CASSANDRA_VERSION (heap $CASSANDRA_HEAP) in $RUN_DIR"
  launch_daemon "$PID_FILE" "$STDOUT_LOG" ""
  pid="$(cat "$PID_FILE")"
  wait_ready "$pid"
}

# ---------------------------------------------------------------- stop / status

cmd_stop() {
  if ! running_pid >/dev/null; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  stop_daemon "$PID_FILE"
  log "stopped"
}

cmd_status() {
  local pid
  if pid="$(running_pid)" && port_open "$HOST" "$CASSANDRA_PORT"; then
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
