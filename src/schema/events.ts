import type { StreamItem } from "../pubsub/event-stream.js";
import type { ObjectRef } from "@pothos/core";
import type { EventOf } from "../pubsub/events.js";
import { LIVE_EVENTS, type LiveEventName, type LiveSubscription } from "../pubsub/live-events.js";
import { channelEvents, guildEvents, userEvents } from "../resolvers/subscriptions.js";
import { messageEvents } from "../resolvers/message-events.js";
import { ChannelResumeInput, ChannelResyncRequiredRef, ChannelUnwatchedRef, ChannelWatchedRef, MessageEventFilterInput } from "./message-events.js";
import { builder, type SchemaTypes } from "./builder.js";
import { LiveEventRef, ResyncRequiredRef, SubscribedRef } from "./live-event.js";
import { listCost, perItemRead } from "./cost.js";
import { parseId } from "./ids.js";
import { readStateOf } from "../resolvers/read-states.js";
import { PresenceRef, PresenceStatusEnum } from "./presence.js";
import { PER_VIEWER } from "./per-viewer.js";
import { ReadStateRef } from "./read-state.js";
import { RoleRef } from "./permissions.js";
import { RelationshipChanged } from "./relationship.js";
import { DirectMessageClosed, DirectMessageUpdated, GroupRecipientAdded, GroupRecipientRemoved } from "./direct-message.js";
import { ChannelRef, GuildRef, MessageRef, UserRef } from "./refs.js";

/** Unwraps a stream item: events pass, a final error becomes this event's GraphQL error. */
function unwrap<T>(item: StreamItem<T>): T {
  if (item.kind === "end") throw item.error;
  return item.event;
}

const AFTER =
  "Resume: the `cursor` of the last event (or Subscribed) you received from this same subscription. Every event after it is " +
  "sent first, in order, each once, then live ones; if they are no longer kept, ResyncRequired comes instead (refetch state). " +
  "Omitted: live from now on.";

const LeaveReasonEnum = builder.enumType("LeaveReason", {
  description: "Why someone is no longer a member of a guild.",
  values: {
    LEFT: { description: "The member left." },
    KICKED: { description: "A member with KICK_MEMBERS removed them." },
    BANNED: { description: "A member with BAN_MEMBERS banned them: they cannot rejoin until unbanned." },
    GUILD_DELETED: { description: "The guild was deleted." },
  } as const,
});

const MessageCreated = builder.objectRef<EventOf<"MessageCreated">>("MessageCreated").implement({
  interfaces: [LiveEventRef],
  description: "A message was sent in the channel.",
  fields: (t) => ({
    channelId: t.id({ description: "The channel (on messageEvents: whose place `cursor` is).", resolve: (o) => String(o.channelId) }),
    message: t.field({ type: MessageRef, description: "The new message, its author included.", resolve: (e) => ({ ...e.message, author: e.author }) }),
  }),
});
const MessageUpdated = builder.objectRef<EventOf<"MessageUpdated">>("MessageUpdated").implement({
  interfaces: [LiveEventRef],
  description: "A message of the channel was edited.",
  fields: (t) => ({
    channelId: t.id({ description: "The channel (on messageEvents: whose place `cursor` is).", resolve: (o) => String(o.channelId) }),
    message: t.field({ type: MessageRef, description: "The message as it is now (same id).", resolve: (e) => ({ ...e.message, author: e.author }) }),
  }),
});
const MessageDeleted = builder.objectRef<EventOf<"MessageDeleted">>("MessageDeleted").implement({
  interfaces: [LiveEventRef],
  description: "A message of the channel was deleted (by its author, a moderator, or a ban's purge).",
  fields: (t) => ({
    channelId: t.id({ description: "The channel.", resolve: (o) => String(o.channelId) }),
    messageId: t.id({ description: "The deleted message's id.", resolve: (o) => String(o.messageId) }),
  }),
});

