import { snowflakeTime } from "../ids/snowflake.js";
import { timedOutUntil } from "../permissions/compute.js";
import { memberAccess } from "../resolvers/access.js";
import { listAuditLog } from "../resolvers/audit-log.js";
import { banMember, listBans, listInvites, revokeInvite, timeoutMember, transferGuildOwnership, unbanMember } from "../resolvers/moderation.js";
import type { AuditAction, AuditEntryRecord, AuditTargetKind } from "../stores/audit-log-store.js";
import type { BanRecord } from "../stores/guild-store.js";
import { builder } from "./builder.js";
import { forwardOnly, forwardPage } from "./connection-page.js";
import { listCost, pageCost, perItemRead } from "./cost.js";
import { compositeId } from "./entity-ids.js";
import { AUDIT_REASON, InviteRef, MemberRef } from "./guild.js";
import { optionalId, parseId } from "./ids.js";
import { GuildRef, UserRef } from "./refs.js";

const BanRef = builder.objectRef<BanRecord>("Ban").implement({
  description: "A user barred from a guild: no invite lets them in until the ban is lifted. `id` is `<guild id>:<user id>`, the same in Guild.bans and banMember.",
  fields: (t) => ({
    id: t.id({ description: "`<guild id>:<user id>`: one ban per user per guild.", resolve: (b) => compositeId(b.guildId, b.userId) }),
    user: t.field({ type: UserRef, nullable: true, description: "Who is banned; null only if their account no longer exists.", resolve: (b, _a, ctx) => ctx.loaders.user.load(b.userId) }),
    moderator: t.field({ type: UserRef, nullable: true, description: "Who banned them (null if unknown or deleted).", resolve: (b, _a, ctx) => (b.moderatorId === null ? null : ctx.loaders.user.load(b.moderatorId)) }),
    reason: t.string({ nullable: true, description: "The reason the moderator gave; null if none.", resolve: (b) => b.reason }),
    createdAt: t.field({ type: "DateTime", description: "When they were banned.", resolve: (b) => b.createdAt }),
  }),
});

builder.objectField(GuildRef, "bans", (t) =>
  t.connection(
    {
      type: BanRef,
      description:
        "Banned users by user id (BAN_MEMBERS; FORBIDDEN otherwise); the cursor is the user id. At most 100 per page (default 50); " +
        "`first`/`after` only (`last`/`before` are BAD_USER_INPUT). No totalCount: no count is kept, and counting would read every ban.",
      extensions: { ...pageCost({ default: 50, max: 100 }), ...perItemRead() },
      resolve: async (guild, args, ctx) => {
        forwardOnly(args, "Bans");
        const { bans, hasNextPage } = await listBans(ctx, guild, { first: args.first, after: optionalId("after", args.after) });
        return forwardPage(bans, hasNextPage, args.after, (b) => String(b.userId));
      },
    },
    { description: "A page of a guild's bans." },
    { description: "A ban, and its cursor (the banned user's id)." },
  ),
);

builder.objectField(GuildRef, "invites", (t) =>
  t.connection(
    {
      type: InviteRef,
      description:
        "The guild's invites, newest first, with their uses, inviter and expiry (expired and used-up ones too, until revoked) (MANAGE_GUILD; FORBIDDEN otherwise). " +
        "The cursor is the invite code. At most 100 per page (default 50); `first`/`after` only (`last`/`before` are BAD_USER_INPUT). " +
        "No totalCount: no count is kept, and counting would read every invite.",
      extensions: { ...pageCost({ default: 50, max: 100 }), ...perItemRead() },
      resolve: async (guild, args, ctx) => {
        forwardOnly(args, "Invites");
        const { invites, hasNextPage } = await listInvites(ctx, guild, { first: args.first, after: args.after });
        return forwardPage(invites, hasNextPage, args.after, (i) => i.code);
      },
    },
    { description: "A page of a guild's invites, newest first." },
    { description: "An invite, and its cursor (its code)." },
  ),
);

