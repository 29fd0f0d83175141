import { parseConsistency, parseReplication, type CassandraOptions } from "./stores/cassandra/client.js";

/**
 * Configuration from environment variables, validated once at start-up. Nothing else in the
 * code reads `process.env`: the composition root (app.ts) passes what each part needs.
 */
export interface Config {
  /** TCP port for HTTP and WebSocket (same port, path /graphql). */
  port: number;
  /** Interface to bind; undefined binds all interfaces. */
  host: string | undefined;
  /** Real Postgres for metadata and messages; undefined selects embedded PGlite under dataDir. */
  databaseUrl: string | undefined;
  /** Connections in the Postgres pool (real Postgres only). */
  databasePoolSize: number;
  /** Where embedded PGlite keeps its files. */
  dataDir: string;
  /** Where message history lives: the metadata Postgres (embedded or real) or Cassandra/ScyllaDB. */
  messageStore: "postgres" | "cassandra";
  /** Cassandra/ScyllaDB connection; set when messageStore is "cassandra". */
  cassandra: CassandraOptions | undefined;
  /** Redis for the cross-instance event bus; undefined keeps events inside this process. */
  redisUrl: string | undefined;
  /** Put in front of every Redis channel name, so deployments can share a Redis. */
  redisKeyPrefix: string;
  /** With Redis: how long channel events are held to restore one order across instances (0: off). */
  channelOrderWindowMs: number;
  /** Snowflake worker id, unique per running instance (0-1023). */
  workerId: number;
  /** log2 of scrypt's N for new password hashes (cost doubles per step). */
  passwordHashCost: number;
  /** Largest accepted HTTP request body and WebSocket message, in bytes. */
  maxRequestBytes: number;
  /** Deepest selection set accepted. */
  maxQueryDepth: number;
  /** Highest accepted query cost (graphql-armor cost model). */
  maxQueryCost: number;
  /** Events buffered per subscription before the subscriber is dropped as too slow. */
  subscriptionBufferSize: number;
  /** Unsent bytes a WebSocket may hold before it is closed as too slow (close code 4008). */
  maxSocketBufferedBytes: number;
  /** How often each instance refreshes its users' presence; a dead instance's users go offline within 2x this. */
  presenceHeartbeatMs: number;
  /** Guilds with at least this many members get an online count instead of per-member presence events. */
  largeGuildThreshold: number;
  /** Shortest interval between two OnlineCountUpdated events of one large guild from one instance. */
  onlineCountRefreshMs: number;
  /** How long read acknowledgements are gathered before one batched write. */
  ackFlushMs: number;
  /** How long an instance trusts a session it has read (revocations reach every instance at once over the bus). */
  sessionCacheTtlMs: number;
  /** Sessions each instance keeps cached. */
  sessionCacheMaxEntries: number;
  /** Serve GraphiQL at GET /graphql. */
  graphiql: boolean;
  logLevel: "debug" | "info" | "warn" | "error";
}

