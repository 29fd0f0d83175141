import type { ConcordEvent } from "./events.js";
import type { Topic } from "./topics.js";

/**
 * Called for each event of a topic with its place in the topic's sequence (its number and the
 * sequence's epoch); must not throw (errors are logged and dropped).
 */
export type EventHandler = (event: ConcordEvent, seq: number, epoch: string) => void;
export type Unsubscribe = () => void;

/** The message-id index keeps this many times EVENT_LOG_MAX_EVENTS entries per topic. */
export const MESSAGE_INDEX_FACTOR = 10;

/** How an event is published. */
export interface PublishOptions {
  /**
   * A fleeting event (typing): delivered to the topic's current subscribers only, with no
   * sequence number (0) and no log entry, so it is never replayed and takes no place in the log.
   * Ordered with nothing; may be lost like any pub/sub message.
   */
  ephemeral?: boolean;
  /**
   * The publisher's W3C trace context (tracing on): carried inside the event's envelope to every
   * instance, whose fan-out of the event joins that trace (see {@link DeliveryTracer}).
   */
  traceparent?: string;
}

/**
 * Wraps the local fan-out of one event that arrived with a trace context (tracing on: one
 * "deliver" span per event per instance, never per subscriber). It must call `fanOut` once;
 * `fanOut` hands the event to the topic's handlers here and calls `done` once every handler has
 * been called (the fan-out is paced, so that may be a few turns later).
 */
export type DeliveryTracer = (topic: Topic, event: ConcordEvent, traceparent: string, fanOut: (done: () => void) => void) => void;

/** An event as the topic's log keeps it. */
export interface SequencedEvent {
  seq: number;
  event: ConcordEvent;
}

/**
 * Where a topic's sequence stands: its epoch (a new one starts when the sequence is lost, e.g.
 * Redis restarted empty or the topic idled past its retention, and numbering starts again at 1)
 * and the last sequence number given (0: none yet in this epoch).
 */
export interface TopicHead {
  epoch: string;
  seq: number;
}

/**
 * Publish/subscribe between use cases and live subscribers, on one instance (memory) or across
 * all instances (Redis), with a dense sequence and a bounded log per topic.
 *
 * Sequence: every event published on a topic gets the next integer of that topic's sequence
 * (1, 2, 3...), assigned atomically where the event is recorded, so every publisher on every
 * instance shares one order per topic. The event also goes into the topic's log, which keeps
 * the latest events (bounded by count and age) for {@link replay}.
 *
 * Ordering: every subscriber, on every instance, receives a topic's events in sequence order,
 * each once. A subscriber's instance that notices a gap (a lost message) repairs it from the
 * log before delivering anything later, without a waiting window. Nothing is promised across
 * topics.
 *
 * Delivery: an event published after `subscribe` resolved is delivered, unless it was lost AND
 * is no longer in the log (trimmed, or the log itself was lost): then the subscribers of that
 * topic get a LiveGap notice in its place (subscriptions turn it into ResyncRequired), and
 * delivery goes on from the next event the log or the wire has.
 *
 * Every adapter passes test/contract/event-bus.contract.ts.
 */
export interface EventBus {
  /**
   * Gives `event` the topic's next sequence number, appends it to the topic's log and delivers
   * it to the topic's subscribers, atomically. Resolves with its sequence number once the bus
   * has accepted it (for the memory bus, once local handlers ran; for Redis, once Redis
   * acknowledged it).
   */
  publish(topic: Topic, event: ConcordEvent, options?: PublishOptions): Promise<number>;

  /** Where the topic's sequence stands now (seq 0 when nothing was published in this epoch). */
  head(topic: Topic): Promise<TopicHead>;

  /**
   * Where this instance's delivery of `topic` stands, for a topic it has a live subscription
   * to: the last event handed to subscribers (or given up as missed). Every event after it
   * reaches a handler subscribed now, in order. Null without a live subscription.
   */
  position(topic: Topic): TopicHead | null;

  /**
   * The logged events of `topic` with a sequence number above `after`, in order, at most
   * `limit`. `complete` is false when the log no longer holds some of them (the first one
   * returned is then not `after + 1`, or none is although the head is beyond `after`).
   */
  replay(topic: Topic, after: number, limit: number): Promise<{ events: SequencedEvent[]; complete: boolean }>;

  /**
   * The messages created on a topic (MessageCreated) after sequence number `after`, as
   * (sequence number, message id) in order, at most `limit`, from an index of ids kept far longer
   * than the log ({@link MESSAGE_INDEX_FACTOR} times as many entries): a resume past the log can
   * still replay the messages themselves from history. `complete` is false when the index no
   * longer reaches back to `after`.
   */
  messageIdsAfter(topic: Topic, after: number, limit: number): Promise<{ ids: { seq: number; id: bigint }[]; complete: boolean }>;

  /**
   * Calls `handler` for every later event on `topic` until the returned function is called.
   * Resolves once the subscription is live: an event published after that is delivered.
   * Subscribing twice with the same handler delivers twice.
   */
  subscribe(topic: Topic, handler: EventHandler): Promise<Unsubscribe>;

  /** Stops delivery and releases connections. Idempotent. */
  close(): Promise<void>;
}
