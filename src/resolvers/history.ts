import type { RequestContext } from "../context.js";
import { badInput, forbidden, notFound } from "../errors.js";
import { has, PERMISSIONS } from "../permissions/permission-set.js";
import { channelPermissionsOf, readableChannel } from "./access.js";
import type { ChannelRecord } from "../stores/channel-store.js";
import { MAX_SNOWFLAKE } from "../ids/snowflake.js";
import type { MessageRecord } from "../stores/message-store.js";
import type { UserRecord } from "../stores/account-store.js";
import { optionalInt } from "./validate.js";

/** Largest page of `Channel.messages`. */
export const MAX_PAGE_SIZE = 100;
/** Page size when the client names none. */
export const DEFAULT_PAGE_SIZE = 50;

export interface HistoryArgs {
  first?: number | null;
  after?: bigint | null;
  last?: number | null;
  before?: bigint | null;
  around?: bigint | null;
}

/** A page in chronological order (oldest first), as a Relay connection wants it. */
export interface HistoryPage {
  messages: MessageRecord[];
  hasPreviousPage: boolean;
  hasNextPage: boolean;
}

/**
 * One page of a channel's history, chronological, cursor = message id:
 * - `last`/`before` (or no arguments): the newest messages before the cursor, for scrolling back;
 * - `first`/`after`: the oldest messages after the cursor, for scrolling forward;
 * - `around`: a page centred on a message (included when it exists), for jumping to a reply.
 * The page size counts messages; each direction asks the store for one extra message to know
 * whether more exist, so `hasPreviousPage`/`hasNextPage` are exact in the direction walked and
 * for `around` in both. Against the walk, a cursor implies more (the cursor's own message), as
 * the Relay spec allows, which is exact unless that message was deleted meanwhile.
 */
export async function channelHistory(ctx: RequestContext, channel: ChannelRecord, args: HistoryArgs): Promise<HistoryPage> {
  await requireHistory(ctx, channel);
  const size = (field: "first" | "last", value: number | null | undefined) =>
    optionalInt(field, value, 1, MAX_PAGE_SIZE) ?? DEFAULT_PAGE_SIZE;
  if (args.first != null && args.last != null) throw badInput("last", "Give first or last, not both.");
  if (args.after != null && args.before != null) throw badInput("before", "Give after or before, not both.");
  const forward = args.first != null || args.after != null;
  const backward = args.last != null || args.before != null;
  if (args.around != null && (args.after != null || args.before != null)) {
    throw badInput("around", "around cannot be combined with after or before.");
  }
  if (args.around == null && forward && backward) throw badInput(args.last != null ? "last" : "before", "Use first/after to go forward or last/before to go back, not a mix.");
  const store = ctx.services.messages;

  if (args.around == null && forward) {
    const limit = size("first", args.first);
    const rows = await store.page(channel.id, { after: args.after ?? undefined, limit: limit + 1, from: "oldest" });
    return { messages: rows.slice(0, limit), hasPreviousPage: args.after != null, hasNextPage: rows.length > limit };
  }

  if (args.around != null) {
    const limit = args.last != null ? size("last", args.last) : size("first", args.first);
    const olderCount = Math.ceil(limit / 2);
    const newerCount = limit - olderCount;
    // "older" includes the centre message itself (id <= around), newest first. Around the
    // largest id there is no exclusive bound above it: every message is older (around + 1 would
    // leave the int64 range of the stores).
    const [older, newer] = await Promise.all([
      store.page(channel.id, { before: args.around < MAX_SNOWFLAKE ? args.around + 1n : undefined, limit: olderCount + 1, from: "newest" }),
      store.page(channel.id, { after: args.around, limit: newerCount + 1, from: "oldest" }),
    ]);
    return {
      messages: [...older.slice(0, olderCount).reverse(), ...newer.slice(0, newerCount)],
      hasPreviousPage: older.length > olderCount,
      hasNextPage: newer.length > newerCount,
    };
  }

  const limit = size("last", args.last);
  const rows = await store.page(channel.id, { before: args.before ?? undefined, limit: limit + 1, from: "newest" });
  return { messages: rows.slice(0, limit).reverse(), hasPreviousPage: rows.length > limit, hasNextPage: args.before != null };
}

/**
 * One message of a channel's history by id, for a client that holds only ids (a link, a
 * notification, a reply outside the loaded page): NOT_FOUND when the viewer cannot see the channel
 * or the channel has no such message (alike, so ids cannot be probed), FORBIDDEN without
 * READ_MESSAGE_HISTORY there (checked before the message is looked for), as for `Channel.messages`.
 * Read through the request's message loader: several in one request are one store read per channel.
 */
export async function historyMessage(ctx: RequestContext, input: { channelId: bigint; messageId: bigint }): Promise<MessageRecord> {
  const channel = await readableChannel(ctx, input.channelId);
  await requireHistory(ctx, channel);
  const message = await ctx.loaders.message.load(`${channel.id}:${input.messageId}`);
  if (!message) throw notFound("Message", String(input.messageId));
  return message;
}

/** FORBIDDEN unless the viewer may read the channel's history: live messages need VIEW_CHANNEL only, the history before them READ_MESSAGE_HISTORY. */
async function requireHistory(ctx: RequestContext, channel: ChannelRecord): Promise<void> {
  if (!has(await channelPermissionsOf(ctx, channel), PERMISSIONS.READ_MESSAGE_HISTORY)) throw forbidden("You need the READ_MESSAGE_HISTORY permission in this channel to read its history.");
}

/**
 * The messages with their authors attached, read in one batch of the request's user loader (its
 * cache and its errors, as a field-by-field load would see them): a page then renders without
 * waiting once per message. A message whose author is missing (or could not be read) stays as it
 * was, and its `author` field loads it as before.
 */
export async function withAuthors(ctx: RequestContext, messages: MessageRecord[]): Promise<(MessageRecord & { author?: UserRecord })[]> {
  const authors = await ctx.loaders.user.loadMany(messages.map((m) => m.authorId));
  return messages.map((m, i) => {
    const author = authors[i];
    return author && !(author instanceof Error) ? { ...m, author } : m;
  });
}
