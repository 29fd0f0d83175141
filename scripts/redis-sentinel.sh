#!/usr/bin/env bash
# Run a Redis primary, one replica and three sentinels on loopback for development, the
# fault tests and CI, from the machine's redis-server (Debian's: `redis-server --sentinel`).
#
# Usage: scripts/redis-sentinel.sh start|stop|status|sentinels|primary|kill-primary
#
#   start         start the primary and its replica (fresh, empty) and three sentinels that
#                 watch them, and wait until every sentinel knows the replica and the two other
#                 sentinels (then a failover can be agreed). No-op when all of it runs; a data
#                 node that died is started again as a replica of the current primary.
#   stop          stop everything started by this script (SIGKILL after 10 s), remove its directory
#   status        exit 0 when every sentinel answers and names a primary that answers
#   sentinels     print REDIS_SENTINELS (host:port,...)
#   primary       print the primary's host:port, as the sentinels see it now
#   kill-primary  SIGKILL the current primary (a crash: no shutdown, no goodbye) and print
#                 its port; the sentinels promote the replica within about
#                 down-after-milliseconds + 1-2 s
#
# Environment:
#   REDIS_SENTINEL_DATA_PORTS     primary and replica ports (default: "26390 26391"; the first
#                                 is the primary at start)
#   REDIS_SENTINEL_PORTS          sentinel ports (default: "26379 26380 26381")
#   REDIS_SENTINEL_NAME           the primary group's name (default: concord)
#   REDIS_SENTINEL_DOWN_AFTER_MS  how long a silent primary takes to be declared down (default: 1000)
#   REDIS_SENTINEL_FAILOVER_MS    sentinel failover-timeout (default: 5000)
#   REDIS_SENTINEL_DIR            where the nodes' files live (default: /tmp/concord-redis-sentinel)
#   REDIS_SENTINEL_START_TIMEOUT  seconds to wait for the set to be ready (default: 30)
#
# No persistence: a data node that stops loses its data (its replica has a copy). Concord uses it
# with REDIS_SENTINELS="$(scripts/redis-sentinel.sh sentinels)" REDIS_SENTINEL_NAME=concord.
set -euo pipefail

read -r -a DATA_PORTS <<<"${REDIS_SENTINEL_DATA_PORTS:-26390 26391}"
read -r -a SENTINEL_PORTS <<<"${REDIS_SENTINEL_PORTS:-26379 26380 26381}"
NAME="${REDIS_SENTINEL_NAME:-concord}"
DOWN_AFTER_MS="${REDIS_SENTINEL_DOWN_AFTER_MS:-1000}"
FAILOVER_MS="${REDIS_SENTINEL_FAILOVER_MS:-5000}"
BASE_DIR="${REDIS_SENTINEL_DIR:-/tmp/concord-redis-sentinel}"
START_TIMEOUT="${REDIS_SENTINEL_START_TIMEOUT:-30}"
HOST=127.0.0.1
LOG_PREFIX=redis-sentinel

pidfile() { echo "$BASE_DIR/$1.pid"; }
# shellcheck source=scripts/redis-nodes.sh
source "$(dirname "${BASH_SOURCE[0]}")/redis-nodes.sh"

