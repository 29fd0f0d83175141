import { READ_COUNT_CAP, type RequestContext } from "../context.js";
import { notFound } from "../errors.js";
import type { ChannelRecord } from "../stores/channel-store.js";
import { readableChannel, requireViewer } from "./access.js";

/** The viewer's read state of one channel. Counts are exact up to 100; 100 means "100 or more". */
export interface ReadState {
  channelId: bigint;
  lastReadMessageId: bigint | null;
  unreadCount: number;
  mentionCount: number;
}

/**
 * Marks a channel read up to a message (which must exist in it). The pointer only moves forward:
 * acking an older message changes nothing. Acks are batched (AckBuffer): the write and the
 * ReadStateUpdated to the viewer's other sessions follow within ACK_FLUSH_MS.
 */
export async function ackMessage(ctx: RequestContext, input: { channelId: bigint; messageId: bigint }): Promise<ReadState> {
  const viewer = requireViewer(ctx);
  const channel = await readableChannel(ctx, input.channelId);
  const message = await ctx.loaders.message.load(`${channel.id}:${input.messageId}`);
  if (!message) throw notFound("Message", String(input.messageId));
  ctx.services.acks.add({ userId: viewer.id, channelId: channel.id, messageId: message.id });
  ctx.loaders.readPointer.clear(channel.id);
  return readState(ctx, channel);
}

/**
 * The viewer's pointer in a channel they can read (their latest ack, including one still being
 * batched on this instance), with unread and mention counts computed from history: no count is
 * stored, so nothing is written per message per reader.
 */
export async function readState(ctx: RequestContext, channel: ChannelRecord): Promise<ReadState> {
  const viewer = requireViewer(ctx);
  const stored = await ctx.loaders.readPointer.load(channel.id);
  const pending = ctx.services.acks.pendingPointer(viewer.id, channel.id);
  const pointer = pending !== undefined && (stored === null || pending > stored) ? pending : stored;
  const [unread, mentionCount] = await Promise.all([
    ctx.services.messages.page(channel.id, { after: pointer ?? undefined, limit: READ_COUNT_CAP, from: "oldest" }),
    ctx.loaders.mentionCount.load(`${channel.id}:${pointer ?? ""}`),
  ]);
  return { channelId: channel.id, lastReadMessageId: pointer, unreadCount: unread.length, mentionCount: Math.min(mentionCount, READ_COUNT_CAP) };
}

/** Read state of a channel by id, for the viewer (NOT_FOUND if they cannot read it). */
export async function readStateOf(ctx: RequestContext, channelId: bigint): Promise<ReadState> {
  return readState(ctx, await readableChannel(ctx, channelId));
}
