import type { GuildAccess, Overwrite } from "../permissions/compute.js";
import type { AuditActor } from "./audit-log-store.js";

/** A guild role as stored. */
export interface RoleRecord {
  id: bigint;
  guildId: bigint;
  name: string;
  /** The permission bitset (src/permissions/permission-set.ts). */
  permissions: bigint;
  /** 0 for @everyone; higher ranks higher. Positions of a guild's roles are 0..n-1, unique. */
  position: number;
  color: number;
  hoist: boolean;
  mentionable: boolean;
  createdAt: Date;
}

/** A channel's overwrite as stored. */
export interface OverwriteRecord extends Overwrite {
  channelId: bigint;
}

/** What may change on a role (@everyone: permissions only). */
export interface RolePatch {
  name?: string;
  permissions?: bigint;
  color?: number;
  hoist?: boolean;
  mentionable?: boolean;
}

/**
 * Roles, who has them, and channel permission overwrites: what permissions are computed from
 * (src/permissions/compute.ts). Every guild has @everyone (id = the guild's id, position 0),
 * created with the guild by GuildStore.createGuild and never deleted or moved.
 *
 * Audit: the writes take an optional {@link AuditActor} and, given one, record their own audit
 * entry (Discord's action and keys, before and after) in the same transaction, only when they
 * changed something.
 *
 * Every adapter passes test/contract/permission-store.contract.ts.
 */
export interface PermissionStore {
  /**
   * Everything that decides permissions in a guild (owner, roles, every channel's overwrites)
   * and, for `userId`, whether they are a member and their role ids (null when not a member),
   * in one read: the permission cache's fill on a cold start. Null if there is no such guild.
   * The access includes the timeouts in force at the read (until > now).
   */
  loadAccess(guildId: bigint, userId: bigint | null): Promise<{ access: GuildAccess; memberRoleIds: bigint[] | null } | null>;

  /** The role ids of each of `userIds` in the guild; null for those who are not members. One read. */
  getMemberRoleIds(guildId: bigint, userIds: readonly bigint[]): Promise<Map<bigint, bigint[] | null>>;

  /** A guild's roles, highest position first (@everyone last). */
  listRoles(guildId: bigint): Promise<RoleRecord[]>;

  /** The roles among `ids` that exist, in no particular order. */
  getRoles(ids: readonly bigint[]): Promise<RoleRecord[]>;

  /**
   * Creates a role at position 1 (just above @everyone; the others move up one), as Discord
   * does. With `maxRoles`, a guild that already has that many roles (@everyone included) gets
   * none: `LimitReachedError("rolesPerGuild")`, nothing written; counted under a per-guild lock,
   * so concurrent creates cannot pass it together. `MissingReferenceError("guild")` if the guild
   * is gone. Audited as ROLE_CREATE.
   */
  createRole(input: { id: bigint; guildId: bigint; name: string; permissions: bigint; color: number; hoist: boolean; mentionable: boolean; maxRoles?: number }, audit?: AuditActor): Promise<RoleRecord>;

  /** Changes a role's fields; null if the guild has no such role. Audited as ROLE_UPDATE (the fields that changed). */
  updateRole(guildId: bigint, roleId: bigint, patch: RolePatch, audit?: AuditActor): Promise<RoleRecord | null>;

  /**
   * Deletes a role (never @everyone): its members lose it, its overwrites go, and the roles above
   * it move down one so positions stay dense. False if the guild has no such role. Audited as ROLE_DELETE.
   */
  deleteRole(guildId: bigint, roleId: bigint, audit?: AuditActor): Promise<boolean>;

  /**
   * Moves a role to `position` (1..n-1; @everyone stays 0), shifting the roles in between, in
   * one transaction under the guild's lock so positions stay dense and unique. Returns the
   * guild's roles after the move (highest first), or null if the guild has no such role.
   * Audited as ROLE_UPDATE (position) when the role moved.
   */
  moveRole(guildId: bigint, roleId: bigint, position: number, audit?: AuditActor): Promise<RoleRecord[] | null>;

  /**
   * Gives a member a role. "added", or "already" when they had it (idempotent), "not-member" or
   * "no-role" (the role is not one of the guild's, or is @everyone) writing nothing. Audited as
   * MEMBER_ROLE_UPDATE ($add) when added.
   */
  addMemberRole(guildId: bigint, userId: bigint, roleId: bigint, audit?: AuditActor): Promise<"added" | "already" | "not-member" | "no-role">;

  /** Takes a role from a member; false if they did not have it. Idempotent. Audited as MEMBER_ROLE_UPDATE ($remove). */
  removeMemberRole(guildId: bigint, userId: bigint, roleId: bigint, audit?: AuditActor): Promise<boolean>;

  /**
   * Sets (creates or replaces) the overwrite of one role or member on a channel; returns it.
   * `MissingReferenceError("channel")` if the channel is gone. Audited as
   * CHANNEL_OVERWRITE_CREATE or _UPDATE (when it changed).
   */
  setOverwrite(overwrite: OverwriteRecord, audit?: AuditActor): Promise<OverwriteRecord>;

  /** Removes an overwrite; false if there was none. Idempotent. Audited as CHANNEL_OVERWRITE_DELETE. */
  deleteOverwrite(channelId: bigint, targetKind: Overwrite["targetKind"], targetId: bigint, audit?: AuditActor): Promise<boolean>;

  /** The overwrites of each channel (an empty list for channels without any). One read. */
  listOverwrites(channelIds: readonly bigint[]): Promise<Map<bigint, OverwriteRecord[]>>;
}
