import type { RequestContext } from "../context.js";
import { badInput, forbidden, notFound } from "../errors.js";
import { topics } from "../pubsub/topics.js";
import type { UserRecord } from "../stores/account-store.js";
import type { MessageRecord } from "../stores/message-store.js";
import { channelPermissionsOf, readableChannel, requireViewer, timedOutIn } from "./access.js";
import { has, PERMISSIONS } from "../permissions/permission-set.js";
import type { ChannelRecord } from "../stores/channel-store.js";
import { mayMentionBroadly, parseMentions } from "./mentions.js";
import { broadMentionsOf } from "./broad-mentions.js";
import { hasBroadMentions, NO_BROAD_MENTIONS, type BroadMentions } from "../stores/read-state-store.js";
import { checkDirectMessageSend, reopenAfterSend } from "./direct-messages.js";
import { announceMessageDeleted } from "./message-deletion.js";
import { charge, perUser, rateLimited } from "./rate-limit.js";
import { text } from "./validate.js";

const content = (value: string) => text("content", value, 1, 2000, { multiline: true });

/** Mentioned ids that are real users; unknown ids stay plain text. */
async function existingMentions(ctx: RequestContext, body: string): Promise<bigint[]> {
  const ids = parseMentions(body);
  if (ids.length === 0) return ids;
  const users = await ctx.loaders.user.loadMany(ids);
  return ids.filter((_, i) => users[i] !== null && !(users[i] instanceof Error));
}

/**
 * A channel the viewer may send to: they can see it (NOT_FOUND otherwise), it holds messages (a
 * category does not), they have SEND_MESSAGES there (FORBIDDEN), and its slowmode lets them
 * (RATE_LIMITED, bucket "slowmode"; members with MANAGE_MESSAGES or MANAGE_CHANNELS there are
 * exempt, as in Discord). Call it last before writing: the slowmode counts the attempt.
 */
export async function sendableChannel(ctx: RequestContext, channelId: bigint, options: { slowmode: boolean }): Promise<ChannelRecord> {
  const viewer = requireViewer(ctx);
  const channel = await readableChannel(ctx, channelId);
  if (channel.kind === "GUILD_CATEGORY") throw badInput("channelId", "A category holds no messages; send to one of its channels.");
  const permissions = await channelPermissionsOf(ctx, channel);
  if (!has(permissions, PERMISSIONS.SEND_MESSAGES)) {
    const until = channel.guildId === null ? null : await timedOutIn(ctx, channel.guildId);
    if (until !== null) throw forbidden(`You are timed out in this guild until ${until.toISOString()}: you can read, not send or type.`);
    throw forbidden("You need the SEND_MESSAGES permission in this channel.");
  }
  // One-to-one DMs only (one read): a block or the other's DM setting closes them.
  await checkDirectMessageSend(ctx, channel);
  const limiter = ctx.services.rateLimiter;
  const exempt = has(permissions, PERMISSIONS.MANAGE_MESSAGES) || has(permissions, PERMISSIONS.MANAGE_CHANNELS);
  if (options.slowmode && channel.rateLimitPerUser > 0 && limiter && !exempt) {
    const seconds = channel.rateLimitPerUser;
    const decision = await limiter.cooldown(`u:${viewer.id}:${channel.id}:${seconds}`, seconds);
    if (!decision.allowed) throw rateLimited(decision, "USER");
  }
  return channel;
}

/**
 * Posts a message. With a nonce, sending again with the same nonce (same author, same channel)
 * returns the first message and publishes nothing. Subscribers of the channel receive
 * MessageCreated in id order (see ChannelSequencer).
 */
