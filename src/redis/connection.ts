import { Redis, type RedisOptions } from "ioredis";

/**
 * Opens a connection for calls that are never worth waiting for (presence, rate limits): while
 * Redis is unreachable every command fails at once instead of queueing behind the outage
 * (`enableOfflineQueue: false`, no retries), and gives up after `commandTimeoutMs`. Resolves
 * once it is ready; fails after `connectTimeoutMs` (default 5,000) with an error saying what was
 * asked for (`purpose`) and where. `onConnectionError` hears the first error of each outage, not
 * every reconnect attempt.
 */
export async function openFailFastRedis(options: {
  url: string;
  purpose: string;
  connectionName: string;
  commandTimeoutMs: number;
  connectTimeoutMs?: number;
  onConnectionError?: (error: Error) => void;
  /** Send the commands issued in one tick in one write (ioredis auto-pipelining). */
  autoPipelining?: boolean;
}): Promise<Redis> {
  const redisOptions: RedisOptions = {
    lazyConnect: false,
    connectionName: options.connectionName,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    enableAutoPipelining: options.autoPipelining ?? false,
  };
  const redis = new Redis(options.url, redisOptions);
  let reported = false;
  redis.on("error", (error: Error) => {
    if (!reported) options.onConnectionError?.(error);
    reported = true;
  });
  redis.on("ready", () => (reported = false));
  const timeoutMs = options.connectTimeoutMs ?? 5_000;
  try {
    await whenReady(redis, timeoutMs);
  } catch (error) {
    redis.disconnect();
    const where = options.url.replace(/\/\/[^@]*@/, "//");
    throw new Error(`${options.purpose}: Redis at ${where} not ready within ${timeoutMs} ms: ${(error as Error).message}`, { cause: error });
  }
  return redis;
}

/** Resolves once the connection is ready; rejects after `timeoutMs` (with the last connection error) or if it ends first. */
export function whenReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastError: Error | undefined;
    const onError = (error: Error) => void (lastError = error);
    const done = () => {
      clearTimeout(timer);
      client.off("ready", onReady).off("error", onError).off("end", onEnd);
    };
    const onReady = () => (done(), resolve());
    const onEnd = () => (done(), reject(new Error(`Redis connection closed before it was ready${lastError ? ` (${lastError.message})` : ""}`)));
    const timer = setTimeout(() => {
      done();
      reject(new Error(`Redis not ready within ${timeoutMs} ms${lastError ? `: ${lastError.message}` : ""}`));
    }, timeoutMs);
    client.on("ready", onReady).on("error", onError).on("end", onEnd);
  });
}

/** QUIT if connected (lets replies in flight arrive, at most 1 s), then make sure the socket is gone and no reconnect is pending. */
export async function shutDown(client: Redis): Promise<void> {
  if (client.status === "ready") {
    await withTimeout(client.quit(), 1_000, () => new Error("QUIT timed out")).catch(() => {});
  }
  client.disconnect();
}

/** `promise`, or a rejection with `error()` after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
