import type { RequestContext } from "../context.js";
import { badInput, forbidden, notFound } from "../errors.js";
import { topics } from "../pubsub/topics.js";
import type { UserRecord } from "../stores/account-store.js";
import type { ChannelRecord } from "../stores/channel-store.js";
import { intoGuild, ownedGuild, readableChannel, requireViewer } from "./access.js";
import { capReached, withinCap } from "./resource-caps.js";
import { charge, perUser } from "./rate-limit.js";
import { nameText, optionalInt, parseId } from "./validate.js";

/**
 * Guild text channel names are lower-case words joined by dashes, as in Discord ("Off Topic"
 * becomes "off-topic"), so they can be typed after a `#`.
 */
function channelName(field: string, value: string): string {
  const name = nameText(field, value, 1, 100).toLowerCase().replace(/\s+/g, "-");
  if (!/^[\p{L}\p{N}_-]+$/u.test(name)) throw badInput(field, `${field} may contain only letters, digits, "-" and "_".`);
  return name;
}

/** Creates a text channel at the end of a guild's list (owner only); LIMIT_EXCEEDED at MAX_CHANNELS_PER_GUILD. */
export async function createChannel(ctx: RequestContext, input: { guildId: bigint; name: string }): Promise<ChannelRecord> {
  requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  const name = channelName("name", input.name);
  await ownedGuild(ctx, input.guildId, "create channels");
  // Counted under the guild's lock with the position: concurrent creates cannot pass the cap together.
  const maxChannels = ctx.services.settings.caps.channelsPerGuild;
  const channel = await intoGuild(input.guildId, withinCap(ctx.services.channels.createGuildChannel({ id: ctx.services.newId(), guildId: input.guildId, name, maxChannels })));
  await ctx.services.bus.publish(topics.guild(input.guildId), { type: "ChannelCreated", guildId: input.guildId, channel });
  return channel;
}

/** A guild channel whose guild the viewer owns; NOT_FOUND/FORBIDDEN otherwise. */
async function ownedChannel(
  ctx: RequestContext,
  channelId: bigint,
  action: { verb: string; participle: string },
): Promise<ChannelRecord & { guildId: bigint }> {
  const channel = await readableChannel(ctx, channelId);
  if (channel.guildId === null) throw forbidden(`Direct message channels cannot be ${action.participle}.`);
  await ownedGuild(ctx, channel.guildId, `${action.verb} channels`);
  return channel as ChannelRecord & { guildId: bigint };
}

/** Renames and/or moves a guild channel (owner only); `position` is the new 0-based index. */
export async function updateChannel(
  ctx: RequestContext,
  input: { channelId: bigint; name?: string | null; position?: number | null },
): Promise<ChannelRecord> {
  requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  const name = input.name === null || input.name === undefined ? undefined : channelName("name", input.name);
  const position = optionalInt("position", input.position, 0, 10_000) ?? undefined;
  if (name === undefined && position === undefined) throw badInput("name", "Give a new name, a new position, or both.");
  await ownedChannel(ctx, input.channelId, { verb: "edit", participle: "edited" });
  const channel = await ctx.services.channels.updateGuildChannel(input.channelId, { name, position });
  if (!channel || channel.guildId === null) throw notFound("Channel", String(input.channelId));
  await ctx.services.bus.publish(topics.guild(channel.guildId), { type: "ChannelUpdated", guildId: channel.guildId, channel });
  return channel;
}

/** Deletes a guild channel and its history (owner only); its subscribers are told and stopped. */
export async function deleteChannel(ctx: RequestContext, channelId: bigint): Promise<boolean> {
  requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  const channel = await ownedChannel(ctx, channelId, { verb: "delete", participle: "deleted" });
  const { services } = ctx;
  if (!(await services.channels.deleteChannel(channelId))) throw notFound("Channel", String(channelId));
  const event = { type: "ChannelDeleted", channelId, guildId: channel.guildId } as const;
  await services.bus.publish(topics.channel(channelId), event);
  await services.bus.publish(topics.guild(channel.guildId), event);
  await services.messages.deleteChannel(channelId);
  await services.readStates.deleteChannel(channelId);
  return true;
}

/**
 * Opens a DM with one user (idempotent: the same channel every time, from either side) or
 * creates a group DM with 2 or more others, up to MAX_GROUP_DM_MEMBERS people with the viewer
 * (a new one each time, as in Discord). Nobody can be added later, so the cap is checked here only.
 */
export async function openDirectMessage(ctx: RequestContext, userIdStrings: readonly string[]): Promise<ChannelRecord> {
  const viewer = requireViewer(ctx);
  // A group DM is a new channel every time (and a new audience for presence): a daily budget too.
  await charge(ctx, perUser(ctx, "dm.open"), ...(new Set(userIdStrings).size > 1 ? [perUser(ctx, "dm.group.daily")] : []));
  const others = [...new Set(userIdStrings.map((id, i) => parseId(`userIds[${i}]`, id)))].filter((id) => id !== viewer.id);
  if (others.length === 0) throw badInput("userIds", "userIds must name at least one user other than you.");
  const maxMembers = ctx.services.settings.caps.groupDmMembers;
  if (others.length > maxMembers - 1) throw capReached("groupDmMembers", maxMembers);
  const users = await ctx.loaders.user.loadMany(others);
  const missing = others.filter((_, i) => users[i] === null || users[i] instanceof Error);
  if (missing.length > 0) throw badInput("userIds", `No user with id ${missing.join(", ")}.`);

  const { services } = ctx;
  if (others.length === 1) {
    const { channel, created } = await services.channels.openDirectMessage(services.newId(), viewer.id, others[0]!);
    if (created) await announceDirectMessage(ctx, channel, [viewer.id, others[0]!]);
    return channel;
  }
  const recipients = [viewer.id, ...others];
  const channel = await services.channels.createGroupDirectMessage({ id: services.newId(), ownerId: viewer.id, userIds: recipients });
  await announceDirectMessage(ctx, channel, recipients);
  return channel;
}

/** Most DMs listed at once by `User.directMessages` (and its default). */
export const MAX_DIRECT_MESSAGES_PAGE = 100;

/**
 * The viewer's DMs and group DMs, newest first (by creation), `first` of them (1 to 100, default
 * 100) older than `before` when given; FORBIDDEN for anyone else's. Every DM ever opened stays
 * listed, so the list pages rather than growing without bound.
 */
export function listMyDirectMessages(
  ctx: RequestContext,
  user: UserRecord,
  args: { first?: number | null; before?: bigint | null } = {},
): Promise<ChannelRecord[]> {
  if (requireViewer(ctx).id !== user.id) throw forbidden("You can only list your own direct messages.");
  const limit = optionalInt("first", args.first, 1, MAX_DIRECT_MESSAGES_PAGE) ?? MAX_DIRECT_MESSAGES_PAGE;
  return ctx.services.channels.listDirectChannelsOfUser(user.id, { beforeChannelId: args.before ?? null, limit });
}

async function announceDirectMessage(ctx: RequestContext, channel: ChannelRecord, userIds: bigint[]) {
  for (const userId of userIds) {
    await ctx.services.bus.publish(topics.user(userId), { type: "DirectMessageOpened", userId, channel });
  }
}
