import type { RequestContext } from "../context.js";
import { badInput, ConcordError, forbidden } from "../errors.js";
import type { TopicHead, Unsubscribe } from "../pubsub/event-bus.js";
import { createEventStream, type EventStream } from "../pubsub/event-stream.js";
import type { ConcordEvent } from "../pubsub/events.js";
import { decodeCursor, encodeCursor } from "../pubsub/cursor.js";
import type { Topic } from "../pubsub/topics.js";
import type { PermissionChange } from "../permissions/permission-cache.js";

/**
 * The machinery every live subscription shares: a bounded stream fed by bus topics, events
 * tagged with their cursor, `Subscribed` first, resume from a cursor, and access that is
 * re-checked when permissions change. The subscriptions themselves (what each delivers, and
 * when it ends) are in subscriptions.ts.
 */

/** Why a resume could not replay what the client missed: it must refetch state by query. */
export type ResyncReason = "CURSOR_EXPIRED" | "LOG_LOST";

/** Stream-only notices (never on the bus): where a subscription starts, and a failed resume. */
export type StreamNotice = { type: "Subscribed"; cursor: string } | { type: "ResyncRequired"; reason: ResyncReason; cursor: string };

/**
 * Where an opened stream puts what it delivers: its own bounded stream, or one channel's lane
 * of a stream that follows many channels (message-stream.ts), which shares one queue.
 */
export type StreamSink<T> = Pick<EventStream<T>, "push" | "end" | "ended" | "whenAtMost">;

/** An event as a subscriber receives it: the event, plus its place in the topic's sequence. */
export type Live<T> = T & { readonly cursor: string };

/**
 * What one subscription does with each bus event, decided in memory (no store query per event):
 * deliver it (the event itself, or an object derived from it once and shared), ignore it, or end
 * the stream with an error because access was lost.
 */
export type Route<T> = (event: ConcordEvent) => { deliver: T } | { end: ConcordError } | null;

/**
 * A live stream that follows permission changes of one guild (roles, overwrites, the viewer's
 * roles and membership): after each, `onChange` re-checks from the permission cache (no store
 * read per stream: a change costs one read per instance) and returns the error to end the
 * stream with when access was lost, or null.
 */
export interface AccessWatch {
  guildId: bigint;
  onChange: (change: PermissionChange) => Promise<ConcordError | null>;
}

/** Events replayed per log read. */
const REPLAY_PAGE = 200;

/** Most messages a resume past the log replays from history (more: the client pages history itself). */
const MAX_HISTORY_REPLAY = 1_000;

/**
 * Each delivered object with its cursor, made once per (object, place) and shared by every
 * subscriber on this instance, so shared fan-out still executes each event once per group. The
 * wrapper inherits every field of the event (prototype) and adds `cursor`.
 */
const tagged = new WeakMap<object, Map<number, { epoch: string; live: object }>>();
function withCursor<T extends object>(event: T, epoch: string, seq: number): Live<T> {
  // Per subscriber per event: a map lookup; the cursor is encoded once per event and place.
  let byPlace = tagged.get(event);
  if (!byPlace) tagged.set(event, (byPlace = new Map()));
  let entry = byPlace.get(seq);
  if (!entry || entry.epoch !== epoch) {
    entry = { epoch, live: Object.create(event, { cursor: { value: encodeCursor({ epoch, seq }), enumerable: true } }) as object };
    // Bounded: an event has one place per topic it was published on.
    if (byPlace.size < 8) byPlace.set(seq, entry);
  }
  return entry.live as Live<T>;
}

/** Distinct `Subscribed` notices kept for sharing (past that, the map starts over). */
const MAX_SUBSCRIBED_NOTICES = 4_096;
const subscribedNotices = new Map<string, StreamNotice>();

/**
 * The `Subscribed` notice for a place, one frozen object per cursor while it is recent: every
 * subscriber starting at the same place (a reconnect storm into a quiet channel starts thousands
 * there) gets the same object, so shared fan-out executes and serializes it once per group instead
 * of once per subscriber. Bounded: past {@link MAX_SUBSCRIBED_NOTICES} distinct places the map is
 * emptied, which costs only sharing.
 */
