import type { RequestContext } from "../context.js";
import { badInput, forbidden, notFound } from "../errors.js";
import { guildPermissions, highestPosition } from "../permissions/compute.js";
import type { MemberAccess } from "../permissions/permission-cache.js";
import { ALL_PERMISSIONS, known, toNames } from "../permissions/permission-set.js";
import { topics } from "../pubsub/topics.js";
import type { RolePatch, RoleRecord } from "../stores/permission-store.js";
import { guildWithPermission, intoGuild, outranks, requireViewer } from "./access.js";
import { announcePermissionChange } from "./permission-changes.js";
import { auditActor } from "./audit-log.js";
import { charge, perUser } from "./rate-limit.js";
import { withinCap } from "./resource-caps.js";
import { nameText, optionalInt } from "./validate.js";

/**
 * Roles, Discord's rules: managing roles takes MANAGE_ROLES, and a member manages only roles
 * below their own highest role (the owner manages all), grants only permissions they hold
 * (administrators and the owner hold all), and changes the roles only of members ranked below
 * them. @everyone (id = the guild's id) can have its permissions changed, never its name or
 * place, and cannot be deleted or given.
 */

const roleName = (value: string) => nameText("name", value, 1, 100);
const color = (value: number | null | undefined) => optionalInt("color", value, 0, 0xffffff);

/** The guild for a role change, the viewer's access there, their permissions and their rank. */
async function roleManager(ctx: RequestContext, guildId: bigint) {
  const viewer = requireViewer(ctx);
  const { guild, state } = await guildWithPermission(ctx, guildId, "MANAGE_ROLES", "manage roles");
  const held = guildPermissions(state.access, viewer.id, state.roleIds ?? []);
  return { guild, state, held, rank: highestPosition(state.access, viewer.id, state.roleIds ?? []) };
}

/** FORBIDDEN unless every permission in `bits` is one the viewer holds. */
function grantable(bits: bigint, held: bigint): bigint {
  const missing = bits & ~held;
  if (missing !== 0n && held !== ALL_PERMISSIONS) throw forbidden(`You can only grant permissions you have yourself (missing: ${toNames(missing).join(", ")}).`);
  return known(bits);
}

/** A role of the guild that the viewer ranks above (FORBIDDEN otherwise; NOT_FOUND if the guild has no such role). */
function manageableRole(state: MemberAccess, roleId: bigint, rank: number, action: string): { position: number } {
  const role = state.access.roles.get(roleId);
  if (!role) throw notFound("Role", String(roleId));
  if (roleId !== state.access.guildId && role.position >= rank) throw forbidden(`You can only ${action} roles below your highest role.`);
  return role;
}

/** Tells the guild and every instance about a role change. */
async function announceRole(ctx: RequestContext, event: { type: "RoleCreated" | "RoleUpdated"; role: RoleRecord } | { type: "RoleDeleted"; guildId: bigint; roleId: bigint }): Promise<void> {
  const guildId = "role" in event ? event.role.guildId : event.guildId;
  await announcePermissionChange(ctx.services, { guildId, userId: null });
  await ctx.services.bus.publish(topics.guild(guildId), "role" in event ? { type: event.type, guildId, role: event.role } : event);
}

/** Creates a role just above @everyone (MANAGE_ROLES; only permissions the creator holds). LIMIT_EXCEEDED at MAX_ROLES_PER_GUILD. */
export async function createRole(
  ctx: RequestContext,
  input: { guildId: bigint; name: string; permissions: bigint; color?: number | null; hoist?: boolean | null; mentionable?: boolean | null },
): Promise<RoleRecord> {
  requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  const name = roleName(input.name);
  const colour = color(input.color) ?? 0;
  const { held } = await roleManager(ctx, input.guildId);
  const permissions = grantable(input.permissions, held);
  const audit = auditActor(ctx);
  const role = await intoGuild(
    input.guildId,
    withinCap(
      ctx.services.roles.createRole({
        id: ctx.services.newId(),
        guildId: input.guildId,
        name,
        permissions,
        color: colour,
        hoist: input.hoist ?? false,
        mentionable: input.mentionable ?? false,
        maxRoles: ctx.services.settings.caps.rolesPerGuild,
      }, audit),
    ),
  );
  await announceRole(ctx, { type: "RoleCreated", role });
  return role;
}

/** Changes a role below the viewer's highest (MANAGE_ROLES); @everyone: permissions only. */
export async function updateRole(
  ctx: RequestContext,
  input: { guildId: bigint; roleId: bigint; name?: string | null; permissions?: bigint | null; color?: number | null; hoist?: boolean | null; mentionable?: boolean | null },
): Promise<RoleRecord> {
  requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  const everyone = input.roleId === input.guildId;
  const patch: RolePatch = {};
  if (input.name !== null && input.name !== undefined) {
    if (everyone) throw badInput("name", "@everyone keeps its name.");
    patch.name = roleName(input.name);
  }
  if (input.color !== null && input.color !== undefined) patch.color = color(input.color)!;
  if (input.hoist !== null && input.hoist !== undefined) patch.hoist = input.hoist;
  if (input.mentionable !== null && input.mentionable !== undefined) patch.mentionable = input.mentionable;
  const { state, held, rank } = await roleManager(ctx, input.guildId);
  manageableRole(state, input.roleId, rank, "change");
  if (input.permissions !== null && input.permissions !== undefined) {
    // Only the flags that change need to be held: a moderator may rename a role that has a permission they lack.
    const before = state.access.roles.get(input.roleId)!.permissions;
    grantable(input.permissions ^ before, held);
    patch.permissions = known(input.permissions);
  }
  if (Object.keys(patch).length === 0) throw badInput("name", "Give something to change: name, permissions, color, hoist or mentionable.");
  const role = await ctx.services.roles.updateRole(input.guildId, input.roleId, patch, auditActor(ctx));
  if (!role) throw notFound("Role", String(input.roleId));
  await announceRole(ctx, { type: "RoleUpdated", role });
  return role;
}

