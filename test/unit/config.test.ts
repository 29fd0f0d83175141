import { describe, expect, it } from "vitest";
import { ConfigError, configVariableNames, loadConfig, redactUrl, type Config } from "../../src/config.js";
import { defaultRules } from "../../src/limits/rate-limit-rules.js";

/** The ConfigError that loading `env` throws (fails the test if it does not throw one). */
function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  return expect.fail(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe("loadConfig", () => {
  it("has a default for every setting", () => {
    const expected: Config = {
      port: 4000,
      host: undefined,
      databaseUrl: undefined,
      databasePoolSize: 10,
      dataDir: "./.data",
      messageStore: "postgres",
      cassandra: undefined,
      redisUrl: undefined,
      redisClusterNodes: undefined,
      redisSentinel: undefined,
      redisKeyPrefix: "concord:",
      eventLogMaxEvents: 1_000,
      eventLogMaxAgeMs: 86_400_000,
      workerId: 0,
      passwordHashCost: 17,
      passwordHashConcurrency: 2,
      passwordHashQueue: 16,
      maxRequestBytes: 100_000,
      maxQueryDepth: 10,
      maxQueryCost: 10_000,
      maxChannelsPerGuild: 500,
      maxGuildsPerUser: 200,
      maxBotsPerUser: 25,
      maxGroupDmMembers: 10,
      maxRolesPerGuild: 250,
      maxFriendsPerUser: 1_000,
      maxPendingFriendRequests: 100,
      maxBlocksPerUser: 1_000,
      subscriptionBufferSize: 1_000,
      maxStreamChannels: 5_000,
      maxSocketBufferedBytes: 1_000_000,
      presenceHeartbeatMs: 15_000,
      largeGuildThreshold: 1_000,
      onlineCountRefreshMs: 5_000,
      ackFlushMs: 1_000,
      sessionCacheTtlMs: 60_000,
      sessionCacheMaxEntries: 100_000,
      sessionIdleDays: 30,
      sessionMaxDays: 365,
      auditLogRetentionDays: 45,
      rateLimits: defaultRules(),
      trustProxyHops: 0,
      maxSubscriptionsPerSocket: 100,
      maxOperationsInFlightPerSocket: 8,
      maxQueuedOperationsPerSocket: 200,
      socketMessagesPerMinute: 600,
      maxSocketsPerUser: 20,
      maxSocketsPerAddress: 200,
      maxSocketMessageBytes: 32_768,
      anonymousSocketIdleMs: 30_000,
      socketInitTimeoutMs: 10_000,
      graphiql: true,
      webClient: true,
      webClientDir: undefined,
      apq: true,
      apqMaxDocumentBytes: 32_768,
      apqCacheSize: 1_000,
      apqTtlMs: 86_400_000,
      persistedDocuments: "off",
      persistedDocumentsManifest: undefined,
      corsOrigins: undefined,
      httpHeadersTimeoutMs: 10_000,
      httpRequestTimeoutMs: 30_000,
      httpKeepAliveTimeoutMs: 5_000,
      maxConnections: 60_000,
      drainDelayMs: 0,
      drainWindowMs: 10_000,
      shutdownTimeoutMs: 30_000,
      metricsToken: undefined,
      logLevel: "info",
      tracing: undefined,
    };
    expect(loadConfig({})).toEqual(expected);
    // Empty strings (as `VAR=` in a shell or an .env file) mean "not set".
    const blank = Object.fromEntries(configVariableNames().map((k) => [k, ""]));
    expect(loadConfig(blank)).toEqual(expected);
  });

  it("reads every setting", () => {
    expect(
      loadConfig({
        PORT: "8080",
        HOST: "127.0.0.1",
        DATABASE_URL: "postgresql://app:secret@db:5432/concord",
        DATABASE_POOL_SIZE: "20",
        DATA_DIR: "/var/lib/concord",
        REDIS_URL: "redis://:pw@cache:6379/0",
        REDIS_KEY_PREFIX: "chat-eu:",
        EVENT_LOG_MAX_EVENTS: "50",
        EVENT_LOG_MAX_AGE_SECONDS: "60",
        WORKER_ID: "1023",
        PASSWORD_HASH_COST: "10",
        PASSWORD_HASH_CONCURRENCY: "8",
        PASSWORD_HASH_QUEUE: "0",
        MAX_REQUEST_BYTES: "1000",
        MAX_QUERY_DEPTH: "100",
        MAX_QUERY_COST: "1000000",
        MAX_CHANNELS_PER_GUILD: "50",
        MAX_GUILDS_PER_USER: "100",
        MAX_BOTS_PER_USER: "0",
        MAX_GROUP_DM_MEMBERS: "25",
        MAX_FRIENDS_PER_USER: "5",
        MAX_PENDING_FRIEND_REQUESTS: "2",
        MAX_BLOCKS_PER_USER: "100000",
        SUBSCRIPTION_BUFFER_SIZE: "1",
        MAX_STREAM_CHANNELS: "7",
        MAX_SOCKET_BUFFERED_BYTES: "10000",
        PRESENCE_HEARTBEAT_MS: "500",
        LARGE_GUILD_THRESHOLD: "50000",
        ONLINE_COUNT_REFRESH_MS: "250",
        ACK_FLUSH_MS: "20",
        SESSION_CACHE_TTL_MS: "0",
        SESSION_CACHE_MAX_ENTRIES: "5",
        SESSION_IDLE_DAYS: "0.5",
        SESSION_MAX_DAYS: "90",
        AUDIT_LOG_RETENTION_DAYS: "7",
        GRAPHIQL: "off",
        WEB_CLIENT: "off",
        WEB_CLIENT_DIR: "/srv/concord-web",
        APQ: "off",
        APQ_MAX_DOCUMENT_BYTES: "4096",
        APQ_CACHE_SIZE: "50",
        APQ_TTL_SECONDS: "300",
        PERSISTED_DOCUMENTS: "only",
        PERSISTED_DOCUMENTS_MANIFEST: "/etc/concord/persisted-documents.json",
        CORS_ORIGINS: "https://app.example.com, http://localhost:5173",
        HTTP_HEADERS_TIMEOUT_MS: "2000",
        HTTP_REQUEST_TIMEOUT_MS: "4000",
        HTTP_KEEP_ALIVE_TIMEOUT_MS: "65000",
        MAX_CONNECTIONS: "100",
        RATE_LIMIT_SEND_MESSAGE_CHANNEL: "3/10s",
        RATE_LIMIT_LOGIN_IP: "100/1h",
        TRUST_PROXY_HOPS: "2",
        MAX_SUBSCRIPTIONS_PER_SOCKET: "50",
        MAX_OPERATIONS_IN_FLIGHT_PER_SOCKET: "4",
        MAX_QUEUED_OPERATIONS_PER_SOCKET: "0",
        SOCKET_MESSAGES_PER_MINUTE: "120",
        MAX_SOCKETS_PER_USER: "5",
        MAX_SOCKETS_PER_ADDRESS: "1000",
        MAX_SOCKET_MESSAGE_BYTES: "4096",
        ANONYMOUS_SOCKET_IDLE_MS: "5000",
        SOCKET_INIT_TIMEOUT_MS: "20000",
        DRAIN_DELAY_MS: "5000",
        DRAIN_WINDOW_MS: "20000",
        SHUTDOWN_TIMEOUT_MS: "60000",
        METRICS_TOKEN: "scrape-me",
        LOG_LEVEL: "debug",
      }),
    ).toEqual({
      port: 8080,
      host: "127.0.0.1",
      databaseUrl: "postgresql://app:secret@db:5432/concord",
      databasePoolSize: 20,
      dataDir: "/var/lib/concord",
      messageStore: "postgres",
      cassandra: undefined,
      redisUrl: "redis://:pw@cache:6379/0",
      redisKeyPrefix: "chat-eu:",
      eventLogMaxEvents: 50,
      eventLogMaxAgeMs: 60_000,
      workerId: 1023,
      passwordHashCost: 10,
      passwordHashConcurrency: 8,
      passwordHashQueue: 0,
      maxRequestBytes: 1000,
      maxQueryDepth: 100,
      maxQueryCost: 1_000_000,
      maxChannelsPerGuild: 50,
      maxGuildsPerUser: 100,
      maxBotsPerUser: 0,
      maxGroupDmMembers: 25,
      maxRolesPerGuild: 250,
      maxFriendsPerUser: 5,
      maxPendingFriendRequests: 2,
      maxBlocksPerUser: 100_000,
      subscriptionBufferSize: 1,
      maxStreamChannels: 7,
      maxSocketBufferedBytes: 10_000,
      presenceHeartbeatMs: 500,
      largeGuildThreshold: 50_000,
      onlineCountRefreshMs: 250,
      ackFlushMs: 20,
      sessionCacheTtlMs: 0,
      sessionCacheMaxEntries: 5,
      sessionIdleDays: 0.5,
      sessionMaxDays: 90,
      auditLogRetentionDays: 7,
      graphiql: false,
      webClient: false,
      webClientDir: "/srv/concord-web",
      apq: false,
      apqMaxDocumentBytes: 4_096,
      apqCacheSize: 50,
      apqTtlMs: 300_000,
      persistedDocuments: "only",
      persistedDocumentsManifest: "/etc/concord/persisted-documents.json",
      corsOrigins: ["https://app.example.com", "http://localhost:5173"],
      httpHeadersTimeoutMs: 2_000,
      httpRequestTimeoutMs: 4_000,
      httpKeepAliveTimeoutMs: 65_000,
      maxConnections: 100,
      drainDelayMs: 5_000,
      drainWindowMs: 20_000,
      shutdownTimeoutMs: 60_000,
      metricsToken: "scrape-me",
      rateLimits: { ...defaultRules(), "message.send.channel": { points: 3, windowSeconds: 10 }, "login.ip": { points: 100, windowSeconds: 3_600 } },
      trustProxyHops: 2,
      maxSubscriptionsPerSocket: 50,
      maxOperationsInFlightPerSocket: 4,
      maxQueuedOperationsPerSocket: 0,
      socketMessagesPerMinute: 120,
      maxSocketsPerUser: 5,
      maxSocketsPerAddress: 1_000,
      maxSocketMessageBytes: 4_096,
      anonymousSocketIdleMs: 5_000,
      socketInitTimeoutMs: 20_000,
      logLevel: "debug",
    });
  });

  it("accepts the ends of each integer range and the usual spellings of booleans", () => {
    expect(loadConfig({ PORT: "0", WORKER_ID: "0", PASSWORD_HASH_COST: "20", PASSWORD_HASH_CONCURRENCY: "64", PASSWORD_HASH_QUEUE: "10000" })).toMatchObject({
      port: 0,
      workerId: 0,
      passwordHashCost: 20,
      passwordHashConcurrency: 64,
      passwordHashQueue: 10_000,
    });
    expect(loadConfig({ PORT: "65535" }).port).toBe(65535);
    for (const yes of ["1", "true", "TRUE", "yes", "on"]) expect(loadConfig({ GRAPHIQL: yes }).graphiql, yes).toBe(true);
    for (const no of ["0", "false", "False", "no", "OFF"]) expect(loadConfig({ GRAPHIQL: no }).graphiql, no).toBe(false);
  });

  it("reports every invalid value in one ConfigError, each naming its variable", () => {
    const bad = {
      PORT: "65536",
      DATABASE_POOL_SIZE: "0",
      WORKER_ID: "1024",
      PASSWORD_HASH_COST: "9",
      PASSWORD_HASH_CONCURRENCY: "0",
      PASSWORD_HASH_QUEUE: "-1",
      MAX_REQUEST_BYTES: "1.5",
      MAX_QUERY_DEPTH: "-1",
      MAX_QUERY_COST: "lots",
      SUBSCRIPTION_BUFFER_SIZE: "1000001",
      GRAPHIQL: "maybe",
      LOG_LEVEL: "verbose",
      DATABASE_URL: "mysql://root@db/concord",
    };
    const problems = problemsOf(bad);
    expect(problems).toHaveLength(Object.keys(bad).length);
    for (const [name, value] of Object.entries(bad)) {
      const line = problems.find((p) => p.startsWith(name));
      expect(line, `a problem for ${name}`).toBeDefined();
      if (name !== "DATABASE_URL") expect(line).toContain(JSON.stringify(value));
    }
    try {
      loadConfig(bad);
    } catch (error) {
      for (const name of Object.keys(bad)) expect((error as Error).message).toContain(name);
    }
  });

  it("takes a manifest as PERSISTED_DOCUMENTS=allow unless told otherwise, and refuses a mode without one or a manifest switched off", () => {
    expect(loadConfig({ PERSISTED_DOCUMENTS_MANIFEST: "m.json" })).toMatchObject({ persistedDocuments: "allow", persistedDocumentsManifest: "m.json" });
    expect(loadConfig({ PERSISTED_DOCUMENTS: "only", PERSISTED_DOCUMENTS_MANIFEST: "m.json" }).persistedDocuments).toBe("only");
    expect(problemsOf({ DRAIN_WINDOW_MS: "30000" })).toEqual(["SHUTDOWN_TIMEOUT_MS=30000: must exceed DRAIN_DELAY_MS + DRAIN_WINDOW_MS (30000), or every shutdown ends killed"]);
    expect(problemsOf({ PERSISTED_DOCUMENTS: "only" })).toEqual(["PERSISTED_DOCUMENTS=only: needs PERSISTED_DOCUMENTS_MANIFEST, the path of the manifest (hash -> document JSON)"]);
    expect(problemsOf({ PERSISTED_DOCUMENTS: "strict", PERSISTED_DOCUMENTS_MANIFEST: "m.json" })).toEqual(['PERSISTED_DOCUMENTS="strict": expected off, allow or only']);
    expect(problemsOf({ PERSISTED_DOCUMENTS: "off", PERSISTED_DOCUMENTS_MANIFEST: "m.json" })[0]).toMatch(/^PERSISTED_DOCUMENTS=off with PERSISTED_DOCUMENTS_MANIFEST set/);
    expect(problemsOf({ APQ_MAX_DOCUMENT_BYTES: "99", APQ_CACHE_SIZE: "0", APQ_TTL_SECONDS: "2592001" })).toEqual([
      'APQ_MAX_DOCUMENT_BYTES="99": expected an integer from 100 to 1000000',
      'APQ_CACHE_SIZE="0": expected an integer from 1 to 1000000',
      'APQ_TTL_SECONDS="2592001": expected an integer from 1 to 2592000',
    ]);
  });

  it("bounds the resource caps: at least one channel and guild, bots may be off, a group DM holds 3 to 100", () => {
    expect(loadConfig({ MAX_CHANNELS_PER_GUILD: "10000", MAX_GUILDS_PER_USER: "1", MAX_BOTS_PER_USER: "1000", MAX_GROUP_DM_MEMBERS: "3" })).toMatchObject({
      maxChannelsPerGuild: 10_000,
      maxGuildsPerUser: 1,
      maxBotsPerUser: 1_000,
      maxGroupDmMembers: 3,
    });
    const bad = { MAX_CHANNELS_PER_GUILD: "0", MAX_GUILDS_PER_USER: "10001", MAX_BOTS_PER_USER: "-1", MAX_GROUP_DM_MEMBERS: "2" };
    const problems = problemsOf(bad);
    expect(problems).toEqual([
      'MAX_CHANNELS_PER_GUILD="0": expected an integer from 1 to 10000',
      'MAX_GUILDS_PER_USER="10001": expected an integer from 1 to 10000',
      'MAX_BOTS_PER_USER="-1": expected an integer from 0 to 1000',
      'MAX_GROUP_DM_MEMBERS="2": expected an integer from 3 to 100',
    ]);
  });

  it("bounds the people caps: at least one friend, pending request and block", () => {
    expect(loadConfig({ MAX_FRIENDS_PER_USER: "1", MAX_PENDING_FRIEND_REQUESTS: "10000", MAX_BLOCKS_PER_USER: "100000" })).toMatchObject({
      maxFriendsPerUser: 1,
      maxPendingFriendRequests: 10_000,
      maxBlocksPerUser: 100_000,
    });
    expect(problemsOf({ MAX_FRIENDS_PER_USER: "0", MAX_PENDING_FRIEND_REQUESTS: "10001", MAX_BLOCKS_PER_USER: "lots" })).toEqual([
      'MAX_FRIENDS_PER_USER="0": expected an integer from 1 to 100000',
      'MAX_PENDING_FRIEND_REQUESTS="10001": expected an integer from 1 to 10000',
      'MAX_BLOCKS_PER_USER="lots": expected an integer from 1 to 100000',
    ]);
  });

  it("reports a single bad value without inventing others", () => {
    expect(problemsOf({ WORKER_ID: "abc", PORT: "80" })).toEqual([expect.stringMatching(/^WORKER_ID="abc": .*0 to 1023/)]);
  });

  it("accepts only postgres:// and postgresql:// database URLs, and never prints the password of a rejected one", () => {
    expect(loadConfig({ DATABASE_URL: "postgres://localhost/concord" }).databaseUrl).toBe("postgres://localhost/concord");
    expect(loadConfig({ DATABASE_URL: "postgresql://u:p@h/db" }).databaseUrl).toBe("postgresql://u:p@h/db");
    for (const url of ["mysql://u:hunter2@h/db", "http://u:hunter2@h/db", "postgres:/h/db", "localhost:5432/db", "xpostgres://u:hunter2@h/db"]) {
      const problems = problemsOf({ DATABASE_URL: url });
      expect(problems, url).toHaveLength(1);
      expect(problems[0]).toMatch(/^DATABASE_URL: /);
      expect(problems[0]).not.toContain("hunter2");
    }
  });
});

describe("SESSION_IDLE_DAYS and SESSION_MAX_DAYS", () => {
  it("accept whole and fractional days down to about a second", () => {
    expect(loadConfig({ SESSION_IDLE_DAYS: "7", SESSION_MAX_DAYS: "0.00003" })).toMatchObject({ sessionIdleDays: 7, sessionMaxDays: 0.00003 });
    expect(loadConfig({ SESSION_IDLE_DAYS: "0.00001", SESSION_MAX_DAYS: "3650" })).toMatchObject({ sessionIdleDays: 0.00001, sessionMaxDays: 3650 });
  });

  it("reject zero, negatives, other spellings and values past ten years, each naming its variable", () => {
    for (const bad of ["0", "-1", "1e3", "30d", ".5", "3651", "0.000001", "NaN"]) {
      expect(problemsOf({ SESSION_IDLE_DAYS: bad }), bad).toEqual([expect.stringMatching(new RegExp(`^SESSION_IDLE_DAYS=${JSON.stringify(bad).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: expected a number of days`))]);
    }
    expect(problemsOf({ SESSION_IDLE_DAYS: "forever", SESSION_MAX_DAYS: "0" }).map((p) => p.split("=")[0])).toEqual(["SESSION_IDLE_DAYS", "SESSION_MAX_DAYS"]);
  });
});

describe("MESSAGE_STORE", () => {
  it("selects Cassandra with its settings and defaults", () => {
    const config = loadConfig({ MESSAGE_STORE: "cassandra", CASSANDRA_CONTACT_POINTS: "10.0.0.1, 10.0.0.2:9043", CASSANDRA_REPLICATION: "NetworkTopologyStrategy:eu=3,us=3" });
    expect(config.messageStore).toBe("cassandra");
    expect(config.cassandra).toMatchObject({
      contactPoints: ["10.0.0.1", "10.0.0.2:9043"],
      localDataCenter: "datacenter1",
      keyspace: "concord",
      consistency: "LOCAL_QUORUM",
      replication: { class: "NetworkTopologyStrategy", dataCenters: { eu: 3, us: 3 } },
    });
  });

  it("reports a bad store, keyspace, replication and consistency together", () => {
    expect(problemsOf({ MESSAGE_STORE: "mongo" })).toEqual([expect.stringMatching(/^MESSAGE_STORE="mongo": expected postgres or cassandra/)]);
    const problems = problemsOf({ MESSAGE_STORE: "cassandra", CASSANDRA_KEYSPACE: "Bad-Name", CASSANDRA_REPLICATION: "Simple:x", CASSANDRA_CONSISTENCY: "MOST" });
    expect(problems.map((p) => p.split("=")[0])).toEqual(["CASSANDRA_KEYSPACE", "CASSANDRA_REPLICATION", "CASSANDRA_CONSISTENCY"]);
  });
});

describe("REDIS_URL", () => {
  it("accepts redis:// and rediss:// and rejects anything else without printing its password", () => {
    expect(loadConfig({ REDIS_URL: "rediss://cache:6380" }).redisUrl).toBe("rediss://cache:6380");
    const [problem] = problemsOf({ REDIS_URL: "http://:hunter2@cache:6379" });
    expect(problem).toMatch(/^REDIS_URL: expected a redis:\/\/ or rediss:\/\/ URL/);
    expect(problem).not.toContain("hunter2");
  });
});

describe("REDIS_CLUSTER_NODES", () => {
  it("reads comma-separated host:port seeds, IPv6 in brackets", () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: "10.0.0.5:6379, redis-1.internal:7000,[::1]:30001" }).redisClusterNodes).toEqual([
      { host: "10.0.0.5", port: 6379 },
      { host: "redis-1.internal", port: 7000 },
      { host: "::1", port: 30001 },
    ]);
  });

  it("rejects a seed that is not host:port, being set with REDIS_URL, and a prefix with hash-tag braces", () => {
    expect(problemsOf({ REDIS_CLUSTER_NODES: "10.0.0.5:6379,redis://10.0.0.6:6379" })).toEqual([expect.stringMatching(/^REDIS_CLUSTER_NODES: "redis:\/\/10\.0\.0\.6:6379" is not host:port/)]);
    expect(problemsOf({ REDIS_CLUSTER_NODES: "cache:0" })).toEqual([expect.stringMatching(/^REDIS_CLUSTER_NODES: "cache:0" is not host:port/)]);
    expect(problemsOf({ REDIS_CLUSTER_NODES: "cache:6379", REDIS_URL: "redis://cache:6379" })).toEqual([expect.stringMatching(/^REDIS_CLUSTER_NODES and REDIS_URL are both set/)]);
    expect(problemsOf({ REDIS_CLUSTER_NODES: "cache:6379", REDIS_KEY_PREFIX: "{eu}:" })).toEqual([expect.stringMatching(/^REDIS_KEY_PREFIX="\{eu\}:": must not contain \{ or \}/)]);
  });
});

