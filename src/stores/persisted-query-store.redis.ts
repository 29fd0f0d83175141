import type { Cluster, Redis } from "ioredis";
import { openFailFast, shutDown, type RedisTarget } from "../redis/connection.js";
import { DocumentHashMismatch, documentHash, type PersistedQueryStore, type PersistedQueryStoreOptions } from "./persisted-query-store.js";

/**
 * {@link PersistedQueryStore} in Redis, shared by every instance: one string per document,
 * `<keyPrefix>apq:<sha256>`, written with SET PX and read with GETEX PX (Redis 6.2+), so each
 * hit restarts its expiry in the same round trip. One key per command: any Redis Cluster slot
 * will do. A value that is not the document of its key's hash (written by something else under
 * the prefix) is answered as absent, so the client registers the real one over it.
 */
export class RedisPersistedQueryStore implements PersistedQueryStore {
  private failing = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly options: PersistedQueryStoreOptions & { keyPrefix: string; ownsConnection?: boolean },
  ) {}

  async get(hash: string): Promise<string | null> {
    try {
      const document = await this.redis.getex(this.key(hash), "PX", this.options.ttlMs);
      this.failing = false;
      return document !== null && documentHash(document) === hash ? document : null;
    } catch (error) {
      this.failed(error as Error);
      return null;
    }
  }

  async set(hash: string, document: string): Promise<void> {
    if (documentHash(document) !== hash) throw new DocumentHashMismatch(hash);
    try {
      await this.redis.set(this.key(hash), document, "PX", this.options.ttlMs);
      this.failing = false;
    } catch (error) {
      this.failed(error as Error);
    }
  }

  /** Quits the connection if this store opened it ({@link createRedisPersistedQueryStore}). */
  close(): Promise<void> {
    this.closing ??= this.options.ownsConnection ? shutDown(this.redis) : Promise.resolve();
    return this.closing;
  }

  private key(hash: string): string {
    return `${this.options.keyPrefix}apq:${hash}`;
  }

  private failed(error: Error): void {
    if (!this.failing) this.options.onError?.(error);
    this.failing = true;
  }
}

/**
 * Connects to Redis (one server, or a Redis Cluster by its seeds) and returns the store; fails
 * after `connectTimeoutMs` if Redis is not ready. Calls never wait behind an outage: while Redis
 * is unreachable each fails at once (`get` answers null), and after `commandTimeoutMs` (default
 * 500 ms) at the latest.
 */
export async function createRedisPersistedQueryStore(
  options: RedisTarget & PersistedQueryStoreOptions & { keyPrefix: string; connectionName?: string; connectTimeoutMs?: number; commandTimeoutMs?: number },
): Promise<RedisPersistedQueryStore> {
  const redis = await openFailFast({
    ...options,
    purpose: "persisted queries",
    connectionName: options.connectionName ?? "concord-persisted-queries",
    commandTimeoutMs: options.commandTimeoutMs ?? 500,
    onConnectionError: options.onError,
  });
  return new RedisPersistedQueryStore(redis, { keyPrefix: options.keyPrefix, ttlMs: options.ttlMs, onError: options.onError, ownsConnection: true });
}
