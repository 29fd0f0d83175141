import type { Cluster, Redis } from "ioredis";
import type { ActiveMember, ChosenStatus, PresenceRecord, PresenceStore, SessionRef, TypingRecord } from "./presence-store.js";
import { crc16 } from "../redis/cluster.js";
import { openFailFast, shutDown, type RedisTarget } from "../redis/connection.js";

/** A chosen status outlives the user's last session by this long (then it is ONLINE again). */
export const STATUS_TTL_MS = 30 * 24 * 60 * 60 * 1_000;
/** A channel's typing hash outlives its latest expiry by this long (it is only garbage collection). */
const TYPING_KEY_GRACE_MS = 5_000;

/**
 * Lua shared by every script. KEYS[1] is always the key base of one bucket (see
 * {@link RedisPresenceStore}), and every key a script touches is built from it: the base is the
 * only key declared, so a cluster client routes the call by its slot, and on a cluster the
 * base's hash tag puts every key built from it in that same slot.
 */
const PRELUDE = `
local B = KEYS[1]
-- Online-set members are user ids zero-padded to 20 digits, so that equal scores sort by id.
local function pad(id) return string.rep('0', 20 - #id) .. id end
local function unpad(member)
  local id = string.gsub(member, '^0+', '')
  if id == '' then return '0' end
  return id
end
local function isLive(user, now)
  for _, expiresAt in ipairs(redis.call('HVALS', B .. 'sessions:' .. user)) do
    if tonumber(expiresAt) > now then return true end
  end
  return false
end
local function statusOf(user) return redis.call('GET', B .. 'status:' .. user) or 'ONLINE' end
-- Leaves every online set and forgets the sessions (with their expiry entries) and guilds;
-- the chosen status starts its ${STATUS_TTL_MS / 86_400_000}-day countdown.
local function goOffline(user)
  local sessions, guilds = B .. 'sessions:' .. user, B .. 'guilds:' .. user
  for _, sid in ipairs(redis.call('HKEYS', sessions)) do redis.call('ZREM', B .. 'expiry', user .. ':' .. sid) end
  local member = pad(user)
  for _, guild in ipairs(redis.call('SMEMBERS', guilds)) do redis.call('ZREM', B .. 'online:' .. guild, member) end
  redis.call('DEL', sessions, guilds)
  redis.call('PEXPIRE', B .. 'status:' .. user, '${STATUS_TTL_MS}')
end
-- A typing value is "<startedAt>:<expiresAt>".
local function typingState(value)
  local colon = string.find(value, ':', 1, true)
  return tonumber(string.sub(value, 1, colon - 1)), tonumber(string.sub(value, colon + 1)), string.sub(value, colon + 1)
end
`;

/**
 * One script per method (online-set scores are -lastActive: see {@link RedisPresenceStore}).
 * Times and scores arrive as decimal strings and are written as given: Lua numbers print with
 * 14 significant digits, so they are only used for comparisons.
 */
