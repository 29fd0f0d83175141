import type { PrismaClient } from "./prisma/database.js";
import { CHANNEL_FIELDS } from "./channel-store.prisma.js";
import type { ChannelRecord } from "./channel-store.js";
import type { AddRecipientResult, DirectMessageStore, RemoveRecipientResult } from "./direct-message-store.js";

type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

/** Locks a group DM's row for the transaction (serialising membership changes); false if there is no such group DM. */
async function lockGroup(tx: Tx, channelId: bigint): Promise<boolean> {
  const rows = await tx.$queryRaw<{ id: bigint }[]>`SELECT id FROM channels WHERE id = ${channelId} AND kind = 'GROUP_DM' FOR UPDATE`;
  return rows.length > 0;
}

/** Recipients of a channel, earliest first (then by id): the order ownership passes in. */
async function recipientsOf(tx: Tx, channelId: bigint): Promise<bigint[]> {
  const rows = await tx.channelRecipient.findMany({ where: { channelId }, orderBy: [{ addedAt: "asc" }, { userId: "asc" }], select: { userId: true } });
  return rows.map((r) => r.userId);
}

/** {@link DirectMessageStore} on Postgres through Prisma (`channel_recipients.hidden` and `added_at`). */
export class PrismaDirectMessageStore implements DirectMessageStore {
  constructor(private readonly prisma: PrismaClient) {}

  async listOpen(userId: bigint, page: { beforeChannelId: bigint | null; limit: number }): Promise<ChannelRecord[]> {
    const rows = await this.prisma.channelRecipient.findMany({
      where: { userId, hidden: false, ...(page.beforeChannelId === null ? {} : { channelId: { lt: page.beforeChannelId } }) },
      orderBy: { channelId: "desc" },
      take: page.limit,
      select: { channel: { select: CHANNEL_FIELDS } },
    });
    return rows.map((r) => r.channel);
  }

  async setHidden(channelId: bigint, userId: bigint, hidden: boolean): Promise<boolean> {
    const { count } = await this.prisma.channelRecipient.updateMany({ where: { channelId, userId, hidden: !hidden }, data: { hidden } });
    return count > 0;
  }

  async reopenForAll(channelId: bigint): Promise<bigint[]> {
    // The primary key's (channel_id, …) prefix finds the few recipients; `AND hidden` makes it
    // match nothing, and so write nothing (no new row version, no WAL), in the usual case.
    const rows = await this.prisma.$queryRaw<{ user_id: bigint }[]>`
      UPDATE channel_recipients SET hidden = false WHERE channel_id = ${channelId} AND hidden RETURNING user_id`;
    return rows.map((r) => BigInt(r.user_id));
  }

  addRecipient(channelId: bigint, userId: bigint, maxMembers: number): Promise<AddRecipientResult> {
    return this.prisma.$transaction(async (tx): Promise<AddRecipientResult> => {
      if (!(await lockGroup(tx, channelId))) return { status: "missing" };
      const current = await recipientsOf(tx, channelId);
      if (current.includes(userId)) return { status: "already-recipient" };
      if (current.length >= maxMembers) return { status: "full", limit: maxMembers };
      await tx.channelRecipient.create({ data: { channelId, userId } });
      const channel = await tx.channel.findUniqueOrThrow({ where: { id: channelId }, select: CHANNEL_FIELDS });
      return { status: "added", channel, recipientIds: [...current, userId] };
    });
  }

  removeRecipient(channelId: bigint, userId: bigint): Promise<RemoveRecipientResult> {
    return this.prisma.$transaction(async (tx): Promise<RemoveRecipientResult> => {
      if (!(await lockGroup(tx, channelId))) return { status: "not-recipient" };
      const { count } = await tx.channelRecipient.deleteMany({ where: { channelId, userId } });
      if (count === 0) return { status: "not-recipient" };
      const remaining = await recipientsOf(tx, channelId);
      if (remaining.length === 0) {
        await tx.channel.delete({ where: { id: channelId } });
        return { status: "deleted" };
      }
      const channel = await tx.channel.findUniqueOrThrow({ where: { id: channelId }, select: CHANNEL_FIELDS });
      if (channel.ownerId !== null && remaining.includes(channel.ownerId)) return { status: "removed", channel, recipientIds: remaining };
      const owned = await tx.channel.update({ where: { id: channelId }, data: { ownerId: remaining[0]! }, select: CHANNEL_FIELDS });
      return { status: "removed", channel: owned, recipientIds: remaining };
    });
  }

  async rename(channelId: bigint, name: string | null): Promise<ChannelRecord | null> {
    const { count } = await this.prisma.channel.updateMany({ where: { id: channelId, kind: "GROUP_DM" }, data: { name } });
    return count === 0 ? null : this.prisma.channel.findUnique({ where: { id: channelId }, select: CHANNEL_FIELDS });
  }
}
