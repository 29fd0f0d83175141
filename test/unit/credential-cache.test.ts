import { describe, expect, it } from "vitest";
import { CredentialCache } from "../../src/resolvers/credential-cache.js";
import type { UserRecord } from "../../src/stores/account-store.js";

const user = (id: bigint): UserRecord => ({ id, username: `u${id}`, bot: false, botOwnerId: null, createdAt: new Date(0) });

/** A session table the test edits, counting the store reads; `hold` makes lookups wait for `release`. */
function sessionTable(initial: Record<string, bigint>) {
  const sessions = new Map(Object.entries(initial));
  let held: (() => void)[] | null = null;
  const table = {
    reads: 0,
    sessions,
    hold: () => void (held = []),
    release: () => {
      const waiting = held ?? [];
      held = null;
      for (const go of waiting) go();
    },
    lookup: async (hash: string) => {
      table.reads++;
      // The row is read now; a held answer arrives later (as from a slow database).
      const id = sessions.get(hash);
      if (held) await new Promise<void>((resolve) => held!.push(resolve));
      return id === undefined ? null : user(id);
    },
  };
  return table;
}

describe("CredentialCache", () => {
  it("reads a session once, then answers from memory until the entry expires", async () => {
    let now = 1_000;
    const table = sessionTable({ t1: 1n });
    const cache = new CredentialCache({ lookup: table.lookup, ttlMs: 60_000, maxEntries: 10, now: () => now });
    for (let i = 0; i < 5; i++) expect((await cache.get("t1"))?.id).toBe(1n);
    expect(table.reads).toBe(1);
    now += 59_999;
    await cache.get("t1");
    expect(table.reads).toBe(1);
    now += 1;
    await cache.get("t1");
    expect(table.reads).toBe(2);
  });

  it("does not cache unknown tokens, so a session created meanwhile is found at once", async () => {
    const table = sessionTable({});
    const cache = new CredentialCache({ lookup: table.lookup, ttlMs: 60_000, maxEntries: 10 });
    expect(await cache.get("new")).toBeNull();
    table.sessions.set("new", 7n);
    expect((await cache.get("new"))?.id).toBe(7n);
  });

  it("forgets a revoked token at once, and every token of a user on a '*' revocation", async () => {
    const table = sessionTable({ a1: 1n, a2: 1n, b1: 2n });
    const cache = new CredentialCache({ lookup: table.lookup, ttlMs: 60_000, maxEntries: 10 });
    for (const t of ["a1", "a2", "b1"]) await cache.get(t);
    table.sessions.delete("a1");
    cache.revoke(1n, "a1");
    expect(await cache.get("a1")).toBeNull();
    expect((await cache.get("a2"))?.id).toBe(1n);

    table.sessions.delete("a2");
    cache.revoke(1n, "*");
    expect(await cache.get("a2")).toBeNull();
    const reads = table.reads;
    expect((await cache.get("b1"))?.id).toBe(2n);
    expect(table.reads, "another user's session stays cached").toBe(reads);
  });

  it("does not cache a read that was in flight when a revocation or a clear happened", async () => {
    const table = sessionTable({ t: 1n });
    const cache = new CredentialCache({ lookup: table.lookup, ttlMs: 60_000, maxEntries: 10 });
    table.hold();
    const pending = cache.get("t");
    table.sessions.delete("t");
    cache.revoke(1n, "t");
    table.release();
    expect((await pending)?.id, "the read that started before the revocation answers as it found").toBe(1n);
    expect(await cache.get("t"), "but it did not re-enter the cache").toBeNull();

    table.sessions.set("u", 2n);
    table.hold();
    const before = cache.get("u");
    cache.clear();
    table.release();
    await before;
    const reads = table.reads;
    await cache.get("u");
    expect(table.reads).toBe(reads + 1);
  });

  it("shares one store read among concurrent lookups of a token", async () => {
    const table = sessionTable({ t: 1n });
    const cache = new CredentialCache({ lookup: table.lookup, ttlMs: 60_000, maxEntries: 10 });
    table.hold();
    const all = Promise.all([cache.get("t"), cache.get("t"), cache.get("t")]);
    table.release();
    expect((await all).map((u) => u?.id)).toEqual([1n, 1n, 1n]);
    expect(table.reads).toBe(1);
  });

  it("keeps at most maxEntries, dropping the oldest, and reads every time when the TTL is 0", async () => {
    const table = sessionTable({ a: 1n, b: 2n, c: 3n });
    const cache = new CredentialCache({ lookup: table.lookup, ttlMs: 60_000, maxEntries: 2 });
    for (const t of ["a", "b", "c"]) await cache.get(t);
    expect(cache.size).toBe(2);
    table.reads = 0;
    await cache.get("c");
    await cache.get("b");
    expect(table.reads).toBe(0);
    await cache.get("a");
    expect(table.reads).toBe(1);

    const off = sessionTable({ a: 1n });
    const uncached = new CredentialCache({ lookup: off.lookup, ttlMs: 0, maxEntries: 10 });
    await uncached.get("a");
    await uncached.get("a");
    expect(off.reads).toBe(2);
    expect(uncached.size).toBe(0);
  });
});