const EventsMissed = builder.objectRef<EventOf<"EventsMissed">>("EventsMissed").implement({
  interfaces: [LiveEventRef],
  description:
    "No longer sent: since live events are sequenced, a gap the server cannot repair arrives as ResyncRequired on every " +
    "subscription. Kept in the union so that documents written for older servers still validate.",
  fields: (t) => ({ channelId: t.id({ description: "The channel.", resolve: (o) => String(o.channelId) }) }),
});

const TypingStarted = builder.objectRef<EventOf<"TypingStarted">>("TypingStarted").implement({
  interfaces: [LiveEventRef],
  description: "Someone started typing. It lasts until expiresAt, or until a MessageCreated by the same user, whichever comes first.",
  fields: (t) => ({
    channelId: t.id({ description: "The channel.", resolve: (o) => String(o.channelId) }),
    user: t.field({ type: UserRef, description: "Who is typing (their TypingIndicator id is `<channelId>:<user id>`).", resolve: (e) => e.user }),
    expiresAt: t.field({ type: "DateTime", description: "When it ends unless they type on.", resolve: (e) => e.expiresAt }),
  }),
});

const ChannelEventUnion = builder.unionType("ChannelEvent", {
  description: "What happens in a channel: messages in id order; typing as it happens (not ordered with messages).",
  types: () => unionMembers("channelEvents"),
  resolveType: (event) => event.type,
});

const ChannelCreated = builder.objectRef<EventOf<"ChannelCreated">>("ChannelCreated").implement({
  interfaces: [LiveEventRef],
  description: "A channel or category you can see was created, or an overwrite change revealed one to you.",
  fields: (t) => ({ channel: t.field({ type: ChannelRef, description: "The channel.", resolve: (e) => e.channel }) }),
});
const ChannelUpdated = builder.objectRef<EventOf<"ChannelUpdated">>("ChannelUpdated").implement({
  interfaces: [LiveEventRef],
  description: "A channel you can see changed: name, position, category, topic, slowmode or overwrites.",
  fields: (t) => ({ channel: t.field({ type: ChannelRef, description: "The channel as it is now (same id).", resolve: (e) => e.channel }) }),
});
const ChannelDeleted = builder.objectRef<EventOf<"ChannelDeleted">>("ChannelDeleted").implement({
  interfaces: [LiveEventRef],
  description: "A channel was deleted, or an overwrite change hid it from you: drop it.",
  fields: (t) => ({
    channelId: t.id({ description: "The channel.", resolve: (o) => String(o.channelId) }),
    guildId: t.id({ nullable: true, description: "Its guild; null only for a DM (which guildEvents never carries).", resolve: (o) => (o.guildId === null ? null : String(o.guildId)) }),
  }),
});
const GuildUpdated = builder.objectRef<EventOf<"GuildUpdated">>("GuildUpdated").implement({
  interfaces: [LiveEventRef],
  description: "The guild was renamed or has a new owner.",
  fields: (t) => ({ guild: t.field({ type: GuildRef, description: "The guild as it is now (same id).", resolve: (e) => e.guild }) }),
});
const MemberJoined = builder.objectRef<EventOf<"MemberJoined">>("MemberJoined").implement({
  interfaces: [LiveEventRef],
  description: "Someone joined the guild (their GuildMember id is `<guildId>:<user id>`).",
  fields: (t) => ({
    guildId: t.id({ description: "The guild.", resolve: (o) => String(o.guildId) }),
    user: t.field({ type: UserRef, description: "The new member.", resolve: (e) => e.user }),
  }),
});
const MemberLeft = builder.objectRef<EventOf<"MemberLeft">>("MemberLeft").implement({
  interfaces: [LiveEventRef],
  description: "Someone is no longer a member of the guild (their GuildMember `<guildId>:<userId>` is gone).",
  fields: (t) => ({
    guildId: t.id({ description: "The guild.", resolve: (o) => String(o.guildId) }),
    userId: t.id({ description: "Who is gone.", resolve: (o) => String(o.userId) }),
    reason: t.field({ type: LeaveReasonEnum, description: "Why: they left, were kicked or banned.", resolve: (e) => e.reason }),
  }),
});