export async function sendMessage(
  ctx: RequestContext,
  input: { channelId: bigint; content: string; nonce?: string | null; replyToId?: bigint | null },
): Promise<MessageRecord> {
  const viewer = requireViewer(ctx);
  await charge(ctx, perUser(ctx, "message.send.channel", input.channelId), perUser(ctx, viewer.bot ? "message.send.bot" : "message.send.person"));
  const body = content(input.content);
  const nonce = input.nonce === null || input.nonce === undefined ? null : text("nonce", input.nonce, 1, 64);
  const channel = await sendableChannel(ctx, input.channelId, { slowmode: true });
  const { services } = ctx;
  if (input.replyToId !== null && input.replyToId !== undefined) {
    const target = await services.messages.get(channel.id, input.replyToId);
    if (!target) throw badInput("replyToId", "replyToId must be a message of the same channel.");
  }
  const mentionIds = await existingMentions(ctx, body);
  const broad = await broadMentionsOf(ctx, channel, body);

  // The id is taken and the publish step enqueued in one synchronous turn: that is what keeps
  // this channel's events in id order (see ChannelSequencer).
  const write = services.messages.create({
    id: services.newId(),
    channelId: channel.id,
    authorId: viewer.id,
    content: body,
    editedAt: null,
    replyToId: input.replyToId ?? null,
    mentionIds,
    nonce,
  });
  const published = services.sequencer.enqueue(channel.id, async () => {
    const result = await write.catch(() => null);
    if (!result?.created) return;
    // Before the event, so that a subscriber reading Message.mentionEveryone sees it.
    if (hasBroadMentions(broad)) await indexBroadMentionsOfSend(ctx, result.message, broad);
    await services.bus.publish(topics.channel(channel.id), { type: "MessageCreated", channelId: channel.id, message: result.message, author: viewer });
  });
  const { message, created } = await write;
  await published;
  if (created) await afterSend(ctx, viewer, message);
  // DMs only: brings a closed DM back to its recipients' lists.
  if (created) await reopenAfterSend(ctx, channel);
  return message;
}

/**
 * What sending a message implies for its author: they have read their channel up to it (batched
 * ack), they are no longer typing there, and they were active just now. Its mentions are indexed
 * for the mentioned users' unread counts. None of it delays or fails the send once stored.
 */
async function afterSend(ctx: RequestContext, author: UserRecord, message: MessageRecord): Promise<void> {
  const { services } = ctx;
  services.acks.add({ userId: author.id, channelId: message.channelId, messageId: message.id });
  services.announcer.touch(author.id);
  const work: Promise<unknown>[] = [services.presence.stopTyping(message.channelId, author.id, services.now())];
  if (message.mentionIds.length > 0) work.push(services.readStates.setMentions(message.channelId, message.id, message.mentionIds));
  for (const result of await Promise.allSettled(work)) {
    if (result.status === "rejected") services.logger.error("after-send bookkeeping failed", { error: result.reason, channelId: String(message.channelId) });
  }
}

/**
 * Indexes a new message's broad mentions (one row, whatever the guild's size). Like the rest of
 * the bookkeeping of a send, a failure is logged and does not fail the stored send.
 */
async function indexBroadMentionsOfSend(ctx: RequestContext, message: MessageRecord, broad: BroadMentions): Promise<void> {
  try {
    await ctx.services.readStates.setBroadMentions(message.channelId, message.id, broad);
  } catch (error) {
    ctx.services.logger.error("indexing broad mentions failed", { error, channelId: String(message.channelId) });
  }
}

/** A message of a readable channel, or NOT_FOUND. */
async function readableMessage(ctx: RequestContext, channelId: bigint, messageId: bigint) {
  const channel = await readableChannel(ctx, channelId);
  const message = await ctx.services.messages.get(channel.id, messageId);
  if (!message) throw notFound("Message", String(messageId));
  return { channel, message };
}