const SCRIPTS = {
  // ARGV: user, session, now, expiresAt, -now, guild ids...
  connect: `
local user, sid, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local wasOnline = isLive(user, now)
-- Sessions that expired without a sweep belong to the offline period this connect ends.
if not wasOnline then goOffline(user) end
redis.call('HSET', B .. 'sessions:' .. user, sid, ARGV[4])
redis.call('ZADD', B .. 'expiry', ARGV[4], user .. ':' .. sid)
redis.call('PERSIST', B .. 'status:' .. user)
local status = statusOf(user)
local guilds, member = B .. 'guilds:' .. user, pad(user)
for i = 6, #ARGV do
  redis.call('SADD', guilds, ARGV[i])
  if status ~= 'INVISIBLE' then redis.call('ZADD', B .. 'online:' .. ARGV[i], 'LT', ARGV[5], member) end
end
return {wasOnline and 0 or 1, status}`,

  // ARGV: now, expiresAt, (user, session)... Returns the 0-based indexes of unknown sessions.
  heartbeat: `
local now, expiresAt = tonumber(ARGV[1]), ARGV[2]
local unknown = {}
for i = 3, #ARGV, 2 do
  local user, sid = ARGV[i], ARGV[i + 1]
  local sessions = B .. 'sessions:' .. user
  local current = redis.call('HGET', sessions, sid)
  if current and tonumber(current) > now then
    redis.call('HSET', sessions, sid, expiresAt)
    redis.call('ZADD', B .. 'expiry', expiresAt, user .. ':' .. sid)
  else
    unknown[#unknown + 1] = (i - 3) / 2
  end
end
return unknown`,

  // ARGV: user, session, now
  disconnect: `
local user, sid, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local status = statusOf(user)
if redis.call('HDEL', B .. 'sessions:' .. user, sid) == 0 then return {0, status} end
redis.call('ZREM', B .. 'expiry', user .. ':' .. sid)
if isLive(user, now) then return {0, status} end
goOffline(user)
return {1, status}`,

  // ARGV: now, limit. A user is reported when their last session is removed.
  sweep: `
local expiry = B .. 'expiry'
local offline = {}
for _, entry in ipairs(redis.call('ZRANGEBYSCORE', expiry, '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])) do
  local colon = string.find(entry, ':', 1, true)
  local user, sid = string.sub(entry, 1, colon - 1), string.sub(entry, colon + 1)
  local sessions = B .. 'sessions:' .. user
  redis.call('ZREM', expiry, entry)
  if redis.call('HDEL', sessions, sid) == 1 and redis.call('EXISTS', sessions) == 0 then
    goOffline(user)
    offline[#offline + 1] = user
  end
end
return offline`,

  // ARGV: user, status, now, -now
  setStatus: `
local user, status, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local key = B .. 'status:' .. user
local previous = statusOf(user)
local online = isLive(user, now)
if status == 'ONLINE' then
  redis.call('DEL', key)
elseif redis.call('EXISTS', B .. 'sessions:' .. user) == 1 then
  redis.call('SET', key, status) -- no expiry while sessions exist; going offline starts it
else
  redis.call('SET', key, status, 'PX', '${STATUS_TTL_MS}')
end
local member = pad(user)
if status == 'INVISIBLE' then
  for _, guild in ipairs(redis.call('SMEMBERS', B .. 'guilds:' .. user)) do redis.call('ZREM', B .. 'online:' .. guild, member) end
elseif previous == 'INVISIBLE' and online then
  for _, guild in ipairs(redis.call('SMEMBERS', B .. 'guilds:' .. user)) do redis.call('ZADD', B .. 'online:' .. guild, 'LT', ARGV[4], member) end
end
return {online and 1 or 0, previous}`,

  // ARGV: now, users...
  get: `
local now = tonumber(ARGV[1])
local statuses = {}
for i = 2, #ARGV do
  if isLive(ARGV[i], now) then statuses[#statuses + 1] = statusOf(ARGV[i]) else statuses[#statuses + 1] = 'OFFLINE' end
end
return statuses`,

  // ARGV: user, now, -now. XX: only where they already are (not INVISIBLE, not left); LT: never back.
  touch: `
local user = ARGV[1]
if not isLive(user, tonumber(ARGV[2])) then return 0 end
local member = pad(user)
for _, guild in ipairs(redis.call('SMEMBERS', B .. 'guilds:' .. user)) do
  redis.call('ZADD', B .. 'online:' .. guild, 'XX', 'LT', ARGV[3], member)
end
return 1`,

  // ARGV: user, guild, now, -now
  joinGuild: `
local user, guild = ARGV[1], ARGV[2]
if not isLive(user, tonumber(ARGV[3])) then return 0 end
redis.call('SADD', B .. 'guilds:' .. user, guild)
if statusOf(user) ~= 'INVISIBLE' then redis.call('ZADD', B .. 'online:' .. guild, 'LT', ARGV[4], pad(user)) end
return 1`,

  // ARGV: user, guild
  leaveGuild: `
redis.call('SREM', B .. 'guilds:' .. ARGV[1], ARGV[2])
redis.call('ZREM', B .. 'online:' .. ARGV[2], pad(ARGV[1]))
return 0`,

  // ARGV: guild. Its online members forget it, so nothing they do later recreates the set.
  forgetGuild: `
local key = B .. 'online:' .. ARGV[1]
for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do redis.call('SREM', B .. 'guilds:' .. unpad(member), ARGV[1]) end
redis.call('UNLINK', key)
return 0`,

  // ARGV: channel, user, now, expiresAt, quietMs
  startTyping: `
local key, user, now = B .. 'typing:' .. ARGV[1], ARGV[2], tonumber(ARGV[3])
local current = redis.call('HGET', key, user)
if current then
  local startedAt, expiresAt = typingState(current)
  if expiresAt > now and now - startedAt < tonumber(ARGV[5]) then return 0 end
end
redis.call('HSET', key, user, ARGV[3] .. ':' .. ARGV[4])
local latest = tonumber(ARGV[4])
local all = redis.call('HGETALL', key)
for i = 1, #all, 2 do
  local _, expiresAt = typingState(all[i + 1])
  if expiresAt <= now then redis.call('HDEL', key, all[i]) elseif expiresAt > latest then latest = expiresAt end
end
redis.call('PEXPIRE', key, string.format('%d', latest - now + ${TYPING_KEY_GRACE_MS}))
return 1`,

  // ARGV: channel, user, now
  stopTyping: `
local key = B .. 'typing:' .. ARGV[1]
local current = redis.call('HGET', key, ARGV[2])
if not current then return 0 end
redis.call('HDEL', key, ARGV[2])
local _, expiresAt = typingState(current)
if expiresAt > tonumber(ARGV[3]) then return 1 end
return 0`,

  // ARGV: channel, now. Returns user, expiresAt, ... of the live typists; drops the others.
  typing: `
local key, now = B .. 'typing:' .. ARGV[1], tonumber(ARGV[2])
local all = redis.call('HGETALL', key)
local live = {}
for i = 1, #all, 2 do
  local _, expiresAt, raw = typingState(all[i + 1])
  if expiresAt <= now then
    redis.call('HDEL', key, all[i])
  else
    live[#live + 1] = all[i]
    live[#live + 1] = raw
  end
end
return live`,
} as const;

