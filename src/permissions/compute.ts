import type { ChannelRecord } from "../stores/channel-store.js";
import { ALL_PERMISSIONS, GUILD_ONLY_PERMISSIONS, known, PERMISSIONS } from "./permission-set.js";

/** One role as permissions need it. */
export interface RoleRank {
  permissions: bigint;
  /** Higher ranks higher; @everyone is 0. */
  position: number;
}

/** A channel's permission overwrite for a role or a member. */
export interface Overwrite {
  targetKind: "ROLE" | "MEMBER";
  targetId: bigint;
  allow: bigint;
  deny: bigint;
}

/**
 * Everything about one guild that decides who may do what, except who has which roles: its
 * owner, its roles (by id, @everyone's id being the guild's), its channels and their overwrites.
 * The permission cache keeps one per guild; it changes only through governance actions and
 * channel changes (each announced as a guild-wide PermissionChange).
 */
export interface GuildAccess {
  guildId: bigint;
  ownerId: bigint;
  roles: ReadonlyMap<bigint, RoleRank>;
  /**
   * The guild's channels and categories, by id: what a send, a subscription or a history page
   * checks (kind, slowmode) without a store read.
   */
  channels: ReadonlyMap<bigint, ChannelRecord>;
  overwrites: ReadonlyMap<bigint, readonly Overwrite[]>;
  /**
   * Members timed out when this was read, by user id: until when (ms since the epoch). Checked
   * against the clock at each computation, so a timeout ends on time without an invalidation.
   */
  timeouts: ReadonlyMap<bigint, number>;
}

/** What a timed-out member keeps: reading, as in Discord. */
export const TIMED_OUT_PERMISSIONS = PERMISSIONS.VIEW_CHANNEL | PERMISSIONS.READ_MESSAGE_HISTORY;

/** Until when `userId` is timed out in the guild (ms since the epoch), or null if they are not (any more). */
export function timedOutUntil(access: GuildAccess, userId: bigint, now: number = Date.now()): number | null {
  const until = access.timeouts.get(userId);
  return until !== undefined && until > now ? until : null;
}

/**
 * A member's guild-level permissions, as Discord computes them: @everyone's permissions plus
 * every role's; the owner, and anyone with ADMINISTRATOR, has every permission. Role ids the
 * guild no longer has are ignored. A timed-out member (never the owner or an administrator)
 * keeps only {@link TIMED_OUT_PERMISSIONS} of theirs, until the timeout passes.
 */
export function guildPermissions(access: GuildAccess, userId: bigint, roleIds: readonly bigint[], now?: number): bigint {
  if (userId === access.ownerId) return ALL_PERMISSIONS;
  let bits = access.roles.get(access.guildId)?.permissions ?? 0n;
  for (const roleId of roleIds) bits |= access.roles.get(roleId)?.permissions ?? 0n;
  if ((bits & PERMISSIONS.ADMINISTRATOR) !== 0n) return ALL_PERMISSIONS;
  if (access.timeouts.size > 0 && timedOutUntil(access, userId, now) !== null) bits &= TIMED_OUT_PERMISSIONS;
  return known(bits);
}

/**
 * A member's permissions in one channel of the guild, Discord's documented order: the
 * guild-level permissions (everything for the owner and administrators, whom overwrites do not
 * touch), then the channel's @everyone overwrite, then all of the member's role overwrites
 * together (their denies, then their allows), then the member's own overwrite. Overwrites
 * cannot change guild-only flags (kicking, banning, managing the guild...). Without
 * VIEW_CHANNEL a member has no permission in the channel at all; without SEND_MESSAGES they
 * cannot mention @everyone there.
 */
export function channelPermissions(access: GuildAccess, userId: bigint, roleIds: readonly bigint[], channelId: bigint, now?: number): bigint {
  const base = guildPermissions(access, userId, roleIds, now);
  if (base === ALL_PERMISSIONS) return ALL_PERMISSIONS;
  const overwrites = access.overwrites.get(channelId);
  let bits = base;
  if (overwrites && overwrites.length > 0) {
    let everyone: Overwrite | undefined;
    let member: Overwrite | undefined;
    let roleAllow = 0n;
    let roleDeny = 0n;
    for (const overwrite of overwrites) {
      if (overwrite.targetKind === "MEMBER") {
        if (overwrite.targetId === userId) member = overwrite;
      } else if (overwrite.targetId === access.guildId) {
        everyone = overwrite;
      } else if (roleIds.includes(overwrite.targetId)) {
        roleAllow |= overwrite.allow;
        roleDeny |= overwrite.deny;
      }
    }
    const apply = (allow: bigint, deny: bigint) => {
      bits = (bits & ~(deny & ~GUILD_ONLY_PERMISSIONS)) | (allow & ~GUILD_ONLY_PERMISSIONS);
    };
    if (everyone) apply(everyone.allow, everyone.deny);
    apply(roleAllow, roleDeny);
    if (member) apply(member.allow, member.deny);
  }
  if ((bits & PERMISSIONS.VIEW_CHANNEL) === 0n) return 0n;
  // A channel's overwrites cannot lift a timeout.
  if (access.timeouts.size > 0 && timedOutUntil(access, userId, now) !== null) bits &= TIMED_OUT_PERMISSIONS;
  if ((bits & PERMISSIONS.SEND_MESSAGES) === 0n) bits &= ~PERMISSIONS.MENTION_EVERYONE;
  return known(bits);
}

/**
 * Where a member stands in the role hierarchy: the position of their highest role (0 with only
 * @everyone); the owner stands above every role.
 */
export function highestPosition(access: GuildAccess, userId: bigint, roleIds: readonly bigint[]): number {
  if (userId === access.ownerId) return Number.POSITIVE_INFINITY;
  let highest = 0;
  for (const roleId of roleIds) {
    const role = access.roles.get(roleId);
    if (role && role.position > highest) highest = role.position;
  }
  return highest;
}
