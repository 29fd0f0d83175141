import path from "node:path";
import { redactUrl, type Config } from "./config.js";
import type { Services } from "./context.js";
import { createIdGenerator } from "./ids/snowflake.js";
import { createLogger, type Logger } from "./logger.js";
import { createGateway, GRAPHQL_PATH, type Gateway } from "./gateway/server.js";
import { MemoryEventBus } from "./pubsub/event-bus.memory.js";
import { ChannelSequencer } from "./resolvers/channel-sequencer.js";
import { PrismaAccountStore } from "./stores/account-store.prisma.js";
import { PrismaChannelStore } from "./stores/channel-store.prisma.js";
import { PrismaGuildStore } from "./stores/guild-store.prisma.js";
import { PostgresMessageStore } from "./stores/message-store.postgres.js";
import { openDatabase, type Database } from "./stores/prisma/database.js";

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
}

/** Thrown when a backend named in the configuration cannot be used; its message is one line for the operator. */
export class StartupError extends Error {
  override name = "StartupError";
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
 * The composition root: the only place that reads configuration and chooses adapters. Every
 * other module receives its dependencies from here.
 */
export async function createApp(config: Config, options: { logger?: Logger; database?: Database } = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.logLevel);
  // Tests hand in an already-open database (loaded from a migrated template); nothing else does.
  const db = options.database ?? (await openConfiguredDatabase(config, logger));
  const bus = new MemoryEventBus((error, topic) => logger.error("event handler failed", { error, topic }));
  const services: Services = {
    accounts: new PrismaAccountStore(db.prisma),
    guilds: new PrismaGuildStore(db.prisma),
    channels: new PrismaChannelStore(db.prisma),
    messages: new PostgresMessageStore(db.prisma),
    bus,
    newId: createIdGenerator(config.workerId),
    sequencer: new ChannelSequencer((error) => logger.error("publish failed", { error })),
    logger,
    now: () => new Date(),
    settings: { passwordHashCost: config.passwordHashCost, subscriptionBufferSize: config.subscriptionBufferSize },
  };
  const gateway = createGateway(services, {
    maxRequestBytes: config.maxRequestBytes,
    maxQueryDepth: config.maxQueryDepth,
    maxQueryCost: config.maxQueryCost,
    graphiql: config.graphiql,
  });

  let stopping: Promise<void> | undefined;
  const app: App = {
    services,
    gateway,
    port: 0,
    url: "",
    async start() {
      app.port = await gateway.listen(config.port, config.host);
      app.url = `http://${config.host && config.host !== "0.0.0.0" ? config.host : "localhost"}:${app.port}${GRAPHQL_PATH}`;
      logger.info("serving", { url: app.url, websocket: app.url.replace(/^http/, "ws") });
    },
    stop() {
      stopping ??= (async () => {
        await gateway.close().catch((error) => logger.error("closing the gateway failed", { error }));
        await services.sequencer.drain();
        await bus.close();
        await db.close().catch((error) => logger.error("closing the database failed", { error }));
      })();
      return stopping;
    },
  };
  return app;
}
