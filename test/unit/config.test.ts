import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, redactUrl, type Config } from "../../src/config.js";

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
      redisKeyPrefix: "concord:",
      channelOrderWindowMs: 30,
      workerId: 0,
      passwordHashCost: 15,
      maxRequestBytes: 100_000,
      maxQueryDepth: 10,
      maxQueryCost: 5_000,
      subscriptionBufferSize: 1_000,
      maxSocketBufferedBytes: 1_000_000,
      presenceHeartbeatMs: 15_000,
      largeGuildThreshold: 1_000,
      onlineCountRefreshMs: 5_000,
      ackFlushMs: 1_000,
      sessionCacheTtlMs: 60_000,
      sessionCacheMaxEntries: 100_000,
      graphiql: true,
      logLevel: "info",
    };
    expect(loadConfig({})).toEqual(expected);
    // Empty strings (as `VAR=` in a shell or an .env file) mean "not set".
    const blank = Object.fromEntries(
      ["PORT", "HOST", "DATABASE_URL", "MESSAGE_STORE", "REDIS_URL", "REDIS_KEY_PREFIX", "CHANNEL_ORDER_WINDOW_MS", "DATABASE_POOL_SIZE", "DATA_DIR", "WORKER_ID", "PASSWORD_HASH_COST", "MAX_REQUEST_BYTES", "MAX_QUERY_DEPTH", "MAX_QUERY_COST", "SUBSCRIPTION_BUFFER_SIZE", "MAX_SOCKET_BUFFERED_BYTES", "PRESENCE_HEARTBEAT_MS", "LARGE_GUILD_THRESHOLD", "ONLINE_COUNT_REFRESH_MS", "ACK_FLUSH_MS", "SESSION_CACHE_TTL_MS", "SESSION_CACHE_MAX_ENTRIES", "GRAPHIQL", "LOG_LEVEL"].map((k) => [k, ""]),
    );
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
        CHANNEL_ORDER_WINDOW_MS: "0",
        WORKER_ID: "1023",
        PASSWORD_HASH_COST: "10",
        MAX_REQUEST_BYTES: "1000",
        MAX_QUERY_DEPTH: "100",
        MAX_QUERY_COST: "1000000",
        SUBSCRIPTION_BUFFER_SIZE: "1",
        MAX_SOCKET_BUFFERED_BYTES: "10000",
        PRESENCE_HEARTBEAT_MS: "500",
        LARGE_GUILD_THRESHOLD: "50000",
        ONLINE_COUNT_REFRESH_MS: "250",
        ACK_FLUSH_MS: "20",
        SESSION_CACHE_TTL_MS: "0",
        SESSION_CACHE_MAX_ENTRIES: "5",
        GRAPHIQL: "off",
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
      channelOrderWindowMs: 0,
      workerId: 1023,
      passwordHashCost: 10,
      maxRequestBytes: 1000,
      maxQueryDepth: 100,
      maxQueryCost: 1_000_000,
      subscriptionBufferSize: 1,
      maxSocketBufferedBytes: 10_000,
      presenceHeartbeatMs: 500,
      largeGuildThreshold: 50_000,
      onlineCountRefreshMs: 250,
      ackFlushMs: 20,
      sessionCacheTtlMs: 0,
      sessionCacheMaxEntries: 5,
      graphiql: false,
      logLevel: "debug",
    });
  });

  it("accepts the ends of each integer range and the usual spellings of booleans", () => {
    expect(loadConfig({ PORT: "0", WORKER_ID: "0", PASSWORD_HASH_COST: "20" })).toMatchObject({ port: 0, workerId: 0, passwordHashCost: 20 });
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