function subscribedNotice(place: TopicHead): StreamNotice {
  const cursor = encodeCursor(place);
  let notice = subscribedNotices.get(cursor);
  if (!notice) {
    if (subscribedNotices.size >= MAX_SUBSCRIBED_NOTICES) subscribedNotices.clear();
    notice = Object.freeze({ type: "Subscribed", cursor });
    subscribedNotices.set(cursor, notice);
  }
  return notice;
}

/** A stream opened by {@link openStream}: call `begin` once its access was checked again. */
export interface LiveStream<T> {
  readonly stream: EventStream<Live<T> | StreamNotice>;
  /**
   * Sends `Subscribed` with the place the stream starts from, then (resuming) every event of the
   * primary topic after `after` that the log still has, then what arrived meanwhile, each once
   * and in order; or `ResyncRequired` when the log cannot give them. (A method: call it on the
   * object, `live.begin()`.)
   */
  begin(): Promise<void>;
}

interface OpenOptions {
  watch?: AccessWatch;
  after?: string | null;
  /**
   * For a channel stream: the MessageCreated events of these message ids, from history (those
   * still there), so that a resume past the log still gets the messages themselves.
   */
  messagesFromHistory?: (ids: bigint[]) => Promise<Map<bigint, ConcordEvent>>;
}

/**
 * Opens a bounded stream fed by several topics; the first is the primary one, whose events the
 * stream delivers with their cursors (the others only end it: departures, revocations).
 * Subscribing happens before the caller's second access check, so a kick that lands between
 * the first check and the subscription is not missed. Events of the primary topic are held
 * until `begin`, so `Subscribed` comes first and a replay comes before what is newer.
 *
 * `after`: a cursor the client had (BAD_USER_INPUT if it is not one); checked here, before
 * anything is subscribed.
 */
export async function openStream<T extends object>(ctx: RequestContext, routes: [Topic, Route<T>][], options: OpenOptions = {}): Promise<LiveStream<T>> {
  const after = parseAfter("after", options.after);
  const stream = createEventStream<Live<T> | StreamNotice>({ capacity: ctx.services.settings.subscriptionBufferSize, overflowError: overflow, onClose: () => live.release() });
  const live = new OpenedStream<T>(ctx, stream, routes[0]!, after, options);
  await live.subscribe(routes);
  return { stream, begin: () => live.begin() };
}

/** One channel followed inside a larger stream: `begin` as for {@link LiveStream}, `release` to stop following it. */
export interface Lane {
  begin(): Promise<void>;
  release(): void;
  /** The cursor of the last place delivered (after `begin`). */
  cursor(): string;
}

/**
 * Opens one topic as a lane of a stream that follows several (messageEvents): what
 * {@link openStream} does for its primary topic (held until `begin`, resume from `after`, each
 * event once and in order, the lane's own place), writing into `sink`. The sink turns the
 * lane's `Subscribed` into its own notice and decides what the lane's end means; the lane's
 * owner calls `release` when it stops following the topic.
 */
export async function openLane<T extends object>(ctx: RequestContext, sink: StreamSink<Live<T> | StreamNotice>, route: [Topic, Route<T>], options: { after: TopicHead | null; messagesFromHistory?: OpenOptions["messagesFromHistory"] }): Promise<Lane> {
  const lane = new OpenedStream<T>(ctx, sink, route, options.after, options);
  await lane.subscribe([route]);
  return lane;
}

/** A resume cursor argument decoded (null when not given); BAD_USER_INPUT on `field` if it is not one of ours. */
export function parseAfter(field: string, given: string | null | undefined): TopicHead | null {
  if (given === null || given === undefined) return null;
  const after = decodeCursor(given);
  if (!after) throw badInput(field, `${field} must be a cursor this server gave (an event's or Subscribed's \`cursor\`).`);
  return after;
}

/**
 * One live subscription's state. A class rather than closures: the server holds one per
 * subscription for hours, and what it keeps per instance is then its fields only.
 */
class OpenedStream<T extends object> implements Lane {
  private readonly unsubscribes: Unsubscribe[] = [];
  private readonly primary: Topic;
  private readonly route: Route<T>;
  private readonly capacity: number;
  /** Primary events that arrived before `begin` finished, in order (null once begun). */
  private held: { deliver: T; seq: number; epoch: string }[] | null = [];
  /**
   * The last place delivered to the client (events at or before it are not sent again; seq -1:
   * none yet). Updated in place: `send` runs per subscriber per event and allocates nothing.
   */
  private readonly delivered: TopicHead = { epoch: "", seq: -1 };

