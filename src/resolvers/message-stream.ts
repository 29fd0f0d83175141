import type { GraphQLError } from "graphql";
import type { RequestContext } from "../context.js";
import { ConcordError, forbidden, limitExceeded } from "../errors.js";
import type { TopicHead, Unsubscribe } from "../pubsub/event-bus.js";
import { createEventStream, type EventStream } from "../pubsub/event-stream.js";
import type { ConcordEvent } from "../pubsub/events.js";
import { topics } from "../pubsub/topics.js";
import type { UserRecord } from "../stores/account-store.js";
import type { ChannelRecord } from "../stores/channel-store.js";
import { openLane, overflow, type Lane, type Live, type ResyncReason, type StreamNotice, type StreamSink } from "./live-streams.js";
import { canSee, messageRoute, messagesFromHistory, sessionDecision, type MessageEvent } from "./subscriptions.js";

/**
 * One stream of the messages of every channel a viewer can read (messageEvents): each channel is
 * a lane (live-streams.ts `openLane`) with its own topic, place and resume, all writing into one
 * bounded queue. Which channels are followed is decided in memory from the permission cache and
 * kept current from the viewer's user topic (guilds joined and left, DMs opened, group DMs left)
 * and the permission changes of their guilds (roles, overwrites, channels created and deleted):
 * no store read per event, and a channel's events pass through its lane exactly as through
 * channelEvents (the same shared objects, so shared fan-out still executes each once per group).
 */

/** Why a channel left a messageEvents stream. */
export type UnwatchReason = "ACCESS_LOST" | "CHANNEL_DELETED" | "GUILD_LEFT" | "GROUP_LEFT";

/**
 * messageEvents' own notices: a channel joined the stream (at its place), left it, or could not
 * be resumed (its ResyncRequired, naming it).
 */
export type ChannelNotice =
  | { type: "ChannelWatched"; channelId: bigint; guildId: bigint | null; cursor: string }
  | { type: "ChannelUnwatched"; channelId: bigint; guildId: bigint | null; cause: UnwatchReason; cursor: string }
  | { type: "ChannelResyncRequired"; channelId: bigint; reason: ResyncReason; cursor: string };

/** What a messageEvents stream yields. */
export type MessageStreamItem = Live<MessageEvent> | StreamNotice | ChannelNotice;

/** Which channels a stream follows: null sets mean "any". */
export interface ChannelFilter {
  guildIds: ReadonlySet<bigint> | null;
  channelIds: ReadonlySet<bigint> | null;
  directMessages: boolean;
}

/** DM channels read per page when a stream starts. */
const DM_PAGE = 500;

/** True if the filter lets the channel through (guildIds restricts guild channels; DMs by `directMessages`). */
function wanted(filter: ChannelFilter, channel: ChannelRecord): boolean {
  if (filter.channelIds && !filter.channelIds.has(channel.id)) return false;
  if (channel.guildId === null) return filter.directMessages;
  return channel.kind === "GUILD_TEXT" && (!filter.guildIds || filter.guildIds.has(channel.guildId));
}

/**
 * One channel of the stream, as its lane sees the stream: its `Subscribed` becomes
 * ChannelWatched, its ResyncRequired names the channel, and its end (the channel deleted)
 * takes only this channel out of the stream.
 */
class ChannelLane implements StreamSink<Live<MessageEvent> | StreamNotice> {
  lane: Lane | null = null;
  closed = false;
  /** True once the client heard ChannelWatched for it (only then is ChannelUnwatched worth sending). */
  announced = false;

  constructor(
    private readonly owner: MessageStream,
    readonly channel: ChannelRecord,
  ) {}

  get ended(): boolean {
    return this.closed || this.owner.stream.ended;
  }

  push(item: Live<MessageEvent> | StreamNotice): boolean {
    if (this.ended) return false;
    const { id: channelId, guildId } = this.channel;
    if (item.type === "Subscribed") {
      this.announced = true;
      return this.owner.stream.push({ type: "ChannelWatched", channelId, guildId, cursor: item.cursor });
    }
    if (item.type === "ResyncRequired") return this.owner.stream.push({ type: "ChannelResyncRequired", channelId, reason: item.reason, cursor: item.cursor });
    // The hot path: the shared, cursor-tagged event itself.
    return this.owner.stream.push(item);
  }

  end(error?: GraphQLError): void {
    const code = error?.extensions.code;
    if (code === "NOT_FOUND") this.owner.unwatch(this.channel.id, "CHANNEL_DELETED");
    else if (code === "FORBIDDEN") this.owner.unwatch(this.channel.id, "ACCESS_LOST");
    // Falling behind (or anything else) ends the whole stream.
    else this.owner.stream.end(error);
  }