describe("REDIS_SENTINELS", () => {
  it("reads the sentinels and the primary's name (and the sentinels' password)", () => {
    expect(loadConfig({ REDIS_SENTINELS: "10.0.0.5:26379, sentinel-2.internal:26379", REDIS_SENTINEL_NAME: "concord" }).redisSentinel).toEqual({
      sentinels: [
        { host: "10.0.0.5", port: 26379 },
        { host: "sentinel-2.internal", port: 26379 },
      ],
      name: "concord",
    });
    expect(loadConfig({ REDIS_SENTINELS: "s:26379", REDIS_SENTINEL_NAME: "main", REDIS_SENTINEL_PASSWORD: "hunter2" }).redisSentinel).toMatchObject({ password: "hunter2" });
  });

  it("requires the name, rejects a sentinel that is not host:port, and refuses to be set with REDIS_URL or REDIS_CLUSTER_NODES", () => {
    expect(problemsOf({ REDIS_SENTINELS: "s:26379" })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_NAME: required with REDIS_SENTINELS/)]);
    expect(problemsOf({ REDIS_SENTINELS: "s:26379,redis://t:26379", REDIS_SENTINEL_NAME: "main" })).toEqual([expect.stringMatching(/^REDIS_SENTINELS: "redis:\/\/t:26379" is not host:port \(e\.g\. 10\.0\.0\.5:26379\)/)]);
    expect(problemsOf({ REDIS_SENTINELS: "s:26379", REDIS_SENTINEL_NAME: "two words" })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_NAME="two words": expected letters/)]);
    expect(problemsOf({ REDIS_SENTINELS: "s:26379", REDIS_SENTINEL_NAME: "main", REDIS_URL: "redis://cache:6379" })).toEqual([expect.stringMatching(/^REDIS_SENTINELS and REDIS_URL are both set/)]);
    expect(problemsOf({ REDIS_SENTINELS: "s:26379", REDIS_SENTINEL_NAME: "main", REDIS_CLUSTER_NODES: "c:6379" })).toEqual([expect.stringMatching(/^REDIS_SENTINELS and REDIS_CLUSTER_NODES are both set/)]);
    expect(problemsOf({ REDIS_SENTINEL_NAME: "main" })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_NAME or REDIS_SENTINEL_PASSWORD is set without REDIS_SENTINELS/)]);
  });
});

