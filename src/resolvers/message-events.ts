import { releaseLoaders, type RequestContext } from "../context.js";
import { badInput } from "../errors.js";
import type { TopicHead } from "../pubsub/event-bus.js";
import type { EventStream } from "../pubsub/event-stream.js";
import { requireViewer } from "./access.js";
import { parseAfter } from "./live-streams.js";
import { MessageStream, type ChannelFilter, type MessageStreamItem } from "./message-stream.js";
import { parseId } from "./validate.js";

/** messageEvents' `filter` argument as the schema passes it. */
export interface MessageEventFilterInput {
  guildIds?: readonly string[] | null;
  channelIds?: readonly string[] | null;
  includeDirectMessages?: boolean | null;
}

/** One entry of messageEvents' `resume` argument: the last cursor received for a channel. */
export interface ChannelResumeInput {
  channelId: string;
  after: string;
}

/**
 * The messages (created, edited, deleted) of every channel the viewer can read, now and later,
 * on one stream: guild channels of each guild they are in, DMs and group DMs, narrowed by
 * `filter`. Channels come and go with access (ChannelWatched, ChannelUnwatched) without ending
 * the stream; each channel's events carry that channel's cursor, and `resume` gives one per
 * channel to replay what was missed. Ids in the filter that the viewer cannot see are accepted
 * and match nothing until they can (so nothing can be probed with them).
 */
export async function messageEvents(ctx: RequestContext, filter: MessageEventFilterInput | null, resume: readonly ChannelResumeInput[] | null): Promise<EventStream<MessageStreamItem>> {
  const viewer = requireViewer(ctx);
  const { maxStreamChannels, caps } = ctx.services.settings;
  const live = new MessageStream(ctx, viewer, channelFilter(filter, caps.guildsPerUser, maxStreamChannels), resumePlaces(resume, maxStreamChannels));
  await live.start();
  releaseLoaders(ctx.loaders);
  return live.stream;
}

/** The filter decoded: BAD_USER_INPUT naming the field for a malformed id or a list that is too long. */
function channelFilter(input: MessageEventFilterInput | null, maxGuilds: number, maxChannels: number): ChannelFilter {
  return {
    guildIds: idSet("filter.guildIds", input?.guildIds, maxGuilds),
    channelIds: idSet("filter.channelIds", input?.channelIds, maxChannels),
    directMessages: input?.includeDirectMessages ?? true,
  };
}

function idSet(field: string, ids: readonly string[] | null | undefined, max: number): ReadonlySet<bigint> | null {
  if (ids === null || ids === undefined) return null;
  if (ids.length > max) throw badInput(field, `${field} takes at most ${max} ids.`);
  return new Set(ids.map((id, i) => parseId(`${field}[${i}]`, id)));
}

/** The resume cursors by channel: BAD_USER_INPUT for a malformed one, a channel given twice or too many. */
function resumePlaces(resume: readonly ChannelResumeInput[] | null, max: number): ReadonlyMap<bigint, TopicHead> {
  const places = new Map<bigint, TopicHead>();
  if (!resume) return places;
  if (resume.length > max) throw badInput("resume", `resume takes at most ${max} channels (one cursor each).`);
  resume.forEach((entry, i) => {
    const channelId = parseId(`resume[${i}].channelId`, entry.channelId);
    if (places.has(channelId)) throw badInput(`resume[${i}].channelId`, "Give each channel's cursor once: the last one you received for it.");
    places.set(channelId, parseAfter(`resume[${i}].after`, entry.after)!);
  });
  return places;
}
