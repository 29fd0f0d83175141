import path from "node:path";
import { fileURLToPath } from "node:url";
import { PasswordHasher } from "./auth/password-hasher.js";
import { redactUrl, type Config } from "./config.js";
import type { Services } from "./context.js";
import { createIdGenerator } from "./ids/snowflake.js";
import { createLogger, type Logger } from "./logger.js";
import { createGateway, GRAPHQL_PATH, type Gateway } from "./gateway/server.js";
import type { EventBus } from "./pubsub/event-bus.js";
import { MemoryEventBus } from "./pubsub/event-bus.memory.js";
import { createRedisEventBus, type RedisEventBus } from "./pubsub/event-bus.redis.js";
import { RecentDeletions } from "./pubsub/recent-deletions.js";
import { ReadableChannels } from "./permissions/readable-channels.js";
import { PermissionCache } from "./permissions/permission-cache.js";
import { PrismaPermissionStore } from "./stores/permission-store.prisma.js";
import { ChannelSequencer } from "./resolvers/channel-sequencer.js";
import { stopBanPurges } from "./resolvers/ban-message-purge.js";
import { CredentialCache } from "./resolvers/credential-cache.js";
import { createSessionPolicy } from "./resolvers/session-expiry.js";
import { lookupSession } from "./resolvers/session-lookup.js";
import { topics, type Topic } from "./pubsub/topics.js";
import { PrismaAccountStore } from "./stores/account-store.prisma.js";
import { PrismaChannelStore } from "./stores/channel-store.prisma.js";
import { PrismaGuildStore } from "./stores/guild-store.prisma.js";
import { PrismaAuditLogStore } from "./stores/audit-log-store.prisma.js";
import { startAuditLogPrune } from "./resolvers/audit-log.js";
import { PostgresMessageStore } from "./stores/message-store.postgres.js";
import { openDatabase, type Database } from "./stores/prisma/database.js";
import { openCassandra, type Cassandra } from "./stores/cassandra/client.js";
import { CassandraMessageStore } from "./stores/message-store.cassandra.js";
import type { MessageStore } from "./stores/message-store.js";
import { AckBuffer } from "./resolvers/ack-buffer.js";
import { PresenceAnnouncer } from "./resolvers/presence-announcer.js";
import { MemoryPresenceStore } from "./stores/presence-store.memory.js";
import { createRedisPresenceStore } from "./stores/presence-store.redis.js";
import type { PresenceStore } from "./stores/presence-store.js";
import { PrismaReadStateStore } from "./stores/read-state-store.prisma.js";
import { PrismaRelationshipStore } from "./stores/relationship-store.prisma.js";
import { PrismaDirectMessageStore } from "./stores/direct-message-store.prisma.js";
import { createMemoryRateLimiter, createRedisRateLimiter, type RateLimiter } from "./limits/rate-limiter.js";
import { PersistedQueries } from "./gateway/persisted-queries.js";
import { loadTrustedDocuments, type TrustedDocuments } from "./gateway/trusted-documents.js";
import type { PersistedQueryStore } from "./stores/persisted-query-store.js";
import { MemoryPersistedQueryStore } from "./stores/persisted-query-store.memory.js";
import { createRedisPersistedQueryStore } from "./stores/persisted-query-store.redis.js";
import { seedList } from "./redis/cluster.js";
import { describeTarget, openFailFast, shutDown, type RedisTarget } from "./redis/connection.js";
import { countPublishes } from "./metrics/live-counts.js";
import { Readiness, type ReadinessCheck } from "./gateway/readiness.js";
import { createMigrationCheck } from "./stores/prisma/migration-status.js";
import type { DeliveryTracer } from "./pubsub/event-bus.js";
import { startTracing, type Tracing } from "./tracing/tracing.js";
import { traceStore } from "./tracing/traced-store.js";
import { createDeliveryTracer, traceEventBus } from "./tracing/traced-event-bus.js";

/** A readiness ping not answered within this long fails the check. */
const READINESS_TIMEOUT_MS = 1_000;
/** /readyz reuses one round of pings for this long, so a probe storm costs nothing. */
const READINESS_CACHE_MS = 1_000;

