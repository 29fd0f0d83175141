import type { RequestContext } from "../context.js";
import { forbidden, notFound, unauthenticated } from "../errors.js";
import type { UserRecord } from "../stores/account-store.js";
import type { ChannelRecord } from "../stores/channel-store.js";
import type { GuildRecord } from "../stores/guild-store.js";
import { MissingReferenceError } from "../stores/store-errors.js";

/**
 * Who may see and do what. The rule of thumb: what a viewer may not see answers NOT_FOUND (so
 * private ids cannot be probed); what they can see but may not change answers FORBIDDEN.
 */

/** The signed-in user, or UNAUTHENTICATED. */
export function requireViewer(ctx: RequestContext): UserRecord {
  if (!ctx.viewer) throw ctx.authFailure ? unauthenticated(ctx.authFailure) : unauthenticated();
  return ctx.viewer;
}

/** True if the user belongs to the guild. */
export async function isMember(ctx: RequestContext, guildId: bigint, userId: bigint): Promise<boolean> {
  return (await ctx.loaders.member.load(`${guildId}:${userId}`)) !== null;
}

/** A guild the viewer belongs to, or NOT_FOUND. */
export async function visibleGuild(ctx: RequestContext, guildId: bigint): Promise<GuildRecord> {
  const viewer = requireViewer(ctx);
  const guild = await ctx.loaders.guild.load(guildId);
  if (!guild || !(await isMember(ctx, guildId, viewer.id))) throw notFound("Guild", String(guildId));
  return guild;
}

/** A guild the viewer owns: NOT_FOUND if they cannot see it, FORBIDDEN if they are not the owner. */
export async function ownedGuild(ctx: RequestContext, guildId: bigint, action: string): Promise<GuildRecord> {
  const guild = await visibleGuild(ctx, guildId);
  if (guild.ownerId !== requireViewer(ctx).id) throw forbidden(`Only the guild's owner can ${action}.`);
  return guild;
}

/** A channel the viewer may read, or NOT_FOUND. One store read for the channel and the permission. */
export async function readableChannel(ctx: RequestContext, channelId: bigint): Promise<ChannelRecord> {
  requireViewer(ctx);
  const channel = await ctx.loaders.readableChannel.load(channelId);
  if (!channel) throw notFound("Channel", String(channelId));
  ctx.loaders.channel.prime(channel.id, channel);
  return channel;
}

/**
 * Runs a store write into a guild the viewer was just allowed to use. If the guild is gone by the
 * time the write runs (deleted by another request, or by an earlier field of the same mutation),
 * NOT_FOUND, as if it had been gone at the check: the store reports it as MissingReferenceError
 * and writes nothing.
 */
export async function intoGuild<T>(guildId: bigint, write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (error instanceof MissingReferenceError) throw notFound("Guild", String(guildId));
    throw error;
  }
}
