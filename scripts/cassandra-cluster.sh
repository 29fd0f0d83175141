#!/usr/bin/env bash
# Run a replicated, two-data-centre Apache Cassandra 5.0 cluster on loopback addresses for
# fault tests and for trying replication by hand, from the same Maven jars as
# scripts/cassandra.sh (which runs the single dev node on 127.0.0.1).
#
# Usage: scripts/cassandra-cluster.sh start|stop|status|nodes [DC]|kill NODE|restart NODE|logs NODE
#
#   start        wipe the run directory, start every node (fresh, empty cluster) and wait
#                until every CQL port answers and every node sees all the others UP.
#                No-op when every node is already up.
#   stop         SIGTERM every node (SIGKILL after 30 s); keeps the run directory for reading.
#   status       one line per node; exit 0 when every node runs and answers CQL
#   nodes [DC]   print the CQL contact points (host:port,...), of one data centre if given
#   kill NODE    SIGKILL one node (a crash: no drain, no flush)
#   restart NODE start a killed or stopped node again on its existing data and wait until it
#                answers CQL and sees the others UP
#   logs NODE    print the last 60 lines of a node's system.log
#
#   NODE is the node's number (1 = the first in CASSANDRA_CLUSTER_NODES) or its address.
#
# Environment:
#   CASSANDRA_CLUSTER_NODES          "address:dc ..." (default: "127.0.0.2:dc1 127.0.0.3:dc1
#                                    127.0.0.4:dc1 127.0.0.5:dc2"); the first node of each DC is
#                                    its seed. 127.0.0.1 is left to scripts/cassandra.sh.
#   CASSANDRA_CLUSTER_DIR            run directory, one subdirectory per node
#                                    (default: /tmp/concord-cassandra-cluster)
#   CASSANDRA_CLUSTER_HEAP           -Xms/-Xmx per node (default: 512m)
#   CASSANDRA_CLUSTER_PORT           CQL native port on every address (default: 9042)
#   CASSANDRA_CLUSTER_START_TIMEOUT  seconds to wait for the cluster (default: 300)
#   CASSANDRA_HOME, CASSANDRA_VERSION, CASSANDRA_JVM_OPTS, JAVA_HOME: as for scripts/cassandra.sh
#
# Layout: GossipingPropertyFileSnitch with a cassandra-rackdc.properties per node, one token
# per node (num_tokens 1, evenly spread per DC), auto_bootstrap false (the cluster starts
# empty), hinted handoff on. Concord uses it with CASSANDRA_CONTACT_POINTS="$(... nodes dc1)",
# CASSANDRA_LOCAL_DC=dc1 and CASSANDRA_REPLICATION=NetworkTopologyStrategy:dc1=3,dc2=1.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOG_PREFIX=cassandra-cluster
# shellcheck source=scripts/cassandra/common.sh
source "$REPO/scripts/cassandra/common.sh"
read -r -a NODES <<<"${CASSANDRA_CLUSTER_NODES:-127.0.0.2:dc1 127.0.0.3:dc1 127.0.0.4:dc1 127.0.0.5:dc2}"
BASE_DIR="${CASSANDRA_CLUSTER_DIR:-/tmp/concord-cassandra-cluster}"
HEAP="${CASSANDRA_CLUSTER_HEAP:-512m}"
PORT="${CASSANDRA_CLUSTER_PORT:-9042}"
START_TIMEOUT="${CASSANDRA_CLUSTER_START_TIMEOUT:-300}"
CLUSTER_NAME=concord-cluster

addr_of() { echo "${NODES[$(($1 - 1))]%%:*}"; }
dc_of() { echo "${NODES[$(($1 - 1))]##*:}"; }
node_dir() { echo "$BASE_DIR/node$1"; }
pid_file() { echo "$BASE_DIR/node$1.pid"; } # outside the node dir, which start wipes
system_log() { echo "$(node_dir "$1")/logs/system.log"; }
all_nodes() { seq 1 "${#NODES[@]}"; }

# NODE argument (number or address) → node number.
resolve_node() {
  local n
  [[ -n "${1:-}" ]] || die "which node? (1-${#NODES[@]} or an address)"
  for n in $(all_nodes); do
    [[ "$1" == "$n" || "$1" == "$(addr_of "$n")" ]] && { echo "$n"; return 0; }
  done
  die "no node $1 (nodes: ${NODES[*]})"
}

# The seeds: the first node of each data centre, as address:7000,...
seeds() {
  local n dc seen=" " out=()
  for n in $(all_nodes); do
    dc="$(dc_of "$n")"
    [[ "$seen" == *" $dc "* ]] && continue
    seen+="$dc "
    out+=("$(addr_of "$n"):7000")
  done
  (IFS=,; echo "${out[*]}")
}