export interface App {
  services: Services;
  gateway: Gateway;
  /** Bound port, after start(). */
  port: number;
  url: string;
  /** Starts serving; resolves when listening. */
  start(): Promise<void>;
  /** Graceful stop: closes sockets, lets in-flight publishes finish, closes the stores. Idempotent. */
  stop(): Promise<void>;
  /**
   * What SIGTERM runs: readiness turns false and new sockets and SSE streams are refused, then
   * after DRAIN_DELAY_MS the open ones are closed (1012) over DRAIN_WINDOW_MS, then {@link stop}
   * (pending acks and presence flushed, in-flight requests finished). Idempotent.
   */
  shutdown(): Promise<void>;
  /** Answers /readyz. */
  readiness: Readiness;
}

/**
 * The web client `npm run build:web` writes, found from this file (src/app.ts under tsx,
 * dist/app.js when compiled: both one level below the checkout).
 */
const BUILT_WEB_CLIENT = fileURLToPath(new URL("../examples/web/dist", import.meta.url));

/** Thrown when a backend named in the configuration cannot be used; its message is one line for the operator. */
export class StartupError extends Error {
  override name = "StartupError";
}

/**
 * Where the configured Redis is: one server (REDIS_URL), a cluster (REDIS_CLUSTER_NODES) or a
 * primary found through Sentinel (REDIS_SENTINELS), with the setting's name, a printable address
 * for messages and its kind for logs; undefined when none is set. Every Redis client of the app
 * is made from this one target (event bus, presence, rate limits, APQ, readiness).
 */
function configuredRedis(config: Config): { connection: RedisTarget; setting: string; where: string; kind: string } | undefined {
  if (config.redisClusterNodes) return { connection: { clusterNodes: config.redisClusterNodes }, setting: "REDIS_CLUSTER_NODES", where: seedList(config.redisClusterNodes), kind: "redis-cluster" };
  if (config.redisSentinel) return { connection: { sentinel: config.redisSentinel }, setting: "REDIS_SENTINELS", where: describeTarget({ sentinel: config.redisSentinel }), kind: "redis-sentinel" };
  if (config.redisUrl) return { connection: { url: config.redisUrl }, setting: "REDIS_URL", where: redactUrl(config.redisUrl), kind: "redis" };
  return undefined;
}

/**
 * `onRecovered` runs after the Redis bus re-subscribed topics (events may have been lost meanwhile).
 * With tracing on, each publish is a span whose context travels in the event, and each event that
 * arrives with one is delivered inside a span of its own.
 */
async function openConfiguredBus(config: Config, logger: Logger, tracing: Tracing | undefined, onRecovered: (topics: Topic[]) => void): Promise<EventBus> {
  const redis = configuredRedis(config);
  const system = redis ? "redis" : "memory";
  const bus = await openBus(config, logger, tracing && createDeliveryTracer(tracing.tracer, system), onRecovered);
  countPublishes(bus);
  return tracing ? traceEventBus(bus, tracing.tracer, system) : bus;
}

async function openBus(config: Config, logger: Logger, traceDelivery: DeliveryTracer | undefined, onRecovered: (topics: Topic[]) => void): Promise<EventBus> {
  const onHandlerError = (error: unknown, topic: string) => logger.error("event handler failed", { error, topic });
  const redis = configuredRedis(config);
  if (!redis) return new MemoryEventBus(onHandlerError, { maxEvents: config.eventLogMaxEvents, maxAgeMs: config.eventLogMaxAgeMs }, traceDelivery);
  try {
    const bus: RedisEventBus = await createRedisEventBus({
      ...redis.connection,
      keyPrefix: config.redisKeyPrefix,
      logger,
      onHandlerError,
      connectionName: `concord-${config.workerId}`,
      logRetention: { maxEvents: config.eventLogMaxEvents, maxAgeMs: config.eventLogMaxAgeMs },
      traceDelivery,
      // After a reconnect the bus repairs every held topic from the event log by itself (and
      // reports only what the log lost, as ResyncRequired); what this instance cached from events
      // it may have missed (sessions, permissions) is forgotten.
      onResubscribed: (topics) => onRecovered(topics),
    });
    logger.info("event bus ready", { kind: redis.kind, url: redis.where, eventLogMaxEvents: config.eventLogMaxEvents });
    return bus;
  } catch (error) {
    throw new StartupError(`${redis.setting}: cannot use ${redis.where}: ${(error as Error).message}`);
  }
}

async function openConfiguredPresence(config: Config, logger: Logger): Promise<PresenceStore> {
  const redis = configuredRedis(config);
  if (!redis) return new MemoryPresenceStore();
  try {
    const store = await createRedisPresenceStore({
      ...redis.connection,
      keyPrefix: config.redisKeyPrefix,
      connectionName: `concord-${config.workerId}-presence`,
      onConnectionError: (error) => logger.warn("presence store lost Redis; presence calls fail until it is back", { error: error.message }),
    });
    logger.info("presence store ready", { kind: redis.kind, heartbeatMs: config.presenceHeartbeatMs });
    return store;
  } catch (error) {
    throw new StartupError(`${redis.setting}: cannot use ${redis.where} for presence: ${(error as Error).message}`);
  }
}

