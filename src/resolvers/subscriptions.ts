import { setTimeout as delay } from "node:timers/promises";
import { clearLoaders, releaseLoaders, type RequestContext } from "../context.js";
import { forbidden, notFound, unauthenticated, type ConcordError } from "../errors.js";
import type { EventStream } from "../pubsub/event-stream.js";
import type { ConcordEvent, EventOf, LeaveReason } from "../pubsub/events.js";
import type { MessageRecord } from "../stores/message-store.js";
import { topics, type Topic } from "../pubsub/topics.js";
import { channelPermissions, type GuildAccess } from "../permissions/compute.js";
import type { MemberAccess, PermissionChange } from "../permissions/permission-cache.js";
import { has, PERMISSIONS } from "../permissions/permission-set.js";
import { readableChannel, requireViewer, visibleGuild } from "./access.js";
import { revokes } from "./session-revocation.js";
import type { LiveEventOf } from "../pubsub/live-events.js";
import { openStream, type AccessWatch, type Live, type Route, type StreamNotice } from "./live-streams.js";

/** Events `channelEvents` delivers to clients (declared in pubsub/live-events.ts). */
export type ChannelEvent = LiveEventOf<"channelEvents">;
/** Events `guildEvents` delivers to clients. */
export type GuildEvent = LiveEventOf<"guildEvents">;
/** Events `userEvents` delivers to clients. */
export type UserEvent = LiveEventOf<"userEvents">;
/** Events `messageEvents` delivers to clients (besides its notices, resolvers/message-stream.ts). */
export type MessageEvent = LiveEventOf<"messageEvents">;

/** A presence event unless a block between its user and the viewer hides it (the event names them: no read). */
function presenceFor<T>(event: EventOf<"PresenceUpdated">, viewerId: bigint): { deliver: T } | null {
  return event.hiddenFrom.includes(viewerId) ? null : { deliver: event as T };
}

/** True if a member may see a channel, with the channel's overwrites as given (from an event) rather than as cached. */
export function canSee(state: MemberAccess, userId: bigint, channelId: bigint, overwrites?: GuildAccess["overwrites"] extends ReadonlyMap<bigint, infer O> ? O : never): boolean {
  if (state.roleIds === null) return false;
  const access = overwrites === undefined ? state.access : { ...state.access, overwrites: new Map([[channelId, overwrites]]) };
  return has(channelPermissions(access, userId, state.roleIds, channelId), PERMISSIONS.VIEW_CHANNEL);
}

/** How long a guild stream whose viewer lost membership waits for GuildLeft (which gives the reason) before ending by itself. */
const GUILD_LEFT_GRACE_MS = 250;

/** Why a stream of a guild the viewer is no longer in ended, in words. */
function departureMessage(reason: LeaveReason, what: string): string {
  switch (reason) {
    case "KICKED":
      return `You were removed from ${what}.`;
    case "BANNED":
      return `You were banned from ${what}.`;
    default:
      return `You are no longer a member of ${what}.`;
  }
}

/**
 * Ends any stream of the viewer when a revocation covers its session (logout, revokeSession,
 * revokeOtherSessions and changePassword from another session, bot token reset). A plain
 * decision per event: it runs per subscriber per user-topic event and allocates nothing.
 */
export function sessionDecision<T>(ctx: RequestContext, event: ConcordEvent): ReturnType<Route<T>> {
  const viewerId = ctx.viewer?.id ?? null;
  return event.type === "SessionRevoked" && viewerId !== null && revokes(event, viewerId, ctx.tokenHash)
    ? { end: unauthenticated("Your session ended (signed out, revoked, password changed or token reset); sign in again.") }
    : null;
}

/**
 * Live messages of one channel, in message-id order. The viewer must be able to read the
 * channel when subscribing; the stream ends with FORBIDDEN the moment they leave or are kicked
 * from its guild, and with NOT_FOUND if the channel or guild is deleted.
 */
