import { describe, expect, it } from "vitest";
import type { GuildAccess } from "../../src/permissions/compute.js";
import { PermissionCache, type PermissionChange } from "../../src/permissions/permission-cache.js";
import { DEFAULT_EVERYONE_PERMISSIONS, PERMISSIONS } from "../../src/permissions/permission-set.js";
import type { PermissionStore } from "../../src/stores/permission-store.js";

const G1 = 100n;
const G2 = 200n;
const G3 = 300n;
const OWNER = 1n;
const MOD = 1001n;

/** A guild's access with @everyone at `everyone`. */
function accessOf(guildId: bigint, everyone: bigint = DEFAULT_EVERYONE_PERMISSIONS): GuildAccess {
  return {
    guildId,
    ownerId: OWNER,
    roles: new Map([
      [guildId, { permissions: everyone, position: 0 }],
      [MOD, { permissions: PERMISSIONS.KICK_MEMBERS, position: 1 }],
    ]),
    channels: new Map(),
    overwrites: new Map(),
    timeouts: new Map(),
  };
}

/**
 * A PermissionStore the test edits, counting reads; `hold` makes reads wait for `release` (the
 * data is read when the call arrives, the answer comes later, as from a slow database);
 * `fail` makes the next reads reject.
 */
function fakeStore() {
  const guilds = new Map<bigint, GuildAccess>();
  /** `${guildId}:${userId}` → role ids; absent: not a member. */
  const members = new Map<string, bigint[]>();
  let held: (() => void)[] | null = null;
  let failing = false;
  const wait = async () => {
    if (held) await new Promise<void>((resolve) => held!.push(resolve));
    if (failing) throw new Error("database down");
  };
  const store = {
    guilds,
    members,
    loads: [] as { guildId: bigint; userId: bigint | null }[],
    memberReads: [] as { guildId: bigint; userIds: bigint[] }[],
    get reads(): number {
      return store.loads.length + store.memberReads.length;
    },
    join: (guildId: bigint, userId: bigint, roleIds: bigint[] = []) => void members.set(`${guildId}:${userId}`, roleIds),
    hold: () => void (held = []),
    /** How many reads are waiting. */
    waiting: () => held?.length ?? 0,
    release: () => {
      const waiting = held ?? [];
      held = null;
      for (const go of waiting) go();
    },
    fail: (on: boolean) => void (failing = on),
    resetCounts: () => {
      store.loads.length = 0;
      store.memberReads.length = 0;
    },
    async loadAccess(guildId: bigint, userId: bigint | null) {
      store.loads.push({ guildId, userId });
      const access = guilds.get(guildId);
      const memberRoleIds = userId === null ? null : (members.get(`${guildId}:${userId}`) ?? null);
      await wait();
      return access ? { access, memberRoleIds: access ? memberRoleIds : null } : null;
    },
    async getMemberRoleIds(guildId: bigint, userIds: readonly bigint[]) {
      store.memberReads.push({ guildId, userIds: [...userIds] });
      const result = new Map(userIds.map((id) => [id, members.get(`${guildId}:${id}`) ?? null]));
      await wait();
      return result;
    },
  } satisfies Pick<PermissionStore, "loadAccess" | "getMemberRoleIds"> & Record<string, unknown>;
  return store;
}

