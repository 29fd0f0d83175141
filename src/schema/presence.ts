import { guildActiveMembers, guildOnlineCount, presenceOf, setPresence } from "../resolvers/presence.js";
import { MAX_TYPING_LISTED, startTyping, typingIn } from "../resolvers/typing.js";
import type { UserRecord } from "../stores/account-store.js";
import type { PresenceStatus } from "../stores/presence-store.js";
import { builder } from "./builder.js";
import { idListCost, listCost, pageCost, perItemRead } from "./cost.js";
import { compositeId } from "./entity-ids.js";
import { parseId } from "./ids.js";
import { PER_VIEWER } from "./per-viewer.js";
import { ChannelRef, GuildRef, UserRef } from "./refs.js";

export const PresenceStatusEnum = builder.enumType("PresenceStatus", {
  description: "Whether someone is connected, and how available they say they are (setPresence).",
  values: {
    ONLINE: { description: "Connected and available." },
    IDLE: { description: "Connected, away from the keyboard." },
    DND: { description: "Connected, do not disturb." },
    INVISIBLE: { description: "Connected but shown as OFFLINE to everyone else; only you see INVISIBLE." },
    OFFLINE: { description: "No live connection (or invisible, or not visible to you)." },
  } as const,
});

export const PresenceRef = builder.objectRef<{ user: UserRecord; status: PresenceStatus }>("Presence").implement({
  description: "A user's presence as you may see it. `id` is the user's id, the same in the presence query and PresenceUpdated.presence.",
  fields: (t) => ({
    id: t.id({ description: "The user's id (a Presence and its User are different types, so a cache keeps them apart).", resolve: (p) => String(p.user.id) }),
    user: t.field({ type: UserRef, description: "Whose presence it is.", resolve: (p) => p.user }),
    status: t.field({ type: PresenceStatusEnum, description: "Their status as you may see it (see User.presence).", resolve: (p) => p.status }),
  }),
});

const ActiveMemberRef = builder.objectRef<{ guildId: bigint; user: UserRecord; status: PresenceStatus; lastActiveAt: Date }>("ActiveMember").implement({
  description: "An online member and when they were last active (to within 30 s). `id` is `<guild id>:<user id>`, as the member's GuildMember id.",
  fields: (t) => ({
    id: t.id({ description: "`<guild id>:<user id>`: one per member of a guild.", resolve: (m) => compositeId(m.guildId, m.user.id) }),
    user: t.field({ type: UserRef, description: "The member.", resolve: (m) => m.user }),
    status: t.field({ type: PresenceStatusEnum, description: "ONLINE, IDLE or DND (INVISIBLE members are not listed).", resolve: (m) => m.status }),
    lastActiveAt: t.field({ type: "DateTime", description: "When they last sent a message or typed, or connected (to within 30 s).", resolve: (m) => m.lastActiveAt }),
  }),
});

const TypingIndicatorRef = builder.objectRef<{ channelId: bigint; user: UserRecord; expiresAt: Date }>("TypingIndicator").implement({
  description: "Someone typing, until expiresAt or until their next message. `id` is `<channel id>:<user id>`: one per person per channel.",
  fields: (t) => ({
    id: t.id({ description: "`<channel id>:<user id>`: a new startTyping by the same person in the same channel updates the same indicator.", resolve: (i) => compositeId(i.channelId, i.user.id) }),
    user: t.field({ type: UserRef, description: "Who is typing.", resolve: (i) => i.user }),
    expiresAt: t.field({ type: "DateTime", description: "When it ends unless they type on (10 s after their last startTyping).", resolve: (i) => i.expiresAt }),
  }),
});

builder.objectField(UserRef, "presence", (t) =>
  t.field({
    type: PresenceStatusEnum,
    description: "This user's presence as you may see it: OFFLINE unless you are friends or share a guild (or it is you), and always OFFLINE across a block.",
    extensions: PER_VIEWER,
    resolve: (user, _a, ctx) => ctx.loaders.presence.load(user.id),
  }),
);

builder.objectFields(GuildRef, (t) => ({
  onlineCount: t.int({
    description: "Members online now (INVISIBLE ones not counted). Large guilds push changes as OnlineCountUpdated.",
    extensions: perItemRead(),
    resolve: (guild, _a, ctx) => guildOnlineCount(ctx, guild),
  }),
  large: t.boolean({
    description: "True at or above the large-guild threshold: guildEvents then carries OnlineCountUpdated instead of per-member PresenceUpdated.",
    resolve: (guild, _a, ctx) => guild.memberCount >= ctx.services.settings.largeGuildThreshold,
  }),
  activeMembers: t.field({
    type: [ActiveMemberRef],
    description: "Online members, most recently active first (1 to 100, default 20).",
    args: { first: t.arg.int({ description: "How many, 1 to 100 (default 20)." }) },
    extensions: { ...pageCost({ default: 20, max: 100 }), ...perItemRead() },
    resolve: (guild, args, ctx) => guildActiveMembers(ctx, guild, { first: args.first }),
  }),
}));

builder.objectField(ChannelRef, "typing", (t) =>
  t.field({
    type: [TypingIndicatorRef],
    description: `Who is typing here now, soonest expiry first: the ${MAX_TYPING_LISTED} latest to start, when more are.`,
    extensions: { ...listCost(MAX_TYPING_LISTED), ...perItemRead() },
    resolve: (channel, _a, ctx) => typingIn(ctx, channel),
  }),
);

builder.queryField("presence", (t) =>
  t.field({
    type: [PresenceRef],
    description: "Presence of up to 100 users; unknown ids are left out; users who are not your friends and share no guild with you, and users with a block between you, show OFFLINE.",
    args: { userIds: t.arg.idList({ required: true, description: "User ids, at most 100." }) },
    extensions: idListCost("userIds", 100),
    resolve: (_r, args, ctx) => presenceOf(ctx, args.userIds.map((id, i) => parseId(`userIds[${i}]`, id))),
  }),
);

builder.mutationFields((t) => ({
  setPresence: t.field({
    type: PresenceStatusEnum,
    description: "Chooses your status on all your sessions (kept while offline). Returns your presence now: OFFLINE if not connected.",
    args: { status: t.arg({ type: PresenceStatusEnum, required: true, description: "ONLINE, IDLE, DND or INVISIBLE (OFFLINE is what you are without a connection: BAD_USER_INPUT)." }) },
    resolve: (_r, args, ctx) => setPresence(ctx, args.status),
  }),
  startTyping: t.boolean({
    description: "Shows you typing in a channel for 10 s (TypingStarted in channelEvents); calls within 5 s of the last shown one are absorbed.",
    args: { channelId: t.arg.id({ required: true, description: "A channel you may send in." }) },
    resolve: (_r, args, ctx) => startTyping(ctx, parseId("channelId", args.channelId)),
  }),
}));