/** Rate limits: none when RATE_LIMITS=off, one budget for the fleet in Redis, else in this process. */
async function openConfiguredRateLimiter(config: Config, logger: Logger): Promise<RateLimiter | null> {
  if (!config.rateLimits) {
    logger.warn("rate limits are off (RATE_LIMITS=off): use this for load tests only, never in production");
    return null;
  }
  const redis = configuredRedis(config);
  if (!redis) return createMemoryRateLimiter(config.rateLimits);
  try {
    return await createRedisRateLimiter(config.rateLimits, {
      ...redis.connection,
      keyPrefix: config.redisKeyPrefix,
      connectionName: `concord-${config.workerId}-rate-limits`,
      onConnectionError: (error) => logger.warn("rate limits lost Redis; each instance counts on its own until it is back", { error: error.message }),
    });
  } catch (error) {
    throw new StartupError(`${redis.setting}: cannot use ${redis.where} for rate limits: ${(error as Error).message}`);
  }
}

/** Where APQ keeps documents: none when APQ=false, one Redis keyspace for the fleet, else a bounded LRU in this process. */
async function openConfiguredPersistedQueryStore(config: Config, logger: Logger): Promise<PersistedQueryStore | null> {
  if (!config.apq) return null;
  const ttlMs = config.apqTtlMs;
  const redis = configuredRedis(config);
  if (!redis) return new MemoryPersistedQueryStore({ ttlMs, maxEntries: config.apqCacheSize });
  try {
    return await createRedisPersistedQueryStore({
      ...redis.connection,
      keyPrefix: config.redisKeyPrefix,
      ttlMs,
      connectionName: `concord-${config.workerId}-persisted-queries`,
      onError: (error) => logger.warn("persisted queries lost Redis; clients send full queries until it is back", { error: error.message }),
    });
  } catch (error) {
    throw new StartupError(`${redis.setting}: cannot use ${redis.where} for persisted queries: ${(error as Error).message}`);
  }
}

/** The manifest's trusted documents (PERSISTED_DOCUMENTS_MANIFEST); none when PERSISTED_DOCUMENTS=off. */
async function loadConfiguredTrustedDocuments(config: Config, logger: Logger): Promise<TrustedDocuments> {
  if (config.persistedDocuments === "off" || !config.persistedDocumentsManifest) return new Map();
  let documents: TrustedDocuments;
  try {
    documents = await loadTrustedDocuments(config.persistedDocumentsManifest);
  } catch (error) {
    throw new StartupError(`PERSISTED_DOCUMENTS_MANIFEST: ${(error as Error).message}`);
  }
  logger.info("trusted documents loaded", { mode: config.persistedDocuments, documents: documents.size, manifest: config.persistedDocumentsManifest });
  if (config.persistedDocuments === "only" && config.graphiql) {
    logger.warn("GraphiQL is on with PERSISTED_DOCUMENTS=only: it can run only the manifest's documents (not even its schema introspection)");
  }
  return documents;
}

async function openConfiguredCassandra(config: Config, logger: Logger): Promise<Cassandra | undefined> {
  if (config.messageStore !== "cassandra" || !config.cassandra) return undefined;
  try {
    const cassandra = await openCassandra(config.cassandra);
    for (const warning of cassandra.warnings) logger.warn(warning);
    logger.info("message store ready", { kind: "cassandra", keyspace: cassandra.keyspace, migrated: cassandra.migrated });
    return cassandra;
  } catch (error) {
    throw new StartupError(`CASSANDRA_CONTACT_POINTS: ${(error as Error).message}`);
  }
}

async function openConfiguredDatabase(config: Config, logger: Logger): Promise<Database> {
  if (config.databaseUrl) {
    try {
      const db = await openDatabase({ kind: "postgres", url: config.databaseUrl, poolSize: config.databasePoolSize });
      logger.info("database ready", { kind: "postgres", url: redactUrl(config.databaseUrl), migrated: db.migrated });
      return db;
    } catch (error) {
      throw new StartupError(`DATABASE_URL: cannot use ${redactUrl(config.databaseUrl)}: ${(error as Error).message}`);
    }
  }
  const dataDir = config.dataDir.startsWith("memory://") ? config.dataDir : path.resolve(config.dataDir);
  try {
    const db = await openDatabase({ kind: "pglite", dataDir });
    logger.info("database ready", { kind: "pglite", dataDir, migrated: db.migrated });
    return db;
  } catch (error) {
    throw new StartupError(`DATA_DIR: cannot open the embedded database in ${dataDir}: ${(error as Error).message}`);
  }
}