/** Deletes a role below the viewer's highest (MANAGE_ROLES): its members lose it; never @everyone. */
export async function deleteRole(ctx: RequestContext, input: { guildId: bigint; roleId: bigint }): Promise<boolean> {
  requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  if (input.roleId === input.guildId) throw badInput("roleId", "@everyone cannot be deleted.");
  const { state, rank } = await roleManager(ctx, input.guildId);
  manageableRole(state, input.roleId, rank, "delete");
  if (!(await ctx.services.roles.deleteRole(input.guildId, input.roleId, auditActor(ctx)))) throw notFound("Role", String(input.roleId));
  await announceRole(ctx, { type: "RoleDeleted", guildId: input.guildId, roleId: input.roleId });
  return true;
}

/** Moves a role (MANAGE_ROLES) within the roles below the viewer's highest; returns the guild's roles, highest first. */
export async function moveRole(ctx: RequestContext, input: { guildId: bigint; roleId: bigint; position: number }): Promise<RoleRecord[]> {
  requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  if (input.roleId === input.guildId) throw badInput("roleId", "@everyone always stays at the bottom.");
  const position = optionalInt("position", input.position, 1, 10_000)!;
  const { state, rank } = await roleManager(ctx, input.guildId);
  manageableRole(state, input.roleId, rank, "move");
  if (position >= rank) throw forbidden("You can only move roles to a place below your highest role.");
  const roles = await ctx.services.roles.moveRole(input.guildId, input.roleId, position, auditActor(ctx));
  if (!roles) throw notFound("Role", String(input.roleId));
  await announcePermissionChange(ctx.services, { guildId: input.guildId, userId: null });
  for (const role of roles) await ctx.services.bus.publish(topics.guild(input.guildId), { type: "RoleUpdated", guildId: input.guildId, role });
  return roles;
}

/** Gives or takes a member's role: the role below the viewer's highest, the member ranked below the viewer (MANAGE_ROLES). */
async function changeMemberRole(ctx: RequestContext, input: { guildId: bigint; userId: bigint; roleId: bigint }, add: boolean): Promise<boolean> {
  requireViewer(ctx);
  await charge(ctx, perUser(ctx, "guild.manage"));
  if (input.roleId === input.guildId) throw badInput("roleId", "Every member has @everyone; it cannot be given or taken.");
  const { state, rank } = await roleManager(ctx, input.guildId);
  manageableRole(state, input.roleId, rank, add ? "give" : "take");
  const target = await ctx.services.permissions.get(input.guildId, input.userId);
  if (!target || target.roleIds === null) throw notFound("Member", String(input.userId));
  if (input.userId !== requireViewer(ctx).id && !(await outranks(ctx, state, input.userId))) throw forbidden("You can only change the roles of members ranked below you.");
  const { roles, bus } = ctx.services;
  const audit = auditActor(ctx);
  let changed: boolean;
  if (add) {
    const result = await roles.addMemberRole(input.guildId, input.userId, input.roleId, audit);
    if (result === "not-member") throw notFound("Member", String(input.userId));
    if (result === "no-role") throw notFound("Role", String(input.roleId));
    changed = result === "added";
  } else {
    changed = await roles.removeMemberRole(input.guildId, input.userId, input.roleId, audit);
  }
  if (changed) {
    await announcePermissionChange(ctx.services, { guildId: input.guildId, userId: input.userId });
    const roleIds = (await roles.getMemberRoleIds(input.guildId, [input.userId])).get(input.userId) ?? [];
    const event = { type: "MemberRolesUpdated", guildId: input.guildId, userId: input.userId, roleIds } as const;
    await bus.publish(topics.guild(input.guildId), event);
    await bus.publish(topics.user(input.userId), event);
  }
  return changed;
}

/** Gives a member a role; false if they already had it. */
export function addMemberRole(ctx: RequestContext, input: { guildId: bigint; userId: bigint; roleId: bigint }): Promise<boolean> {
  return changeMemberRole(ctx, input, true);
}

/** Takes a role from a member; false if they did not have it. */
export function removeMemberRole(ctx: RequestContext, input: { guildId: bigint; userId: bigint; roleId: bigint }): Promise<boolean> {
  return changeMemberRole(ctx, input, false);
}

/** A guild's roles, highest first (the viewer belongs to the guild: checked by the caller). */
export function listRoles(ctx: RequestContext, guildId: bigint): Promise<RoleRecord[]> {
  return ctx.services.roles.listRoles(guildId);
}
