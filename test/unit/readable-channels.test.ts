import { describe, expect, it } from "vitest";
import type { GuildAccess } from "../../src/permissions/compute.js";
import { PermissionCache } from "../../src/permissions/permission-cache.js";
import { DEFAULT_EVERYONE_PERMISSIONS } from "../../src/permissions/permission-set.js";
import { ReadableChannels } from "../../src/permissions/readable-channels.js";
import type { ChannelRecord } from "../../src/stores/channel-store.js";

const GUILD = 100n;
const OTHER_GUILD = 200n;
const MEMBER = 1n;
const STRANGER = 2n;
const GENERAL = 1001n;
const RANDOM = 1002n;
const ELSEWHERE = 2001n;
const DM = 3001n;

const channel = (id: bigint, guildId: bigint | null, name = `c${id}`): ChannelRecord => ({
  id,
  kind: guildId === null ? "DM" : "GUILD_TEXT",
  guildId,
  name,
  position: 0,
  ownerId: null,
  parentId: null,
  topic: null,
  rateLimitPerUser: 0,
  createdAt: new Date(0),
});

/**
 * Stores the test edits, counting reads: the channels table (by id), DM recipients, guild
 * members, and each guild's access built from the channels table when read (as loadAccess does).
 */
function world() {
  const channels = new Map<bigint, ChannelRecord>([GENERAL, RANDOM].map((id) => [id, channel(id, GUILD)]));
  channels.set(ELSEWHERE, channel(ELSEWHERE, OTHER_GUILD));
  channels.set(DM, channel(DM, null));
  const recipients = new Map<bigint, bigint[]>([[DM, [MEMBER, 9n]]]);
  const members = new Set([`${GUILD}:${MEMBER}`]);
  const reads = { getChannels: 0, getReadableChannels: 0, loadAccess: 0 };
  const accessOf = (guildId: bigint): GuildAccess => ({
    guildId,
    ownerId: 9n,
    roles: new Map([[guildId, { permissions: DEFAULT_EVERYONE_PERMISSIONS, position: 0 }]]),
    channels: new Map([...channels.values()].filter((c) => c.guildId === guildId).map((c) => [c.id, c])),
    overwrites: new Map(),
    timeouts: new Map(),
  });
  const permissions = new PermissionCache({
    store: {
      loadAccess: async (guildId, userId) => {
        reads.loadAccess++;
        return { access: accessOf(guildId), memberRoleIds: userId !== null && members.has(`${guildId}:${userId}`) ? [] : null };
      },
      getMemberRoleIds: async (guildId, userIds) => new Map(userIds.map((id) => [id, members.has(`${guildId}:${id}`) ? [] : null])),
    },
  });
  const readable = new ReadableChannels({
    permissions,
    store: {
      getChannels: async (ids) => {
        reads.getChannels++;
        return ids.flatMap((id) => channels.get(id) ?? []);
      },
      getReadableChannels: async (userId, ids) => {
        reads.getReadableChannels++;
        return ids.flatMap((id) => (recipients.get(id)?.includes(userId) ? [channels.get(id)!] : []));
      },
    },
  });
  return { channels, members, reads, permissions, readable };
}

const ids = (list: ChannelRecord[]) => list.map((c) => c.id).sort();

describe("ReadableChannels", () => {
  it("a member's guild channels cost no store read once the guild and the channels are known", async () => {
    const w = world();
    expect(ids(await w.readable.load(MEMBER, [GENERAL, RANDOM]))).toEqual([GENERAL, RANDOM]);
    expect(w.reads).toEqual({ getChannels: 1, getReadableChannels: 0, loadAccess: 1 });
    for (let i = 0; i < 5; i++) expect(ids(await w.readable.load(MEMBER, [GENERAL]))).toEqual([GENERAL]);
    expect(w.reads).toEqual({ getChannels: 1, getReadableChannels: 0, loadAccess: 1 });
  });

  it("gives nothing for another guild's channels, for a stranger, or for ids that do not exist (and does not remember those)", async () => {
    const w = world();
    expect(await w.readable.load(MEMBER, [ELSEWHERE, 999n])).toEqual([]);
    expect(await w.readable.load(STRANGER, [GENERAL, DM])).toEqual([]);
    expect(w.readable.size).toBe(3);
    await w.readable.load(MEMBER, [999n]);
    expect(w.reads.getChannels).toBe(3);
  });

  it("asks the store about DMs each time (their recipients change unannounced)", async () => {
    const w = world();
    expect(ids(await w.readable.load(MEMBER, [DM, GENERAL]))).toEqual([GENERAL, DM]);
    expect(ids(await w.readable.load(MEMBER, [DM]))).toEqual([DM]);
    expect(w.reads.getReadableChannels).toBe(2);
    expect(w.reads.getChannels).toBe(1);
  });

  it("finds a channel created after the guild was cached, before the change is announced", async () => {
    const w = world();
    await w.readable.load(MEMBER, [GENERAL]);
    await new Promise((resolve) => setTimeout(resolve, 2));
    w.channels.set(4001n, channel(4001n, GUILD, "new"));
    expect(ids(await w.readable.load(MEMBER, [4001n]))).toEqual([4001n]);
    expect(w.reads.loadAccess).toBe(2);
    // Read again once, not per request.
    await w.readable.load(MEMBER, [4001n, GENERAL]);
    expect(w.reads.loadAccess).toBe(2);
  });

  it("a deleted channel is gone once its guild is read again, and then forgotten", async () => {
    const w = world();
    await w.readable.load(MEMBER, [GENERAL, RANDOM]);
    w.channels.delete(RANDOM);
    // Not heard yet: the cached copy still has it (the staleness of the permission cache).
    expect(ids(await w.readable.load(MEMBER, [RANDOM]))).toEqual([RANDOM]);
    w.permissions.invalidate({ guildId: GUILD, userId: null });
    expect(await w.readable.load(MEMBER, [RANDOM])).toEqual([]);
    expect(w.readable.size).toBe(1);
    const reads = w.reads.loadAccess;
    // Asking again reads the channels table (nothing there), never the guild again.
    expect(await w.readable.load(MEMBER, [RANDOM])).toEqual([]);
    expect(w.reads.loadAccess).toBe(reads);
  });

  it("follows renames and membership through the permission cache's invalidations", async () => {
    const w = world();
    await w.readable.load(MEMBER, [GENERAL]);
    w.channels.set(GENERAL, { ...channel(GENERAL, GUILD), name: "renamed", rateLimitPerUser: 10 });
    w.permissions.invalidate({ guildId: GUILD, userId: null });
    expect((await w.readable.load(MEMBER, [GENERAL]))[0]).toMatchObject({ name: "renamed", rateLimitPerUser: 10 });
    w.members.delete(`${GUILD}:${MEMBER}`);
    w.permissions.invalidate({ guildId: GUILD, userId: MEMBER });
    expect(await w.readable.load(MEMBER, [GENERAL])).toEqual([]);
  });
});