const PresenceUpdated = builder.objectRef<EventOf<"PresenceUpdated">>("PresenceUpdated").implement({
  interfaces: [LiveEventRef],
  description:
    "A user's presence changed, as you may see it (INVISIBLE users look OFFLINE to others). At most one per user per second per stream; the last state wins. `at` orders updates of one user.",
  fields: (t) => ({
    user: t.field({ type: UserRef, description: "Whose presence changed.", resolve: (e) => e.user }),
    status: t.field({ type: PresenceStatusEnum, description: "Their status now, as you may see it.", resolve: (e) => e.status }),
    presence: t.field({
      type: PresenceRef,
      description: "`user` and `status` as a Presence (`id`: the user's id), so a cache updates what the presence query returned.",
      resolve: (e) => ({ user: e.user, status: e.status }),
    }),
    at: t.field({ type: "DateTime", description: "When it changed: of two updates about one user, keep the later.", resolve: (e) => e.at }),
  }),
});
const OnlineCountUpdated = builder.objectRef<EventOf<"OnlineCountUpdated">>("OnlineCountUpdated").implement({
  interfaces: [LiveEventRef],
  description: "A large guild's online member count changed (sent at a bounded rate instead of per-member presence).",
  fields: (t) => ({
    guildId: t.id({ description: "The guild.", resolve: (o) => String(o.guildId) }),
    onlineCount: t.exposeInt("onlineCount", { description: "Members online now (INVISIBLE ones not counted), as Guild.onlineCount." }),
  }),
});

const RoleCreated = builder.objectRef<EventOf<"RoleCreated">>("RoleCreated").implement({
  interfaces: [LiveEventRef],
  description: "A role was created (clients refresh what it may change: Guild.channels, myPermissions).",
  fields: (t) => ({
    guildId: t.id({ description: "The guild.", resolve: (o) => String(o.guildId) }),
    role: t.field({ type: RoleRef, description: "The new role.", resolve: (e) => e.role }),
  }),
});
const RoleUpdated = builder.objectRef<EventOf<"RoleUpdated">>("RoleUpdated").implement({
  interfaces: [LiveEventRef],
  description: "A role's name, permissions, place or looks changed.",
  fields: (t) => ({
    guildId: t.id({ description: "The guild.", resolve: (o) => String(o.guildId) }),
    role: t.field({ type: RoleRef, description: "The role as it is now (same id).", resolve: (e) => e.role }),
  }),
});
const RoleDeleted = builder.objectRef<EventOf<"RoleDeleted">>("RoleDeleted").implement({
  interfaces: [LiveEventRef],
  description: "A role was deleted; its members lost it.",
  fields: (t) => ({
    guildId: t.id({ description: "The guild.", resolve: (o) => String(o.guildId) }),
    roleId: t.id({ description: "The deleted role's id.", resolve: (o) => String(o.roleId) }),
  }),
});
const MemberRolesUpdated = builder.objectRef<EventOf<"MemberRolesUpdated">>("MemberRolesUpdated").implement({
  interfaces: [LiveEventRef],
  description: "A member's roles changed: `roleIds` are all of them now (@everyone not listed).",
  fields: (t) => ({
    guildId: t.id({ description: "The guild.", resolve: (o) => String(o.guildId) }),
    userId: t.id({ description: "The member (their GuildMember id is `<guildId>:<userId>`).", resolve: (o) => String(o.userId) }),
    roleIds: t.idList({ description: "Every role they hold now, @everyone not listed.", extensions: listCost("rolesPerGuild"), resolve: (o) => o.roleIds.map(String) }),
  }),
});