type ScriptName = keyof typeof SCRIPTS;
/** Names of the ioredis commands the scripts are defined as (shared by every store on a connection). */
const COMMAND_PREFIX = "concordPresence_";

export interface RedisPresenceStoreOptions {
  /** Put in front of every key: keys are `<keyPrefix>presence:…`. */
  keyPrefix: string;
  /**
   * Spread the keys over this many hash-tagged buckets (a Redis Cluster: see
   * {@link CLUSTER_PRESENCE_BUCKETS} and the class doc). Undefined: the layout of one server,
   * every key right under `<keyPrefix>presence:`.
   */
  buckets?: number;
  /** close() quits the connection (set by {@link createRedisPresenceStore}). Default false. */
  ownsConnection?: boolean;
}

/**
 * Buckets of the presence keys on a Redis Cluster: the most primaries presence can spread over,
 * and the number of calls (pipelined per primary) of the guild-wide methods. Every instance of a
 * deployment must use the same value; changing it strands the old keys until they are deleted.
 */
export const CLUSTER_PRESENCE_BUCKETS = 64;

/**
 * {@link PresenceStore} in Redis, shared by every instance. On one server each method is ONE
 * round trip: a Lua script (sent as EVAL once per connection, then EVALSHA), or a single read
 * command for `onlineCount` (ZCARD) and `activeMembers` (ZRANGE). `get` and `heartbeat` take all
 * users in one script. Time is only the `now` passed in, never Redis TIME. Keys (`P` = the key
 * base, `<keyPrefix>presence:` on one server):
 *
 * - `P sessions:<user>` HASH sessionId -> expiresAt ms, and `P expiry` ZSET "<user>:<session>"
 *   scored by expiresAt (what sweep reads, oldest first). Always written together.
 * - `P guilds:<user>` SET of guild ids recorded while the user has sessions.
 * - `P status:<user>` STRING chosen status (absent: ONLINE). No expiry while the user has
 *   sessions; expires {@link STATUS_TTL_MS} after they go offline (or after a set while offline).
 * - `P online:<guild>` ZSET of online, visible members: member = user id zero-padded to 20
 *   digits, score = -lastActive ms. So ZRANGE 0..limit-1 is "most recent first, ties by id
 *   ascending" exactly (no client-side tie-break), and ZADD LT keeps lastActive from moving back.
 * - `P typing:<channel>` HASH user -> "<startedAt>:<expiresAt>"; expired fields are dropped by
 *   startTyping/typing, and the key expires a little after its latest typist.
 *
 * On a Redis Cluster (`buckets`: n) the same layout exists n times, once per bucket, with the key
 * base `<keyPrefix>presence:{<b>}:` (b = 0..n-1): its hash tag puts all of a bucket's keys in one
 * slot. A user lives in bucket crc16(user id) mod n (a typing channel likewise) with their
 * sessions, guilds, status, their expiry entries AND their entries in the guilds' online sets:
 * a guild's online set is split in n parts, one per bucket. So every script still touches ONE
 * slot and every per-user method is one atomic script, exactly as on one server; the guarantees
 * of the port hold unchanged. Guild-wide methods visit every bucket: `onlineCount` sums n ZCARDs,
 * `activeMembers` merges n ZRANGEs of `limit` (exact: every part has the same order), and
 * `forgetGuild` runs in every bucket. `sweep` first reads the oldest expired entries of every
 * bucket, then sweeps in each bucket as many as it holds of the `limit` oldest overall (each
 * bucket's sweep is atomic, so concurrent sweeps still report every user once). `get` and
 * `heartbeat` run one script per bucket concerned.
 *
 * Decisions where the port leaves room (the memory adapter does the same; the contract pins them):
 * - A user is online while a session has expiresAt > now. A session that expired is dead even
 *   before a sweep: `get` shows OFFLINE, `heartbeat` reports it unknown (never revives it).
 * - `connect` of a user with no live session first clears their unswept leftovers (the offline
 *   period ends with `cameOnline` instead of being swept), then records the given guilds (added
 *   to those already recorded while online).
 * - `sweep` reports a user when it removes their LAST session (so a user whose expired sessions
 *   span two sweeps is reported once, by the second). `disconnect` of a session that leaves no
 *   live one reports `wentOffline` and clears the expired rest: between the two, each offline
 *   transition is reported exactly once.
 * - Online sets are exact as of the last sweep: a user whose sessions expired stays counted by
 *   `onlineCount`/`activeMembers` until swept (O(1) counting cannot look at expiries).
 * - `forgetGuild` makes the guild's online members forget it too (O(online members)); an
 *   INVISIBLE member, not in the set, keeps it recorded until offline.
 */
