# Shared by scripts/cassandra.sh (one dev node) and scripts/cassandra-cluster.sh (a
# replicated, two-data-centre cluster on loopback): fetching the server jars from Maven
# Central, finding a JDK Cassandra 5.0 accepts, the JVM flags, and writing a node's config.
# Sourced, not run. Callers set REPO and LOG_PREFIX first.

SRC_DIR="$REPO/scripts/cassandra"
CASSANDRA_HOME="${CASSANDRA_HOME:-$REPO/.cassandra}"
CASSANDRA_VERSION="${CASSANDRA_VERSION:-5.0.8}"
LIB_DIR="$CASSANDRA_HOME/lib"
LIB_MARKER="$LIB_DIR/.complete"        # holds the version whose jars are fully copied

log() { printf '[%s] %s\n' "$LOG_PREFIX" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# True when something accepts TCP connections on host $1, port $2.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# True when the pid in file $1 is alive and is a CassandraDaemon (guards against pid reuse);
# prints the pid.
daemon_pid() {
  local pid
  [[ -f "$1" ]] || return 1
  pid="$(cat "$1" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  grep -q 'org.apache.cassandra.service.CassandraDaemon' "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

# Prints the last 60 lines of each non-empty file given.
tail_logs() {
  local f
  for f in "$@"; do
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

# Downloads cassandra-all and its runtime dependencies into $LIB_DIR (skipped when complete).
fetch_jars() {
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

# Writes <run dir>/cassandra.yaml and logback.xml for one node. Arguments (all required):
#   run_dir cluster_name listen_address native_port seeds endpoint_snitch hinted_handoff
write_node_config() {
  local run_dir="$1" cluster="$2" address="$3" port="$4" seeds="$5" snitch="$6" hints="$7"
  sed -e "s/@CLUSTER_NAME@/$cluster/" -e "s/@LISTEN_ADDRESS@/$address/g" -e "s/@NATIVE_PORT@/$port/" \
      -e "s/@SEEDS@/$seeds/" -e "s/@ENDPOINT_SNITCH@/$snitch/" -e "s/@HINTED_HANDOFF@/$hints/" \
      "$SRC_DIR/cassandra.yaml" > "$run_dir/cassandra.yaml"
  cp "$SRC_DIR/logback.xml" "$run_dir/logback.xml"
}

# Fills the array JVM_OPTS for a node whose files live in run dir $1 with heap $2 (-Xms/-Xmx).
# Then the caller appends what differs (tokens, durability, CASSANDRA_JVM_OPTS).
node_jvm_opts() {
  local run_dir="$1" heap="$2" jamm
  jamm="$(compgen -G "$LIB_DIR/jamm-*.jar" | head -n 1)"
  JVM_OPTS=(
    "-Xms$heap" "-Xmx$heap" -Xss256k
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
    "-Dcassandra.config=file://$run_dir/cassandra.yaml"
    "-Dcassandra.storagedir=$run_dir"
    "-Dcassandra.logdir=$run_dir/logs"
    "-Dlogback.configurationFile=file://$run_dir/logback.xml"
    # Otherwise the daemon closes stdout/stderr and fatal errors are lost.
    -Dcassandra-foreground=yes
    -Dcassandra.skip_wait_for_gossip_to_settle=0  # no 8+ s gossip settle wait
    -Dcassandra.skip_sync=true                    # no fsync (a killed process's writes stay in the page cache)
    # JMX stays off (cassandra.jmx.local.port unset), so nodetool does not work.
  )
}

# Starts CassandraDaemon in the background with JVM_OPTS, classpath "$3:$LIB_DIR/*" ($3 may
# be empty), stdout/stderr to $2; writes its pid to file $1.
launch_daemon() {
  local pid_file="$1" stdout_log="$2" extra_cp="$3" java
  java="$(find_java)"
  (
    cd "$(dirname "$stdout_log")"
    nohup "$java" "${JVM_OPTS[@]}" -cp "${extra_cp:+$extra_cp:}$LIB_DIR/*" \
      org.apache.cassandra.service.CassandraDaemon \
      </dev/null >"$stdout_log" 2>&1 &
    echo $! > "$pid_file"
  )
}

# SIGTERM the daemon whose pid is in file $1, wait up to 30 s, then SIGKILL; removes the file.
stop_daemon() {
  local pid i
  if pid="$(daemon_pid "$1")"; then
    log "stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 30; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid still alive after 30 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    fi
  fi
  rm -f "$1"
}
