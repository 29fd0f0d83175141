import { READ_COUNT_CAP, type RequestContext } from "../context.js";
import { notFound } from "../errors.js";
import { snowflakeAt } from "../ids/snowflake.js";
import { channelPermissions } from "../permissions/compute.js";
import { has, PERMISSIONS } from "../permissions/permission-set.js";
import type { ChannelRecord } from "../stores/channel-store.js";
import { memberAccess, readableChannel, requireViewer } from "./access.js";

/** The viewer's read state of one channel. Counts are exact up to 100; 100 means "100 or more". */
export interface ReadState {
  /** Whose read state it is (the viewer). */
  userId: bigint;
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
    unreadMentions(ctx, channel, pointer),
  ]);
  return { userId: viewer.id, channelId: channel.id, lastReadMessageId: pointer, unreadCount: unread.length, mentionCount: Math.min(mentionCount, READ_COUNT_CAP) };
}

/**
 * The viewer's unread mentions in a channel after `pointer`: mentions of them by name, and in a
 * guild channel `@everyone`, `@here` and mentions of roles they hold now. Evaluated here, per
 * request, from the permission cache (no store read when warm), never per member at send time:
 * - only if they can read the channel (VIEW_CHANNEL): a mention of someone who cannot counts
 *   for nobody;
 * - only messages newer than when they joined the guild (a new member is not notified of old
 *   announcements; to the precision of the two clocks, the database's and the id generator's).
 * Role mentions follow the roles they hold now, not those they held when the message was sent.
 */
async function unreadMentions(ctx: RequestContext, channel: ChannelRecord, pointer: bigint | null): Promise<number> {
  if (channel.guildId === null) return ctx.loaders.mentionCount.load({ channelId: channel.id, after: pointer, roleIds: null });
  const viewer = requireViewer(ctx);
  const [state, member] = await Promise.all([memberAccess(ctx, channel.guildId), ctx.loaders.member.load(`${channel.guildId}:${viewer.id}`)]);
  if (!state || !member) return 0;
  // A cache entry saying "not a member" is one announcement behind the membership just read.
  const roleIds = state.roleIds ?? [];
  if (!has(channelPermissions(state.access, viewer.id, roleIds, channel.id), PERMISSIONS.VIEW_CHANNEL)) return 0;
  const joined = snowflakeAt(member.joinedAt.getTime()) - 1n;
  const after = pointer === null || pointer < joined ? joined : pointer;
  return ctx.loaders.mentionCount.load({ channelId: channel.id, after, roleIds });
}

/** Read state of a channel by id, for the viewer (NOT_FOUND if they cannot read it). */
export async function readStateOf(ctx: RequestContext, channelId: bigint): Promise<ReadState> {
  return readState(ctx, await readableChannel(ctx, channelId));
}
