import { Cluster, Redis, type RedisOptions } from "ioredis";
import { clusterDefaults, seedList, type ClusterSeed } from "./cluster.js";
import { describeSentinels, sentinelOptions, type SentinelTarget } from "./sentinel.js";

/**
 * Where a Redis is: one server (a `redis://` or `rediss://` URL), a Redis Cluster by its seed
 * nodes, or a primary (with replicas) found through Redis Sentinel. Exactly one is set.
 */
export type RedisTarget =
  | { url: string; clusterNodes?: undefined; sentinel?: undefined }
  | { clusterNodes: readonly ClusterSeed[]; url?: undefined; sentinel?: undefined }
  | { sentinel: SentinelTarget; url?: undefined; clusterNodes?: undefined };

/** A target that is one server at a time: a URL, or whichever server the sentinels name primary. */
export type ServerTarget = Extract<RedisTarget, { clusterNodes?: undefined }>;

/**
 * The one place a single-server connection is made: to the URL, or (Sentinel) to the current
 * primary, found again through the sentinels at every reconnect. `options` apply over the target.
 */
export function connectServer(target: ServerTarget, options: RedisOptions): Redis {
  return target.sentinel ? new Redis({ ...options, ...sentinelOptions(target.sentinel) }) : new Redis(target.url, options);
}

/** A printable "where" of a target (no password). */
export function describeTarget(target: RedisTarget): string {
  if (target.clusterNodes) return `Redis Cluster at ${seedList(target.clusterNodes)}`;
  if (target.sentinel) return `Redis ${describeSentinels(target.sentinel)}`;
  return `Redis at ${target.url.replace(/\/\/[^@]*@/, "//")}`;
}

/**
 * Opens a connection for calls that are never worth waiting for (presence, rate limits): while
 * Redis is unreachable every command fails at once instead of queueing behind the outage
 * (`enableOfflineQueue: false`, no retries), and gives up after `commandTimeoutMs`. On a Redis
 * Cluster (`clusterNodes`) the same holds for the cluster client and each node's connection;
 * with Sentinel (`sentinel`), commands fail fast from the primary's death until the sentinels
 * have promoted a replica and the connection found it.
 * Resolves once it is ready (a cluster: once its slot map is known); fails after
 * `connectTimeoutMs` (default 5,000) with an error saying what was asked for (`purpose`) and
 * where. `onConnectionError` hears the first error of each outage, not every reconnect attempt.
 */
export async function openFailFast(
  options: RedisTarget & {
    purpose: string;
    connectionName: string;
    commandTimeoutMs: number;
    connectTimeoutMs?: number;
    onConnectionError?: (error: Error) => void;
    /** Send the commands issued in one tick in one write (per node on a cluster: ioredis auto-pipelining). */
    autoPipelining?: boolean;
  },
): Promise<Redis | Cluster> {
  const redisOptions: RedisOptions = {
    connectionName: options.connectionName,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
  };
  const enableAutoPipelining = options.autoPipelining ?? false;
  const client = options.clusterNodes
    ? new Cluster([...options.clusterNodes], { ...clusterDefaults(), enableOfflineQueue: false, enableAutoPipelining, redisOptions })
    : connectServer(options, { ...redisOptions, lazyConnect: false, enableOfflineQueue: false, enableAutoPipelining });
  let reported = false;
  client.on("error", (error: Error) => {
    if (!reported) options.onConnectionError?.(error);
    reported = true;
  });
  client.on("ready", () => (reported = false));
  const timeoutMs = options.connectTimeoutMs ?? 5_000;
  try {
    await whenReady(client, timeoutMs);
    // A cluster connects to a primary on its first command, and without an offline queue a
    // command meeting that connection half-open fails: open them all now.
    if (client instanceof Cluster) await Promise.all(client.nodes("master").map((node) => (node.status === "wait" ? node.connect() : undefined)));
  } catch (error) {
    client.disconnect();
    throw new Error(`${options.purpose}: ${describeTarget(options)} not ready within ${timeoutMs} ms: ${(error as Error).message}`, { cause: error });
  }
  return client;
}

/** Resolves once the connection (or cluster client) is ready; rejects after `timeoutMs` (with the last connection error) or if it ends first. */
export function whenReady(client: Redis | Cluster, timeoutMs: number): Promise<void> {
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
export async function shutDown(client: Redis | Cluster): Promise<void> {
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
