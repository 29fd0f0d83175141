import { describe, expect, it } from "vitest";
import { CredentialCache, type ActiveSession, type SessionLookup } from "../../src/resolvers/credential-cache.js";
import { ALL_SESSIONS } from "../../src/resolvers/session-revocation.js";
import type { UserRecord } from "../../src/stores/account-store.js";

const user = (id: bigint): UserRecord => ({ id, username: `u${id}`, bot: false, botOwnerId: null, createdAt: new Date(0) });
const idOf = (found: SessionLookup) => (found === null || found === "expired" ? found : found.user.id);
/** One token of `userId` revoked (logout, revokeSession). */
const one = (userId: bigint, tokenHash: string) => ({ userId, tokenHash, keepTokenHash: null });
/** Every token of `userId` revoked, but `keep` (revokeOtherSessions, changePassword) or none (bot token reset). */
const all = (userId: bigint, keep: string | null = null) => ({ userId, tokenHash: ALL_SESSIONS, keepTokenHash: keep });

/** The largest time a Date holds: a session that does not expire. */
const NEVER = 8.64e15;

/**
 * A session table the test edits, counting the store reads; `hold` makes lookups wait for
 * `release`; `expiresAt` sets a session's expiry (answered as its `recheckAt`, and "expired" once past it).
 */
function sessionTable(initial: Record<string, bigint>, clock: () => number = Date.now) {
  const sessions = new Map(Object.entries(initial));
  const expiry = new Map<string, number>();
  let held: (() => void)[] | null = null;
  const table = {
    reads: 0,
    sessions,
    expiresAt: (hash: string, at: number) => void expiry.set(hash, at),
    hold: () => void (held = []),
    release: () => {
      const waiting = held ?? [];
      held = null;
      for (const go of waiting) go();
    },
    lookup: async (hash: string): Promise<SessionLookup> => {
      table.reads++;
      // The row is read now; a held answer arrives later (as from a slow database).
      const id = sessions.get(hash);
      const expiresAt = expiry.get(hash);
      const found: SessionLookup =
        id === undefined
          ? null
          : expiresAt !== undefined && expiresAt <= clock()
            ? "expired"
            : ({ user: user(id), sessionId: id * 1000n, recheckAt: new Date(expiresAt ?? NEVER) } satisfies ActiveSession);
      if (held) await new Promise<void>((resolve) => held!.push(resolve));
      return found;
    },
  };
  return table;
}

describe("CredentialCache", () => {
  it("reads a session once, then answers from memory until the entry expires", async () => {
    let now = 1_000;
    const table = sessionTable({ t1: 1n });
    const cache = new CredentialCache({ lookup: table.lookup, ttlMs: 60_000, maxEntries: 10, now: () => now });
    for (let i = 0; i < 5; i++) expect(idOf(await cache.get("t1"))).toBe(1n);
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
    expect(idOf(await cache.get("new"))).toBe(7n);
  });

  it("forgets a revoked token at once, and every token of a user on a '*' revocation", async () => {
    const table = sessionTable({ a1: 1n, a2: 1n, b1: 2n });
    const cache = new CredentialCache({ lookup: table.lookup, ttlMs: 60_000, maxEntries: 10 });
    for (const t of ["a1", "a2", "b1"]) await cache.get(t);
    table.sessions.delete("a1");
    cache.revoke(one(1n, "a1"));
    expect(await cache.get("a1")).toBeNull();
    expect(idOf(await cache.get("a2"))).toBe(1n);

    table.sessions.delete("a2");
    cache.revoke(all(1n));
    expect(await cache.get("a2")).toBeNull();
    const reads = table.reads;
    expect(idOf(await cache.get("b1"))).toBe(2n);
    expect(table.reads, "another user's session stays cached").toBe(reads);
  });

  it("does not cache a read that was in flight when a revocation or a clear happened", async () => {
    const table = sessionTable({ t: 1n });
    const cache = new CredentialCache({ lookup: table.lookup, ttlMs: 60_000, maxEntries: 10 });
    table.hold();
    const pending = cache.get("t");
    table.sessions.delete("t");
    cache.revoke(one(1n, "t"));
    table.release();
    expect(idOf(await pending), "the read that started before the revocation answers as it found").toBe(1n);
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
    const both = Promise.all([cache.get("t"), cache.get("t"), cache.get("t")]);
    table.release();
    expect((await both).map(idOf)).toEqual([1n, 1n, 1n]);
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

  it("forgets every other token of a user on a revocation that keeps one, and keeps that one cached", async () => {
    const table = sessionTable({ a1: 1n, a2: 1n, a3: 1n, b1: 2n });
    const cache = new CredentialCache({ lookup: table.lookup, ttlMs: 60_000, maxEntries: 10 });
    for (const t of ["a1", "a2", "a3", "b1"]) await cache.get(t);
    table.sessions.delete("a1");
    table.sessions.delete("a3");
    cache.revoke(all(1n, "a2"));
    const reads = table.reads;
    expect(idOf(await cache.get("a2")), "the kept session").toBe(1n);
    expect(idOf(await cache.get("b1")), "another user's").toBe(2n);
    expect(table.reads, "both still cached").toBe(reads);
    expect(await cache.get("a1")).toBeNull();
    expect(await cache.get("a3")).toBeNull();
  });

  it("trusts an entry only until its recheck time (here its expiry) when that comes before the TTL", async () => {
    let now = 1_000;
    const table = sessionTable({ t: 1n }, () => now);
    table.expiresAt("t", now + 5_000);
    const cache = new CredentialCache({ lookup: table.lookup, ttlMs: 60_000, maxEntries: 10, now: () => now });
    expect(idOf(await cache.get("t"))).toBe(1n);
    now += 4_999;
    expect(idOf(await cache.get("t"))).toBe(1n);
    expect(table.reads, "cached until the last millisecond of the session").toBe(1);
    now += 1;
    expect(await cache.get("t"), "asked the store again at the expiry, which says so").toBe("expired");
    expect(table.reads).toBe(2);
    // An expired answer is not cached: the next use asks again (and finds the deleted row gone).
    table.sessions.delete("t");
    expect(await cache.get("t")).toBeNull();
    expect(table.reads).toBe(3);
  });

  it("caches a session that does not expire (a bot's token) for the TTL", async () => {
    let now = 0;
    const table = sessionTable({ bot: 9n }, () => now);
    const cache = new CredentialCache({ lookup: table.lookup, ttlMs: 60_000, maxEntries: 10, now: () => now });
    await cache.get("bot");
    now = 59_999;
    await cache.get("bot");
    expect(table.reads).toBe(1);
    now = 60_000;
    await cache.get("bot");
    expect(table.reads).toBe(2);
  });

  it("does not cache a session that is already expired when its lookup answers", async () => {
    let now = 0;
    const table = sessionTable({ t: 1n }, () => now);
    table.expiresAt("t", 100);
    const cache = new CredentialCache({ lookup: table.lookup, ttlMs: 60_000, maxEntries: 10, now: () => now });
    table.hold();
    const pending = cache.get("t");
    // The row was read as valid; by the time the answer is cached, its session has run out.
    now = 100;
    table.release();
    expect(idOf(await pending)).toBe(1n);
    expect(cache.size).toBe(0);
  });
});
