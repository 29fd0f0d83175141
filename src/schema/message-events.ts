import type { ChannelNotice, UnwatchReason } from "../resolvers/message-stream.js";
import { builder } from "./builder.js";
import { LiveEventRef, ResyncReasonEnum } from "./live-event.js";

/**
 * The arguments and notices of `messageEvents`, the one stream of every readable channel's
 * messages (its union and field are in events.ts, with the other subscriptions).
 */

/** Which channels messageEvents follows. */
export const MessageEventFilterInput = builder.inputType("MessageEventFilter", {
  description:
    "Narrows messageEvents. Every criterion given must hold; omitted ones let everything through. Ids you cannot see are accepted " +
    "and match nothing until you can (a guild you join later, a channel revealed to you later).",
  fields: (t) => ({
    guildIds: t.idList({ description: "Only guild channels of these guilds (at most MAX_GUILDS_PER_USER ids). DMs are governed by includeDirectMessages." }),
    channelIds: t.idList({ description: "Only these channels, guild channels or DMs (at most MAX_STREAM_CHANNELS ids)." }),
    includeDirectMessages: t.boolean({ defaultValue: true, description: "Whether DMs and group DMs are followed (default true)." }),
  }),
});

/** A channel's last cursor, to resume it. */
export const ChannelResumeInput = builder.inputType("ChannelResumeCursor", {
  description: "Where to resume one channel of messageEvents: the last `cursor` you received for it (a message event's or ChannelWatched's).",
  fields: (t) => ({
    channelId: t.id({ required: true, description: "The channel." }),
    after: t.string({ required: true, description: "The last cursor you received for that channel." }),
  }),
});

const UnwatchCauseEnum = builder.enumType("ChannelUnwatchedCause", {
  description: "Why messageEvents stopped following a channel.",
  values: {
    ACCESS_LOST: { description: "You can no longer see it (a role, an overwrite, a category sync)." },
    CHANNEL_DELETED: { description: "The channel was deleted." },
    GUILD_LEFT: { description: "You left its guild, were kicked or banned, or the guild was deleted." },
    GROUP_LEFT: { description: "You left or were removed from the group DM." },
  } satisfies Record<UnwatchReason, { description: string }>,
});

/** A channel joined the stream. */
export const ChannelWatchedRef = builder.objectRef<Extract<ChannelNotice, { type: "ChannelWatched" }>>("ChannelWatched").implement({
  description:
    "messageEvents follows this channel from `cursor` on: sent after Subscribed for each channel it starts with, and whenever a channel " +
    "becomes readable (created, revealed, a guild joined, a DM opened). Keep `cursor` as the channel's place until one of its events comes. " +
    "When resuming a channel, `cursor` is the one you gave, and what it missed follows.",
  interfaces: [LiveEventRef],
  fields: (t) => ({
    channelId: t.id({ description: "The channel.", resolve: (e) => String(e.channelId) }),
    guildId: t.id({ nullable: true, description: "Its guild; null for a DM or group DM.", resolve: (e) => (e.guildId === null ? null : String(e.guildId)) }),
  }),
});

/** A channel left the stream. */
export const ChannelUnwatchedRef = builder.objectRef<Extract<ChannelNotice, { type: "ChannelUnwatched" }>>("ChannelUnwatched").implement({
  description:
    "messageEvents no longer follows this channel (the stream goes on with the others): forget its cursor. `cursor` is the channel's " +
    "place when it stopped.",
  interfaces: [LiveEventRef],
  fields: (t) => ({
    channelId: t.id({ description: "The channel.", resolve: (e) => String(e.channelId) }),
    guildId: t.id({ nullable: true, description: "Its guild; null for a DM or group DM.", resolve: (e) => (e.guildId === null ? null : String(e.guildId)) }),
    cause: t.field({ type: UnwatchCauseEnum, description: "Why it is no longer followed.", resolve: (e) => e.cause }),
  }),
});

/** A channel of messageEvents that could not be resumed from the cursor given for it. */
export const ChannelResyncRequiredRef = builder.objectRef<Extract<ChannelNotice, { type: "ChannelResyncRequired" }>>("ChannelResyncRequired").implement({
  description:
    "messageEvents' ResyncRequired for one channel: sent right after its ChannelWatched when its `resume` cursor could not be honoured, or " +
    "where a gap the server could not repair was found. Refetch that channel's recent history; its events follow from `cursor` on. Never a silent gap.",
  interfaces: [LiveEventRef],
  fields: (t) => ({
    channelId: t.id({ description: "The channel whose events are gone (`cursor` is its place).", resolve: (e) => String(e.channelId) }),
    reason: t.field({ type: ResyncReasonEnum, description: "Why its events after the cursor are gone.", resolve: (e) => e.reason }),
  }),
});
