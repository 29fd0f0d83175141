import { clearLoaders, type RequestContext } from "../context.js";
import { ConcordError, forbidden, notFound, unauthenticated } from "../errors.js";
import type { Unsubscribe } from "../pubsub/event-bus.js";
import { createEventStream, type EventStream } from "../pubsub/event-stream.js";
import type { ConcordEvent, EventOf } from "../pubsub/events.js";
import { topics, type Topic } from "../pubsub/topics.js";
import { readableChannel, requireViewer, visibleGuild } from "./access.js";
import { revokes } from "./session-revocation.js";

/** Events `channelEvents` delivers to clients. */
export type ChannelEvent = EventOf<"MessageCreated" | "MessageUpdated" | "MessageDeleted" | "EventsMissed" | "TypingStarted">;
/** Events `guildEvents` delivers to clients. */
export type GuildEvent = EventOf<
  "ChannelCreated" | "ChannelUpdated" | "ChannelDeleted" | "GuildUpdated" | "MemberJoined" | "MemberLeft" | "PresenceUpdated" | "OnlineCountUpdated"
>;
/** Events `userEvents` delivers to clients. */
export type UserEvent = EventOf<"GuildJoined" | "GuildLeft" | "DirectMessageOpened" | "PresenceUpdated" | "ReadStateUpdated">;

/**
 * What one subscription does with each bus event, decided in memory (no store query per event):
 * deliver it, ignore it, or end the stream with an error because access was lost.
 */
type Route<T> = (event: ConcordEvent) => { deliver: T } | { end: ConcordError } | null;

/**
 * Opens a bounded stream fed by several topics. Subscribing happens before the caller's second
 * access check, so a kick that lands between the first check and the subscription is not missed.
 */
async function openStream<T>(ctx: RequestContext, routes: [Topic, Route<T>][]): Promise<EventStream<T>> {
  const unsubscribes: Unsubscribe[] = [];
  const stream = createEventStream<T>({
    capacity: ctx.services.settings.subscriptionBufferSize,
    overflowError: () =>
      new ConcordError("RATE_LIMITED", "This subscription fell too far behind and was stopped; subscribe again and fetch missed messages from history."),
    onClose: () => unsubscribes.forEach((unsubscribe) => unsubscribe()),
  });
  for (const [topic, route] of routes) {
    const unsubscribe = await ctx.services.bus.subscribe(topic, (event) => {
      const decision = route(event);
      if (!decision) return;
      if ("end" in decision) stream.end(decision.end);
      else stream.push(decision.deliver);
    });
    if (stream.ended) unsubscribe();
    else unsubscribes.push(unsubscribe);
  }
  return stream;
}

/**
 * Ends any stream of the viewer when a revocation covers its session (logout, revokeSession,
 * revokeOtherSessions and changePassword from another session, bot token reset).
 */
function sessionRoute<T>(ctx: RequestContext): Route<T> {
  const viewerId = ctx.viewer?.id ?? null;
  return (event) =>
    event.type === "SessionRevoked" && viewerId !== null && revokes(event, viewerId, ctx.tokenHash)
      ? { end: unauthenticated("Your session ended (signed out, revoked, password changed or token reset); sign in again.") }
      : null;
}

/**
 * Live messages of one channel, in message-id order. The viewer must be able to read the
 * channel when subscribing; the stream ends with FORBIDDEN the moment they leave or are kicked
 * from its guild, and with NOT_FOUND if the channel or guild is deleted.
 */
export async function channelEvents(ctx: RequestContext, channelId: bigint): Promise<EventStream<ChannelEvent>> {
  const viewer = requireViewer(ctx);
  const channel = await readableChannel(ctx, channelId);
  const stream = await openStream<ChannelEvent>(ctx, [
    [
      topics.channel(channel.id),
      (event) => {
        switch (event.type) {
          case "MessageDeleted":
            ctx.services.deletions.add(event.messageId);
            return { deliver: event };
          case "MessageUpdated":
            // An edit that raced a delete of the same message must not bring it back.
            return ctx.services.deletions.has(event.message.id) ? null : { deliver: event };
          case "MessageCreated":
          case "EventsMissed":
          case "TypingStarted":
            return { deliver: event };
          case "ChannelDeleted":
            return { end: notFound("Channel", String(channel.id)) };
          default:
            return null;
        }
      },
    ],
    [
      topics.user(viewer.id),
      (event) => {
        if (event.type === "GuildLeft" && event.guildId === channel.guildId) {
          return { end: forbidden(event.reason === "KICKED" ? "You were removed from this channel's guild." : "You are no longer a member of this channel's guild.") };
        }
        return sessionRoute<ChannelEvent>(ctx)(event);
      },
    ],
  ]);
  await recheck(ctx, stream, () => readableChannel(ctx, channel.id));
  return stream;
}

/** Channel, membership and settings changes of one guild the viewer belongs to. */
export async function guildEvents(ctx: RequestContext, guildId: bigint): Promise<EventStream<GuildEvent>> {
  const viewer = requireViewer(ctx);
  const guild = await visibleGuild(ctx, guildId);
  const stream = await openStream<GuildEvent>(ctx, [
    [
      topics.guild(guild.id),
      (event) => {
        switch (event.type) {
          case "ChannelCreated":
          case "ChannelUpdated":
          case "ChannelDeleted":
          case "GuildUpdated":
          case "MemberJoined":
          case "MemberLeft":
          case "PresenceUpdated":
          case "OnlineCountUpdated":
            return { deliver: event };
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
          ? { end: forbidden("You are no longer a member of this guild.") }
          : sessionRoute<GuildEvent>(ctx)(event),
    ],
  ]);
  await recheck(ctx, stream, () => visibleGuild(ctx, guild.id));
  return stream;
}

/** What concerns the viewer on every session: guilds joined and left (or kicked from), new DMs. */
export async function userEvents(ctx: RequestContext): Promise<EventStream<UserEvent>> {
  const viewer = requireViewer(ctx);
  return openStream<UserEvent>(ctx, [
    [
      topics.user(viewer.id),
      (event) => {
        switch (event.type) {
          case "GuildJoined":
          case "GuildLeft":
          case "DirectMessageOpened":
          case "PresenceUpdated":
          case "ReadStateUpdated":
            return { deliver: event };
          default:
            return sessionRoute<UserEvent>(ctx)(event);
        }
      },
    ],
  ]);
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
