import type { RequestContext } from "../context.js";
import { badInput, conflict, forbidden, notFound } from "../errors.js";
import type { ConcordEvent, RecipientRemoval } from "../pubsub/events.js";
import { topics } from "../pubsub/topics.js";
import type { UserRecord } from "../stores/account-store.js";
import type { ChannelRecord } from "../stores/channel-store.js";
import { readableChannel, requireViewer } from "./access.js";
import { directMessageRefused, directMessageVerdict } from "./direct-message-rules.js";
import { capReached } from "./resource-caps.js";
import { charge, perUser } from "./rate-limit.js";
import { nameText } from "./validate.js";

/**
 * What recipients can do with their DMs and group DMs after opening them: close one, leave a
 * group, and, for a group's owner, add friends, remove people and rename it. Everyone concerned
 * hears of it in userEvents, as DirectMessageOpened tells them of new DMs.
 */

const isDirect = (channel: ChannelRecord) => channel.kind === "DM" || channel.kind === "GROUP_DM";

/** Publishes one event per user on their own topic (built per user: each event names its user). */
async function tell(ctx: RequestContext, userIds: readonly bigint[], event: (userId: bigint) => ConcordEvent): Promise<void> {
  for (const userId of userIds) await ctx.services.bus.publish(topics.user(userId), event(userId));
}

/** Tells each user that a DM is (again) on their list. */
export function announceDirectMessage(ctx: RequestContext, channel: ChannelRecord, userIds: readonly bigint[]): Promise<void> {
  return tell(ctx, userIds, (userId) => ({ type: "DirectMessageOpened", userId, channel }));
}

/**
 * Refuses a send or typing into a one-to-one DM the rule no longer allows (a block either way,
 * the other's `allowDirectMessagesFrom`): FORBIDDEN. One read, for one-to-one DMs only: guild
 * channels and group DMs pass without any, so guild sends cost what they did.
 */
export async function checkDirectMessageSend(ctx: RequestContext, channel: ChannelRecord): Promise<void> {
  if (channel.kind !== "DM") return;
  const viewer = requireViewer(ctx);
  const standing = await ctx.services.relationships.directMessageStanding(viewer.id, { channelId: channel.id });
  // No other recipient (their account is gone): nobody left to protect.
  if (!standing) return;
  const verdict = directMessageVerdict(standing);
  if (verdict === "allowed") return;
  const other = (await ctx.loaders.user.load(standing.otherId)) ?? { username: "this user" };
  throw directMessageRefused(verdict, other as UserRecord, "send");
}

/**
 * After a message is stored in a DM or group DM: reopens it for every recipient who closed it
 * and tells them (DirectMessageOpened). One UPDATE that matches no row in the usual case; never
 * run for guild channels. A failure is logged: the message is sent either way.
 */
export async function reopenAfterSend(ctx: RequestContext, channel: ChannelRecord): Promise<void> {
  if (!isDirect(channel)) return;
  try {
    const reopened = await ctx.services.directMessages.reopenForAll(channel.id);
    if (reopened.length > 0) await announceDirectMessage(ctx, channel, reopened);
  } catch (error) {
    ctx.services.logger.error("reopening a closed DM failed", { error, channelId: String(channel.id) });
  }
}

/** A DM or group DM the viewer is a recipient of (NOT_FOUND otherwise); BAD_USER_INPUT for guild channels, or one-to-one DMs when `group`. */
async function directChannel(ctx: RequestContext, channelId: bigint, options: { group: boolean; action: string }): Promise<ChannelRecord> {
  const channel = await readableChannel(ctx, channelId);
  if (options.group ? channel.kind !== "GROUP_DM" : !isDirect(channel)) {
    throw badInput("channelId", `Only ${options.group ? "group DMs" : "DMs and group DMs"} can be ${options.action}.`);
  }
  return channel;
}

/** A group DM the viewer owns: as {@link directChannel}, and FORBIDDEN for other recipients. */
async function ownedGroup(ctx: RequestContext, channelId: bigint, action: string): Promise<ChannelRecord> {
  const channel = await directChannel(ctx, channelId, { group: true, action });
  if (channel.ownerId !== requireViewer(ctx).id) throw forbidden(`Only the group DM's owner can ${action === "renamed" ? "rename it" : "add or remove people"}.`);
  return channel;
}

/**
 * Closes a DM or group DM for the viewer: it leaves their `directMessages` until a new message
 * arrives in it (or they open it again). Their other sessions hear DirectMessageClosed. Closing
 * a closed DM is harmless; the DM, its history and the other recipients are untouched.
 */
export async function closeDirectMessage(ctx: RequestContext, channelId: bigint): Promise<boolean> {
  const viewer = requireViewer(ctx);
  const channel = await directChannel(ctx, channelId, { group: false, action: "closed" });
  if (await ctx.services.directMessages.setHidden(channel.id, viewer.id, true)) {
    await ctx.services.bus.publish(topics.user(viewer.id), { type: "DirectMessageClosed", userId: viewer.id, channelId: channel.id });
  }
  return true;
}