builder.objectField(MemberRef, "timedOutUntil", (t) =>
  t.field({
    type: "DateTime",
    nullable: true,
    description: "Until when this member is timed out (may read, not send, react or type); null when they are not.",
    resolve: async (m, _a, ctx) => {
      // Timeouts are part of the guild's access: the viewer's own (cached) entry has them, so a
      // page of members costs no read per member.
      const state = await memberAccess(ctx, m.guildId);
      const until = state ? timedOutUntil(state.access, m.userId, ctx.services.now().getTime()) : null;
      return until === null ? null : new Date(until);
    },
  }),
);

/** What each audited action is (Discord's names), and the change keys its entries carry. */
const AUDIT_ACTION_DESCRIPTIONS: Record<AuditAction, string> = {
  GUILD_UPDATE: "The guild was renamed (`name`) or given a new owner (`owner_id`).",
  CHANNEL_CREATE: "A channel or category was created.",
  CHANNEL_UPDATE: "A channel was renamed, moved, re-parented, or its topic or slowmode changed.",
  CHANNEL_DELETE: "A channel or category was deleted.",
  CHANNEL_OVERWRITE_CREATE: "A channel got a permission overwrite for a role or a member (`allow`, `deny`).",
  CHANNEL_OVERWRITE_UPDATE: "A channel's overwrite for a role or a member changed (`allow`, `deny`).",
  CHANNEL_OVERWRITE_DELETE: "A channel's overwrite for a role or a member was removed.",
  MEMBER_KICK: "A member was kicked.",
  MEMBER_BAN_ADD: "A user was banned.",
  MEMBER_BAN_REMOVE: "A ban was lifted.",
  MEMBER_UPDATE: "A member was timed out or their timeout lifted (`communication_disabled_until`).",
  MEMBER_ROLE_UPDATE: "A member was given (`$add`) or lost (`$remove`) a role.",
  ROLE_CREATE: "A role was created.",
  ROLE_UPDATE: "A role's name, permissions, colour, hoist, mentionable or position changed.",
  ROLE_DELETE: "A role was deleted.",
  INVITE_CREATE: "An invite was created (`code`, `max_uses`, `expires_at`).",
  INVITE_DELETE: "An invite was revoked.",
};