  whenAtMost(count: number): Promise<void> {
    return this.owner.stream.whenAtMost(count);
  }
}

/** A followed guild: its permission watch and the channels of it in the stream. */
interface FollowedGuild {
  unwatch: () => void;
  channels: Set<bigint>;
}

/**
 * The state of one messageEvents stream. Changes to the set of channels run one at a time, in
 * the order they were heard (`enqueue`); events flow through the lanes without waiting on them.
 */
export class MessageStream {
  readonly stream: EventStream<MessageStreamItem>;
  private readonly lanes = new Map<bigint, ChannelLane>();
  private readonly guilds = new Map<bigint, FollowedGuild>();
  private unsubscribeUser: Unsubscribe | null = null;
  private work: Promise<void> = Promise.resolve();
  /** Lanes opened while starting, begun once Subscribed is out (null afterwards: lanes begin as they open). */
  private starting: ChannelLane[] | null = [];

  constructor(
    private readonly ctx: RequestContext,
    private readonly viewer: UserRecord,
    private readonly filter: ChannelFilter,
    private readonly resume: ReadonlyMap<bigint, TopicHead>,
  ) {
    this.stream = createEventStream<MessageStreamItem>({ capacity: ctx.services.settings.subscriptionBufferSize, overflowError: overflow, onClose: () => this.release() });
  }

  /**
   * Follows the viewer's user topic, then every readable channel that passes the filter; sends
   * Subscribed, then each channel's ChannelWatched and (resuming) what it missed. Throws (and
   * releases everything) if the start fails, e.g. past MAX_STREAM_CHANNELS (LIMIT_EXCEEDED).
   */
  async start(): Promise<void> {
    const { services } = this.ctx;
    // First, so that a guild joined or left while the rest is read is not missed.
    this.unsubscribeUser = await services.bus.subscribe(topics.user(this.viewer.id), (event) => this.onUserEvent(event));
    const opening = this.enqueue(async () => {
      const guildIds = await services.guilds.listGuildIdsOfUser(this.viewer.id);
      for (const guildId of guildIds) if (!this.filter.guildIds || this.filter.guildIds.has(guildId)) await this.followGuild(guildId);
      if (this.filter.directMessages) for (const channel of await this.directChannels()) await this.open(channel);
      this.stream.push({ type: "Subscribed", cursor: "" });
      const lanes = this.starting ?? [];
      this.starting = null;
      for (const lane of lanes) if (!lane.closed) await lane.lane!.begin();
    });
    try {
      await opening;
    } catch (error) {
      await this.stream.return?.();
      throw error;
    }
  }

  /** The viewer's DMs and group DMs (closed ones too: they are still readable), a page at a time. */
  private async directChannels(): Promise<ChannelRecord[]> {
    const found: ChannelRecord[] = [];
    let before: bigint | null = null;
    for (;;) {
      const page = await this.ctx.services.channels.listDirectChannelsOfUser(this.viewer.id, { beforeChannelId: before, limit: DM_PAGE });
      for (const channel of page) if (wanted(this.filter, channel)) found.push(channel);
      if (page.length < DM_PAGE || found.length > this.ctx.services.settings.maxStreamChannels) return found;
      before = page[page.length - 1]!.id;
    }
  }

  /** What the viewer's user topic means for the stream: decided at once, applied in order. */
  private onUserEvent(event: ConcordEvent): void {
    const viewerId = this.viewer.id;
    switch (event.type) {
      case "GuildJoined":
        if (!this.filter.guildIds || this.filter.guildIds.has(event.guild.id)) this.enqueue(() => this.followGuild(event.guild.id));
        return;
      case "GuildLeft":
        this.enqueue(async () => this.unfollowGuild(event.guildId));
        return;
      case "DirectMessageOpened":
        if (wanted(this.filter, event.channel)) this.enqueue(() => this.open(event.channel));
        return;
      case "GroupRecipientRemoved":
        if (event.user.id === viewerId) this.enqueue(async () => this.unwatch(event.channelId, "GROUP_LEFT"));
        return;
      default: {
        const decision = sessionDecision<MessageEvent>(this.ctx, event);
        if (decision && "end" in decision) this.stream.end(decision.end);
      }
    }
  }

  /** Runs a change of the channel set after those before it; a failure ends the stream (fail closed). */
  private enqueue(change: () => Promise<void>): Promise<void> {
    const run = this.work.then(async () => {
      if (!this.stream.ended) await change();
    });
    this.work = run.catch((error: unknown) => {
      if (this.starting) return; // start() reports it to the subscriber
      if (error instanceof ConcordError) return this.stream.end(error);
      this.ctx.services.logger.warn("updating a messageEvents stream's channels failed", { error });
      this.stream.end(forbidden("Your access to this could not be re-checked; subscribe again."));
    });
    return run;
  }