export async function channelEvents(ctx: RequestContext, channelId: bigint, after: string | null = null): Promise<EventStream<Live<ChannelEvent> | StreamNotice>> {
  const viewer = requireViewer(ctx);
  const channel = await readableChannel(ctx, channelId);
  const guildId = channel.guildId;
  // Losing VIEW_CHANNEL (a role taken, an overwrite changed) ends the stream within a second.
  const watch: AccessWatch | undefined =
    guildId === null
      ? undefined
      : {
          guildId,
          onChange: async () => {
            const state = await ctx.services.permissions.get(guildId, viewer.id);
            // Gone from the guild's channels: deleted (ChannelDeleted normally ends the stream first).
            if (state && state.roleIds !== null && !state.access.channels.has(channel.id)) return notFound("Channel", String(channel.id));
            return state && canSee(state, viewer.id, channel.id) ? null : forbidden("You can no longer see this channel.");
          },
        };
  const live = await openStream<ChannelEvent>(ctx, [
    [
      topics.channel(channel.id),
      (event) => (event.type === "TypingStarted" ? { deliver: event } : messageRoute(ctx, channel.id, event)),
    ],
    [
      topics.user(viewer.id),
      (event) => {
        if (event.type === "GuildLeft" && event.guildId === channel.guildId) {
          return { end: forbidden(departureMessage(event.reason, "this channel's guild")) };
        }
        if (event.type === "GroupRecipientRemoved" && event.channelId === channel.id && event.user.id === viewer.id) {
          return { end: forbidden(event.reason === "REMOVED" ? "You were removed from this group DM." : "You left this group DM.") };
        }
        return sessionDecision<ChannelEvent>(ctx, event);
      },
    ],
  ], { watch, after, messagesFromHistory: (ids) => messagesFromHistory(ctx, channel.id, ids) });
  await recheck(ctx, live.stream, () => readableChannel(ctx, channel.id));
  await live.begin();
  releaseLoaders(ctx.loaders);
  return live.stream;
}

/**
 * What a stream of one channel's messages does with a bus event of the channel's topic (shared by
 * channelEvents and each channel of messageEvents): deliver creates, edits and deletes (an edit
 * that raced a delete of the same message is dropped), end on the channel's deletion.
 */
export function messageRoute(ctx: RequestContext, channelId: bigint, event: ConcordEvent): { deliver: MessageEvent } | { end: ConcordError } | null {
  switch (event.type) {
    case "MessageDeleted":
      ctx.services.deletions.add(event.messageId);
      return { deliver: event };
    case "MessageUpdated":
      return ctx.services.deletions.has(event.message.id) ? null : { deliver: event };
    case "MessageCreated":
      return { deliver: event };
    case "ChannelDeleted":
      return { end: notFound("Channel", String(channelId)) };
    default:
      return null;
  }
}

/** MessageCreated events for messages of a channel still in history, by id (one read for the messages, one for their authors). */
export async function messagesFromHistory(ctx: RequestContext, channelId: bigint, ids: bigint[]): Promise<Map<bigint, ConcordEvent>> {
  const found = new Map<bigint, ConcordEvent>();
  const messages = await ctx.loaders.message.loadMany(ids.map((id) => `${channelId}:${id}`));
  const records = messages.filter((m): m is MessageRecord => m !== null && !(m instanceof Error));
  const authors = await ctx.loaders.user.loadMany(records.map((m) => m.authorId));
  records.forEach((message, i) => {
    const author = authors[i];
    if (author && !(author instanceof Error)) found.set(message.id, { type: "MessageCreated", channelId, message, author });
  });
  return found;
}

const translated = new WeakMap<object, Map<string, GuildEvent>>();

/**
 * A ChannelUpdated as a member whose view of the channel it changed sees it: ChannelCreated when
 * it just became visible to them, ChannelDeleted when it just disappeared. One object per
 * source event and kind, shared by every stream (so it is serialised once, like the original).
 */
function asSeenBy(event: Extract<GuildEvent, { type: "ChannelUpdated" }>, as: "ChannelCreated" | "ChannelDeleted"): GuildEvent {
  let forEvent = translated.get(event);
  if (!forEvent) translated.set(event, (forEvent = new Map()));
  let out = forEvent.get(as);
  if (!out) {
    out = as === "ChannelCreated" ? { type: as, guildId: event.guildId, channel: event.channel, overwrites: event.overwrites } : { type: as, guildId: event.guildId, channelId: event.channel.id };
    forEvent.set(as, out);
  }
  return out;
}

/**
 * Channel, role, membership and settings changes of one guild the viewer belongs to. Channel
 * events come only for channels the viewer can see, decided from the event's own overwrites
 * and the viewer's roles as this stream last knew them (kept current from MemberRolesUpdated,
 * RoleUpdated and the permission cache): no store read per event.
 */
