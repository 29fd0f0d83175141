import type { RequestContext } from "../context.js";
import { badInput, forbidden } from "../errors.js";
import { guildPermissions, type Overwrite } from "../permissions/compute.js";
import { ALL_PERMISSIONS, GUILD_ONLY_PERMISSIONS, has, PERMISSIONS, toNames } from "../permissions/permission-set.js";
import type { ChannelRecord } from "../stores/channel-store.js";
import type { OverwriteRecord } from "../stores/permission-store.js";
import { MissingReferenceError } from "../stores/store-errors.js";
import { channelPermissionsOf, requireViewer } from "./access.js";

/**
 * Category permission sync, as in Discord: a text channel created in a category without
 * overwrites of its own starts with a copy of the category's (ChannelStore.createGuildChannel);
 * `Channel.permissionsSynced` says whether a channel's overwrites are still exactly its
 * category's; `updateChannel(input: { lockPermissions: true })` replaces them with the
 * category's again (after a move, when `parentId` is given too). Moving a channel without
 * `lockPermissions` leaves its overwrites alone.
 */

/** True if two lists hold the same overwrites (same targets, each with the same allow and deny), in any order. */
export function sameOverwrites(a: readonly Overwrite[], b: readonly Overwrite[]): boolean {
  if (a.length !== b.length) return false;
  const key = (o: Overwrite) => `${o.targetKind}:${o.targetId}`;
  const byTarget = new Map(b.map((o) => [key(o), o]));
  return a.every((o) => {
    const other = byTarget.get(key(o));
    return other !== undefined && other.allow === o.allow && other.deny === o.deny;
  });
}

/**
 * Whether a guild channel in a category has exactly the category's overwrites (null for
 * channels in no category, categories and DMs). From the viewer's cached GuildAccess, which
 * holds every channel's overwrites: no store read per channel, so `Guild.channels` stays one read.
 * The answer is the same for everyone who can see the channel.
 */
export async function permissionsSynced(ctx: RequestContext, channel: ChannelRecord): Promise<boolean | null> {
  if (channel.guildId === null || channel.parentId === null || !ctx.viewer) return null;
  const state = await ctx.services.permissions.get(channel.guildId, ctx.viewer.id);
  if (!state) return null;
  const { overwrites } = state.access;
  return sameOverwrites(overwrites.get(channel.id) ?? [], overwrites.get(channel.parentId) ?? []);
}

/**
 * Checks an `updateChannel(lockPermissions: true)` before anything is written, and returns the
 * channel's overwrites before the sync (for ChannelUpdated's previousOverwrites, which lets each
 * live stream tell whether the sync hid or revealed the channel to its viewer).
 *
 * The rules are setPermissionOverwrite's: MANAGE_ROLES in the channel (FORBIDDEN), and every
 * overwrite the sync writes (those of the category the channel lacks or has with other flags)
 * may set only flags the viewer holds in the channel (FORBIDDEN, naming the missing ones;
 * administrators and the owner hold all). Removing overwrites needs no flags, as with
 * deletePermissionOverwrite. BAD_USER_INPUT (field lockPermissions) for a category, or a channel
 * that would be in no category. The flags are checked against the cached category overwrites;
 * the store copies them as they are when it writes, so a category change racing this call can
 * reach the channel unchecked, but only flags someone allowed to set them put on the category.
 *
 * `parentId`: the move in the same call (undefined: none; null: out of any category).
 */
export async function checkLockPermissions(ctx: RequestContext, channel: ChannelRecord & { guildId: bigint }, parentId: bigint | null | undefined): Promise<{ before: OverwriteRecord[] }> {
  const viewer = requireViewer(ctx);
  if (channel.kind === "GUILD_CATEGORY") throw badInput("lockPermissions", "A category has no category to sync with: lockPermissions is for the channels in one.");
  const categoryId = parentId === undefined ? channel.parentId : parentId;
  if (categoryId === null) throw badInput("lockPermissions", "This channel is in no category: give parentId to move it into one, or set its overwrites with setPermissionOverwrite.");
  const permissions = await channelPermissionsOf(ctx, channel);
  if (!has(permissions, PERMISSIONS.MANAGE_ROLES)) throw forbidden("You need the MANAGE_ROLES permission in this channel to sync its permissions with its category.");
  const state = await ctx.services.permissions.get(channel.guildId, viewer.id);
  const held = state && guildPermissions(state.access, viewer.id, state.roleIds ?? []) === ALL_PERMISSIONS ? ALL_PERMISSIONS : permissions;
  const current = state?.access.overwrites.get(channel.id) ?? [];
  let missing = 0n;
  for (const overwrite of state?.access.overwrites.get(categoryId) ?? []) {
    if (current.some((o) => sameOverwrites([o], [overwrite]))) continue;
    missing |= (overwrite.allow | overwrite.deny) & ~GUILD_ONLY_PERMISSIONS & ~held;
  }
  if (missing !== 0n) {
    throw forbidden(`You can only allow or deny permissions you have yourself, and the category's overwrites set some you lack (missing: ${toNames(missing).join(", ")}).`);
  }
  const before = (await ctx.services.roles.listOverwrites([channel.id])).get(channel.id) ?? [];
  return { before };
}

/** A store write with lockPermissions: BAD_USER_INPUT when the channel turned out to be in no category (deleted meanwhile). */
export async function intoCategory<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (error instanceof MissingReferenceError && error.what === "category") throw badInput("lockPermissions", "This channel is no longer in a category (was it deleted?); nothing changed.");
    throw error;
  }
}
