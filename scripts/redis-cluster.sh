#!/usr/bin/env bash
# Run a 3-primary Redis Cluster on loopback for development and CI, from the
# machine's redis-server (Debian's 7.0 has sharded pub/sub: SSUBSCRIBE/SPUBLISH).
#
# Usage: scripts/redis-cluster.sh start|stop|status|nodes
#
#   start   start every node (fresh, empty), create the cluster and wait until
#           every node reports cluster_state:ok. No-op when the cluster is already
#           up; nodes of an unhealthy one (a node died) are stopped and started afresh.
#   stop    SHUTDOWN NOSAVE every node started by this script (SIGKILL after
#           10 s) and remove its directory. No-op when not running.
#   status  exit 0 when every node answers and reports cluster_state:ok
#   nodes   print the seed list for REDIS_CLUSTER_NODES (host:port,...)
#
# Environment:
#   REDIS_CLUSTER_PORTS          client ports of the primaries (default: "30001 30002 30003";
#                                each node also uses port + 10000 for the cluster bus)
#   REDIS_CLUSTER_DIR            where each node's directory lives (default: /tmp/concord-redis-cluster)
#   REDIS_CLUSTER_START_TIMEOUT  seconds to wait for cluster_state:ok (default: 30)
#
# No persistence, no replicas: a node that stops loses its data, which is what
# the tests want. Concord uses it with REDIS_CLUSTER_NODES="$(scripts/redis-cluster.sh nodes)".
set -euo pipefail

read -r -a PORTS <<<"${REDIS_CLUSTER_PORTS:-30001 30002 30003}"
BASE_DIR="${REDIS_CLUSTER_DIR:-/tmp/concord-redis-cluster}"
START_TIMEOUT="${REDIS_CLUSTER_START_TIMEOUT:-30}"
HOST=127.0.0.1
LOG_PREFIX=redis-cluster

node_dir() { echo "$BASE_DIR/$1"; }
pidfile() { echo "$(node_dir "$1")/redis.pid"; }
# shellcheck source=scripts/redis-nodes.sh
source "$(dirname "${BASH_SOURCE[0]}")/redis-nodes.sh"

cli() { local port="$1"; shift; redis-cli -h "$HOST" -p "$port" "$@" 2>/dev/null; }

# One field of CLUSTER INFO on `port` (empty when the node does not answer).
cluster_field() { cli "$1" cluster info | tr -d '\r' | sed -n "s/^$2://p"; }

cluster_ok() {
  local port
  for port in "${PORTS[@]}"; do [[ "$(cluster_field "$port" cluster_state)" == ok ]] || return 1; done
}

start_node() {
  local port="$1" dir
  dir="$(node_dir "$port")"
  if running_pid "$port" >/dev/null; then return 0; fi
  if [[ "$(cli "$port" ping)" == PONG ]]; then
    die "$HOST:$port answers but was not started by this script (set REDIS_CLUSTER_PORTS to other ports)"
  fi
  # A fresh node every time: an old nodes.conf would name a cluster that no longer exists.
  rm -rf "$dir"
  mkdir -p "$dir"
  redis-server --port "$port" --bind "$HOST" --protected-mode no \
    --cluster-enabled yes --cluster-config-file "$dir/nodes.conf" --cluster-node-timeout 5000 \
    --save "" --appendonly no --dir "$dir" \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
  wait_for_ping "$port" "$dir/redis.log"
}

cmd_start() {
  if cluster_ok; then
    log "already running: $(cmd_nodes)"
    return 0
  fi
  local port t0=$SECONDS
  # Nodes of ours that run but do not form a healthy cluster (one died, or another start is
  # still converging): give them 5 s, then start over (there is no data worth keeping).
  for port in "${PORTS[@]}"; do
    running_pid "$port" >/dev/null || continue
    while ! cluster_ok && (( SECONDS - t0 < 5 )); do sleep 0.2; done
    if cluster_ok; then log "already running: $(cmd_nodes)"; return 0; fi
    log "the cluster is not healthy; starting it afresh"
    cmd_stop
    break
  done
  for port in "${PORTS[@]}"; do start_node "$port"; done
  local assigned
  assigned="$(cluster_field "${PORTS[0]}" cluster_slots_assigned)"
  if [[ "${assigned:-0}" == 0 ]]; then
    local seeds=()
    for port in "${PORTS[@]}"; do seeds+=("$HOST:$port"); done
    log "creating the cluster on ${seeds[*]}"
    redis-cli --cluster create "${seeds[@]}" --cluster-replicas 0 --cluster-yes >"$BASE_DIR/create.log" 2>&1 \
      || { cat "$BASE_DIR/create.log" >&2; die "redis-cli --cluster create failed"; }
  fi
  await_check cluster_ok "$t0" "cluster_state is not ok after ${START_TIMEOUT} s (nodes: $(cmd_nodes)); 'scripts/redis-cluster.sh stop' to reset"
  log "ready after $((SECONDS - t0)) s: $(cmd_nodes)"
}

cmd_stop() {
  local port stopped
  stopped="$(stop_ports "${PORTS[@]}")"
  for port in "${PORTS[@]}"; do rm -rf "$(node_dir "$port")"; done
  rm -f "$BASE_DIR/create.log"
  rmdir "$BASE_DIR" 2>/dev/null || true
  if (( stopped == 0 )); then log "not running"; else log "stopped $stopped node(s)"; fi
}

cmd_status() {
  if cluster_ok; then
    echo "running: $(cmd_nodes) (cluster_state:ok, $(cluster_field "${PORTS[0]}" cluster_known_nodes) nodes)"
    return 0
  fi
  echo "not running (or cluster_state is not ok) on ports ${PORTS[*]}"
  return 1
}

cmd_nodes() { seed_list "${PORTS[@]}"; }

case "${1:-}" in
  start)  cmd_start ;;
  stop)   cmd_stop ;;
  status) cmd_status ;;
  nodes)  cmd_nodes ;;
  *)      echo "usage: $0 start|stop|status|nodes" >&2; exit 2 ;;
esac