const AuditLogActionEnum = builder.enumType("AuditLogAction", {
  description: "What an audit log entry records (Discord's names). An ownership transfer is GUILD_UPDATE with an `owner_id` change.",
  values: Object.fromEntries(Object.entries(AUDIT_ACTION_DESCRIPTIONS).map(([name, description]) => [name, { description }])) as Record<AuditAction, { description: string }>,
});
const AuditLogTargetKindEnum = builder.enumType("AuditLogTargetKind", {
  description: "What kind of thing an audit log entry's `targetId` names.",
  values: {
    GUILD: { description: "The guild: `targetId` is its id." },
    CHANNEL: { description: "A channel or category: `targetId` is its id." },
    ROLE: { description: "A role: `targetId` is its id." },
    USER: { description: "A user (kicked, banned, timed out, given a role): `targetId` is their id." },
    INVITE: { description: "An invite: `targetId` is its code." },
  } satisfies Record<AuditTargetKind, { description: string }>,
});
const AuditLogChangeRef = builder.objectRef<{ key: string; before: string | null; after: string | null }>("AuditLogChange").implement({
  description:
    "One changed field, with Discord's key (name, permissions, allow, deny, owner_id, communication_disabled_until, $add, $remove...). " +
    "`before` and `after` are JSON (ids and bitsets as strings); null when the field had no value on that side. " +
    "Part of its AuditLogEntry, not an entity: no `id` (it is keyed by its entry and `key`; caches keep it inside the entry).",
  fields: (t) => ({
    key: t.exposeString("key", { description: "Which field changed, by Discord's name; `$add` and `$remove` list roles given and taken." }),
    before: t.exposeString("before", { nullable: true, description: "Its value before, as JSON; null if it had none (a creation, a timeout set where there was none)." }),
    after: t.exposeString("after", { nullable: true, description: "Its value after, as JSON; null if it has none (a deletion, a lifted timeout)." }),
  }),
});
const AuditLogEntryRef = builder.objectRef<AuditEntryRecord>("AuditLogEntry").implement({
  description: "One governance or moderation action, recorded in the same transaction as the action.",
  fields: (t) => ({
    id: t.id({ description: "A snowflake: sorts by time; the cursor of Guild.auditLog.", resolve: (e) => String(e.id) }),
    action: t.field({ type: AuditLogActionEnum, description: "What was done.", resolve: (e) => e.action }),
    actor: t.field({ type: UserRef, nullable: true, description: "Who acted (null if their account is gone).", resolve: (e, _a, ctx) => ctx.loaders.user.load(e.actorId) }),
    actorId: t.id({ description: "Who acted, kept when their account is gone (filter with auditLog(actorId)).", resolve: (e) => String(e.actorId) }),
    targetKind: t.field({ type: AuditLogTargetKindEnum, description: "What `targetId` names.", resolve: (e) => e.targetKind }),
    targetId: t.string({ description: "The target's id (an invite's code for INVITE).", resolve: (e) => e.targetId }),
    // At most five: a role's name, permissions, color, hoist and mentionable.
    changes: t.field({ type: [AuditLogChangeRef], description: "What changed, field by field (at most 5); empty when there is nothing more to say (a kick).", extensions: listCost(5), resolve: (e) => e.changes }),
    reason: t.string({ nullable: true, description: "The reason given (the operation's `reason`, or the X-Audit-Log-Reason header); null if none.", resolve: (e) => e.reason }),
    createdAt: t.field({ type: "DateTime", description: "When it was done (from the id).", resolve: (e) => snowflakeTime(e.id) }),
  }),
});

builder.objectField(GuildRef, "auditLog", (t) =>
  t.connection(
    {
      type: AuditLogEntryRef,
      description:
        "Who did what, newest first (VIEW_AUDIT_LOG; FORBIDDEN otherwise); entries are kept AUDIT_LOG_RETENTION_DAYS (45 by default). " +
        "Filter by `action` and/or `actorId`. The cursor is the entry id. At most 100 per page (default 50); `first`/`after` only " +
        "(`last`/`before` are BAD_USER_INPUT). No totalCount: with the filters and the retention, a count would read every entry kept.",
      args: {
        action: t.arg({ type: AuditLogActionEnum, description: "Only entries of this action." }),
        actorId: t.arg.id({ description: "Only entries of this actor (a user id)." }),
      },
      extensions: { ...pageCost({ default: 50, max: 100 }), ...perItemRead() },
      resolve: async (guild, args, ctx) => {
        forwardOnly(args, "Audit log entries");
        const { entries, hasNextPage } = await listAuditLog(ctx, guild, {
          first: args.first,
          after: optionalId("after", args.after),
          action: args.action ?? null,
          actorId: optionalId("actorId", args.actorId),
        });
        return forwardPage(entries, hasNextPage, args.after, (e) => String(e.id));
      },
    },
    { description: "A page of a guild's audit log, newest first." },
    { description: "An audit log entry, and its cursor (its id)." },
  ),
);

