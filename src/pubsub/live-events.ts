import type { EventOf, EventType } from "./events.js";

/**
 * What each live subscription delivers, declared once. The subscription's TypeScript event type
 * (resolvers/subscriptions.ts) and its GraphQL union (schema/events.ts, which must give every
 * name here an object type: the compiler checks it) derive from this list; adding an event to a
 * subscription is one edit here, then the compiler points at the route that must handle it.
 * Every subscription also sends the stream notices Subscribed and ResyncRequired.
 */
export const LIVE_EVENTS = {
  channelEvents: ["MessageCreated", "MessageUpdated", "MessageDeleted", "EventsMissed", "TypingStarted"],
  // Every channel the viewer can read, one stream (it also sends ChannelWatched / ChannelUnwatched)
  messageEvents: ["MessageCreated", "MessageUpdated", "MessageDeleted"],
  guildEvents: [
    "ChannelCreated",
    "ChannelUpdated",
    "ChannelDeleted",
    "GuildUpdated",
    "MemberJoined",
    "MemberLeft",
    "PresenceUpdated",
    "OnlineCountUpdated",
    "RoleCreated",
    "RoleUpdated",
    "RoleDeleted",
    "MemberRolesUpdated",
    "MemberTimeoutUpdated",
  ],
  userEvents: [
    "GuildJoined",
    "GuildLeft",
    "DirectMessageOpened",
    "PresenceUpdated",
    "ReadStateUpdated",
    "MemberRolesUpdated",
    "MemberTimeoutUpdated",
    "RelationshipChanged",
    "GroupRecipientAdded",
    "GroupRecipientRemoved",
    "DirectMessageUpdated",
    "DirectMessageClosed",
  ],
} as const satisfies Record<string, readonly EventType[]>;

export type LiveSubscription = keyof typeof LIVE_EVENTS;

/** The names of the events a subscription delivers. */
export type LiveEventName<S extends LiveSubscription = LiveSubscription> = (typeof LIVE_EVENTS)[S][number];

/** The events a subscription delivers. */
export type LiveEventOf<S extends LiveSubscription> = EventOf<LiveEventName<S>>;
