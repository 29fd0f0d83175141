import type { ConcordEvent } from "./events.js";
import type { Topic } from "./topics.js";

/** Called for each event of a topic; must not throw (errors are logged and dropped). */
export type EventHandler = (event: ConcordEvent) => void;
export type Unsubscribe = () => void;

/**
 * Publish/subscribe between use cases and live subscribers, on one instance (memory) or across
 * all instances (Redis).
 *
 * Delivery is at-most-once: a subscriber that is not subscribed when an event is published, or
 * whose instance is cut off from the bus, misses it. History (the MessageStore) is the source of
 * truth that clients catch up from by cursor; the bus is only the fast path.
 *
 * Ordering: events published by one publisher to one topic reach every subscriber of that topic
 * in publish order. Nothing is promised across topics or across publishers.
 *
 * Every adapter passes test/contract/event-bus.contract.ts.
 */
export interface EventBus {
  /**
   * Delivers `event` to the topic's current subscribers. Resolves once the bus has accepted it
   * (for the memory bus, once local handlers ran; for Redis, once Redis acknowledged it).
   */
  publish(topic: Topic, event: ConcordEvent): Promise<void>;

  /**
   * Calls `handler` for every later event on `topic` until the returned function is called.
   * Resolves once the subscription is live: an event published after that is delivered.
   * Subscribing twice with the same handler delivers twice.
   */
  subscribe(topic: Topic, handler: EventHandler): Promise<Unsubscribe>;

  /** Stops delivery and releases connections. Idempotent. */
  close(): Promise<void>;
}