export class RedisPresenceStore implements PresenceStore {
  /** The key base of each bucket (one on a single server). */
  private readonly bases: string[];
  private readonly ownsConnection: boolean;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis | Cluster,
    options: RedisPresenceStoreOptions,
  ) {
    if (redis.options.keyPrefix) {
      throw new Error("RedisPresenceStore: use options.keyPrefix, not the ioredis keyPrefix (scripts build their own keys)");
    }
    const root = `${options.keyPrefix}presence:`;
    if (options.buckets === undefined) {
      this.bases = [root];
    } else {
      if (!Number.isInteger(options.buckets) || options.buckets < 1 || options.buckets > 16_384) throw new RangeError(`RedisPresenceStore: buckets must be an integer from 1 to 16384, got ${options.buckets}`);
      if (/[{}]/.test(options.keyPrefix)) throw new Error(`RedisPresenceStore: a key prefix with { or } would break the buckets' hash tags: ${JSON.stringify(options.keyPrefix)}`);
      this.bases = Array.from({ length: options.buckets }, (_, bucket) => `${root}{${bucket}}:`);
    }
    this.ownsConnection = options.ownsConnection ?? false;
    for (const name of Object.keys(SCRIPTS) as ScriptName[]) {
      if (typeof (redis as unknown as Record<string, unknown>)[COMMAND_PREFIX + name] !== "function") {
        redis.defineCommand(COMMAND_PREFIX + name, { numberOfKeys: 1, lua: PRELUDE + SCRIPTS[name] });
      }
    }
  }

  async connect(session: SessionRef & { guildIds: readonly bigint[] }, now: Date, ttlMs: number): Promise<{ cameOnline: boolean; status: ChosenStatus }> {
    const at = now.getTime();
    const [cameOnline, status] = (await this.run("connect", this.baseOf(session.userId), id(session.userId), session.sessionId, at, at + ttlMs, -at, ...session.guildIds.map(id))) as [number, ChosenStatus];
    return { cameOnline: cameOnline === 1, status };
  }

  async heartbeat(sessions: readonly SessionRef[], now: Date, ttlMs: number): Promise<SessionRef[]> {
    if (sessions.length === 0) return [];
    const at = now.getTime();
    const unknown = await Promise.all(
      this.byBucket(sessions, (s) => s.userId).map(async ([base, group]) => {
        const indexes = (await this.run("heartbeat", base, at, at + ttlMs, ...group.flatMap(([s]) => [id(s.userId), s.sessionId]))) as number[];
        return indexes.map((index) => group[index]![1]);
      }),
    );
    return unknown
      .flat()
      .sort((a, b) => a - b)
      .map((index) => sessions[index]!);
  }

  async disconnect(session: SessionRef, now: Date): Promise<{ wentOffline: boolean; status: ChosenStatus }> {
    const [wentOffline, status] = (await this.run("disconnect", this.baseOf(session.userId), id(session.userId), session.sessionId, now.getTime())) as [number, ChosenStatus];
    return { wentOffline: wentOffline === 1, status };
  }

  async sweep(now: Date, limit: number): Promise<bigint[]> {
    if (limit <= 0) return [];
    const at = now.getTime();
    const count = Math.floor(limit);
    if (this.bases.length === 1) return ((await this.run("sweep", this.bases[0]!, at, count)) as string[]).map(BigInt);
    // The `count` oldest expired entries overall, and how many of them each bucket holds.
    const due = await Promise.all(this.bases.map((base) => this.redis.zrangebyscore(`${base}expiry`, "-inf", at, "WITHSCORES", "LIMIT", 0, count)));
    const entries = due.flatMap((flat, bucket) => {
      const items: { bucket: number; member: string; score: number }[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) items.push({ bucket, member: flat[i]!, score: Number(flat[i + 1]) });
      return items;
    });
    entries.sort((a, b) => a.score - b.score || (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
    const perBucket = new Map<number, number>();
    for (const entry of entries.slice(0, count)) perBucket.set(entry.bucket, (perBucket.get(entry.bucket) ?? 0) + 1);
    const swept = await Promise.all([...perBucket].map(([bucket, n]) => this.run("sweep", this.bases[bucket]!, at, n) as Promise<string[]>));
    return swept.flat().map(BigInt);
  }

  async setStatus(userId: bigint, status: ChosenStatus, now: Date): Promise<{ online: boolean; previous: ChosenStatus }> {
    const at = now.getTime();
    const [online, previous] = (await this.run("setStatus", this.baseOf(userId), id(userId), status, at, -at)) as [number, ChosenStatus];
    return { online: online === 1, previous };
  }

  async get(userIds: readonly bigint[], now: Date): Promise<PresenceRecord[]> {
    if (userIds.length === 0) return [];
    const statuses: PresenceRecord["status"][] = new Array(userIds.length);
    await Promise.all(
      this.byBucket(userIds, (userId) => userId).map(async ([base, group]) => {
        const found = (await this.run("get", base, now.getTime(), ...group.map(([userId]) => id(userId)))) as PresenceRecord["status"][];
        group.forEach(([, index], i) => (statuses[index] = found[i]!));
      }),
    );
    return userIds.map((userId, i) => ({ userId, status: statuses[i]! }));
  }

  async touch(userId: bigint, now: Date): Promise<void> {
    const at = now.getTime();
    await this.run("touch", this.baseOf(userId), id(userId), at, -at);
  }

  async joinGuild(userId: bigint, guildId: bigint, now: Date): Promise<void> {
    const at = now.getTime();
    await this.run("joinGuild", this.baseOf(userId), id(userId), id(guildId), at, -at);
  }

  async leaveGuild(userId: bigint, guildId: bigint): Promise<void> {
    await this.run("leaveGuild", this.baseOf(userId), id(userId), id(guildId));
  }

  async forgetGuild(guildId: bigint): Promise<void> {
    await Promise.all(this.bases.map((base) => this.run("forgetGuild", base, id(guildId))));
  }

  async onlineCount(guildId: bigint): Promise<number> {
    const counts = await Promise.all(this.bases.map((base) => this.redis.zcard(`${base}online:${id(guildId)}`)));
    return counts.reduce((sum, n) => sum + n, 0);
  }

  async activeMembers(guildId: bigint, limit: number): Promise<ActiveMember[]> {
    if (limit <= 0) return [];
    const count = Math.floor(limit);
    const parts = await Promise.all(this.bases.map((base) => this.redis.zrange(`${base}online:${id(guildId)}`, 0, count - 1, "WITHSCORES")));
    const members: { member: string; score: number }[] = [];
    for (const flat of parts) for (let i = 0; i + 1 < flat.length; i += 2) members.push({ member: flat[i]!, score: Number(flat[i + 1]) });
    // Each part is in (score, member) order already; a single part needs no merge.
    if (parts.length > 1) members.sort((a, b) => a.score - b.score || (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
    return members.slice(0, count).map((m) => ({ userId: BigInt(m.member), lastActiveAt: new Date(-m.score) }));
  }

  async startTyping(channelId: bigint, userId: bigint, now: Date, ttlMs: number, quietMs: number): Promise<boolean> {
    const at = now.getTime();
    return (await this.run("startTyping", this.baseOf(channelId), id(channelId), id(userId), at, at + ttlMs, quietMs)) === 1;
  }

  async stopTyping(channelId: bigint, userId: bigint, now: Date): Promise<boolean> {
    return (await this.run("stopTyping", this.baseOf(channelId), id(channelId), id(userId), now.getTime())) === 1;
  }

  async typing(channelId: bigint, now: Date): Promise<TypingRecord[]> {
    const flat = (await this.run("typing", this.baseOf(channelId), id(channelId), now.getTime())) as string[];
    const records: TypingRecord[] = [];
    for (let i = 0; i < flat.length; i += 2) records.push({ userId: BigInt(flat[i]!), expiresAt: new Date(Number(flat[i + 1])) });
    return records.sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime() || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
  }

  /** Quits the connection if this store opened it ({@link createRedisPresenceStore}); otherwise leaves it to its owner. */
  close(): Promise<void> {
    this.closing ??= this.ownsConnection ? shutDown(this.redis) : Promise.resolve();
    return this.closing;
  }

  /** The key base of the bucket `entity` (a user, or a typing channel) lives in. */
  private baseOf(entity: bigint): string {
    return this.bases.length === 1 ? this.bases[0]! : this.bases[crc16(id(entity)) % this.bases.length]!;
  }

  /** `items` grouped by the bucket of `entityOf(item)`: each group's base, and its items with their index in `items`. */
  private byBucket<T>(items: readonly T[], entityOf: (item: T) => bigint): [string, [T, number][]][] {
    const groups = new Map<string, [T, number][]>();
    items.forEach((item, index) => {
      const base = this.baseOf(entityOf(item));
      const group = groups.get(base);
      if (group) group.push([item, index]);
      else groups.set(base, [[item, index]]);
    });
    return [...groups];
  }

  /** Runs one of the scripts (one round trip) in the bucket whose key base is `base`. */
  private run(name: ScriptName, base: string, ...args: (string | number)[]): Promise<unknown> {
    const command = (this.redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>)[COMMAND_PREFIX + name]!;
    return command.call(this.redis, base, ...args);
  }
}

/**
 * Opens a connection of its own (one server at `url`, or a Redis Cluster from `clusterNodes`,
 * with the keys in {@link CLUSTER_PRESENCE_BUCKETS} buckets) and returns a
 * {@link RedisPresenceStore} whose close() quits it. Fails fast (after `connectTimeoutMs`,
 * default 5,000) with a clear error if Redis is unreachable.
 */
export async function createRedisPresenceStore(
  options: RedisTarget & {
    keyPrefix: string;
    connectionName?: string;
    connectTimeoutMs?: number;
    /** Longest wait for one command (default 2,000 ms). */
    commandTimeoutMs?: number;
    /** Told about connection errors: the first one of each outage, not every reconnect attempt. */
    onConnectionError?: (error: Error) => void;
  },
): Promise<RedisPresenceStore> {
  // Presence is never worth waiting for: while Redis is unreachable every call fails at once
  // (callers log and carry on: a message is still sent, a socket still connects) instead of
  // queueing behind the outage. Heartbeats re-register what was missed once Redis is back.
  const redis = await openFailFast({
    ...options,
    purpose: "presence store",
    connectionName: options.connectionName ?? "concord-presence",
    commandTimeoutMs: options.commandTimeoutMs ?? 2_000,
    // On a cluster the guild-wide methods send one command per bucket: one write per primary for all.
    autoPipelining: options.clusterNodes !== undefined,
  });
  const buckets = options.clusterNodes ? CLUSTER_PRESENCE_BUCKETS : undefined;
  return new RedisPresenceStore(redis, { keyPrefix: options.keyPrefix, buckets, ownsConnection: true });
}

/** An id as the decimal string the scripts use. */
function id(value: bigint): string {
  if (value < 0n) throw new RangeError(`presence ids must not be negative, got ${value}`);
  return value.toString();
}