const MemberTimeoutUpdated = builder.objectRef<EventOf<"MemberTimeoutUpdated">>("MemberTimeoutUpdated").implement({
  interfaces: [LiveEventRef],
  description: "A member was timed out (they may read, not send, react or type, until `until`), or their timeout was lifted (`until` null).",
  fields: (t) => ({
    guildId: t.id({ description: "The guild.", resolve: (o) => String(o.guildId) }),
    userId: t.id({ description: "The member (their GuildMember id is `<guildId>:<userId>`: update its timedOutUntil).", resolve: (o) => String(o.userId) }),
    until: t.field({ type: "DateTime", nullable: true, description: "Until when they are timed out; null when the timeout was lifted.", resolve: (o) => o.until }),
  }),
});

const GuildEventUnion = builder.unionType("GuildEvent", {
  description: "Changes to a guild's channels, settings and members, and its members' presence.",
  types: () => unionMembers("guildEvents"),
  resolveType: (event) => event.type,
});

const MessageEventUnion = builder.unionType("MessageEvent", {
  description:
    "Messages of every channel messageEvents follows, each channel in its own order (none across channels), and the channels it starts and stops following.",
  // Its ResyncRequired names the channel (ChannelResyncRequired), so the plain one is left out.
  types: () => [...unionMembers("messageEvents").filter((type) => type !== ResyncRequiredRef), ChannelWatchedRef, ChannelUnwatchedRef, ChannelResyncRequiredRef],
  resolveType: (event) => event.type,
});

const GuildJoined = builder.objectRef<EventOf<"GuildJoined">>("GuildJoined").implement({
  interfaces: [LiveEventRef],
  description: "You joined or created a guild (on any of your sessions).",
  fields: (t) => ({ guild: t.field({ type: GuildRef, description: "The guild.", resolve: (e) => e.guild }) }),
});
const GuildLeft = builder.objectRef<EventOf<"GuildLeft">>("GuildLeft").implement({
  interfaces: [LiveEventRef],
  description: "You are no longer a member of a guild: your streams of it end.",
  fields: (t) => ({
    guildId: t.id({ description: "The guild.", resolve: (o) => String(o.guildId) }),
    reason: t.field({ type: LeaveReasonEnum, description: "Why: you left, were kicked or banned, or it was deleted.", resolve: (e) => e.reason }),
  }),
});
const DirectMessageOpened = builder.objectRef<EventOf<"DirectMessageOpened">>("DirectMessageOpened").implement({
  interfaces: [LiveEventRef],
  description: "A DM or group DM is (again) on your list: opened, created with you in it, you were added, or a message reopened one you closed.",
  fields: (t) => ({ channel: t.field({ type: ChannelRef, description: "The DM or group DM.", resolve: (e) => e.channel }) }),
});

const ReadStateUpdated = builder.objectRef<EventOf<"ReadStateUpdated">>("ReadStateUpdated").implement({
  interfaces: [LiveEventRef],
  description: "You acknowledged a channel on some session. Pointers only move forward: keep the larger id.",
  fields: (t) => ({
    channelId: t.id({ description: "The channel.", resolve: (o) => String(o.channelId) }),
    lastReadMessageId: t.id({ description: "Your read pointer there now.", resolve: (o) => String(o.lastReadMessageId) }),
    readState: t.field({ type: ReadStateRef, description: "The channel's read state now (computed when asked).", extensions: { ...PER_VIEWER, ...perItemRead() }, resolve: (e, _a, ctx) => readStateOf(ctx, e.channelId) }),
  }),
});

const UserEventUnion = builder.unionType("UserEvent", {
  description:
    "What concerns you, on every session: guilds joined and left, DMs opened, changed and closed, group DM recipients, " +
    "your relationships, your friends' and your own presence, your read states.",
  types: () => unionMembers("userEvents"),
  resolveType: (event) => event.type,
});

/**
 * The GraphQL type of every event a subscription can deliver (pubsub/live-events.ts declares
 * which): an event added there without a type here does not compile.
 */
