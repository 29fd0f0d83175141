import type { PermissionStore } from "../stores/permission-store.js";
import type { GuildAccess } from "./compute.js";

/** What changed: a guild's roles, overwrites or owner (`userId` null), or one member's roles or membership. */
export interface PermissionChange {
  guildId: bigint;
  userId: bigint | null;
}

/** A guild's access and one user's place in it: their role ids, or null when not a member. */
export interface MemberAccess {
  access: GuildAccess;
  roleIds: bigint[] | null;
}

export interface PermissionCacheOptions {
  store: Pick<PermissionStore, "loadAccess" | "getMemberRoleIds">;
  /** Guilds kept (least recently used dropped first). */
  maxGuilds?: number;
  /** Members' role lists kept (least recently used dropped first). */
  maxMembers?: number;
  /** A safety net: entries are read again after this long even without an invalidation. */
  ttlMs?: number;
  now?: () => number;
}

/** Members of one guild whose role ids are read together (see PermissionCache.batchedRoleIds). */
interface MemberBatch {
  waiting: Map<bigint, { resolve: (roles: bigint[] | null) => void; reject: (error: unknown) => void }[]>;
}

/**
 * One number for a (guild, member) pair: snowflakes are below 2^63, so the pair fits in 128 bits
 * without overlap. A cache hit on every send and subscription looks it up; building a string key
 * from two bigints instead costs ~0.4 µs (bigint to decimal), three times this.
 */
function memberKeyOf(guildId: bigint, userId: bigint): bigint {
  return (guildId << 64n) | userId;
}

/** Most members read in one getMemberRoleIds. */
const MEMBER_BATCH = 1_000;

interface Entry<T> {
  value: T;
  expiresAt: number;
  /** When the read that gave `value` started (this cache's clock): what it reflects is at least this recent. */
  readAt: number;
  /** When the entry last moved to the recent end of its map (a hit moves it at most once a second). */
  movedAt: number;
}

/** A hit re-orders its entry for least-recently-used eviction at most this often (a Map delete + set per hit cost ~1 % of a connect). */
const REORDER_EVERY_MS = 1_000;

/**
 * Permissions without a store read per request or per event: each instance keeps guilds'
 * access (owner, roles, overwrites) and members' role ids in memory, and forgets them when a
 * {@link PermissionChange} is announced (every instance hears every change on the bus; see
 * resolvers/permission-changes.ts). A cold lookup costs one read (both the guild and the member
 * when both are cold, through PermissionStore.loadAccess); concurrent lookups share it.
 *
 * Staleness: an entry is dropped the moment its change is heard, and a read that was in flight
 * when a change to its guild was heard is returned but not cached (per-guild epochs), so a
 * stale read cannot re-enter the cache. When the bus may have lost changes (a reconnect), the
 * composition root calls {@link clear}. Entries also expire after `ttlMs`, in case a change was
 * lost some other way.
 *
 * Watchers: live streams register per guild and are called after every change to that guild
 * (and after a clear), to re-check access from the cache; see resolvers/subscriptions.ts.
 */
