import { createHash } from "node:crypto";

/** The SHA-256 of a GraphQL document's text (UTF-8), as 64 lower-case hex digits: what APQ clients send as `sha256Hash`. */
export function documentHash(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * The SHA-256 (64 lower-case hex digits) a document id names, or undefined if it names none: the
 * bare hex of APQ's `sha256Hash`, or the `sha256:<hex>` of the GraphQL-over-HTTP persisted
 * documents appendix, which GraphQL Code Generator's client preset writes (keys and `__meta__.hash`).
 */
export function hashOfDocumentId(id: unknown): string | undefined {
  if (typeof id !== "string") return undefined;
  return /^(?:sha256:)?([0-9a-f]{64})$/.exec(id)?.[1];
}

/**
 * Thrown by {@link PersistedQueryStore.set} for a document whose SHA-256 is not the hash it was
 * given: the caller skipped the check, which is a bug, never a client's fault.
 */
export class DocumentHashMismatch extends Error {
  override name = "DocumentHashMismatch";
  constructor(hash: string) {
    super(`refusing to store a document under ${hash.slice(0, 12)}…: that is not its SHA-256`);
  }
}

/**
 * The documents clients registered with automatic persisted queries (APQ), by the SHA-256 of
 * their text: shared by every instance (Redis) or kept in this process (memory, a bounded LRU).
 *
 * Guarantees:
 * - A document is only ever stored under its own hash: `set` checks `documentHash(document)` and
 *   throws {@link DocumentHashMismatch} otherwise, so `get(hash)` never returns another text.
 * - An entry lives `ttlMs` after its last `set` or successful `get` (a sliding expiry: documents
 *   in use stay), then `get` answers null. The memory store also keeps at most `maxEntries`,
 *   dropping the least recently used first; Redis is bounded by the expiry (and by the server's
 *   maxmemory policy: the keys carry a TTL, so `volatile-lru` evicts them first).
 * - `set` of a hash already stored is harmless (the text is the same, its expiry restarts).
 * - No call ever rejects because the backend failed: `get` answers null (the client sends the
 *   text again) and `set` does nothing, so persisted queries degrade to plain ones while Redis
 *   is away. The adapter reports the first failure of each outage through its `onError`.
 *
 * Every adapter passes test/contract/persisted-query-store.contract.ts.
 */
export interface PersistedQueryStore {
  /** The document stored under `hash`, or null (never stored, expired, evicted, or the backend is unreachable); refreshes its expiry. */
  get(hash: string): Promise<string | null>;

  /** Stores `document` under `hash`, which must be its SHA-256 ({@link documentHash}); resolves once stored (or given up on a backend failure). */
  set(hash: string, document: string): Promise<void>;

  /** Releases connections. Idempotent. */
  close(): Promise<void>;
}

/** How long entries live and (memory only) how many are kept. */
export interface PersistedQueryStoreOptions {
  /** An entry is dropped this long after its last set or get. */
  ttlMs: number;
  /** Told about backend failures: the first one after each success, not every failed call. */
  onError?: (error: Error) => void;
}