/**
 * The readiness checks of the backends configured: Postgres (a ping, and every committed
 * migration applied), Redis (a PING on a connection of its own, failing fast while Redis is
 * away) and Cassandra (a read of system.local). `close` ends the Redis connection.
 */
async function openConfiguredReadiness(config: Config, db: Database, cassandra: Cassandra | undefined): Promise<{ readiness: Readiness; close: () => Promise<void> }> {
  const checks: ReadinessCheck[] = [
    { name: "postgres", check: async () => void (await db.prisma.$queryRawUnsafe("SELECT 1")) },
    { name: "migrations", check: await createMigrationCheck(db.prisma) },
  ];
  let close = async () => {};
  const redis = configuredRedis(config);
  if (redis) {
    let client;
    try {
      client = await openFailFast({ ...redis.connection, purpose: "readiness", connectionName: `concord-${config.workerId}-readiness`, commandTimeoutMs: READINESS_TIMEOUT_MS });
    } catch (error) {
      throw new StartupError(`${redis.setting}: cannot use ${redis.where} for readiness checks: ${(error as Error).message}`);
    }
    const pinged = client;
    checks.push({ name: "redis", check: async () => void (await pinged.ping()) });
    close = () => shutDown(pinged);
  }
  if (cassandra) checks.push({ name: "cassandra", check: async () => void (await cassandra.client.execute("SELECT release_version FROM system.local")) });
  return { readiness: new Readiness(checks, { timeoutMs: READINESS_TIMEOUT_MS, cacheMs: READINESS_CACHE_MS }), close };
}

/**
 * The composition root: the only place that reads configuration and chooses adapters. Every
 * other module receives its dependencies from here.
 */
