import { createApp, StartupError } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";

/** Process entry point: configuration from the environment, clean shutdown on SIGINT/SIGTERM. */
async function main() {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`concord: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  let app;
  try {
    app = await createApp(config);
    await app.start();
  } catch (error) {
    if (error instanceof StartupError || (error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      const message = (error as NodeJS.ErrnoException).code === "EADDRINUSE" ? `PORT: ${config.port} is already in use` : (error as Error).message;
      process.stderr.write(`concord: ${message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const started = app;
  let signals = 0;
  // SIGTERM drains (see App.shutdown) within SHUTDOWN_TIMEOUT_MS; a second signal, or the
  // timeout, exits at once with code 1.
  const shutdown = (signal: string) => {
    if (++signals > 1) process.exit(1);
    const { logger } = started.services;
    logger.info("shutting down", { signal, timeoutMs: config.shutdownTimeoutMs });
    setTimeout(() => {
      logger.error("shutdown took longer than SHUTDOWN_TIMEOUT_MS: exiting anyway", { timeoutMs: config.shutdownTimeoutMs });
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    void started.shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error("shutdown failed", { error });
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  // A bug in one request must not take down every connection: log and carry on.
  process.on("unhandledRejection", (reason) => started.services.logger.error("unhandled rejection", { error: reason }));
}

await main();
