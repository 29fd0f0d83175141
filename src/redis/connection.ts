import type { Redis } from "ioredis";

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