(( ${#DATA_PORTS[@]} == 2 )) || die "REDIS_SENTINEL_DATA_PORTS: expected two ports (primary, replica)"
(( ${#SENTINEL_PORTS[@]} == 3 )) || die "REDIS_SENTINEL_PORTS: expected three ports"

cli() { local port="$1"; shift; timeout 2 redis-cli -h "$HOST" -p "$port" "$@" 2>/dev/null | tr -d '\r'; }

# host:port of the primary according to the first sentinel that answers (empty if none does).
current_primary() {
  local port answer
  for port in "${SENTINEL_PORTS[@]}"; do
    answer="$(cli "$port" sentinel get-master-addr-by-name "$NAME" | paste -sd: -)"
    if [[ "$answer" =~ ^[^:]+:[0-9]+$ ]]; then echo "$answer"; return 0; fi
  done
  return 1
}

# One field of `SENTINEL MASTER <name>` on a sentinel.
master_field() { cli "$1" sentinel master "$NAME" | sed -n "/^$2\$/{n;p;}"; }

ready() {
  local port primary
  primary="$(current_primary)" || return 1
  [[ "$(cli "${primary##*:}" role | head -n 1)" == master ]] || return 1
  for port in "${SENTINEL_PORTS[@]}"; do
    [[ "$(master_field "$port" num-slaves)" == 1 ]] || return 1
    [[ "$(master_field "$port" num-other-sentinels)" == 2 ]] || return 1
    [[ "$(master_field "$port" flags)" == master ]] || return 1
  done
  # The replica is in sync (it has a copy to be promoted with).
  local replica
  for replica in "${DATA_PORTS[@]}"; do
    [[ "$HOST:$replica" == "$primary" ]] && continue
    [[ "$(cli "$replica" info replication | sed -n 's/^master_link_status://p')" == up ]] || return 1
  done
}

refuse_foreign() {
  local port="$1"
  if [[ "$(cli "$port" ping)" == PONG ]]; then
    die "$HOST:$port answers but was not started by this script (set REDIS_SENTINEL_DATA_PORTS / REDIS_SENTINEL_PORTS to other ports)"
  fi
}

# A data node; `replica_of` ("host port") makes it a replica from the start.
start_data_node() {
  local port="$1" replica_of="${2:-}"
  running_pid "$port" >/dev/null && return 0
  refuse_foreign "$port"
  local args=(--port "$port" --bind "$HOST" --protected-mode no --save "" --appendonly no
    --dir "$BASE_DIR" --dbfilename "dump-$port.rdb"
    --daemonize yes --pidfile "$(pidfile "$port")" --logfile "$BASE_DIR/$port.log")
  # shellcheck disable=SC2206
  [[ -n "$replica_of" ]] && args+=(--replicaof $replica_of)
  redis-server "${args[@]}"
  wait_for_ping "$port" "$BASE_DIR/$port.log"
}

start_sentinel() {
  local port="$1" primary_port="$2" conf="$BASE_DIR/sentinel-$port.conf"
  running_pid "$port" >/dev/null && return 0
  refuse_foreign "$port"
  # Sentinel rewrites its file (known replicas, other sentinels, epochs): a fresh one each start.
  cat >"$conf" <<EOF
port $port
bind $HOST
protected-mode no
daemonize yes
pidfile $(pidfile "$port")
logfile $BASE_DIR/$port.log
dir $BASE_DIR
sentinel monitor $NAME $HOST $primary_port 2
sentinel down-after-milliseconds $NAME $DOWN_AFTER_MS
sentinel failover-timeout $NAME $FAILOVER_MS
sentinel parallel-syncs $NAME 1
EOF
  redis-server "$conf" --sentinel
  wait_for_ping "$port" "$BASE_DIR/$port.log"
}

cmd_start() {
  local t0=$SECONDS port
  mkdir -p "$BASE_DIR"
  if ready; then log "already running: primary $(current_primary), sentinels $(cmd_sentinels)"; return 0; fi
  local primary
  if primary="$(current_primary)" && running_pid "${primary##*:}" >/dev/null; then
    # The set runs; a data node that died comes back as a replica of the current primary.
    for port in "${DATA_PORTS[@]}"; do
      [[ "$HOST:$port" == "$primary" ]] || start_data_node "$port" "$HOST ${primary##*:}"
    done
  else
    for port in "${DATA_PORTS[@]}" "${SENTINEL_PORTS[@]}"; do
      if running_pid "$port" >/dev/null; then log "a partial set runs without a primary; starting it afresh"; cmd_stop; mkdir -p "$BASE_DIR"; break; fi
    done
    start_data_node "${DATA_PORTS[0]}"
    start_data_node "${DATA_PORTS[1]}" "$HOST ${DATA_PORTS[0]}"
  fi
  primary="$(current_primary || echo "$HOST:${DATA_PORTS[0]}")"
  for port in "${SENTINEL_PORTS[@]}"; do start_sentinel "$port" "${primary##*:}"; done
  await_check ready "$t0" "not ready after ${START_TIMEOUT} s (sentinels must see the replica and each other); 'scripts/redis-sentinel.sh stop' to reset"
  log "ready after $((SECONDS - t0)) s: primary $(current_primary), sentinels $(cmd_sentinels), group \"$NAME\""
}

cmd_stop() {
  local stopped
  stopped="$(stop_ports "${SENTINEL_PORTS[@]}" "${DATA_PORTS[@]}")"
  rm -rf "$BASE_DIR"
  if (( stopped == 0 )); then log "not running"; else log "stopped $stopped process(es)"; fi
}

cmd_status() {
  local primary
  if primary="$(current_primary)" && [[ "$(cli "${primary##*:}" ping)" == PONG ]]; then
    echo "running: primary $primary, sentinels $(cmd_sentinels), group \"$NAME\""
    return 0
  fi
  echo "not running (or no primary answers) on sentinel ports ${SENTINEL_PORTS[*]}"
  return 1
}

cmd_sentinels() { seed_list "${SENTINEL_PORTS[@]}"; }

cmd_primary() { current_primary || die "no sentinel names a primary"; }

cmd_kill_primary() {
  local primary pid
  primary="$(current_primary)" || die "no sentinel names a primary"
  pid="$(running_pid "${primary##*:}")" || die "the primary $primary was not started by this script (or is already dead)"
  kill -KILL "$pid"
  local i
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
  log "SIGKILLed the primary $primary (pid $pid)"
  echo "${primary##*:}"
}

case "${1:-}" in
  start)        cmd_start ;;
  stop)         cmd_stop ;;
  status)       cmd_status ;;
  sentinels)    cmd_sentinels ;;
  primary)      cmd_primary ;;
  kill-primary) cmd_kill_primary ;;
  *)            echo "usage: $0 start|stop|status|sentinels|primary|kill-primary" >&2; exit 2 ;;
esac