/** A store with guilds G1..G3 and users 1..count members of G1 (user 1 the owner, with no roles). */
function world(count = 3) {
  const store = fakeStore();
  for (const g of [G1, G2, G3]) store.guilds.set(g, accessOf(g));
  for (let u = 1n; u <= BigInt(count); u++) store.join(G1, u);
  return store;
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("PermissionCache", () => {
  it("a cold get of guild and member costs one loadAccess; a warm get costs no read", async () => {
    const store = world();
    store.join(G1, 2n, [MOD]);
    const cache = new PermissionCache({ store });
    const first = await cache.get(G1, 2n);
    expect(first).toEqual({ access: store.guilds.get(G1), roleIds: [MOD] });
    expect(store.loads).toEqual([{ guildId: G1, userId: 2n }]);
    expect(store.memberReads).toEqual([]);
    expect(cache.size).toEqual({ guilds: 1, members: 1 });

    for (let i = 0; i < 5; i++) expect(await cache.get(G1, 2n)).toEqual(first);
    expect(store.reads).toBe(1);
  });

  it("concurrent cold gets of the same guild and user share one read", async () => {
    const store = world();
    const cache = new PermissionCache({ store });
    store.hold();
    const gets = Array.from({ length: 10 }, () => cache.get(G1, 2n));
    await flush();
    store.release();
    const results = await Promise.all(gets);
    for (const r of results) expect(r).toEqual({ access: store.guilds.get(G1), roleIds: [] });
    expect(store.reads).toBe(1);
  });

  it("after clear(), a guild's 2,500 live streams re-checking at once cost one guild read and three member reads", async () => {
    const store = world(2_500);
    const cache = new PermissionCache({ store });
    const users = Array.from({ length: 2_500 }, (_, i) => BigInt(i + 1));
    for (const u of users) await cache.get(G1, u);
    cache.clear();
    store.resetCounts();
    store.hold();
    const gets = users.map((u) => cache.get(G1, u));
    await flush();
    store.release();
    const results = await Promise.all(gets);
    expect(results.every((r) => r !== null && r.access === store.guilds.get(G1) && r.roleIds?.length === 0)).toBe(true);
    expect(store.loads).toEqual([{ guildId: G1, userId: 1n }]);
    // 2,499 members (the first came with the guild read), at most 1,000 per read.
    expect(store.memberReads.map((r) => r.userIds.length)).toEqual([1_000, 1_000, 499]);
    expect(store.memberReads.flatMap((r) => r.userIds)).toEqual(users.slice(1));
    // Now warm: no read at all.
    store.resetCounts();
    await Promise.all(users.map((u) => cache.get(G1, u)));
    expect(store.reads).toBe(0);
  });

  it("a failed batched member read fails each of its callers, and the next get reads again", async () => {
    const store = world(3);
    const cache = new PermissionCache({ store });
    await cache.get(G1, 1n);
    store.fail(true);
    const failed = await Promise.allSettled([cache.get(G1, 2n), cache.get(G1, 3n)]);
    expect(failed.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(store.memberReads).toHaveLength(1);
    store.fail(false);
    expect(await cache.get(G1, 2n)).toEqual({ access: store.guilds.get(G1), roleIds: [] });
  });

  it("with the guild warm, a new member costs one getMemberRoleIds and no loadAccess", async () => {
    const store = world();
    const cache = new PermissionCache({ store });
    await cache.get(G1, 1n);
    store.resetCounts();
    expect(await cache.get(G1, 2n)).toEqual({ access: store.guilds.get(G1), roleIds: [] });
    expect(store.loads).toEqual([]);
    expect(store.memberReads).toEqual([{ guildId: G1, userIds: [2n] }]);
    await cache.get(G1, 2n);
    expect(store.reads).toBe(1);
  });

  it("a cold member while the guild's read is in flight joins that read and reads only the member", async () => {
    const store = world();
    const cache = new PermissionCache({ store });
    await cache.get(G1, 1n);
    cache.invalidate({ guildId: G1, userId: null }); // guild cold, member 1 warm
    store.resetCounts();
    store.hold();
    const warmMember = cache.get(G1, 1n); // starts the guild read
    await flush();
    const coldMember = cache.get(G1, 2n); // both cold, but the guild is already being read
    await flush();
    store.release();
    expect((await warmMember)?.roleIds).toEqual([]);
    expect((await coldMember)?.roleIds).toEqual([]);
    expect(store.loads).toEqual([{ guildId: G1, userId: null }]);
    expect(store.memberReads).toEqual([{ guildId: G1, userIds: [2n] }]);
  });

  it("a not-member gets null role ids, and that answer is cached too (both cold, and member-only cold)", async () => {
    const store = world();
    const cache = new PermissionCache({ store });
    const outsider = 99n;
    expect(await cache.get(G1, outsider)).toEqual({ access: store.guilds.get(G1), roleIds: null });
    expect(await cache.get(G1, outsider)).toEqual({ access: store.guilds.get(G1), roleIds: null });
    expect(store.reads).toBe(1);
    // Cold member only, the guild warm: one member read, then none.
    const another = 98n;
    expect(await cache.get(G1, another)).toEqual({ access: store.guilds.get(G1), roleIds: null });
    expect(await cache.get(G1, another)).toEqual({ access: store.guilds.get(G1), roleIds: null });
    expect(store.memberReads).toHaveLength(1);
    expect(store.reads).toBe(2);
  });

  it("an unknown guild is null", async () => {
    const store = world();
    const cache = new PermissionCache({ store });
    expect(await cache.get(404n, 1n)).toBeNull();
    expect(cache.size).toEqual({ guilds: 0, members: 0 });
  });

  it("after a guild-wide invalidation, N concurrent gets for N users cost ONE guild read and no member reads", async () => {
    const N = 50;
    const store = world(N);
    const cache = new PermissionCache({ store });
    for (let u = 1n; u <= BigInt(N); u++) await cache.get(G1, u);
    expect(cache.size).toEqual({ guilds: 1, members: N });
    store.resetCounts();

    // A guild-wide change: @everyone loses SEND_MESSAGES.
    const changed = accessOf(G1, DEFAULT_EVERYONE_PERMISSIONS & ~PERMISSIONS.SEND_MESSAGES);
    store.guilds.set(G1, changed);
    cache.invalidate({ guildId: G1, userId: null });
    expect(cache.size).toEqual({ guilds: 0, members: N });

    store.hold();
    const gets = Array.from({ length: N }, (_, i) => cache.get(G1, BigInt(i + 1)));
    await flush();
    store.release();
    const results = await Promise.all(gets);
    for (const r of results) expect(r?.access).toBe(changed);
    expect(store.loads).toEqual([{ guildId: G1, userId: null }]);
    expect(store.memberReads).toEqual([]);

    // And it is cached again.
    await cache.get(G1, 7n);
    expect(store.reads).toBe(1);
  });

  it("a member invalidation drops only that member; the guild and other members stay warm", async () => {
    const store = world();
    const cache = new PermissionCache({ store });
    await cache.get(G1, 1n);
    await cache.get(G1, 2n);
    await cache.get(G2, 2n);
    store.resetCounts();

    store.join(G1, 2n, [MOD]);
    cache.invalidate({ guildId: G1, userId: 2n });
    expect(cache.size).toEqual({ guilds: 2, members: 2 });
    expect(await cache.get(G1, 2n)).toEqual({ access: store.guilds.get(G1), roleIds: [MOD] });
    expect(store.loads).toEqual([]);
    expect(store.memberReads).toEqual([{ guildId: G1, userIds: [2n] }]);
    await cache.get(G1, 1n);
    await cache.get(G2, 2n);
    await cache.get(G1, 2n);
    expect(store.reads).toBe(1);
  });

  it("invalidating a guild leaves other guilds warm; invalidation is idempotent", async () => {
    const store = world();
    const cache = new PermissionCache({ store });
    await cache.get(G1, 1n);
    await cache.get(G2, 1n);
    store.resetCounts();
    cache.invalidate({ guildId: G1, userId: null });
    cache.invalidate({ guildId: G1, userId: null });
    cache.invalidate({ guildId: G3, userId: null }); // nothing cached there
    cache.invalidate({ guildId: G1, userId: 42n }); // nobody cached
    await cache.get(G2, 1n);
    expect(store.reads).toBe(0);
    await cache.get(G1, 1n);
    expect(store.loads).toEqual([{ guildId: G1, userId: null }]);
    expect(store.reads).toBe(1);
  });

  describe("a read in flight when an invalidation arrives is returned but not cached", () => {
    it("both cold (loadAccess with the user), guild-wide invalidation", async () => {
      const store = world();
      const cache = new PermissionCache({ store });
      store.hold();
      const stale = cache.get(G1, 2n);
      await flush();
      const changed = accessOf(G1, 0n);
      store.guilds.set(G1, changed);
      cache.invalidate({ guildId: G1, userId: null });
      store.release();
      const result = await stale;
      expect(result?.access).not.toBe(changed); // read before the change: returned as it was
      expect(result?.access.guildId).toBe(G1);
      expect(cache.size).toEqual({ guilds: 0, members: 0 });
      store.resetCounts();
      expect((await cache.get(G1, 2n))?.access).toBe(changed);
      expect(store.reads).toBe(1);
    });

    it("guild read (members warm), guild-wide invalidation", async () => {
      const store = world();
      const cache = new PermissionCache({ store });
      await cache.get(G1, 2n);
      cache.invalidate({ guildId: G1, userId: null });
      store.hold();
      const stale = cache.get(G1, 2n);
      await flush();
      const changed = accessOf(G1, 0n);
      store.guilds.set(G1, changed);
      cache.invalidate({ guildId: G1, userId: null });
      store.release();
      expect((await stale)?.access).not.toBe(changed);
      store.resetCounts();
      expect((await cache.get(G1, 2n))?.access).toBe(changed);
      expect(store.loads).toEqual([{ guildId: G1, userId: null }]);
    });

    it("member read (guild warm), member invalidation", async () => {
      const store = world();
      const cache = new PermissionCache({ store });
      await cache.get(G1, 1n);
      store.hold();
      const stale = cache.get(G1, 2n);
      await flush();
      store.join(G1, 2n, [MOD]);
      cache.invalidate({ guildId: G1, userId: 2n });
      store.release();
      expect((await stale)?.roleIds).toEqual([]);
      store.resetCounts();
      expect((await cache.get(G1, 2n))?.roleIds).toEqual([MOD]);
      expect(store.memberReads).toHaveLength(1);
    });

    it("a get after the invalidation does not join the stale read; it reads afresh", async () => {
      const store = world();
      const cache = new PermissionCache({ store });
      store.hold();
      const stale = cache.get(G1, 2n);
      await flush();
      const changed = accessOf(G1, 0n);
      store.guilds.set(G1, changed);
      cache.invalidate({ guildId: G1, userId: null });
      const fresh = cache.get(G1, 2n);
      await flush();
      expect(store.waiting()).toBe(2);
      store.release();
      expect((await stale)?.access).not.toBe(changed);
      expect((await fresh)?.access).toBe(changed);
      // The fresh read is cached.
      store.resetCounts();
      expect((await cache.get(G1, 2n))?.access).toBe(changed);
      expect(store.reads).toBe(0);
    });

    it("a change to another guild does not stop the read being cached", async () => {
      const store = world();
      const cache = new PermissionCache({ store });
      store.hold();
      const read = cache.get(G1, 2n);
      await flush();
      cache.invalidate({ guildId: G2, userId: null });
      store.release();
      await read;
      expect(cache.size).toEqual({ guilds: 1, members: 1 });
    });

    it("clear() while a read is in flight: returned, not cached", async () => {
      const store = world();
      const cache = new PermissionCache({ store });
      store.hold();
      const stale = cache.get(G1, 2n);
      await flush();
      cache.clear();
      store.release();
      expect(await stale).not.toBeNull();
      expect(cache.size).toEqual({ guilds: 0, members: 0 });
    });
  });

  it("a failed read is not cached, and the next get reads again", async () => {
    const store = world();
    const cache = new PermissionCache({ store });
    store.fail(true);
    await expect(cache.get(G1, 2n)).rejects.toThrow("database down");
    store.fail(false);
    expect(await cache.get(G1, 2n)).toEqual({ access: store.guilds.get(G1), roleIds: [] });
    expect(store.reads).toBe(2);
  });

  it("clear() forgets everything and tells every watcher, once per watched guild", async () => {
    const store = world();
    store.join(G2, 1n);
    const cache = new PermissionCache({ store });
    await cache.get(G1, 1n);
    await cache.get(G2, 1n);
    const heard: PermissionChange[] = [];
    cache.watch(G1, (c) => heard.push(c));
    cache.watch(G2, (c) => heard.push(c));
    cache.clear();
    expect(cache.size).toEqual({ guilds: 0, members: 0 });
    expect(heard).toEqual(expect.arrayContaining([{ guildId: G1, userId: null }, { guildId: G2, userId: null }]));
    expect(heard).toHaveLength(2);
    store.resetCounts();
    await cache.get(G1, 1n);
    expect(store.loads).toEqual([{ guildId: G1, userId: 1n }]);
  });

  it("entries expire after ttlMs (fake clock)", async () => {
    let now = 1_000;
    const store = world();
    const cache = new PermissionCache({ store, ttlMs: 60_000, now: () => now });
    await cache.get(G1, 2n);
    now += 59_999;
    await cache.get(G1, 2n);
    expect(store.reads).toBe(1);
    now += 1;
    store.resetCounts();
    await cache.get(G1, 2n);
    expect(store.loads).toEqual([{ guildId: G1, userId: 2n }]);
    // Read afresh: good for another ttlMs.
    now += 59_999;
    await cache.get(G1, 2n);
    expect(store.reads).toBe(1);
  });

  it("a guild and its members expire independently", async () => {
    let now = 0;
    const store = world();
    const cache = new PermissionCache({ store, ttlMs: 100, now: () => now });
    await cache.get(G1, 1n); // guild and member 1 at t=0
    now = 50;
    await cache.get(G1, 2n); // member 2 at t=50
    now = 100; // the guild and member 1 expire, member 2 does not
    store.resetCounts();
    await cache.get(G1, 2n);
    expect(store.loads).toEqual([{ guildId: G1, userId: null }]);
    expect(store.memberReads).toEqual([]);
  });

  it("keeps at most maxGuilds guilds, dropping the least recently used", async () => {
    const store = world();
    for (const g of [G2, G3]) store.join(g, 1n);
    let now = 0;
    const cache = new PermissionCache({ store, maxGuilds: 2, now: () => now });
    await cache.get(G1, 1n);
    await cache.get(G2, 1n);
    now = 1_000; // a hit reorders its entry at most once a second
    await cache.get(G1, 1n); // G1 used last: G2 is the least recently used
    await cache.get(G3, 1n);
    expect(cache.size.guilds).toBe(2);
    store.resetCounts();
    await cache.get(G1, 1n);
    await cache.get(G3, 1n);
    expect(store.reads).toBe(0);
    await cache.get(G2, 1n);
    expect(store.loads).toEqual([{ guildId: G2, userId: null }]);
  });

  it("keeps at most maxMembers members, dropping the least recently used", async () => {
    const store = world(5);
    let now = 0;
    const cache = new PermissionCache({ store, maxMembers: 3, now: () => now });
    for (const u of [1n, 2n, 3n]) await cache.get(G1, u);
    now = 1_000;
    await cache.get(G1, 1n); // 2 is now the least recently used
    await cache.get(G1, 4n);
    expect(cache.size.members).toBe(3);
    store.resetCounts();
    for (const u of [1n, 3n, 4n]) await cache.get(G1, u);
    expect(store.reads).toBe(0);
    await cache.get(G1, 2n);
    expect(store.memberReads).toEqual([{ guildId: G1, userIds: [2n] }]);
  });

  it("reorders a hit at most once a second: within it, eviction follows the first use", async () => {
    const store = world(5);
    let now = 0;
    const cache = new PermissionCache({ store, maxMembers: 3, now: () => now });
    for (const u of [1n, 2n, 3n]) await cache.get(G1, u);
    now = 999;
    await cache.get(G1, 1n); // too soon to move: 1 stays the least recently used
    await cache.get(G1, 4n);
    store.resetCounts();
    for (const u of [2n, 3n, 4n]) await cache.get(G1, u);
    expect(store.reads).toBe(0);
    await cache.get(G1, 1n);
    expect(store.memberReads).toEqual([{ guildId: G1, userIds: [1n] }]);
  });

  describe("watchers", () => {
    it("hear the changes of their guild only, after the entry is dropped", async () => {
      const store = world();
      const cache = new PermissionCache({ store });
      await cache.get(G1, 2n);
      const g1: PermissionChange[] = [];
      const g2: PermissionChange[] = [];
      let seenGuilds = -1;
      cache.watch(G1, (c) => {
        g1.push(c);
        seenGuilds = cache.size.guilds;
      });
      cache.watch(G2, (c) => g2.push(c));
      cache.invalidate({ guildId: G1, userId: null });
      cache.invalidate({ guildId: G1, userId: 2n });
      cache.invalidate({ guildId: G3, userId: null });
      expect(g1).toEqual([
        { guildId: G1, userId: null },
        { guildId: G1, userId: 2n },
      ]);
      expect(g2).toEqual([]);
      // The guild was already forgotten when the watcher ran: re-checking reads the new state.
      expect(seenGuilds).toBe(0);
    });

    it("a watcher re-checking from the cache sees the change", async () => {
      const store = world();
      const cache = new PermissionCache({ store });
      await cache.get(G1, 2n);
      const changed = accessOf(G1, 0n);
      const rechecks: Promise<unknown>[] = [];
      cache.watch(G1, () => rechecks.push(cache.get(G1, 2n).then((r) => r?.access)));
      store.guilds.set(G1, changed);
      cache.invalidate({ guildId: G1, userId: null });
      expect(await Promise.all(rechecks)).toEqual([changed]);
    });

    it("stop hearing after unwatch; other watchers of the guild keep hearing", async () => {
      const cache = new PermissionCache({ store: world() });
      const a: PermissionChange[] = [];
      const b: PermissionChange[] = [];
      const stopA = cache.watch(G1, (c) => a.push(c));
      const stopB = cache.watch(G1, (c) => b.push(c));
      cache.invalidate({ guildId: G1, userId: null });
      stopA();
      stopA(); // twice is harmless
      cache.invalidate({ guildId: G1, userId: 5n });
      expect(a).toHaveLength(1);
      expect(b).toHaveLength(2);
      stopB();
      cache.invalidate({ guildId: G1, userId: null });
      cache.clear();
      expect(b).toHaveLength(2);
    });

    it("a watcher may unwatch itself, or another, while being called", async () => {
      const cache = new PermissionCache({ store: world() });
      const calls: string[] = [];
      const stopSelf: () => void = cache.watch(G1, () => {
        calls.push("self");
        stopSelf();
      });
      cache.watch(G1, () => calls.push("other"));
      cache.invalidate({ guildId: G1, userId: null });
      cache.invalidate({ guildId: G1, userId: null });
      expect(calls.sort()).toEqual(["other", "other", "self"]);
    });

    it("watching again after every watcher of a guild left works, even if an old unwatch is called again", async () => {
      const cache = new PermissionCache({ store: world() });
      const stopOld = cache.watch(G1, () => undefined);
      stopOld();
      const heard: PermissionChange[] = [];
      cache.watch(G1, (c) => heard.push(c));
      stopOld(); // a late second call must not drop the new watcher
      cache.invalidate({ guildId: G1, userId: null });
      expect(heard).toHaveLength(1);
    });
  });

  it("many invalidations of many guilds (the epoch table's bound) never let a stale read in", async () => {
    const store = world();
    const cache = new PermissionCache({ store, maxGuilds: 2 });
    store.hold();
    const stale = cache.get(G1, 2n);
    await flush();
    const changed = accessOf(G1, 0n);
    store.guilds.set(G1, changed);
    cache.invalidate({ guildId: G1, userId: null });
    // Enough other guilds' changes to make the cache reset its epoch table.
    for (let g = 1_000n; g < 1_020n; g++) cache.invalidate({ guildId: g, userId: null });
    store.release();
    await stale;
    store.resetCounts();
    expect((await cache.get(G1, 2n))?.access).toBe(changed);
    expect(store.reads).toBe(1);
  });
});
