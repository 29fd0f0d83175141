import type { PreparedReads, PrismaClient } from "./prisma/database.js";
import { bigintOf, nullableBigintOf } from "./prisma/prepared-reads.js";
import { isUniqueViolation } from "./prisma/prisma-errors.js";
import { LimitReachedError, MissingReferenceError } from "./store-errors.js";
import type { ChannelRecord, ChannelStore } from "./channel-store.js";
import { auditedOverwrite, diff, removedFields, type AuditActor } from "./audit-log-store.js";
import { recordAudit } from "./audit-log-store.prisma.js";
import { channelOverwrites, replaceWithCategoryOverwrites } from "./overwrite-sync.prisma.js";

/** The columns of a {@link ChannelRecord}. */
export const CHANNEL_FIELDS = {
  id: true,
  kind: true,
  guildId: true,
  name: true,
  position: true,
  ownerId: true,
  parentId: true,
  topic: true,
  rateLimitPerUser: true,
  createdAt: true,
} as const;

type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

/**
 * Serialises changes to one guild's channel positions (create, move, delete) by locking the
 * guild's row for the transaction: without it, two concurrent creates read the same max
 * position, and concurrent moves renumber from stale lists. False if there is no such guild
 * (any more): a delete that committed first leaves nothing to lock.
 */
async function lockGuildChannels(tx: Tx, guildId: bigint): Promise<boolean> {
  const rows = await tx.$queryRaw<{ id: bigint }[]>`SELECT id FROM guilds WHERE id = ${guildId} FOR UPDATE`;
  return rows.length > 0;
}

/** True if `channelId` is a category of `guildId`. */
async function isCategoryOf(tx: Tx, channelId: bigint, guildId: bigint): Promise<boolean> {
  return (await tx.channel.count({ where: { id: channelId, guildId, kind: "GUILD_CATEGORY" } })) > 0;
}

/** Both users of a one-to-one DM, in a canonical order: the DM's unique key. */
function dmKey(a: bigint, b: bigint): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/** A `channels` row as {@link PreparedReads} returns it. */
interface ChannelRow {
  id: string | bigint;
  kind: ChannelRecord["kind"];
  guild_id: string | bigint | null;
  name: string | null;
  position: number;
  owner_id: string | bigint | null;
  parent_id: string | bigint | null;
  topic: string | null;
  rate_limit_per_user: number;
  created_at: Date;
}
const fromRow = (row: ChannelRow): ChannelRecord => ({
  id: bigintOf(row.id),
  kind: row.kind,
  guildId: nullableBigintOf(row.guild_id),
  name: row.name,
  position: row.position,
  ownerId: nullableBigintOf(row.owner_id),
  parentId: nullableBigintOf(row.parent_id),
  topic: row.topic,
  rateLimitPerUser: row.rate_limit_per_user,
  createdAt: row.created_at,
});
/** Of the channels $1, those whose guild has member $2 or that have $2 as a recipient. */
const GET_READABLE = `SELECT c.id, c.kind, c.guild_id, c.name, c.position, c.owner_id, c.parent_id, c.topic, c.rate_limit_per_user, c.created_at
  FROM channels c
  WHERE c.id = ANY($1::bigint[])
    AND (EXISTS (SELECT 1 FROM members m WHERE m.guild_id = c.guild_id AND m.user_id = $2::bigint)
      OR EXISTS (SELECT 1 FROM channel_recipients r WHERE r.channel_id = c.id AND r.user_id = $2::bigint))`;

/**
 * {@link ChannelStore} on Postgres through Prisma (embedded PGlite or a real server);
 * `getReadableChannels`, which every channel read by id makes, is a prepared read (see
 * prepared-reads.ts).
 */