const LIVE_EVENT_TYPES: { [K in LiveEventName]: ObjectRef<SchemaTypes, EventOf<K>> } = {
  MessageCreated,
  MessageUpdated,
  MessageDeleted,
  EventsMissed,
  TypingStarted,
  ChannelCreated,
  ChannelUpdated,
  ChannelDeleted,
  GuildUpdated,
  MemberJoined,
  MemberLeft,
  PresenceUpdated,
  OnlineCountUpdated,
  RoleCreated,
  RoleUpdated,
  RoleDeleted,
  MemberRolesUpdated,
  MemberTimeoutUpdated,
  GuildJoined,
  GuildLeft,
  DirectMessageOpened,
  ReadStateUpdated,
  RelationshipChanged,
  GroupRecipientAdded,
  GroupRecipientRemoved,
  DirectMessageUpdated,
  DirectMessageClosed,
};

/** A subscription's union members: the stream notices, then its events in declaration order (a thunk: read at schema build). */
function unionMembers(subscription: LiveSubscription) {
  return [SubscribedRef, ResyncRequiredRef, ...LIVE_EVENTS[subscription].map((name) => LIVE_EVENT_TYPES[name])];
}

builder.subscriptionFields((t) => ({
  channelEvents: t.field({
    type: ChannelEventUnion,
    description:
      "Messages created, edited and deleted in a channel you can read, and typing, in the channel's one order (the same on every server). " +
      "Starts with Subscribed. Ends with FORBIDDEN if you can no longer see the channel, NOT_FOUND if it is deleted.",
    args: { channelId: t.arg.id({ required: true, description: "A channel you can see." }), after: t.arg.string({ description: AFTER }) },
    subscribe: (_r, args, ctx) => channelEvents(ctx, parseId("channelId", args.channelId), args.after ?? null),
    resolve: unwrap,
  }),
  guildEvents: t.field({
    type: GuildEventUnion,
    description: "Channel, settings and membership changes of a guild you belong to, in the guild's one order. Starts with Subscribed.",
    args: { guildId: t.arg.id({ required: true, description: "A guild you belong to." }), after: t.arg.string({ description: AFTER }) },
    subscribe: (_r, args, ctx) => guildEvents(ctx, parseId("guildId", args.guildId), args.after ?? null),
    resolve: unwrap,
  }),
  messageEvents: t.field({
    type: MessageEventUnion,
    description:
      "Messages created, edited and deleted in every channel you can read, now and later (guild channels of your guilds, DMs and group DMs), " +
      "on one subscription: for bots and clients that follow everything. Starts with Subscribed, then ChannelWatched per channel; channels " +
      "join (ChannelWatched) and leave (ChannelUnwatched) as your access changes, without ending the stream. Each message event's `cursor` " +
      "is its channel's place: resume with the last one per channel. See docs/LIVE.md.",
    args: {
      filter: t.arg({ type: MessageEventFilterInput, description: "Which channels to follow; omitted: all you can read." }),
      resume: t.arg({
        type: [ChannelResumeInput],
        description:
          "Resume: the last cursor you received per channel. Each such channel first gets what it missed, in order, each once (or ResyncRequired " +
          "naming it); channels without one start live. At most MAX_STREAM_CHANNELS entries, one per channel.",
      }),
    },
    subscribe: (_r, args, ctx) => messageEvents(ctx, args.filter ?? null, args.resume ?? null),
    resolve: unwrap,
  }),
  userEvents: t.field({
    type: UserEventUnion,
    description:
      "Guilds you joined or left (or were removed from), DMs opened, changed and closed, relationships, friends' presence and read states, in one order. Starts with Subscribed.",
    args: { after: t.arg.string({ description: AFTER }) },
    subscribe: (_r, args, ctx) => userEvents(ctx, args.after ?? null),
    resolve: unwrap,
  }),
}));