# Node n's token: the DC's nodes split the ring evenly, each DC offset by 100 × its index, so
# every token is distinct and each DC owns the whole ring between its own nodes.
token_of() {
  local n="$1" dc i=0 k count=0 dc_index=-1 dc_offset=0 seen=" " d
  dc="$(dc_of "$n")"
  for k in $(all_nodes); do
    d="$(dc_of "$k")"
    [[ "$seen" == *" $d "* ]] || { seen+="$d "; dc_index=$((dc_index + 1)); }
    [[ "$d" == "$dc" ]] || continue
    ((k < n)) && i=$((i + 1))
    count=$((count + 1))
    [[ "$k" == "$n" ]] && dc_offset=$dc_index
  done
  # Bash integers wrap at 2^64, which is exactly the ring's arithmetic.
  echo $(( (-9223372036854775807 - 1) + i * (9223372036854775807 / count * 2) + dc_offset * 100 ))
}

# Writes node n's config: cassandra.yaml, logback.xml, conf/cassandra-rackdc.properties.
configure_node() {
  local n="$1" dir
  dir="$(node_dir "$n")"
  mkdir -p "$dir/logs" "$dir/conf"
  write_node_config "$dir" "$CLUSTER_NAME" "$(addr_of "$n")" "$PORT" "$(seeds)" GossipingPropertyFileSnitch true
  printf 'dc=%s\nrack=rack1\nprefer_local=true\n' "$(dc_of "$n")" > "$dir/conf/cassandra-rackdc.properties"
}

launch_node() {
  local n="$1" dir
  dir="$(node_dir "$n")"
  # A restart appends to the same logs: move the old ones aside so readiness reads this run only.
  local f
  for f in "$dir"/logs/system.log "$dir"/logs/stdout.log; do [[ -f "$f" ]] && mv "$f" "$f.$(date +%s)"; done
  node_jvm_opts "$dir" "$HEAP"
  JVM_OPTS+=(
    "-Dcassandra.initial_token=$(token_of "$n")"
    -Dcassandra.auto_bootstrap=false   # a fresh cluster has no data to stream
    -Dcassandra.ring_delay_ms=2000     # how long a joining node listens to gossip first (default 30 s)
  )
  # Unlike the single node, no -Dcassandra.unsafesystem: a SIGKILLed node must find its host id
  # and tokens in its system tables on restart, or it would rejoin as a stranger at a known address.
  # shellcheck disable=SC2206  # intentional word splitting of user-supplied options
  [[ -n "${CASSANDRA_JVM_OPTS:-}" ]] && JVM_OPTS+=(${CASSANDRA_JVM_OPTS})
  # The node's conf dir first on the classpath: the snitch finds cassandra-rackdc.properties there.
  launch_daemon "$(pid_file "$n")" "$dir/logs/stdout.log" "$dir/conf"
}

cql_up() { port_open "$(addr_of "$1")" "$PORT"; }

# True when node n logged every other node as UP since it started (its log is per run).
sees_all_up() {
  local n="$1" k
  for k in $(all_nodes); do
    [[ "$k" == "$n" ]] && continue
    grep -q "/$(addr_of "$k"):7000 is now UP" "$(system_log "$n")" 2>/dev/null || return 1
  done
}