export class PrismaChannelStore implements ChannelStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly reads: PreparedReads,
  ) {}

  async createGuildChannel(input: Parameters<ChannelStore["createGuildChannel"]>[0], audit?: AuditActor): Promise<ChannelRecord> {
    const { maxChannels, overwrites, kind = "GUILD_TEXT", parentId = null, ...channel } = input;
    return this.prisma.$transaction(async (tx) => {
      // Checked here, not only by the caller: the guild may have been deleted since (the insert
      // would then fail on the foreign key, an error the caller cannot tell from an outage).
      if (!(await lockGuildChannels(tx, input.guildId))) throw new MissingReferenceError("guild");
      if (parentId !== null && !(await isCategoryOf(tx, parentId, input.guildId))) throw new MissingReferenceError("parent");
      const existing = await tx.channel.aggregate({ where: { guildId: input.guildId }, _max: { position: true }, _count: { _all: true } });
      if (maxChannels !== undefined && existing._count._all >= maxChannels) throw new LimitReachedError("channelsPerGuild", maxChannels);
      // No overwrites given: a text channel in a category starts synced with it.
      const initial = overwrites ?? (kind !== "GUILD_CATEGORY" && parentId !== null ? await channelOverwrites(tx, parentId) : []);
      const created = await tx.channel.create({
        data: {
          ...channel,
          kind,
          parentId: kind === "GUILD_CATEGORY" ? null : parentId,
          position: (existing._max.position ?? -1) + 1,
          overwrites: { create: initial.map((o) => ({ targetKind: o.targetKind, targetId: o.targetId, allow: o.allow, deny: o.deny })) },
        },
        select: CHANNEL_FIELDS,
      });
      const fields = { ...auditedChannel(created), permission_overwrites: initial.map(auditedOverwrite) };
      await recordAudit(tx, audit, { guildId: input.guildId, action: "CHANNEL_CREATE", targetKind: "CHANNEL", targetId: created.id, changes: diff({}, fields) });
      return created;
    });
  }

  getChannels(ids: readonly bigint[]): Promise<ChannelRecord[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.prisma.channel.findMany({ where: { id: { in: [...ids] } }, select: CHANNEL_FIELDS });
  }

  async getReadableChannels(userId: bigint, ids: readonly bigint[]): Promise<ChannelRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.reads.rows<ChannelRow>("channels.readable", GET_READABLE, [ids.map(String), String(userId)]);
    return rows.map(fromRow);
  }

  listGuildChannels(guildId: bigint): Promise<ChannelRecord[]> {
    return this.prisma.channel.findMany({ where: { guildId }, orderBy: [{ position: "asc" }, { id: "asc" }], select: CHANNEL_FIELDS });
  }

  async updateGuildChannel(id: bigint, patch: Parameters<ChannelStore["updateGuildChannel"]>[1], audit?: AuditActor): Promise<ChannelRecord | null> {
    return this.prisma.$transaction(async (tx) => {
      const channel = await tx.channel.findUnique({ where: { id }, select: CHANNEL_FIELDS });
      if (!channel || channel.guildId === null) return null;
      if (patch.parentId !== undefined && patch.parentId !== null) {
        if (channel.kind === "GUILD_CATEGORY" || patch.parentId === id || !(await isCategoryOf(tx, patch.parentId, channel.guildId))) throw new MissingReferenceError("parent");
      }
      const fields = { name: patch.name, topic: patch.topic, rateLimitPerUser: patch.rateLimitPerUser, parentId: patch.parentId };
      if (Object.values(fields).some((v) => v !== undefined)) await tx.channel.update({ where: { id }, data: fields });
      const overwritesBefore = patch.lockPermissions ? await channelOverwrites(tx, id) : null;
      if (patch.lockPermissions && !(await replaceWithCategoryOverwrites(tx, id))) throw new MissingReferenceError("category");
      if (patch.position !== undefined) {
        await lockGuildChannels(tx, channel.guildId);
        const siblings = await tx.channel.findMany({
          where: { guildId: channel.guildId },
          orderBy: [{ position: "asc" }, { id: "asc" }],
          select: { id: true, position: true },
        });
        const order = siblings.filter((c) => c.id !== id);
        order.splice(Math.min(patch.position, order.length), 0, { id, position: -1 });
        for (const [index, sibling] of order.entries()) {
          if (sibling.position !== index) await tx.channel.update({ where: { id: sibling.id }, data: { position: index } });
        }
      }
      const after = await tx.channel.findUniqueOrThrow({ where: { id }, select: CHANNEL_FIELDS });
      const changes = diff(auditedChannel(channel), auditedChannel(after));
      if (overwritesBefore) changes.push(...diff({ permission_overwrites: overwritesBefore.map(auditedOverwrite) }, { permission_overwrites: (await channelOverwrites(tx, id)).map(auditedOverwrite) }));
      if (changes.length > 0) await recordAudit(tx, audit, { guildId: channel.guildId, action: "CHANNEL_UPDATE", targetKind: "CHANNEL", targetId: id, changes });
      return after;
    });
  }

  async deleteChannel(id: bigint, audit?: AuditActor): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const located = await tx.channel.findUnique({ where: { id }, select: { guildId: true } });
      if (!located) return false;
      if (located.guildId !== null) await lockGuildChannels(tx, located.guildId);
      // Read the position again under the lock: a concurrent move may have changed it.
      const channel = await tx.channel.findUnique({ where: { id }, select: CHANNEL_FIELDS });
      if (!channel) return false;
      if (channel.guildId !== null) {
        await recordAudit(tx, audit, { guildId: channel.guildId, action: "CHANNEL_DELETE", targetKind: "CHANNEL", targetId: id, changes: removedFields(auditedChannel(channel)) });
      }
      await tx.channel.delete({ where: { id } });
      // A category's channels stay, outside any category (as in Discord).
      await tx.channel.updateMany({ where: { parentId: id }, data: { parentId: null } });
      // Keep the guild's positions dense (0..n-1): close the gap the channel leaves.
      if (channel.guildId !== null) {
        await tx.channel.updateMany({
          where: { guildId: channel.guildId, position: { gt: channel.position } },
          data: { position: { decrement: 1 } },
        });
      }
      return true;
    });
  }

  async openDirectMessage(id: bigint, userA: bigint, userB: bigint): Promise<{ channel: ChannelRecord; created: boolean }> {
    const key = dmKey(userA, userB);
    const existing = await this.prisma.channel.findUnique({ where: { dmKey: key }, select: CHANNEL_FIELDS });
    if (existing) return { channel: existing, created: false };
    try {
      const channel = await this.prisma.channel.create({
        data: { id, kind: "DM", dmKey: key, recipients: { create: [{ userId: userA }, { userId: userB }] } },
        select: CHANNEL_FIELDS,
      });
      return { channel, created: true };
    } catch (error) {
      // The other side opened the same DM at the same moment: theirs won, use it.
      if (!isUniqueViolation(error)) throw error;
      const channel = await this.prisma.channel.findUniqueOrThrow({ where: { dmKey: key }, select: CHANNEL_FIELDS });
      return { channel, created: false };
    }
  }

  createGroupDirectMessage(input: { id: bigint; ownerId: bigint; userIds: readonly bigint[] }): Promise<ChannelRecord> {
    return this.prisma.channel.create({
      data: {
        id: input.id,
        kind: "GROUP_DM",
        ownerId: input.ownerId,
        recipients: { create: [...new Set(input.userIds)].map((userId) => ({ userId })) },
      },
      select: CHANNEL_FIELDS,
    });
  }

  async getRecipients(channelIds: readonly bigint[]): Promise<Map<bigint, bigint[]>> {
    const result = new Map<bigint, bigint[]>(channelIds.map((id) => [id, []]));
    if (channelIds.length === 0) return result;
    const rows = await this.prisma.channelRecipient.findMany({
      where: { channelId: { in: [...channelIds] } },
      orderBy: [{ channelId: "asc" }, { userId: "asc" }],
    });
    for (const row of rows) result.get(row.channelId)?.push(row.userId);
    return result;
  }

  async listDirectChannelsOfUser(userId: bigint, page: { beforeChannelId: bigint | null; limit: number }): Promise<ChannelRecord[]> {
    const rows = await this.prisma.channelRecipient.findMany({
      where: { userId, ...(page.beforeChannelId === null ? {} : { channelId: { lt: page.beforeChannelId } }) },
      orderBy: { channelId: "desc" },
      take: page.limit,
      select: { channel: { select: CHANNEL_FIELDS } },
    });
    return rows.map((r) => r.channel);
  }
}

/** A channel's audited fields, with Discord's keys. */
function auditedChannel(c: ChannelRecord): Record<string, unknown> {
  return { name: c.name, type: c.kind, topic: c.topic, rate_limit_per_user: c.rateLimitPerUser, parent_id: c.parentId, position: c.position };
}