/** Removes `user` from a group DM and tells everyone concerned; the last one out deletes it with its history. */
async function removeFromGroup(ctx: RequestContext, channel: ChannelRecord, user: UserRecord, reason: RecipientRemoval): Promise<ChannelRecord | null> {
  const { services } = ctx;
  const result = await services.directMessages.removeRecipient(channel.id, user.id);
  if (result.status === "not-recipient") throw notFound(`${user.username} in this group DM`);
  // The removed user hears it too: it ends their channelEvents there and takes it off their list.
  const removed = (userId: bigint): ConcordEvent => ({ type: "GroupRecipientRemoved", userId, channelId: channel.id, user, reason });
  if (result.status === "deleted") {
    await tell(ctx, [user.id], removed);
    await services.messages.deleteChannel(channel.id);
    await services.readStates.deleteChannel(channel.id);
    return null;
  }
  await tell(ctx, [...result.recipientIds, user.id], removed);
  if (result.channel.ownerId !== channel.ownerId) {
    await tell(ctx, result.recipientIds, (userId) => ({ type: "DirectMessageUpdated", userId, channel: result.channel }));
  }
  return result.channel;
}

/**
 * Leaves a group DM: the viewer stops being a recipient, their live `channelEvents` on it end,
 * the others hear GroupRecipientRemoved (reason LEFT). An owner who leaves passes the group to
 * the longest-standing recipient; the last to leave deletes it with its history.
 */
export async function leaveGroupDirectMessage(ctx: RequestContext, channelId: bigint): Promise<boolean> {
  const viewer = requireViewer(ctx);
  const channel = await directChannel(ctx, channelId, { group: true, action: "left (close a one-to-one DM instead)" });
  await removeFromGroup(ctx, channel, viewer, "LEFT");
  return true;
}

/** The owner removes someone from their group DM (not themselves: they leave). */
export async function removeGroupRecipient(ctx: RequestContext, input: { channelId: bigint; userId: bigint }): Promise<ChannelRecord> {
  const viewer = requireViewer(ctx);
  await charge(ctx, perUser(ctx, "dm.manage"));
  if (input.userId === viewer.id) throw badInput("userId", "To remove yourself, leave the group DM (leaveGroupDirectMessage).");
  const channel = await ownedGroup(ctx, input.channelId, "changed");
  const user = await ctx.loaders.user.load(input.userId);
  if (!user) throw notFound("User", String(input.userId));
  return (await removeFromGroup(ctx, channel, user, "REMOVED"))!;
}

/**
 * The owner adds one of their friends to their group DM, up to MAX_GROUP_DM_MEMBERS people
 * (LIMIT_EXCEEDED, counted atomically with the add). Only friends: that is also what keeps a
 * blocked user from adding the one who blocked them. The added user hears DirectMessageOpened,
 * the others GroupRecipientAdded.
 */
export async function addGroupRecipient(ctx: RequestContext, input: { channelId: bigint; userId: bigint }): Promise<ChannelRecord> {
  const viewer = requireViewer(ctx);
  await charge(ctx, perUser(ctx, "dm.manage"));
  if (input.userId === viewer.id) throw badInput("userId", "userId must be someone other than you.");
  const channel = await ownedGroup(ctx, input.channelId, "changed");
  const { services } = ctx;
  const user = await ctx.loaders.user.load(input.userId);
  if (!user) throw notFound("User", String(input.userId));
  const pair = (await services.relationships.between(viewer.id, [user.id])).get(user.id);
  if (pair?.mine?.kind !== "FRIEND") throw forbidden(`Only your friends can be added to a group DM; ${user.username} is not your friend.`);
  const result = await services.directMessages.addRecipient(channel.id, user.id, services.settings.caps.groupDmMembers);
  switch (result.status) {
    case "already-recipient":
      throw conflict(`${user.username} is already in this group DM.`);
    case "full":
      throw capReached("groupDmMembers", result.limit);
    case "missing":
      throw notFound("Channel", String(channel.id));
  }
  await announceDirectMessage(ctx, result.channel, [user.id]);
  await tell(
    ctx,
    result.recipientIds.filter((id) => id !== user.id),
    (userId) => ({ type: "GroupRecipientAdded", userId, channelId: channel.id, user }),
  );
  return result.channel;
}

/** The owner names their group DM (1 to 100 characters; null clears it); every recipient hears DirectMessageUpdated. */
export async function renameGroupDirectMessage(ctx: RequestContext, input: { channelId: bigint; name: string | null }): Promise<ChannelRecord> {
  requireViewer(ctx);
  await charge(ctx, perUser(ctx, "dm.manage"));
  const name = input.name === null ? null : nameText("name", input.name, 1, 100);
  const channel = await ownedGroup(ctx, input.channelId, "renamed");
  const { services } = ctx;
  const renamed = await services.directMessages.rename(channel.id, name);
  if (!renamed) throw notFound("Channel", String(channel.id));
  const recipients = (await services.channels.getRecipients([channel.id])).get(channel.id) ?? [];
  await tell(ctx, recipients, (userId) => ({ type: "DirectMessageUpdated", userId, channel: renamed }));
  return renamed;
}