  constructor(
    private readonly ctx: RequestContext,
    readonly stream: StreamSink<Live<T> | StreamNotice>,
    [primary, route]: [Topic, Route<T>],
    private readonly after: TopicHead | null,
    private readonly options: Omit<OpenOptions, "after">,
  ) {
    this.primary = primary;
    this.route = route;
    this.capacity = ctx.services.settings.subscriptionBufferSize;
  }

  /** Subscribes to every topic and, with a watch, to the guild's permission changes. */
  async subscribe(routes: [Topic, Route<T>][]): Promise<void> {
    const { bus } = this.ctx.services;
    for (const [topic, route] of routes) {
      const unsubscribe = await bus.subscribe(topic, (event, seq, epoch) => this.onEvent(topic, route, event, seq, epoch));
      if (this.stream.ended) unsubscribe();
      else this.unsubscribes.push(unsubscribe);
    }
    const watch = this.options.watch;
    if (watch && !this.stream.ended) this.unsubscribes.push(this.ctx.services.permissions.watch(watch.guildId, (change) => this.onPermissionChange(watch, change)));
  }

  /** Stops following every topic (and the watch). Idempotent. */
  release(): void {
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.unsubscribes.length = 0;
  }

  private onEvent(topic: Topic, route: Route<T>, event: ConcordEvent, seq: number, epoch: string): void {
    const { stream } = this;
    if (event.type === "LiveGap") {
      // Lost events the log could not give back: the client must refetch state. Before `begin`
      // it says nothing: `Subscribed` will name a place after the gap, and a resume checks the
      // log itself.
      if (topic === this.primary && !this.held) stream.push({ type: "ResyncRequired", reason: epoch === "" || seq === 0 ? "LOG_LOST" : "CURSOR_EXPIRED", cursor: encodeCursor({ epoch, seq }) });
      return;
    }
    const decision = route(event);
    if (!decision) return;
    if ("end" in decision) return stream.end(decision.end);
    if (topic !== this.primary) return;
    if (!this.held) return this.send(decision.deliver, seq, epoch);
    if (this.held.length >= this.capacity) return stream.end(overflow());
    this.held.push({ deliver: decision.deliver, seq, epoch });
  }

  private onPermissionChange(watch: AccessWatch, change: PermissionChange): void {
    if (change.userId !== null && change.userId !== this.ctx.viewer?.id) return;
    watch.onChange(change).then(
      (lost) => lost && this.stream.end(lost),
      (error: unknown) => {
        // Access could not be re-checked: fail closed, the client subscribes again.
        this.ctx.services.logger.warn("re-checking a live stream's access failed", { error, guildId: String(watch.guildId) });
        this.stream.end(forbidden("Your access to this could not be re-checked; subscribe again."));
      },
    );
  }

  cursor(): string {
    return encodeCursor({ epoch: this.delivered.epoch, seq: Math.max(0, this.delivered.seq) });
  }

  private deliveredAt(place: TopicHead): void {
    this.delivered.epoch = place.epoch;
    this.delivered.seq = place.seq;
  }

  private send(deliver: T, seq: number, epoch: string): void {
    const { delivered } = this;
    if (seq !== 0 && epoch === delivered.epoch && seq <= delivered.seq) return;
    if (seq !== 0) {
      delivered.epoch = epoch;
      delivered.seq = seq;
    }
    this.stream.push(withCursor(deliver, epoch, seq === 0 ? Math.max(0, delivered.seq) : seq));
  }

  async begin(): Promise<void> {
    const { stream, after } = this;
    if (stream.ended) return;
    // Where live delivery stands: every later event of the primary topic reaches this stream.
    const start = this.ctx.services.bus.position(this.primary) ?? { epoch: "", seq: 0 };
    const early = this.held ?? [];
    const resumeFrom = after && (await this.resumable(after, start));
    stream.push(subscribedNotice(resumeFrom ?? start));
    this.deliveredAt(resumeFrom ?? start);
    if (resumeFrom) await this.replay(resumeFrom.seq, start);
    else if (after) {
      const cursor = normalized(after, start);
      const reason: ResyncReason = cursor.epoch !== start.epoch ? "LOG_LOST" : "CURSOR_EXPIRED";
      stream.push({ type: "ResyncRequired", reason, cursor: encodeCursor(start) });
      // Other events after the cursor are gone; its messages may still be replayed from history.
      const fromHistory = this.options.messagesFromHistory;
      if (reason === "CURSOR_EXPIRED" && cursor.seq < start.seq && fromHistory) await this.replayMessages(cursor, start, fromHistory);
    }
    // What arrived meanwhile (an event at or before what was replayed is skipped by `send`).
    for (const item of early) {
      if (item.epoch !== start.epoch || item.seq > start.seq) this.send(item.deliver, item.seq, item.epoch);
    }
    this.held = null;
  }