/** Thrown with every problem found, one line per setting, so the operator fixes them in one go. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

/** Parses and validates the environment; throws {@link ConfigError} listing every bad value. */
export function loadConfig(env: Env): Config {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected an integer from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    problems.push(`${name}=${JSON.stringify(raw)}: expected true or false`);
    return fallback;
  };

  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(`DATABASE_URL: expected a postgres:// or postgresql:// URL, got ${JSON.stringify(redactUrl(databaseUrl))}`);
  }
  const messageStore = (env.MESSAGE_STORE || "postgres") as Config["messageStore"];
  if (messageStore !== "postgres" && messageStore !== "cassandra") {
    problems.push(`MESSAGE_STORE=${JSON.stringify(env.MESSAGE_STORE)}: expected postgres or cassandra`);
  }
  let cassandra: CassandraOptions | undefined;
  if (messageStore === "cassandra") {
    const keyspace = env.CASSANDRA_KEYSPACE || "concord";
    if (!/^[a-z][a-z0-9_]{0,47}$/.test(keyspace)) {
      problems.push(`CASSANDRA_KEYSPACE=${JSON.stringify(keyspace)}: expected lower-case letters, digits and _, starting with a letter (at most 48)`);
    }
    let replication: CassandraOptions["replication"] = { class: "SimpleStrategy", replicationFactor: 1 };
    try {
      replication = parseReplication(env.CASSANDRA_REPLICATION || "SimpleStrategy:1");
    } catch (error) {
      problems.push(`CASSANDRA_REPLICATION=${(error as Error).message}`);
    }
    const consistency = parseConsistency(env.CASSANDRA_CONSISTENCY || "LOCAL_QUORUM");
    if (consistency === null) problems.push(`CASSANDRA_CONSISTENCY=${JSON.stringify(env.CASSANDRA_CONSISTENCY)}: expected a consistency level such as LOCAL_QUORUM, QUORUM or ONE`);
    cassandra = {
      contactPoints: (env.CASSANDRA_CONTACT_POINTS || "127.0.0.1:9042").split(",").map((p) => p.trim()).filter(Boolean),
      localDataCenter: env.CASSANDRA_LOCAL_DC || "datacenter1",
      keyspace,
      username: env.CASSANDRA_USERNAME || undefined,
      password: env.CASSANDRA_PASSWORD || undefined,
      replication,
      consistency: consistency ?? "LOCAL_QUORUM",
    };
  }
  const redisUrl = env.REDIS_URL || undefined;
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    problems.push(`REDIS_URL: expected a redis:// or rediss:// URL, got ${JSON.stringify(redactUrl(redisUrl))}`);
  }
  const redisKeyPrefix = env.REDIS_KEY_PREFIX || "concord:";
  if (/\s/.test(redisKeyPrefix)) problems.push(`REDIS_KEY_PREFIX=${JSON.stringify(redisKeyPrefix)}: must not contain whitespace`);
  const logLevel = (env.LOG_LEVEL || "info") as Config["logLevel"];
  if (!["debug", "info", "warn", "error"].includes(logLevel)) {
    problems.push(`LOG_LEVEL=${JSON.stringify(env.LOG_LEVEL)}: expected debug, info, warn or error`);
  }

  const config: Config = {
    port: int("PORT", 4000, 0, 65535),
    host: env.HOST || undefined,
    databaseUrl,
    databasePoolSize: int("DATABASE_POOL_SIZE", 10, 1, 1000),
    dataDir: env.DATA_DIR || "./.data",
    messageStore,
    cassandra,
    redisUrl,
    redisKeyPrefix,
    channelOrderWindowMs: int("CHANNEL_ORDER_WINDOW_MS", 30, 0, 1_000),
    workerId: int("WORKER_ID", 0, 0, 1023),
    passwordHashCost: int("PASSWORD_HASH_COST", 15, 10, 20),
    maxRequestBytes: int("MAX_REQUEST_BYTES", 100_000, 1_000, 10_000_000),
    maxQueryDepth: int("MAX_QUERY_DEPTH", 10, 2, 100),
    maxQueryCost: int("MAX_QUERY_COST", 5_000, 10, 1_000_000),
    subscriptionBufferSize: int("SUBSCRIPTION_BUFFER_SIZE", 1_000, 1, 1_000_000),
    maxSocketBufferedBytes: int("MAX_SOCKET_BUFFERED_BYTES", 1_000_000, 10_000, 1_000_000_000),
    presenceHeartbeatMs: int("PRESENCE_HEARTBEAT_MS", 15_000, 100, 600_000),
    largeGuildThreshold: int("LARGE_GUILD_THRESHOLD", 1_000, 2, 10_000_000),
    onlineCountRefreshMs: int("ONLINE_COUNT_REFRESH_MS", 5_000, 100, 600_000),
    ackFlushMs: int("ACK_FLUSH_MS", 1_000, 10, 60_000),
    sessionCacheTtlMs: int("SESSION_CACHE_TTL_MS", 60_000, 0, 3_600_000),
    sessionCacheMaxEntries: int("SESSION_CACHE_MAX_ENTRIES", 100_000, 1, 10_000_000),
    graphiql: bool("GRAPHIQL", true),
    logLevel,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Hides the password in a connection URL before it is printed. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    // Not a URL the WHATWG parser accepts: hide everything up to the last "@" of the authority.
    return url.replace(/\/\/([^:/@]*):.*@/, "//$1:***@");
  }
}
