import { parseConsistency, parseReplication, type CassandraOptions } from "./stores/cassandra/client.js";
import { parseCorsOrigins } from "./gateway/cors.js";
import { parseClusterSeeds, type ClusterSeed } from "./redis/cluster.js";
import type { SentinelTarget } from "./redis/sentinel.js";
import { DEFAULT_RESOURCE_CAPS } from "./resolvers/resource-caps.js";
import { BUCKETS, defaultRules, formatRule, parseRule, type BucketName, type RateLimitRules } from "./limits/rate-limit-rules.js";

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
  /**
   * A Redis Cluster instead of one Redis (REDIS_CLUSTER_NODES: seed nodes): the event bus uses
   * sharded pub/sub, presence and rate limits spread over the primaries. Never set together with
   * redisUrl.
   */
  redisClusterNodes: ClusterSeed[] | undefined;
  /**
   * A Redis primary with replicas, found through Redis Sentinel (REDIS_SENTINELS,
   * REDIS_SENTINEL_NAME, REDIS_SENTINEL_PASSWORD): used like one Redis, and followed when the
   * sentinels promote a replica. Never set together with redisUrl or redisClusterNodes.
   */
  redisSentinel: SentinelTarget | undefined;
  /** Put in front of every Redis channel name, so deployments can share a Redis. */
  redisKeyPrefix: string;
  /** Events each topic's log keeps for gap repair (the oldest go first). */
  eventLogMaxEvents: number;
  /** A topic's log is dropped after this long without a new event (ms). */
  eventLogMaxAgeMs: number;
  /** Snowflake worker id, unique per running instance (0-1023). */
  workerId: number;
  /** log2 of scrypt's N for new password hashes (cost doubles per step; 17 takes 128 MiB per hash). */
  passwordHashCost: number;
  /** Password hashes and verifications one process runs at once (each holds 128 * 2^cost * 8 bytes). */
  passwordHashConcurrency: number;
  /** Password hashes that may wait for a free slot; more are refused with RATE_LIMITED. */
  passwordHashQueue: number;
  /** Largest accepted HTTP request body and WebSocket message, in bytes. */
  maxRequestBytes: number;
  /** Deepest selection set accepted. */
  maxQueryDepth: number;
  /** Highest accepted query cost (gateway/query-cost.ts: objects in the answer, lists at their page size or cap, unbatched reads). */
  maxQueryCost: number;
  /** Text channels a guild may have; `Guild.channels` is costed at this many. */
  maxChannelsPerGuild: number;
  /** Guilds a user may belong to (owned or joined); `User.guilds` is costed at this many. */
  maxGuildsPerUser: number;
  /** Bots one person may create; `User.bots` is costed at this many. */
  maxBotsPerUser: number;
  /** People in a group DM, its creator included; `Channel.recipients` is costed at this many. */
  maxGroupDmMembers: number;
  /** Roles a guild may have, @everyone included. */
  maxRolesPerGuild: number;
  /** Friends a user may have. */
  maxFriendsPerUser: number;
  /** Friend requests a user may have waiting for an answer, sent and received each. */
  maxPendingFriendRequests: number;
  /** Users one user may have blocked. */
  maxBlocksPerUser: number;
  /** Events buffered per subscription before the subscriber is dropped as too slow. */
  subscriptionBufferSize: number;
  /** Channels one messageEvents subscription may follow (each is a topic subscription on its instance). */
  maxStreamChannels: number;
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
  /** A session (token) not used for this many days expires; fractions allowed. Bots' tokens never expire. */
  sessionIdleDays: number;
  /** A session expires this many days after sign-in however much it is used; fractions allowed. */
  sessionMaxDays: number;
  /** Audit log entries older than this many days are no longer shown and are pruned; fractions allowed. */
  auditLogRetentionDays: number;
  /** Call budgets per bucket (RATE_LIMIT_<BUCKET>); null when RATE_LIMITS=off. */
  rateLimits: RateLimitRules | null;
  /** Proxies in front of the instances that append to X-Forwarded-For (0: use the TCP peer's address). */
  trustProxyHops: number;
  /** Live subscriptions one WebSocket may hold. */
  maxSubscriptionsPerSocket: number;
  /** Operations one WebSocket may have executing at once; more wait their turn (up to maxQueuedOperationsPerSocket). */
  maxOperationsInFlightPerSocket: number;
  /** Operations one WebSocket may have waiting for a free slot; more are refused with RATE_LIMITED. */
  maxQueuedOperationsPerSocket: number;
  /** Messages a WebSocket may send per minute (every graphql-ws message counts). */
  socketMessagesPerMinute: number;
  /** WebSockets one user may hold open on an instance. */
  maxSocketsPerUser: number;
  /** WebSockets one client address may hold open on an instance. */
  maxSocketsPerAddress: number;
  /** Largest WebSocket message, in bytes (smaller than maxRequestBytes). */
  maxSocketMessageBytes: number;
  /** A WebSocket that never authenticated is closed after this long without an operation. */
  anonymousSocketIdleMs: number;
  /** A WebSocket whose connection_init has not arrived (or been answered) after this long is closed with 4408. */
  socketInitTimeoutMs: number;
  /** Serve GraphiQL at GET /graphql. */
  graphiql: boolean;
  /** Serve the reference web client (examples/web, once built) at /app. */
  webClient: boolean;
  /** Directory of the built web client; undefined: examples/web/dist of this checkout. */
  webClientDir: string | undefined;
  /** Automatic persisted queries (APQ): clients may register documents by hash and then send the hash alone. */
  apq: boolean;
  /** Largest document APQ registers, in UTF-8 bytes; larger ones are refused with LIMIT_EXCEEDED. */
  apqMaxDocumentBytes: number;
  /** Documents each instance keeps for APQ without Redis (least recently used dropped first). */
  apqCacheSize: number;
  /** An APQ document is forgotten this long after it was last registered or used (ms). */
  apqTtlMs: number;
  /**
   * Trusted documents from {@link persistedDocumentsManifest}: "off" (none), "allow" (served by
   * hash, other operations still run) or "only" (every other operation is refused).
   */
  persistedDocuments: "off" | "allow" | "only";
  /** Path of the manifest (JSON object hash -> document, as GraphQL Code Generator's client preset writes it). */
  persistedDocumentsManifest: string | undefined;
  /** Browser origins that may call the API (CORS_ORIGINS); undefined allows every origin, never with credentials. */
  corsOrigins: string[] | undefined;
  /** An HTTP request whose headers have not all arrived after this long is answered 408 and closed. */
  httpHeadersTimeoutMs: number;
  /** An HTTP request (headers and body) not fully received after this long is answered 408 and closed. */
  httpRequestTimeoutMs: number;
  /** An idle keep-alive HTTP connection is closed after this long. */
  httpKeepAliveTimeoutMs: number;
  /** Open TCP connections (HTTP and WebSocket together) one instance accepts; more are closed at once. */
  maxConnections: number;
  /** On SIGTERM/SIGINT, how long readiness reports draining before sockets are closed (lets a load balancer notice). */
  drainDelayMs: number;
  /** Sockets and SSE streams are closed spread over this window (close code 1012), so a fleet restart is no reconnect storm. */
  drainWindowMs: number;
  /** The whole shutdown (delay, window, flushes) may take this long; then the process exits with code 1 anyway. */
  shutdownTimeoutMs: number;
  /** Bearer token scrapers send to GET /metrics (Prometheus text); undefined serves no metrics. */
  metricsToken: string | undefined;
  logLevel: "debug" | "info" | "warn" | "error";
  /**
   * OpenTelemetry traces, exported over OTLP/HTTP: set when OTEL_EXPORTER_OTLP_ENDPOINT or
   * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set and OTEL_SDK_DISABLED is not true; undefined
   * (the default) registers no tracer at all.
   */
  tracing: TracingConfig | undefined;
}