export async function guildEvents(ctx: RequestContext, guildId: bigint, after: string | null = null): Promise<EventStream<Live<GuildEvent> | StreamNotice>> {
  const viewer = requireViewer(ctx);
  const guild = await visibleGuild(ctx, guildId);
  let known = await ctx.services.permissions.get(guild.id, viewer.id);
  if (!known || known.roleIds === null) throw notFound("Guild", String(guildId));
  const watch: AccessWatch = {
    guildId: guild.id,
    onChange: async () => {
      const state = await ctx.services.permissions.get(guild.id, viewer.id);
      if (!state) return notFound("Guild", String(guild.id));
      if (state.roleIds === null) {
        // No longer a member. GuildLeft (which says why) ends the stream within milliseconds;
        // this ends it anyway, a moment later, if that event was lost.
        await delay(GUILD_LEFT_GRACE_MS);
        return forbidden("You are no longer a member of this guild.");
      }
      known = state;
      return null;
    },
  };
  const live = await openStream<GuildEvent>(ctx, [
    [
      topics.guild(guild.id),
      (event) => {
        switch (event.type) {
          case "ChannelCreated":
            return canSee(known!, viewer.id, event.channel.id, event.overwrites) ? { deliver: event } : null;
          case "ChannelUpdated": {
            const now = canSee(known!, viewer.id, event.channel.id, event.overwrites);
            const before = canSee(known!, viewer.id, event.channel.id, event.previousOverwrites);
            if (now) return { deliver: before ? event : asSeenBy(event, "ChannelCreated") };
            return before ? { deliver: asSeenBy(event, "ChannelDeleted") } : null;
          }
          case "ChannelDeleted":
            return event.channelId === null || canSee(known!, viewer.id, event.channelId) ? { deliver: event } : null;
          case "MemberRolesUpdated":
            // The viewer's own roles changed: see with them from the next event on.
            if (event.userId === viewer.id && known) known = { ...known, roleIds: event.roleIds };
            return { deliver: event };
          case "RoleCreated":
          case "RoleUpdated":
          case "RoleDeleted":
          case "MemberTimeoutUpdated":
          case "GuildUpdated":
          case "MemberJoined":
          case "MemberLeft":
          case "OnlineCountUpdated":
            return { deliver: event };
          case "PresenceUpdated":
            return presenceFor(event, viewer.id);
          case "GuildDeleted":
            return { end: notFound("Guild", String(guild.id)) };
          default:
            return null;
        }
      },
    ],
    [
      topics.user(viewer.id),
      (event) =>
        event.type === "GuildLeft" && event.guildId === guild.id
          ? { end: forbidden(departureMessage(event.reason, "this guild")) }
          : sessionDecision<GuildEvent>(ctx, event),
    ],
  ], { watch, after });
  await recheck(ctx, live.stream, () => visibleGuild(ctx, guild.id));
  await live.begin();
  releaseLoaders(ctx.loaders);
  return live.stream;
}

/**
 * What concerns the viewer on every session: guilds joined and left (or kicked from), DMs opened,
 * changed and closed, group recipients, relationships, friends' presence, read states.
 */
export async function userEvents(ctx: RequestContext, after: string | null = null): Promise<EventStream<Live<UserEvent> | StreamNotice>> {
  const viewer = requireViewer(ctx);
  const live = await openStream<UserEvent>(ctx, [
    [
      topics.user(viewer.id),
      (event) => {
        switch (event.type) {
          case "GuildJoined":
          case "GuildLeft":
          case "DirectMessageOpened":
          case "ReadStateUpdated":
          case "MemberRolesUpdated":
          case "MemberTimeoutUpdated":
          case "RelationshipChanged":
          case "GroupRecipientAdded":
          case "GroupRecipientRemoved":
          case "DirectMessageUpdated":
          case "DirectMessageClosed":
            return { deliver: event };
          case "PresenceUpdated":
            return presenceFor(event, viewer.id);
          default:
            return sessionDecision<UserEvent>(ctx, event);
        }
      },
    ],
  ], { after });
  await live.begin();
  releaseLoaders(ctx.loaders);
  return live.stream;
}

/**
 * Checks access once more now that the stream listens, with the request's caches cleared: this
 * closes the gap where a kick lands between the first check and the bus subscription.
 */
async function recheck(ctx: RequestContext, stream: EventStream<unknown>, check: () => Promise<unknown>): Promise<void> {
  clearLoaders(ctx.loaders);
  try {
    await check();
  } catch (error) {
    await stream.return?.();
    throw error;
  }
}