  /** Starts following a guild: its permission changes, then its readable channels. Idempotent. */
  private async followGuild(guildId: bigint): Promise<void> {
    if (!this.guilds.has(guildId)) {
      const unwatch = this.ctx.services.permissions.watch(guildId, (change) => {
        if (change.userId === null || change.userId === this.viewer.id) this.enqueue(() => this.reconcile(guildId));
      });
      this.guilds.set(guildId, { unwatch, channels: new Set() });
    }
    await this.reconcile(guildId);
  }

  /**
   * Brings a guild's lanes in line with what the viewer can see there now, from the permission
   * cache: opens the channels that became readable (created, revealed by a role or overwrite),
   * closes those that are not any more.
   */
  private async reconcile(guildId: bigint): Promise<void> {
    const followed = this.guilds.get(guildId);
    if (!followed) return;
    const state = await this.ctx.services.permissions.get(guildId, this.viewer.id);
    if (!state || state.roleIds === null) {
      // Not a member (any more, or not yet as this instance knows it): no channels. The watch
      // stays until GuildLeft, so a join this cache has not heard of yet is picked up.
      for (const channelId of [...followed.channels]) this.unwatch(channelId, "GUILD_LEFT");
      if (!state) this.unfollowGuild(guildId);
      return;
    }
    for (const channelId of [...followed.channels]) {
      const channel = state.access.channels.get(channelId);
      if (!channel) this.unwatch(channelId, "CHANNEL_DELETED");
      else if (!canSee(state, this.viewer.id, channelId)) this.unwatch(channelId, "ACCESS_LOST");
    }
    for (const channel of state.access.channels.values()) {
      if (!this.lanes.has(channel.id) && wanted(this.filter, channel) && canSee(state, this.viewer.id, channel.id)) await this.open(channel);
    }
  }

  /** Stops following a guild and every channel of it. */
  private unfollowGuild(guildId: bigint): void {
    const followed = this.guilds.get(guildId);
    if (!followed) return;
    for (const channelId of [...followed.channels]) this.unwatch(channelId, "GUILD_LEFT");
    followed.unwatch();
    this.guilds.delete(guildId);
  }

  /** Opens a channel's lane (resuming from the client's cursor for it, at start only). */
  private async open(channel: ChannelRecord): Promise<void> {
    if (this.lanes.has(channel.id) || this.stream.ended) return;
    // Each channel is a topic subscription on this instance: bounded per stream.
    const max = this.ctx.services.settings.maxStreamChannels;
    if (this.lanes.size >= max) {
      throw limitExceeded(
        "streamChannels",
        max,
        "MAX_STREAM_CHANNELS",
        `messageEvents follows at most ${max} channels; narrow it with filter.guildIds or filter.channelIds, or split it into several subscriptions.`,
      );
    }
    const lane = new ChannelLane(this, channel);
    this.lanes.set(channel.id, lane);
    if (channel.guildId !== null) this.guilds.get(channel.guildId)?.channels.add(channel.id);
    const after = this.starting ? (this.resume.get(channel.id) ?? null) : null;
    lane.lane = await openLane<MessageEvent>(this.ctx, lane, [topics.channel(channel.id), (event) => messageRoute(this.ctx, channel.id, event)], {
      after,
      messagesFromHistory: after ? (ids) => messagesFromHistory(this.ctx, channel.id, ids) : undefined,
    });
    if (lane.closed) return lane.lane.release();
    if (this.starting) this.starting.push(lane);
    else await lane.lane.begin();
  }

  /** Takes one channel out of the stream and tells the client why. Idempotent. */
  unwatch(channelId: bigint, reason: UnwatchReason): void {
    const lane = this.lanes.get(channelId);
    if (!lane) return;
    lane.closed = true;
    lane.lane?.release();
    this.lanes.delete(channelId);
    const { guildId } = lane.channel;
    if (guildId !== null) this.guilds.get(guildId)?.channels.delete(channelId);
    if (lane.announced) this.stream.push({ type: "ChannelUnwatched", channelId, guildId, cause: reason, cursor: lane.lane!.cursor() });
  }

  /** Channels followed now (for tests). */
  get channelCount(): number {
    return this.lanes.size;
  }

  /** Stops following everything (the stream ended). */
  private release(): void {
    this.unsubscribeUser?.();
    this.unsubscribeUser = null;
    for (const lane of this.lanes.values()) {
      lane.closed = true;
      lane.lane?.release();
    }
    this.lanes.clear();
    for (const followed of this.guilds.values()) followed.unwatch();
    this.guilds.clear();
  }
}