/** Where and how traces go (the OTLP exporter also reads its own OTEL_EXPORTER_OTLP_* headers and timeouts). */
export interface TracingConfig {
  /** OTEL_SERVICE_NAME: the resource's service.name. */
  serviceName: string;
  /** Full URL spans are POSTed to: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
  tracesUrl: string;
  /** OTLP over HTTP with protobuf bodies (the OpenTelemetry default) or JSON bodies. */
  protocol: "http/protobuf" | "http/json";
}

/** The OTLP protocols Concord's exporter speaks (gRPC is not included). */
const OTLP_PROTOCOLS = ["http/protobuf", "http/json"] as const;

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
  // Fractions of a day down to about a second, so tests and demos can watch sessions expire.
  const days = (name: string, fallback: number, min = 0.00001, max = 3650): number => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= min && value <= max)) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected a number of days from ${min} to ${max} (fractions allowed, e.g. 0.5)`);
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
  let redisClusterNodes: ClusterSeed[] | undefined;
  if (env.REDIS_CLUSTER_NODES) {
    const parsed = parseClusterSeeds(env.REDIS_CLUSTER_NODES);
    if ("error" in parsed) problems.push(`REDIS_CLUSTER_NODES: ${parsed.error}`);
    else redisClusterNodes = parsed.seeds;
    if (redisUrl !== undefined) problems.push("REDIS_CLUSTER_NODES and REDIS_URL are both set: set REDIS_URL for one Redis or REDIS_CLUSTER_NODES for a Redis Cluster, not both");
  }
  const redisSentinel = sentinelTarget(env, problems, { redisUrl: redisUrl !== undefined, clusterNodes: Boolean(env.REDIS_CLUSTER_NODES) });
  const redisKeyPrefix = env.REDIS_KEY_PREFIX || "concord:";
  if (/\s/.test(redisKeyPrefix)) problems.push(`REDIS_KEY_PREFIX=${JSON.stringify(redisKeyPrefix)}: must not contain whitespace`);
  if (env.REDIS_CLUSTER_NODES && /[{}]/.test(redisKeyPrefix)) {
    problems.push(`REDIS_KEY_PREFIX=${JSON.stringify(redisKeyPrefix)}: must not contain { or } with REDIS_CLUSTER_NODES (they would change the keys' hash slots)`);
  }
  let rateLimits: RateLimitRules | null = defaultRules();
  const rateLimitSwitch = bool("RATE_LIMITS", true);
  for (const [bucket, def] of Object.entries(BUCKETS) as [BucketName, (typeof BUCKETS)[BucketName]][]) {
    const name = `RATE_LIMIT_${def.setting}`;
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    const rule = parseRule(raw);
    if (rule) rateLimits[bucket] = rule;
    else problems.push(`${name}=${JSON.stringify(raw)}: expected <calls>/<window> such as ${formatRule(def.default)} (window in s, m, h or d; 1 s to 7 d)`);
  }
  if (!rateLimitSwitch) rateLimits = null;
  const parsedCors = parseCorsOrigins(env.CORS_ORIGINS);
  if ("error" in parsedCors) problems.push(`CORS_ORIGINS: ${parsedCors.error}`);
  const cors = "origins" in parsedCors ? parsedCors : { origins: undefined };
  const persistedDocumentsManifest = env.PERSISTED_DOCUMENTS_MANIFEST || undefined;
  const persistedDocuments = (env.PERSISTED_DOCUMENTS || (persistedDocumentsManifest ? "allow" : "off")) as Config["persistedDocuments"];
  if (!["off", "allow", "only"].includes(persistedDocuments)) {
    problems.push(`PERSISTED_DOCUMENTS=${JSON.stringify(env.PERSISTED_DOCUMENTS)}: expected off, allow or only`);
  } else if (persistedDocuments !== "off" && !persistedDocumentsManifest) {
    problems.push(`PERSISTED_DOCUMENTS=${persistedDocuments}: needs PERSISTED_DOCUMENTS_MANIFEST, the path of the manifest (hash -> document JSON)`);
  } else if (persistedDocuments === "off" && persistedDocumentsManifest) {
    problems.push("PERSISTED_DOCUMENTS=off with PERSISTED_DOCUMENTS_MANIFEST set: the manifest would be ignored; set PERSISTED_DOCUMENTS=allow or only, or unset the manifest");
  }
  const logLevel = (env.LOG_LEVEL || "info") as Config["logLevel"];
  if (!["debug", "info", "warn", "error"].includes(logLevel)) {
    problems.push(`LOG_LEVEL=${JSON.stringify(env.LOG_LEVEL)}: expected debug, info, warn or error`);
  }

  const tracing = tracingConfig(env, problems, bool("OTEL_SDK_DISABLED", false));

  const config: Config = {
    port: int("PORT", 4000, 0, 65535),
    host: env.HOST || undefined,
    databaseUrl,
    databasePoolSize: int("DATABASE_POOL_SIZE", 10, 1, 1000),
    dataDir: env.DATA_DIR || "./.data",
    messageStore,
    cassandra,
    redisUrl,
    redisClusterNodes,
    redisSentinel,
    redisKeyPrefix,
    eventLogMaxEvents: int("EVENT_LOG_MAX_EVENTS", 1_000, 10, 1_000_000),
    eventLogMaxAgeMs: int("EVENT_LOG_MAX_AGE_SECONDS", 86_400, 10, 30 * 86_400) * 1000,
    workerId: int("WORKER_ID", 0, 0, 1023),
    passwordHashCost: int("PASSWORD_HASH_COST", 17, 10, 20),
    passwordHashConcurrency: int("PASSWORD_HASH_CONCURRENCY", 2, 1, 64),
    passwordHashQueue: int("PASSWORD_HASH_QUEUE", 16, 0, 10_000),
    maxRequestBytes: int("MAX_REQUEST_BYTES", 100_000, 1_000, 10_000_000),
    maxQueryDepth: int("MAX_QUERY_DEPTH", 10, 2, 100),
    maxQueryCost: int("MAX_QUERY_COST", 10_000, 10, 1_000_000),
    maxChannelsPerGuild: int("MAX_CHANNELS_PER_GUILD", DEFAULT_RESOURCE_CAPS.channelsPerGuild, 1, 10_000),
    maxGuildsPerUser: int("MAX_GUILDS_PER_USER", DEFAULT_RESOURCE_CAPS.guildsPerUser, 1, 10_000),
    maxBotsPerUser: int("MAX_BOTS_PER_USER", DEFAULT_RESOURCE_CAPS.botsPerUser, 0, 1_000),
    maxGroupDmMembers: int("MAX_GROUP_DM_MEMBERS", DEFAULT_RESOURCE_CAPS.groupDmMembers, 3, 100),
    maxRolesPerGuild: int("MAX_ROLES_PER_GUILD", DEFAULT_RESOURCE_CAPS.rolesPerGuild, 1, 1_000),
    maxFriendsPerUser: int("MAX_FRIENDS_PER_USER", DEFAULT_RESOURCE_CAPS.friendsPerUser, 1, 100_000),
    maxPendingFriendRequests: int("MAX_PENDING_FRIEND_REQUESTS", DEFAULT_RESOURCE_CAPS.pendingFriendRequests, 1, 10_000),
    maxBlocksPerUser: int("MAX_BLOCKS_PER_USER", DEFAULT_RESOURCE_CAPS.blocksPerUser, 1, 100_000),
    subscriptionBufferSize: int("SUBSCRIPTION_BUFFER_SIZE", 1_000, 1, 1_000_000),
    maxStreamChannels: int("MAX_STREAM_CHANNELS", 5_000, 1, 1_000_000),
    maxSocketBufferedBytes: int("MAX_SOCKET_BUFFERED_BYTES", 1_000_000, 10_000, 1_000_000_000),
    presenceHeartbeatMs: int("PRESENCE_HEARTBEAT_MS", 15_000, 100, 600_000),
    largeGuildThreshold: int("LARGE_GUILD_THRESHOLD", 1_000, 2, 10_000_000),
    onlineCountRefreshMs: int("ONLINE_COUNT_REFRESH_MS", 5_000, 100, 600_000),
    ackFlushMs: int("ACK_FLUSH_MS", 1_000, 10, 60_000),
    sessionCacheTtlMs: int("SESSION_CACHE_TTL_MS", 60_000, 0, 3_600_000),
    sessionCacheMaxEntries: int("SESSION_CACHE_MAX_ENTRIES", 100_000, 1, 10_000_000),
    sessionIdleDays: days("SESSION_IDLE_DAYS", 30),
    sessionMaxDays: days("SESSION_MAX_DAYS", 365),
    auditLogRetentionDays: days("AUDIT_LOG_RETENTION_DAYS", 45),
    rateLimits,
    trustProxyHops: int("TRUST_PROXY_HOPS", 0, 0, 10),
    maxSubscriptionsPerSocket: int("MAX_SUBSCRIPTIONS_PER_SOCKET", 100, 1, 100_000),
    maxOperationsInFlightPerSocket: int("MAX_OPERATIONS_IN_FLIGHT_PER_SOCKET", 8, 1, 1_000),
    maxQueuedOperationsPerSocket: int("MAX_QUEUED_OPERATIONS_PER_SOCKET", 200, 0, 100_000),
    socketMessagesPerMinute: int("SOCKET_MESSAGES_PER_MINUTE", 600, 10, 1_000_000),
    maxSocketsPerUser: int("MAX_SOCKETS_PER_USER", 20, 1, 100_000),
    maxSocketsPerAddress: int("MAX_SOCKETS_PER_ADDRESS", 200, 1, 1_000_000),
    maxSocketMessageBytes: int("MAX_SOCKET_MESSAGE_BYTES", 32_768, 1_000, 10_000_000),
    anonymousSocketIdleMs: int("ANONYMOUS_SOCKET_IDLE_MS", 30_000, 1_000, 3_600_000),
    socketInitTimeoutMs: int("SOCKET_INIT_TIMEOUT_MS", 10_000, 1_000, 600_000),
    graphiql: bool("GRAPHIQL", true),
    webClient: bool("WEB_CLIENT", true),
    webClientDir: env.WEB_CLIENT_DIR || undefined,
    apq: bool("APQ", true),
    apqMaxDocumentBytes: int("APQ_MAX_DOCUMENT_BYTES", 32_768, 100, 1_000_000),
    apqCacheSize: int("APQ_CACHE_SIZE", 1_000, 1, 1_000_000),
    apqTtlMs: int("APQ_TTL_SECONDS", 86_400, 1, 30 * 86_400) * 1000,
    persistedDocuments,
    persistedDocumentsManifest,
    corsOrigins: cors.origins,
    httpHeadersTimeoutMs: int("HTTP_HEADERS_TIMEOUT_MS", 10_000, 100, 600_000),
    httpRequestTimeoutMs: int("HTTP_REQUEST_TIMEOUT_MS", 30_000, 100, 3_600_000),
    httpKeepAliveTimeoutMs: int("HTTP_KEEP_ALIVE_TIMEOUT_MS", 5_000, 100, 600_000),
    maxConnections: int("MAX_CONNECTIONS", 60_000, 1, 10_000_000),
    drainDelayMs: int("DRAIN_DELAY_MS", 0, 0, 600_000),
    drainWindowMs: int("DRAIN_WINDOW_MS", 10_000, 0, 600_000),
    shutdownTimeoutMs: int("SHUTDOWN_TIMEOUT_MS", 30_000, 1_000, 3_600_000),
    metricsToken: env.METRICS_TOKEN || undefined,
    logLevel,
    tracing,
  };
  if (config.httpHeadersTimeoutMs > config.httpRequestTimeoutMs) {
    // Node refuses to start with headers allowed longer than the whole request.
    problems.push(`HTTP_HEADERS_TIMEOUT_MS=${config.httpHeadersTimeoutMs}: must not exceed HTTP_REQUEST_TIMEOUT_MS (${config.httpRequestTimeoutMs})`);
  }
  if (config.drainDelayMs + config.drainWindowMs >= config.shutdownTimeoutMs) {
    problems.push(`SHUTDOWN_TIMEOUT_MS=${config.shutdownTimeoutMs}: must exceed DRAIN_DELAY_MS + DRAIN_WINDOW_MS (${config.drainDelayMs + config.drainWindowMs}), or every shutdown ends killed`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * The tracing settings, from the standard OpenTelemetry variables (every one read, so
 * {@link configVariableNames} lists them): undefined unless an OTLP endpoint is set and the SDK
 * is not disabled.
 */
function tracingConfig(env: Env, problems: string[], disabled: boolean): TracingConfig | undefined {
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined;
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || undefined;
  const serviceName = (env.OTEL_SERVICE_NAME ?? "").trim() || "concord";
  const protocolSetting = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" : "OTEL_EXPORTER_OTLP_PROTOCOL";
  const protocol = (env[protocolSetting] || "http/protobuf") as TracingConfig["protocol"];
  if (!OTLP_PROTOCOLS.includes(protocol)) {
    problems.push(`${protocolSetting}=${JSON.stringify(env[protocolSetting])}: expected http/protobuf or http/json (OTLP over HTTP, port 4318 on a collector; grpc is not supported)`);
  }
  for (const [name, value] of [["OTEL_EXPORTER_OTLP_ENDPOINT", base], ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces]] as const) {
    if (value !== undefined && !/^https?:\/\/[^/?#\s]+/.test(value)) problems.push(`${name}: expected an http:// or https:// URL, got ${JSON.stringify(redactUrl(value))}`);
  }
  if (disabled || (base === undefined && traces === undefined)) return undefined;
  const tracesUrl = traces ?? `${base!.replace(/\/+$/, "")}/v1/traces`;
  return { serviceName, tracesUrl, protocol };
}

/**
 * Every environment variable {@link loadConfig} reads, found by running it on an environment
 * that records what is asked (once as configured by default, once with the Cassandra store, whose
 * settings are only read then). Test and benchmark harnesses scrub these from the environment
 * their child servers inherit, and a test checks the README documents each one.
 */
export function configVariableNames(): string[] {
  const seen = new Set<string>();
  for (const preset of [{}, { MESSAGE_STORE: "cassandra" }] as Env[]) {
    const recording = new Proxy(preset, {
      get(target, key) {
        if (typeof key === "string") seen.add(key);
        return target[key as string];
      },
    });
    loadConfig(recording);
  }
  return [...seen].sort();
}

/**
 * REDIS_SENTINELS (comma-separated host:port of the sentinels), REDIS_SENTINEL_NAME (the primary
 * group they monitor: required with them) and REDIS_SENTINEL_PASSWORD (the sentinels' AUTH).
 * Every variable is read whatever is set, so `configVariableNames` lists them all.
 */
function sentinelTarget(env: Env, problems: string[], others: { redisUrl: boolean; clusterNodes: boolean }): SentinelTarget | undefined {
  const raw = env.REDIS_SENTINELS || undefined;
  const name = env.REDIS_SENTINEL_NAME || undefined;
  const password = env.REDIS_SENTINEL_PASSWORD || undefined;
  if (raw === undefined) {
    if (name !== undefined || password !== undefined) problems.push("REDIS_SENTINEL_NAME or REDIS_SENTINEL_PASSWORD is set without REDIS_SENTINELS: list the sentinels (host:port,host:port,…) or unset them");
    return undefined;
  }
  if (others.redisUrl) problems.push("REDIS_SENTINELS and REDIS_URL are both set: set REDIS_URL for one Redis or REDIS_SENTINELS for a primary found through Sentinel, not both");
  if (others.clusterNodes) problems.push("REDIS_SENTINELS and REDIS_CLUSTER_NODES are both set: a Redis Cluster fails over by itself; set one of them");
  const parsed = parseClusterSeeds(raw, "10.0.0.5:26379");
  if ("error" in parsed) problems.push(`REDIS_SENTINELS: ${parsed.error}`);
  if (name === undefined) problems.push("REDIS_SENTINEL_NAME: required with REDIS_SENTINELS: the name of the primary group the sentinels monitor (sentinel monitor <name> …)");
  else if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) problems.push(`REDIS_SENTINEL_NAME=${JSON.stringify(name)}: expected letters, digits, '.', '_' or '-' (at most 100)`);
  if ("error" in parsed || name === undefined) return undefined;
  return { sentinels: parsed.seeds, name, ...(password !== undefined && { password }) };
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