export class PermissionCache {
  private readonly guilds = new Map<bigint, Entry<GuildAccess>>();
  /** Keyed by {@link memberKeyOf}. */
  private readonly members = new Map<bigint, Entry<bigint[] | null>>();
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly epochs = new Map<bigint, number>();
  private generation = 0;
  private readonly watchers = new Map<bigint, Set<(change: PermissionChange) => void>>();
  private readonly memberBatches = new Map<string, MemberBatch>();
  private readonly maxGuilds: number;
  private readonly maxMembers: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly options: PermissionCacheOptions) {
    this.maxGuilds = options.maxGuilds ?? 10_000;
    this.maxMembers = options.maxMembers ?? 200_000;
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * The guild's access and `userId`'s role ids there (null if not a member); null if there is no
   * such guild. From memory when fresh; otherwise one store read.
   */
  get(guildId: bigint, userId: bigint): Promise<MemberAccess | null> {
    const guild = this.fresh(this.guilds, guildId);
    const memberKey = memberKeyOf(guildId, userId);
    const member = this.fresh(this.members, memberKey);
    if (guild && member) return Promise.resolve({ access: guild.value, roleIds: member.value });
    const epoch = this.epochOf(guildId);
    const generation = this.generation;
    const current = () => epoch === this.epochOf(guildId) && generation === this.generation;
    const startedAt = this.now();
    // Both cold (a first request): one read for both, which also serves as the guild read every
    // concurrent lookup of the guild shares. Otherwise only what is cold: the guild read shared,
    // member reads batched per guild (one getMemberRoleIds per tick). So after a clear() or a
    // guild-wide change, a guild's thousand live streams re-checking at once cost one read of
    // the guild and one of their members, not a thousand.
    const guildKey = `guild:${guildId}@${epoch}.${generation}`;
    const bothKey = `both:${memberKey}@${epoch}.${generation}`;
    const reading = this.inFlight.get(bothKey) as Promise<MemberAccess | null> | undefined;
    if (reading) return reading;
    if (!guild && !member && !this.inFlight.has(guildKey)) {
      const both = this.shared(bothKey, async () => {
        const loaded = await this.options.store.loadAccess(guildId, userId);
        if (!loaded) return null;
        if (current()) {
          this.remember(this.guilds, guildId, loaded.access, this.maxGuilds, startedAt);
          this.remember(this.members, memberKey, loaded.memberRoleIds, this.maxMembers, startedAt);
        }
        return { access: loaded.access, roleIds: loaded.memberRoleIds };
      });
      this.shared(guildKey, () => both.then((loaded) => loaded?.access ?? null)).catch(() => {});
      return both;
    }
    const access = guild
      ? Promise.resolve<GuildAccess | null>(guild.value)
      : this.shared(guildKey, async () => {
          const loaded = await this.options.store.loadAccess(guildId, null);
          if (loaded && current()) this.remember(this.guilds, guildId, loaded.access, this.maxGuilds, startedAt);
          return loaded?.access ?? null;
        });
    const roleIds = member
      ? Promise.resolve(member.value)
      : this.shared(`member:${memberKey}@${epoch}.${generation}`, async () => {
          const roles = await this.batchedRoleIds(guildId, userId, `${guildId}@${epoch}.${generation}`);
          if (current()) this.remember(this.members, memberKey, roles, this.maxMembers, startedAt);
          return roles;
        });
    return Promise.all([access, roleIds]).then(([a, r]) => (a ? { access: a, roleIds: r } : null));
  }

  /**
   * {@link get}, for a caller that knows the guild changed at or after `since` (this cache's
   * clock, {@link clock}): a guild copy read before then is read again first. The case is a
   * channel the store has (learned at `since`) that the cached copy lacks, because it was
   * created after that copy was read and the announcement has not arrived yet. Fires no
   * watchers: nothing about access changed that the bus will not announce itself.
   */
  getSince(guildId: bigint, userId: bigint, since: number): Promise<MemberAccess | null> {
    const guild = this.guilds.get(guildId);
    if (guild && guild.readAt <= since) this.guilds.delete(guildId);
    return this.get(guildId, userId);
  }

  /** This cache's clock (ms), for {@link getSince}. */
  clock(): number {
    return this.now();
  }

  /**
   * One member's role ids, read together with every other member of the guild asked for in the
   * same tick (at most {@link MEMBER_BATCH} per read).
   */
  private batchedRoleIds(guildId: bigint, userId: bigint, batchKey: string): Promise<bigint[] | null> {
    let batch = this.memberBatches.get(batchKey);
    if (!batch || batch.waiting.size >= MEMBER_BATCH) {
      const created: MemberBatch = { waiting: new Map() };
      this.memberBatches.set(batchKey, created);
      setImmediate(() => {
        if (this.memberBatches.get(batchKey) === created) this.memberBatches.delete(batchKey);
        const ids = [...created.waiting.keys()];
        this.options.store.getMemberRoleIds(guildId, ids).then(
          (found) => {
            for (const [id, waiters] of created.waiting) for (const w of waiters) w.resolve(found.get(id) ?? null);
          },
          (error: unknown) => {
            for (const waiters of created.waiting.values()) for (const w of waiters) w.reject(error);
          },
        );
      });
      batch = created;
    }
    const target = batch;
    return new Promise((resolve, reject) => {
      const waiters = target.waiting.get(userId);
      if (waiters) waiters.push({ resolve, reject });
      else target.waiting.set(userId, [{ resolve, reject }]);
    });
  }

  /** Forgets what the change affects, then tells the guild's watchers. Idempotent. */
  invalidate(change: PermissionChange): void {
    this.epochs.set(change.guildId, this.epochOf(change.guildId) + 1);
    // The epochs map only needs entries while reads are in flight; keep it from growing forever.
    if (this.epochs.size > this.maxGuilds * 4) {
      this.epochs.clear();
      this.generation++;
    }
    if (change.userId === null) this.guilds.delete(change.guildId);
    else this.members.delete(memberKeyOf(change.guildId, change.userId));
    for (const watcher of [...(this.watchers.get(change.guildId) ?? [])]) watcher(change);
  }

  /** Forgets everything (the bus may have lost changes) and tells every watcher. */
  clear(): void {
    this.generation++;
    this.guilds.clear();
    this.members.clear();
    for (const [guildId, set] of this.watchers) for (const watcher of [...set]) watcher({ guildId, userId: null });
  }

  /** Calls `listener` after each change to `guildId` (and after a clear) until the returned function is called. */
  watch(guildId: bigint, listener: (change: PermissionChange) => void): () => void {
    let set = this.watchers.get(guildId);
    if (!set) this.watchers.set(guildId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.watchers.get(guildId) === set) this.watchers.delete(guildId);
    };
  }

  /** Entries held now (for tests and metrics). */
  get size(): { guilds: number; members: number } {
    return { guilds: this.guilds.size, members: this.members.size };
  }

  /** Runs `load` once for concurrent callers with the same key (the key carries the epoch). */
  private shared<T>(key: string, load: () => Promise<T>): Promise<T> {
    const pending = this.inFlight.get(key) as Promise<T> | undefined;
    if (pending) return pending;
    const promise = load().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }

  private epochOf(guildId: bigint): number {
    return this.epochs.get(guildId) ?? 0;
  }

  private fresh<K, T>(map: Map<K, Entry<T>>, key: K): Entry<T> | undefined {
    const entry = map.get(key);
    if (!entry) return undefined;
    const now = this.now();
    if (entry.expiresAt <= now) {
      map.delete(key);
      return undefined;
    }
    // Least recently used goes first: a read moves the entry to the end (to within a second).
    if (now - entry.movedAt >= REORDER_EVERY_MS) {
      entry.movedAt = now;
      map.delete(key);
      map.set(key, entry);
    }
    return entry;
  }

  private remember<K, T>(map: Map<K, Entry<T>>, key: K, value: T, max: number, readAt: number): void {
    map.delete(key);
    const now = this.now();
    map.set(key, { value, expiresAt: now + this.ttlMs, readAt, movedAt: now });
    if (map.size > max) map.delete(map.keys().next().value!);
  }
}
