import type { RequestContext } from "../context.js";
import { topics } from "../pubsub/topics.js";
import type { UserRecord } from "../stores/account-store.js";
import type { ChannelRecord } from "../stores/channel-store.js";
import { requireViewer } from "./access.js";
import { sendableChannel } from "./messages.js";
import { charge, perUser } from "./rate-limit.js";

/** How long one startTyping lasts. */
export const TYPING_TTL_MS = 10_000;
/** Repeated startTyping calls within this long of the last announced one are absorbed. */
export const TYPING_QUIET_MS = 5_000;

/**
 * Announces that the viewer is typing in a channel they can read: subscribers get TypingStarted
 * with an expiry 10 s ahead. Calls within 5 s of the last announced one change nothing (clients
 * may call on every keystroke); a message sent by the viewer ends the state.
 */
export async function startTyping(ctx: RequestContext, channelId: bigint): Promise<boolean> {
  const viewer = requireViewer(ctx);
  // Over budget, the call is absorbed like a repeat within the quiet period: true, nothing announced.
  if (!(await charge(ctx, perUser(ctx, "typing")))) return true;
  const channel = await sendableChannel(ctx, channelId, { slowmode: false });
  const { presence, bus, announcer, now } = ctx.services;
  const at = now();
  if (await presence.startTyping(channel.id, viewer.id, at, TYPING_TTL_MS, TYPING_QUIET_MS)) {
    const expiresAt = new Date(at.getTime() + TYPING_TTL_MS);
    // Fleeting: outside the channel's sequence, never replayed, no place in its log.
    await bus.publish(topics.channel(channel.id), { type: "TypingStarted", channelId: channel.id, user: viewer, expiresAt }, { ephemeral: true });
    announcer.touch(viewer.id);
  }
  return true;
}

/**
 * Most people `Channel.typing` lists. Clients show a few names and then "several people are
 * typing"; in a busy channel of a large guild the full list would be unbounded.
 */
export const MAX_TYPING_LISTED = 20;

/**
 * Who is typing in a channel right now (the channel was already checked readable), soonest
 * expiry first: the {@link MAX_TYPING_LISTED} who started last, when more are typing.
 */
export async function typingIn(ctx: RequestContext, channel: ChannelRecord): Promise<{ channelId: bigint; user: UserRecord; expiresAt: Date }[]> {
  const typing = (await ctx.services.presence.typing(channel.id, ctx.services.now())).slice(-MAX_TYPING_LISTED);
  const users = await ctx.loaders.user.loadMany(typing.map((t) => t.userId));
  return typing.flatMap((t, i) => {
    const user = users[i];
    return user && !(user instanceof Error) ? [{ channelId: channel.id, user, expiresAt: t.expiresAt }] : [];
  });
}