export async function createApp(config: Config, options: { logger?: Logger; database?: Database } = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const tracing = config.tracing ? startTracing(config.tracing) : undefined;
  if (tracing && config.tracing) {
    const { serviceName, tracesUrl, protocol } = config.tracing;
    logger.info("tracing on", { serviceName, serviceInstanceId: tracing.serviceInstanceId, tracesUrl: redactUrl(tracesUrl), protocol });
  }
  /** Tracing on: the store with a span around each port call; off: the store itself. */
  const traced = <T extends object>(store: T, name: string, dbSystem: string | undefined): T =>
    tracing ? traceStore(store, tracing.tracer, { name, dbSystem }) : store;
  // Tests hand in an already-open database (loaded from a migrated template); nothing else does.
  // Open each backend in turn; if one fails, close those already open so the process can exit.
  const opened: (() => Promise<void>)[] = [];
  let bus: EventBus, db: Database, cassandra: Cassandra | undefined, presence: PresenceStore, rateLimiter: RateLimiter | null;
  let persistedQueryStore: PersistedQueryStore | null, trustedDocuments: TrustedDocuments;
  let readiness: Readiness, closeReadiness: () => Promise<void>;
  // Built before the stores so the bus can clear it after a reconnect; its lookup is late-bound.
  let accounts: PrismaAccountStore | undefined;
  let roles: PrismaPermissionStore | undefined;
  let gateway: Gateway | undefined;
  const permissions = new PermissionCache({
    store: {
      loadAccess: (guildId, userId) => roles!.loadAccess(guildId, userId),
      getMemberRoleIds: (guildId, userIds) => roles!.getMemberRoleIds(guildId, userIds),
    },
  });
  const sessionPolicy = createSessionPolicy(config.sessionIdleDays, config.sessionMaxDays);
  const credentials = new CredentialCache({
    lookup: (tokenHash) => lookupSession({ accounts: accounts!, policy: sessionPolicy, now: () => new Date(), logger }, tokenHash),
    ttlMs: config.sessionCacheTtlMs,
    maxEntries: config.sessionCacheMaxEntries,
  });
  try {
    // Revocations and permission changes published while this instance was cut off from Redis
    // were missed: forget all. (On a cluster other topics can be re-subscribed alone, when only
    // their shard moved: then nothing cached here depends on them.)
    bus = await openConfiguredBus(config, logger, tracing, (resubscribed) => {
      if (resubscribed.includes(topics.revocations)) credentials.clear();
      if (resubscribed.includes(topics.permissions)) permissions.clear();
    });
    opened.push(() => bus.close());
    // Every instance hears every revocation: it forgets the session and closes its sockets.
    await bus.subscribe(topics.revocations, (event) => {
      if (event.type !== "SessionRevoked") return;
      credentials.revoke(event);
      gateway?.closeRevoked(event);
    });
    // And every permission change: its cache forgets it, and its live streams re-check access.
    await bus.subscribe(topics.permissions, (event) => {
      if (event.type === "PermissionsChanged") permissions.invalidate(event);
    });
    presence = await openConfiguredPresence(config, logger);
    opened.push(() => presence.close());
    rateLimiter = await openConfiguredRateLimiter(config, logger);
    opened.push(async () => rateLimiter?.close());
    trustedDocuments = await loadConfiguredTrustedDocuments(config, logger);
    persistedQueryStore = await openConfiguredPersistedQueryStore(config, logger);
    opened.push(async () => persistedQueryStore?.close());
    db = options.database ?? (await openConfiguredDatabase(config, logger));
    opened.push(() => db.close());
    cassandra = await openConfiguredCassandra(config, logger);
    opened.push(async () => cassandra?.close());
    const checks = await openConfiguredReadiness(config, db, cassandra);
    readiness = checks.readiness;
    closeReadiness = checks.close;
  } catch (error) {
    for (const close of opened.reverse()) await close().catch(() => {});
    await tracing?.shutdown().catch(() => {});
    throw error;
  }
  const messages: MessageStore = cassandra
    ? traced(new CassandraMessageStore(cassandra.client, { keyspace: cassandra.keyspace, consistency: cassandra.consistency, serialConsistency: cassandra.serialConsistency }), "messages", "cassandra")
    : traced(new PostgresMessageStore(db.prisma, db.reads), "messages", "postgresql");
  accounts = traced(new PrismaAccountStore(db.prisma, db.reads), "accounts", "postgresql");
  roles = traced(new PrismaPermissionStore(db.prisma, db.reads), "roles", "postgresql");
  const guilds = traced(new PrismaGuildStore(db.prisma, db.reads), "guilds", "postgresql");
  const channels = traced(new PrismaChannelStore(db.prisma, db.reads), "channels", "postgresql");
  const readStates = traced(new PrismaReadStateStore(db.prisma), "readStates", "postgresql");
  const relationships = traced(new PrismaRelationshipStore(db.prisma, db.reads), "relationships", "postgresql");
  presence = traced(presence, "presence", configuredRedis(config) ? "redis" : undefined);
  const now = () => new Date();
  const services: Services = {
    accounts,
    guilds,
    channels,
    relationships,
    directMessages: traced(new PrismaDirectMessageStore(db.prisma), "directMessages", "postgresql"),
    messages,
    presence,
    readStates,
    bus,
    announcer: new PresenceAnnouncer({
      guilds,
      relationships,
      presence,
      bus,
      logger,
      now,
      largeGuildThreshold: config.largeGuildThreshold,
      coalesceMs: 1_000,
      onlineCountRefreshMs: config.onlineCountRefreshMs,
    }),
    acks: new AckBuffer({ store: readStates, bus, logger, flushMs: config.ackFlushMs }),
    credentials,
    passwords: new PasswordHasher({ cost: config.passwordHashCost, concurrency: config.passwordHashConcurrency, queueSize: config.passwordHashQueue }),
    rateLimiter,
    deletions: new RecentDeletions(),
    roles,
    auditLog: traced(new PrismaAuditLogStore(db.prisma), "auditLog", "postgresql"),
    permissions,
    readableChannels: new ReadableChannels({ permissions, store: channels }),
    newId: createIdGenerator(config.workerId),
    sequencer: new ChannelSequencer((error) => logger.error("publish failed", { error })),
    logger,
    now,
    settings: {
      passwordHashCost: config.passwordHashCost,
      subscriptionBufferSize: config.subscriptionBufferSize,
      maxStreamChannels: config.maxStreamChannels,
      largeGuildThreshold: config.largeGuildThreshold,
      sessionPolicy,
      auditLogRetentionDays: config.auditLogRetentionDays,
      caps: {
        channelsPerGuild: config.maxChannelsPerGuild,
        guildsPerUser: config.maxGuildsPerUser,
        botsPerUser: config.maxBotsPerUser,
        groupDmMembers: config.maxGroupDmMembers,
        rolesPerGuild: config.maxRolesPerGuild,
        friendsPerUser: config.maxFriendsPerUser,
        pendingFriendRequests: config.maxPendingFriendRequests,
        blocksPerUser: config.maxBlocksPerUser,
      },
    },
  };
  gateway = createGateway(services, {
    maxRequestBytes: config.maxRequestBytes,
    maxQueryDepth: config.maxQueryDepth,
    maxQueryCost: config.maxQueryCost,
    graphiql: config.graphiql,
    webClientDir: config.webClient ? (config.webClientDir ?? BUILT_WEB_CLIENT) : undefined,
    http: {
      corsOrigins: config.corsOrigins,
      headersTimeoutMs: config.httpHeadersTimeoutMs,
      requestTimeoutMs: config.httpRequestTimeoutMs,
      keepAliveTimeoutMs: config.httpKeepAliveTimeoutMs,
      maxConnections: config.maxConnections,
    },
    heartbeatMs: config.presenceHeartbeatMs,
    maxSocketBufferedBytes: config.maxSocketBufferedBytes,
    trustProxyHops: config.trustProxyHops,
    sockets: {
      maxSubscriptions: config.maxSubscriptionsPerSocket,
      maxInFlight: config.maxOperationsInFlightPerSocket,
      maxQueued: config.maxQueuedOperationsPerSocket,
      messagesPerMinute: config.socketMessagesPerMinute,
      maxSocketsPerUser: config.maxSocketsPerUser,
      maxSocketsPerAddress: config.maxSocketsPerAddress,
      maxMessageBytes: config.maxSocketMessageBytes,
      initTimeoutMs: config.socketInitTimeoutMs,
      anonymousIdleMs: config.anonymousSocketIdleMs,
      // Subscription starts read the store: keep them to half of the pool (PGlite has one connection).
      subscriptionStartsInFlight: config.databaseUrl ? Math.max(2, Math.floor(config.databasePoolSize / 2)) : 2,
    },
    persisted: new PersistedQueries({
      store: persistedQueryStore,
      trusted: trustedDocuments,
      trustedOnly: config.persistedDocuments === "only",
      maxDocumentBytes: config.apqMaxDocumentBytes,
      logger,
    }),
    readiness,
    metricsToken: config.metricsToken,
    messageStoreKind: cassandra ? "cassandra" : "postgres",
    tracer: tracing?.tracer,
  });

  let stopping: Promise<void> | undefined;
  let shuttingDown: Promise<void> | undefined;
  let stopPrune: (() => Promise<void>) | undefined;
  const app: App = {
    services,
    gateway,
    readiness,
    port: 0,
    url: "",
    async start() {
      app.port = await gateway.listen(config.port, config.host);
      stopPrune ??= startAuditLogPrune(services);
      app.url = `http://${config.host && config.host !== "0.0.0.0" ? config.host : "localhost"}:${app.port}${GRAPHQL_PATH}`;
      logger.info("serving", { url: app.url, websocket: app.url.replace(/^http/, "ws") });
    },
    stop() {
      stopping ??= (async () => {
        // Sockets close first (their users go offline), then what is batched is written and
        // announced before the bus and the stores close.
        await gateway.close().catch((error) => logger.error("closing the gateway failed", { error }));
        await stopBanPurges(services);
        await stopPrune?.();
        await services.sequencer.drain();
        await services.acks.close();
        await services.announcer.close();
        await bus.close();
        await presence.close().catch((error) => logger.error("closing the presence store failed", { error }));
        await rateLimiter?.close().catch((error) => logger.error("closing the rate limiter failed", { error }));
        await persistedQueryStore?.close().catch((error) => logger.error("closing the persisted query store failed", { error }));
        await db.close().catch((error) => logger.error("closing the database failed", { error }));
        await cassandra?.close().catch((error) => logger.error("closing Cassandra failed", { error }));
        await closeReadiness();
        // Last, so the spans of everything above are exported too.
        await tracing?.shutdown().catch((error) => logger.error("exporting the last spans failed", { error }));
      })();
      return stopping;
    },
    shutdown() {
      shuttingDown ??= (async () => {
        readiness.startDraining();
        logger.info("draining", { delayMs: config.drainDelayMs, windowMs: config.drainWindowMs });
        if (config.drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.drainDelayMs));
        await gateway.drain(config.drainWindowMs);
        await app.stop();
      })();
      return shuttingDown;
    },
  };
  return app;
}