/** Replaces a message's content (author only). */
export async function editMessage(ctx: RequestContext, input: { channelId: bigint; messageId: bigint; content: string }): Promise<MessageRecord> {
  const viewer = requireViewer(ctx);
  await charge(ctx, perUser(ctx, "message.change"));
  const body = content(input.content);
  const { channel, message } = await readableMessage(ctx, input.channelId, input.messageId);
  if (message.authorId !== viewer.id) throw forbidden("Only a message's author can edit it.");
  // A timeout disables communication: rewriting old messages (and notifying new mentions) would get around it.
  const timedOutUntil = channel.guildId === null ? null : await timedOutIn(ctx, channel.guildId);
  if (timedOutUntil !== null) throw forbidden(`You are timed out in this guild until ${timedOutUntil.toISOString()}: you can read, not edit your messages.`);
  const { services } = ctx;
  const mentionIds = await existingMentions(ctx, body);
  // Re-evaluated with the author's permissions now, as user mentions are re-indexed on edit.
  const broad = await broadMentionsOf(ctx, channel, body);
  const edited = await services.messages.edit(channel.id, message.id, { content: body, mentionIds, editedAt: services.now() });
  if (!edited) throw notFound("Message", String(input.messageId));
  const users = message.mentionIds.length > 0 || edited.mentionIds.length > 0;
  // Nothing broad can have been indexed for a text that could not mention broadly: no write.
  const broadly = hasBroadMentions(broad) || mayMentionBroadly(message.content);
  if (users || broadly) {
    await Promise.all([
      users ? services.readStates.setMentions(channel.id, edited.id, edited.mentionIds) : null,
      broadly ? services.readStates.setBroadMentions(channel.id, edited.id, broad) : null,
    ]);
    // A delete may have run since the edit was stored, and its mention cleanup before the write
    // above: look again, so no mention row outlives its message. (If the delete lands after this
    // read, its own cleanup comes after our write.)
    if (!(await services.messages.get(channel.id, edited.id))) {
      await Promise.all([services.readStates.setMentions(channel.id, edited.id, []), services.readStates.setBroadMentions(channel.id, edited.id, NO_BROAD_MENTIONS)]);
      throw notFound("Message", String(input.messageId));
    }
  }
  await services.sequencer.enqueue(channel.id, () =>
    services.bus.publish(topics.channel(channel.id), {
      type: "MessageUpdated",
      channelId: channel.id,
      eventId: services.newId(),
      message: edited,
      author: viewer,
    }),
  );
  return edited;
}

/** Deletes a message: its author may, and so may the owner of the channel's guild. */
export async function deleteMessage(ctx: RequestContext, input: { channelId: bigint; messageId: bigint }): Promise<boolean> {
  const viewer = requireViewer(ctx);
  await charge(ctx, perUser(ctx, "message.change"));
  const { channel, message } = await readableMessage(ctx, input.channelId, input.messageId);
  if (message.authorId !== viewer.id && !has(await channelPermissionsOf(ctx, channel), PERMISSIONS.MANAGE_MESSAGES)) {
    throw forbidden("Only a message's author, or a member with MANAGE_MESSAGES in the channel, can delete it.");
  }
  const { services } = ctx;
  if (!(await services.messages.delete(channel.id, message.id))) throw notFound("Message", String(input.messageId));
  // Mention cleanup and MessageDeleted, shared with a ban's message purge (ban-message-purge.ts).
  await announceMessageDeleted(services, channel.id, message.id);
  return true;
}

/** The message a reply points to (same channel, so readable by whoever reads this one), if it still exists. */
export async function replyTarget(ctx: RequestContext, message: MessageRecord): Promise<MessageRecord | null> {
  if (message.replyToId === null) return null;
  return ctx.loaders.message.load(`${message.channelId}:${message.replyToId}`);
}

/** The users a message mentions, skipping any that no longer exist. */
export async function mentionedUsers(ctx: RequestContext, message: MessageRecord): Promise<UserRecord[]> {
  const users = await ctx.loaders.user.loadMany(message.mentionIds);
  return users.filter((u): u is UserRecord => u !== null && !(u instanceof Error));
}
