import type { ResyncReason, StreamNotice } from "../resolvers/live-streams.js";
import { encodeCursor } from "../pubsub/cursor.js";
import { topics, type Topic } from "../pubsub/topics.js";
import { builder } from "./builder.js";
import { ChannelRef, GuildRef } from "./refs.js";

/**
 * What every live event has: its place in its stream, to resume from (see docs/LIVE.md).
 * Declared once; every event type of the three subscriptions implements it.
 */
export const LiveEventRef = builder.interfaceRef<object>("LiveEvent").implement({
  description:
    "An event of channelEvents, guildEvents, userEvents or messageEvents. `cursor` is its place in the stream: subscribe again with " +
    "`after: cursor` to receive every event after it, in order, each once (or ResyncRequired when that is no longer possible). " +
    "On messageEvents a message event's `cursor` is its channel's place (the same cursor channelEvents gives): resume with it per channel. " +
    "Events are not entities: no `id` (`cursor` is their place in the stream); the objects they carry (messages, channels, read states...) have ids.",
  fields: (t) => ({
    cursor: t.string({ description: "Opaque. Keep the last one you received.", resolve: (e) => (e as { cursor?: string }).cursor ?? "" }),
  }),
});

export const ResyncReasonEnum = builder.enumType("ResyncReason", {
  description: "Why a subscription could not resume from its `after` cursor.",
  values: {
    CURSOR_EXPIRED: { description: "The events after your cursor are no longer kept (EVENT_LOG_MAX_EVENTS, EVENT_LOG_MAX_AGE_SECONDS)." },
    LOG_LOST: { description: "The server lost its event log (for example its Redis restarted empty), or the cursor is from another one." },
  } satisfies Record<ResyncReason, { description: string }>,
});

/** First event of every subscription. */
export const SubscribedRef = builder.objectRef<Extract<StreamNotice, { type: "Subscribed" }>>("Subscribed").implement({
  description:
    "The first event of every subscription, sent once it is live: nothing after `cursor` can be missed. Read state " +
    "(history, members...) after receiving it, or resume later with `after: cursor`. When resuming, `cursor` is the one you gave. " +
    "On messageEvents `cursor` is empty: its places are per channel (ChannelWatched follows, one per channel).",
  interfaces: [LiveEventRef],
  fields: () => ({}),
});

/** A resume that could not be honoured. */
export const ResyncRequiredRef = builder.objectRef<Extract<StreamNotice, { type: "ResyncRequired" }>>("ResyncRequired").implement({
  description:
    "Sent once, right after Subscribed, when `after` could not be resumed from: some events after it are gone. Refetch the " +
    "state by query; live events follow from `cursor` on. Never a silent gap.",
  interfaces: [LiveEventRef],
  fields: (t) => ({ reason: t.field({ type: ResyncReasonEnum, description: "Why the events after the cursor are gone.", resolve: (e) => e.reason }) }),
});

/** What an `eventCursor` field says: "query, then subscribe with `after: eventCursor`" misses nothing. */
function eventCursorDescription(subscription: string): string {
  return (
    `Where ${subscription} stands now: subscribe with \`after: eventCursor\` to receive every event from here on. Select it ` +
    "first in the query (it is read when its field starts): events between it and the rest of the answer may then come twice " +
    "(apply them by id), never be missed."
  );
}

/** The cursor of a topic's head now (one read of the bus: a Redis round trip with REDIS_URL). */
async function headCursor(bus: { head(topic: Topic): Promise<{ epoch: string; seq: number }> }, topic: Topic): Promise<string> {
  return encodeCursor(await bus.head(topic));
}

builder.objectField(ChannelRef, "eventCursor", (t) =>
  t.string({ description: eventCursorDescription("channelEvents"), resolve: (c, _a, ctx) => headCursor(ctx.services.bus, topics.channel(c.id)) }),
);
builder.objectField(GuildRef, "eventCursor", (t) =>
  t.string({ description: eventCursorDescription("guildEvents"), resolve: (g, _a, ctx) => headCursor(ctx.services.bus, topics.guild(g.id)) }),
);