const BanMemberInput = builder.inputType("BanMemberInput", {
  description: "Whom to ban from which guild, why, and how much of their recent history to delete.",
  fields: (t) => ({
    guildId: t.id({ required: true, description: "The guild." }),
    userId: t.id({ required: true, description: "A member, or any user (to keep them out before they join)." }),
    reason: t.string({ description: `Shown in Guild.bans too. ${AUDIT_REASON}` }),
    deleteMessageSeconds: t.int({
      description:
        "Also delete the user's messages sent in the guild's channels within this many last seconds: 0 (the default) to 604800 (7 days). Done after the ban answers, each deletion a MessageDeleted on its channel; at most 1,000 messages per channel and 10,000 in all, newest first.",
    }),
  }),
});
const GuildUserInput = builder.inputType("GuildUserInput", {
  description: "A guild and one of its members.",
  fields: (t) => ({ guildId: t.id({ required: true, description: "The guild." }), userId: t.id({ required: true, description: "A member of it." }) }),
});
const UnbanMemberInput = builder.inputType("UnbanMemberInput", {
  description: "A ban to lift, and why.",
  fields: (t) => ({
    guildId: t.id({ required: true, description: "The guild." }),
    userId: t.id({ required: true, description: "The banned user." }),
    reason: t.string({ description: AUDIT_REASON }),
  }),
});
const TimeoutMemberInput = builder.inputType("TimeoutMemberInput", {
  description: "Whom to time out in which guild, until when, and why.",
  fields: (t) => ({
    guildId: t.id({ required: true, description: "The guild." }),
    userId: t.id({ required: true, description: "A member ranked below you (not an administrator)." }),
    until: t.field({ type: "DateTime", description: "In the future, at most 28 days ahead; null (or omitted) lifts the member's timeout." }),
    reason: t.string({ description: AUDIT_REASON }),
  }),
});

builder.mutationFields((t) => ({
  banMember: t.field({
    type: BanRef,
    description:
      "Bans a user ranked below you (BAN_MEMBERS): a member is removed at once (their streams of the guild end, reason BANNED) and no invite lets them back until unbanMember. Banning again returns the standing ban.",
    args: { input: t.arg({ type: BanMemberInput, required: true, description: "The guild, the user, a reason and what to delete." }) },
    resolve: (_r, { input }, ctx) =>
      banMember(ctx, { guildId: parseId("guildId", input.guildId), userId: parseId("userId", input.userId), reason: input.reason, deleteMessageSeconds: input.deleteMessageSeconds }),
  }),
  unbanMember: t.boolean({
    description: "Lifts a ban (BAN_MEMBERS); false if the user was not banned.",
    args: { input: t.arg({ type: UnbanMemberInput, required: true, description: "The guild, the user and a reason." }) },
    resolve: (_r, { input }, ctx) => unbanMember(ctx, { guildId: parseId("guildId", input.guildId), userId: parseId("userId", input.userId), reason: input.reason }),
  }),
  timeoutMember: t.field({
    type: MemberRef,
    description:
      "Times out a member ranked below you (MODERATE_MEMBERS; never an administrator) until `until`: they keep VIEW_CHANNEL and " +
      "READ_MESSAGE_HISTORY and lose every other permission (sending, typing...) on every instance at once, even through leaving and " +
      "rejoining. `until: null` lifts it. The guild and the member hear MemberTimeoutUpdated.",
    args: { input: t.arg({ type: TimeoutMemberInput, required: true, description: "The guild, the member, until when and a reason." }) },
    resolve: (_r, { input }, ctx) =>
      timeoutMember(ctx, { guildId: parseId("guildId", input.guildId), userId: parseId("userId", input.userId), until: input.until ?? null, reason: input.reason }),
  }),
  revokeInvite: t.field({
    type: InviteRef,
    description: "Deletes an invite (its creator, or MANAGE_GUILD): no one can join with it any more. Returns it as it was.",
    args: { code: t.arg.string({ required: true, description: "The invite's code." }), reason: t.arg.string({ description: AUDIT_REASON }) },
    resolve: (_r, args, ctx) => revokeInvite(ctx, { code: args.code, reason: args.reason }),
  }),
  transferGuildOwnership: t.field({
    type: GuildRef,
    description: "Makes another member (a person, not a bot) the owner (owner only); you stay a member with your roles.",
    args: { input: t.arg({ type: GuildUserInput, required: true, description: "The guild and its new owner." }) },
    resolve: (_r, { input }, ctx) => transferGuildOwnership(ctx, { guildId: parseId("guildId", input.guildId), userId: parseId("userId", input.userId) }),
  }),
}));