# Waits until each node given answers CQL and sees every other node UP.
wait_ready() {
  local t0=$SECONDS n pending
  while :; do
    pending=()
    for n in "$@"; do
      if ! daemon_pid "$(pid_file "$n")" >/dev/null; then
        tail_logs "$(system_log "$n")" "$(node_dir "$n")/logs/stdout.log"
        die "node $n ($(addr_of "$n")) exited during start-up"
      fi
      cql_up "$n" && sees_all_up "$n" || pending+=("$n")
    done
    ((${#pending[@]} == 0)) && return 0
    if ((SECONDS - t0 >= START_TIMEOUT)); then
      for n in "${pending[@]}"; do tail_logs "$(system_log "$n")"; done
      die "nodes ${pending[*]} not ready after $START_TIMEOUT s ('$0 stop' ends the cluster)"
    fi
    sleep 1
  done
}

# Refuses to start over something that already listens on a node's address.
check_free() {
  local n a
  for n in "$@"; do
    a="$(addr_of "$n")"
    for p in 7000 "$PORT"; do
      port_open "$a" "$p" && die "$a:$p is already in use by a process not started by this script (stop it, or set CASSANDRA_CLUSTER_NODES)"
    done
  done
  return 0
}

cmd_start() {
  local n running=0 seeds_n=() others=()
  for n in $(all_nodes); do daemon_pid "$(pid_file "$n")" >/dev/null && running=$((running + 1)); done
  if ((running == ${#NODES[@]})); then
    wait_ready $(all_nodes)
    log "already running: ${NODES[*]}"
    return 0
  fi
  ((running == 0)) || die "$running of ${#NODES[@]} nodes are running: '$0 restart NODE' them, or '$0 stop' first"
  check_free $(all_nodes)
  fetch_jars
  find_java >/dev/null
  rm -rf "$BASE_DIR"
  mkdir -p "$BASE_DIR"
  local t0=$SECONDS
  # Seeds first (both at once), the rest once the seeds answer, so a non-seed never looks for
  # a seed that is not up yet ("Unable to gossip with any peers"). All four at once also joined,
  # but was no faster on 2 cores (117 s against 112 s for two waves, on the same busy machine).
  for n in $(all_nodes); do
    configure_node "$n"
    if [[ ",$(seeds)," == *",$(addr_of "$n"):7000,"* ]]; then seeds_n+=("$n"); else others+=("$n"); fi
  done
  log "starting seeds (${#seeds_n[@]}), heap $HEAP each, in $BASE_DIR"
  for n in "${seeds_n[@]}"; do launch_node "$n"; done
  for n in "${seeds_n[@]}"; do wait_until_cql "$n"; done
  log "seeds up after $((SECONDS - t0)) s; starting the other ${#others[@]} nodes"
  for n in "${others[@]}"; do launch_node "$n"; done
  wait_ready $(all_nodes)
  log "ready: ${NODES[*]} (CQL port $PORT) after $((SECONDS - t0)) s"
}

# Waits until node n answers CQL (it may not see every peer yet).
wait_until_cql() {
  local n="$1" t0=$SECONDS
  until cql_up "$n"; do
    if ! daemon_pid "$(pid_file "$n")" >/dev/null; then
      tail_logs "$(system_log "$n")" "$(node_dir "$n")/logs/stdout.log"
      die "node $n ($(addr_of "$n")) exited during start-up"
    fi
    ((SECONDS - t0 < START_TIMEOUT)) || die "node $n did not answer CQL within $START_TIMEOUT s"
    sleep 1
  done
}

cmd_stop() {
  local n pids=()
  for n in $(all_nodes); do
    daemon_pid "$(pid_file "$n")" >/dev/null || continue
    stop_daemon "$(pid_file "$n")" &
    pids+=($!)
  done
  ((${#pids[@]} == 0)) && { log "not running"; return 0; }
  wait "${pids[@]}"
  log "stopped"
}

cmd_status() {
  local n ok=0 pid
  for n in $(all_nodes); do
    if pid="$(daemon_pid "$(pid_file "$n")")"; then
      if cql_up "$n"; then echo "node $n $(addr_of "$n") $(dc_of "$n"): up (pid $pid)"; else echo "node $n $(addr_of "$n") $(dc_of "$n"): starting or unhealthy (pid $pid)"; ok=1; fi
    else
      echo "node $n $(addr_of "$n") $(dc_of "$n"): down"
      ok=1
    fi
  done
  return $ok
}

cmd_nodes() {
  local n out=()
  for n in $(all_nodes); do
    [[ -z "${1:-}" || "$(dc_of "$n")" == "$1" ]] && out+=("$(addr_of "$n"):$PORT")
  done
  ((${#out[@]} > 0)) || die "no nodes in data centre $1"
  (IFS=,; echo "${out[*]}")
}

cmd_kill() {
  local n pid
  n="$(resolve_node "${1:-}")"
  pid="$(daemon_pid "$(pid_file "$n")")" || die "node $n is not running"
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  log "killed node $n ($(addr_of "$n"), pid $pid)"
}

cmd_restart() {
  local n t0=$SECONDS
  n="$(resolve_node "${1:-}")"
  daemon_pid "$(pid_file "$n")" >/dev/null && die "node $n is running: kill it first"
  [[ -f "$(node_dir "$n")/cassandra.yaml" ]] || die "node $n has no run directory: '$0 start' the cluster first"
  check_free "$n"
  launch_node "$n"
  wait_ready "$n"
  log "node $n ($(addr_of "$n")) back after $((SECONDS - t0)) s"
}

case "${1:-}" in
  start)   cmd_start ;;
  stop)    cmd_stop ;;
  status)  cmd_status ;;
  nodes)   cmd_nodes "${2:-}" ;;
  kill)    cmd_kill "${2:-}" ;;
  restart) cmd_restart "${2:-}" ;;
  logs)    n="$(resolve_node "${2:-}")"; tail -n 60 "$(system_log "$n")" ;;
  *)       echo "usage: $0 start|stop|status|nodes [DC]|kill NODE|restart NODE|logs NODE" >&2; exit 2 ;;
esac
