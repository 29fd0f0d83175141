# Helpers shared by scripts/redis-cluster.sh and scripts/redis-sentinel.sh: sourced, not run.
# The sourcing script sets LOG_PREFIX and HOST and defines `pidfile <port>` (where the pid of
# the redis-server it started on that port is written) and `cli <port> <command...>`.

log() { printf '[%s] %s\n' "$LOG_PREFIX" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v redis-server >/dev/null 2>&1 || die "redis-server is not on PATH (apt-get install redis-server)"
command -v redis-cli >/dev/null 2>&1 || die "redis-cli is not on PATH (apt-get install redis-tools)"

# The pid of the redis-server on `port` started by the sourcing script, if it is alive.
running_pid() {
  local pid
  pid="$(cat "$(pidfile "$1")" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  grep -q "redis-server" "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

# host:port,host:port,... of the given ports on HOST.
seed_list() {
  local port seeds=()
  for port in "$@"; do seeds+=("$HOST:$port"); done
  (IFS=,; echo "${seeds[*]}")
}

# Waits up to 5 s for `port` to answer PING; otherwise shows the end of `logfile` and dies.
wait_for_ping() {
  local port="$1" logfile="$2" i
  for ((i = 0; i < 50; i++)); do
    [[ "$(cli "$port" ping)" == PONG ]] && return 0
    sleep 0.1
  done
  tail -n 20 "$logfile" >&2 || true
  die "redis-server on $HOST:$port did not answer PING within 5 s"
}

# Stops every redis-server of ours on the given ports (SHUTDOWN NOSAVE, else SIGTERM; SIGKILL
# after 10 s) and prints how many there were.
stop_ports() {
  local port pid i stopped=0
  for port in "$@"; do
    pid="$(running_pid "$port")" || continue
    cli "$port" shutdown nosave >/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    stopped=$((stopped + 1))
  done
  echo "$stopped"
}

# Polls the function `check` every 0.2 s until it succeeds; dies with `message` once
# START_TIMEOUT seconds have passed since `t0` (a value of $SECONDS).
await_check() {
  local check="$1" t0="$2" message="$3"
  while ! "$check"; do
    (( SECONDS - t0 < START_TIMEOUT )) || die "$message"
    sleep 0.2
  done
}