  /** `after` if the log still holds everything between it and `start` (same epoch, not ahead), else null. */
  private async resumable(given: TopicHead, start: TopicHead): Promise<TopicHead | null> {
    const cursor = normalized(given, start);
    if (cursor.epoch !== start.epoch || cursor.seq > start.seq) return null;
    if (cursor.seq === start.seq) return cursor;
    const first = await this.ctx.services.bus.replay(this.primary, cursor.seq, 1);
    return first.complete ? cursor : null;
  }

  /**
   * A resume past the log, on a channel: the messages created after `cursor` that the log no
   * longer has, read back from history by the ids the topic's message index kept (in sequence
   * order, so exactly those published after the cursor, each once; deleted ones are skipped),
   * then the rest from the log. Nothing is replayed if the index does not reach back either, or
   * holds more than MAX_HISTORY_REPLAY of them (the client pages history itself).
   */
  private async replayMessages(cursor: TopicHead, start: TopicHead, fromHistory: (ids: bigint[]) => Promise<Map<bigint, ConcordEvent>>): Promise<void> {
    const { bus } = this.ctx.services;
    const { stream, primary } = this;
    const index = await bus.messageIdsAfter(primary, cursor.seq, MAX_HISTORY_REPLAY + 1);
    if (!index.complete || index.ids.length > MAX_HISTORY_REPLAY) return;
    const firstLogged = (await bus.replay(primary, cursor.seq, 1)).events[0]?.seq ?? start.seq + 1;
    const missing = index.ids.filter((m) => m.seq < firstLogged && m.seq <= start.seq);
    const events = await fromHistory(missing.map((m) => m.id));
    this.deliveredAt(cursor);
    for (const { seq, id } of missing) {
      if (stream.ended) return;
      await stream.whenAtMost(Math.max(0, this.capacity - REPLAY_PAGE));
      const event = events.get(id);
      const decision = event ? this.route(event) : null;
      if (decision && "end" in decision) return stream.end(decision.end);
      if (decision) this.send(decision.deliver, seq, start.epoch);
    }
    this.deliveredAt({ epoch: start.epoch, seq: Math.max(cursor.seq, firstLogged - 1) });
    await this.replay(firstLogged - 1, start);
  }

  /** Replays the primary topic's log from after `from` up to `start`, paced on the consumer. */
  private async replay(from: number, start: TopicHead): Promise<void> {
    const { stream } = this;
    let position = from;
    while (position < start.seq && !stream.ended) {
      await stream.whenAtMost(Math.max(0, this.capacity - REPLAY_PAGE));
      if (stream.ended) return;
      const page = await this.ctx.services.bus.replay(this.primary, position, Math.min(REPLAY_PAGE, start.seq - position));
      if (!page.complete || page.events.length === 0) {
        // Trimmed while we read: the client must refetch.
        stream.push({ type: "ResyncRequired", reason: "CURSOR_EXPIRED", cursor: encodeCursor(start) });
        this.deliveredAt(start);
        return;
      }
      for (const { seq, event } of page.events) {
        if (seq > start.seq) break;
        position = seq;
        const decision = this.route(event);
        if (!decision) continue;
        if ("end" in decision) return stream.end(decision.end);
        this.send(decision.deliver, seq, start.epoch);
      }
      // Events the route ignores still move the place on.
      this.deliveredAt({ epoch: start.epoch, seq: position });
    }
  }
}

/** The error that ends a stream whose consumer fell too far behind. */
export function overflow(): ConcordError {
  return new ConcordError("RATE_LIMITED", "This subscription fell too far behind and was stopped; subscribe again with the last cursor you received.");
}

/** A cursor taken before the topic had any event means the start of the current epoch. */
function normalized(given: TopicHead, start: TopicHead): TopicHead {
  return given.epoch === "" && given.seq === 0 ? { epoch: start.epoch, seq: 0 } : given;
}
