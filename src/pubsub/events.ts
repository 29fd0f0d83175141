import type { UserRecord } from "../stores/account-store.js";
import type { ChannelRecord } from "../stores/channel-store.js";
import type { GuildRecord } from "../stores/guild-store.js";
import type { MessageRecord } from "../stores/message-store.js";
import type { PresenceStatus } from "../stores/presence-store.js";
import type { RelationshipKind } from "../stores/relationship-store.js";
import type { OverwriteRecord, RoleRecord } from "../stores/permission-store.js";

/** Why a user stopped being a guild member. */
export type LeaveReason = "LEFT" | "KICKED" | "BANNED" | "GUILD_DELETED";

/**
 * Everything published on the event bus, one discriminated union. Events carry what
 * subscribers need to render them (the author of a message, the channel that was created), so
 * delivering an event to N subscribers costs no store query per subscriber.
 *
 * Events are plain data (bigint ids, Date times): the Redis adapter encodes them with
 * event-codec.ts once per publish and decodes them once per receiving instance.
 */
export type ConcordEvent =
  // channel:<id> topics. Every topic's events are numbered where they are published, and
  // delivered in that order on every instance (see pubsub/event-bus.ts); each instance publishes
  // a channel's events in message-id order (resolvers/channel-sequencer.ts)
  | { type: "MessageCreated"; channelId: bigint; message: MessageRecord; author: UserRecord }
  | { type: "MessageUpdated"; channelId: bigint; eventId: bigint; message: MessageRecord; author: UserRecord }
  | { type: "MessageDeleted"; channelId: bigint; eventId: bigint; messageId: bigint }
  // Local only, never published: this instance's bus connection was interrupted and has been
  // restored, so events of this channel may have been missed (see app.ts, onResubscribed)
  // no longer sent (ResyncRequired replaced it); kept for the schema's ChannelEvent union
  | { type: "EventsMissed"; channelId: bigint }
  // never published: a receiving instance tells its own subscribers of a topic that events were
  // lost (not in the log any more); they get ResyncRequired
  | { type: "LiveGap"; topic: string }
  // Not stored, not ordered with messages: a user is typing until expiresAt unless a later
  // MessageCreated by them ends it first
  | { type: "TypingStarted"; channelId: bigint; user: UserRecord; expiresAt: Date }
  // channel:<id> and guild:<id> topics
  | { type: "ChannelDeleted"; channelId: bigint; guildId: bigint | null }
  // guild:<id> topics. Channel events carry the channel's overwrites, so each subscriber decides
  // whether it may see the channel from the event itself (no store read, no race with the
  // permission cache's update)
  | { type: "ChannelCreated"; guildId: bigint; channel: ChannelRecord; overwrites: OverwriteRecord[] }
  // (previousOverwrites too: whoever saw it before but not now hears ChannelDeleted, whoever
  // sees it only now hears ChannelCreated)
  | { type: "ChannelUpdated"; guildId: bigint; channel: ChannelRecord; overwrites: OverwriteRecord[]; previousOverwrites: OverwriteRecord[] }
  | { type: "RoleCreated"; guildId: bigint; role: RoleRecord }
  | { type: "RoleUpdated"; guildId: bigint; role: RoleRecord }
  | { type: "RoleDeleted"; guildId: bigint; roleId: bigint }
  // guild:<id> and user:<id> topics: a member's roles now (all of them, so no one needs to read them)
  | { type: "MemberRolesUpdated"; guildId: bigint; userId: bigint; roleIds: bigint[] }
  // guild:<id> and user:<id> topics: a member was timed out until `until`, or their timeout lifted (null)
  | { type: "MemberTimeoutUpdated"; guildId: bigint; userId: bigint; until: Date | null }
  // the fleet-wide "permissions" topic: every instance's permission cache forgets what changed
  // (a guild's roles, overwrites or owner when userId is null; else one member's roles or
  // membership) and re-checks the live streams it affects
  | { type: "PermissionsChanged"; guildId: bigint; userId: bigint | null }
  | { type: "GuildUpdated"; guild: GuildRecord }
  | { type: "GuildDeleted"; guildId: bigint }
  | { type: "MemberJoined"; guildId: bigint; user: UserRecord }
  | { type: "MemberLeft"; guildId: bigint; userId: bigint; reason: LeaveReason }
  // guild:<id> (guildId set; small guilds only) and user:<id> topics (guildId null: a friend's
  // presence, or the user's own on their other sessions). `status` is what the topic's audience
  // may see: INVISIBLE only on the user's own topic, OFFLINE for everyone else. `hiddenFrom`: users
  // of the topic's audience with a block between them and the user, who must not receive it (each
  // subscriber checks it in memory; empty on user topics)
  | { type: "PresenceUpdated"; guildId: bigint | null; user: UserRecord; status: PresenceStatus; at: Date; hiddenFrom: bigint[] }
  // guild:<id> topics of large guilds, instead of per-member presence; at a bounded rate
  | { type: "OnlineCountUpdated"; guildId: bigint; onlineCount: number }
  // user:<id> topics: what concerns one user, on all their sessions
  | { type: "GuildJoined"; userId: bigint; guild: GuildRecord }
  | { type: "GuildLeft"; userId: bigint; guildId: bigint; reason: LeaveReason }
  | { type: "DirectMessageOpened"; userId: bigint; channel: ChannelRecord }
  // user:<id> and revocations topics: tokenHash is one revoked session, or "*" for every session
  // of the user except keepTokenHash when set (revokeOtherSessions, changePassword); one event
  // however many sessions it revokes (see resolvers/session-revocation.ts)
  | { type: "SessionRevoked"; userId: bigint; tokenHash: string; keepTokenHash: string | null }
  | { type: "ReadStateUpdated"; userId: bigint; channelId: bigint; lastReadMessageId: bigint }
  // user:<id> topics of both users of a pair, each with their own side: `kind` NONE when they no
  // longer have one (removed, declined, withdrawn; and, to a user who was blocked, the block)
  | { type: "RelationshipChanged"; userId: bigint; user: UserRecord; kind: RelationshipKind | "NONE"; since: Date | null }
  // user:<id> topics of a DM's recipients: recipients added to and removed from a group DM (the
  // added one gets DirectMessageOpened; the removed one this too, which ends their channelEvents
  // there), a group DM renamed or passed to a new owner, a DM closed on one of the user's sessions
  | { type: "GroupRecipientAdded"; userId: bigint; channelId: bigint; user: UserRecord }
  | { type: "GroupRecipientRemoved"; userId: bigint; channelId: bigint; user: UserRecord; reason: RecipientRemoval }
  | { type: "DirectMessageUpdated"; userId: bigint; channel: ChannelRecord }
  | { type: "DirectMessageClosed"; userId: bigint; channelId: bigint };

/** Why someone stopped being a recipient of a group DM. */
export type RecipientRemoval = "LEFT" | "REMOVED";

export type EventType = ConcordEvent["type"];
export type EventOf<T extends EventType> = Extract<ConcordEvent, { type: T }>;
