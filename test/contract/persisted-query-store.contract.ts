import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { DocumentHashMismatch, documentHash, type PersistedQueryStore } from "../../src/stores/persisted-query-store.js";
import { suiteFixture } from "../support/suite-fixture.js";

/** What a suite run needs from an adapter: a store whose entries live {@link CONTRACT_TTL_MS}, and how to release it. */
export interface PersistedQueryStoreFixture {
  store: PersistedQueryStore;
  /** Another instance's store, built as the composition root would build it on a second instance. */
  peer(): Promise<PersistedQueryStore>;
  close(): Promise<void>;
}

/** The expiry every fixture's store is built with: short enough to watch, long enough for a loaded machine. */
export const CONTRACT_TTL_MS = 2_000;

/** A document no other test (or run sharing the backend) uses, with its hash. */
function freshDocument(body = "me { id }"): { hash: string; document: string } {
  const document = `query Q_${randomUUID().replaceAll("-", "_")} { ${body} }`;
  return { hash: documentHash(document), document };
}

/**
 * The behaviour of {@link PersistedQueryStore} the APQ gateway relies on, run on every adapter
 * (memory, Redis, Redis Cluster). `build` makes a store whose entries live {@link CONTRACT_TTL_MS}.
 */
export function persistedQueryStoreContract(
  name: string,
  build: () => Promise<PersistedQueryStoreFixture>,
  options: {
    available?: () => Promise<boolean>;
    /** Whether instances share the entries (Redis) or each keeps its own (memory): the adapters' one known difference. */
    shared: boolean;
  },
) {
  describe(`PersistedQueryStore contract: ${name}`, () => {
    const fixture = suiteFixture(name, build, options.available);

    it("answers null for a hash nothing was stored under", async (ctx) => {
      const { store } = fixture(ctx);
      expect(await store.get(freshDocument().hash)).toBeNull();
    });

    it("gives back exactly the text stored under its hash, multi-byte characters included", async (ctx) => {
      const { store } = fixture(ctx);
      const plain = freshDocument();
      const unicode = freshDocument('search(text: "héllo 👩‍💻 \\u0000") { id }');
      await store.set(plain.hash, plain.document);
      await store.set(unicode.hash, unicode.document);
      expect(await store.get(plain.hash)).toBe(plain.document);
      expect(await store.get(unicode.hash)).toBe(unicode.document);
    });

    it("refuses to store a document under a hash that is not its SHA-256, and stores nothing", async (ctx) => {
      const { store } = fixture(ctx);
      const real = freshDocument();
      const other = freshDocument();
      await expect(store.set(other.hash, real.document)).rejects.toBeInstanceOf(DocumentHashMismatch);
      await expect(store.set(real.hash.toUpperCase(), real.document)).rejects.toBeInstanceOf(DocumentHashMismatch);
      expect(await store.get(other.hash)).toBeNull();
      expect(await store.get(real.hash)).toBeNull();
    });

    it("stores the same document twice without harm", async (ctx) => {
      const { store } = fixture(ctx);
      const { hash, document } = freshDocument();
      await store.set(hash, document);
      await store.set(hash, document);
      expect(await store.get(hash)).toBe(document);
    });

    it("keeps an entry while it is used (each get restarts its expiry) and drops it a TTL after its last use", async (ctx) => {
      const { store } = fixture(ctx);
      const { hash, document } = freshDocument();
      await store.set(hash, document);
      await sleep(CONTRACT_TTL_MS * 0.6);
      expect(await store.get(hash), "0.6 TTL after set").toBe(document);
      await sleep(CONTRACT_TTL_MS * 0.6);
      expect(await store.get(hash), "1.2 TTL after set, 0.6 after the last get").toBe(document);
      await sleep(CONTRACT_TTL_MS * 1.3);
      expect(await store.get(hash), "1.3 TTL after the last get").toBeNull();
    });

    it(options.shared ? "lets another instance read what one stored" : "keeps each instance's entries to itself", async (ctx) => {
      const { store, peer } = fixture(ctx);
      const other = await peer();
      try {
        const { hash, document } = freshDocument();
        await store.set(hash, document);
        expect(await other.get(hash)).toBe(options.shared ? document : null);
      } finally {
        await other.close();
      }
    });
  });
}
