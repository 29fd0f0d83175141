import { DocumentHashMismatch, documentHash, type PersistedQueryStore, type PersistedQueryStoreOptions } from "./persisted-query-store.js";

interface Entry {
  document: string;
  expiresAt: number;
}

/**
 * {@link PersistedQueryStore} in this process: a least-recently-used map of at most `maxEntries`
 * documents (a Map's insertion order is its recency: a hit moves the entry to the end). With
 * documents of at most APQ_MAX_DOCUMENT_BYTES, its memory is bounded by the product of the two.
 */
export class MemoryPersistedQueryStore implements PersistedQueryStore {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: PersistedQueryStoreOptions & { maxEntries: number; now?: () => number }) {
    if (!(options.maxEntries >= 1)) throw new RangeError(`maxEntries must be at least 1, got ${options.maxEntries}`);
    this.ttlMs = options.ttlMs;
    this.maxEntries = options.maxEntries;
    this.now = options.now ?? Date.now;
  }

  async get(hash: string): Promise<string | null> {
    const entry = this.entries.get(hash);
    if (!entry) return null;
    this.entries.delete(hash);
    const now = this.now();
    if (entry.expiresAt <= now) return null;
    entry.expiresAt = now + this.ttlMs;
    this.entries.set(hash, entry);
    return entry.document;
  }

  async set(hash: string, document: string): Promise<void> {
    if (documentHash(document) !== hash) throw new DocumentHashMismatch(hash);
    this.entries.delete(hash);
    this.entries.set(hash, { document, expiresAt: this.now() + this.ttlMs });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
  }

  /** Entries held, expired ones not yet dropped included (tests). */
  get size(): number {
    return this.entries.size;
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