describe("CORS_ORIGINS and HTTP timeouts", () => {
  it("reads * or nothing as any origin, and normalizes listed origins as browsers send them", () => {
    expect(loadConfig({ CORS_ORIGINS: "*" }).corsOrigins).toBeUndefined();
    expect(loadConfig({ CORS_ORIGINS: " , " }).corsOrigins).toBeUndefined();
    expect(loadConfig({ CORS_ORIGINS: "HTTPS://App.Example.com/, https://chat.example.com:8443" }).corsOrigins).toEqual(["https://app.example.com", "https://chat.example.com:8443"]);
  });

  it("rejects what is not a bare origin, naming the value", () => {
    for (const value of ["app.example.com", "https://app.example.com/graphql", "ftp://files.example.com", "https://*.example.com", "https://a.example.com,*", "https://u:p@app.example.com"]) {
      const problems = problemsOf({ CORS_ORIGINS: value });
      expect(problems, value).toHaveLength(1);
      expect(problems[0]).toMatch(/^CORS_ORIGINS: ".*" is not an origin/);
    }
  });

  it("turns tracing on with an OTLP endpoint, honouring the service name, the protocol and OTEL_SDK_DISABLED", () => {
    expect(loadConfig({ OTEL_SERVICE_NAME: "chat" }).tracing).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://jaeger:4318/" }).tracing).toEqual({ serviceName: "concord", tracesUrl: "http://jaeger:4318/v1/traces", protocol: "http/protobuf" });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://otel.example/api/traces", OTEL_EXPORTER_OTLP_ENDPOINT: "http://ignored:4318", OTEL_SERVICE_NAME: " chat ", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }).tracing).toEqual({
      serviceName: "chat",
      tracesUrl: "https://otel.example/api/traces",
      protocol: "http/json",
    });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://jaeger:4318", OTEL_SDK_DISABLED: "true" }).tracing).toBeUndefined();
  });

  it("refuses an OTLP endpoint that is not an http(s) URL, gRPC, and a bad OTEL_SDK_DISABLED", () => {
    expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "jaeger:4317" })).toEqual([expect.stringMatching(/^OTEL_EXPORTER_OTLP_ENDPOINT: expected an http:\/\/ or https:\/\/ URL/)]);
    expect(problemsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://jaeger:4317", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" })).toEqual([expect.stringMatching(/^OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="grpc": expected http\/protobuf or http\/json/)]);
    expect(problemsOf({ OTEL_SDK_DISABLED: "maybe" })).toEqual([expect.stringMatching(/^OTEL_SDK_DISABLED="maybe": expected true or false/)]);
  });

  it("refuses a headers timeout longer than the request timeout", () => {
    expect(problemsOf({ HTTP_HEADERS_TIMEOUT_MS: "20000", HTTP_REQUEST_TIMEOUT_MS: "10000" })).toEqual([expect.stringMatching(/^HTTP_HEADERS_TIMEOUT_MS=20000: must not exceed HTTP_REQUEST_TIMEOUT_MS \(10000\)/)]);
    expect(problemsOf({ MAX_CONNECTIONS: "0" })).toEqual([expect.stringMatching(/^MAX_CONNECTIONS="0": .*1 to 10000000/)]);
  });
});

describe("redactUrl", () => {
  it("hides the password and keeps the rest", () => {
    expect(redactUrl("postgresql://app:s3cr3t@db.example:5432/concord?sslmode=require")).toBe("postgresql://app:***@db.example:5432/concord?sslmode=require");
    // An empty password is no secret: dropping the empty ":" is fine, as long as nothing leaks.
    expect(redactUrl("postgres://app:@db/concord")).toBe("postgres://app@db/concord");
  });

  it("leaves URLs without a password unchanged", () => {
    for (const url of ["postgres://db/concord", "postgres://app@db/concord", "postgres://db:5432/concord"]) expect(redactUrl(url)).toBe(url);
  });

  it("hides all of a password that contains an unencoded @", () => {
    // pg (WHATWG URL parsing) takes the last @ as the end of the credentials: the password is "p@ss@word".
    const redacted = redactUrl("postgres://app:p@ss@word@db/concord");
    expect(redacted).not.toContain("ss");
    expect(redacted).not.toContain("word@");
    expect(redacted).toBe("postgres://app:***@db/concord");
  });

  it("hides a password given without a user name", () => {
    expect(redactUrl("postgres://:s3cr3t@db/concord")).not.toContain("s3cr3t");
  });
});
