import type { EventBus, EventHandler, Unsubscribe } from "./event-bus.js";
import type { ConcordEvent } from "./events.js";
import { LocalFanout } from "./local-fanout.js";
import type { Topic } from "./topics.js";

/**
 * The position of a channel event in its channel's single order: a message's id for
 * MessageCreated, the eventId (a snowflake taken when the event was sequenced) for edits and
 * deletes. Other events carry no order and pass through at once.
 */
export function channelOrderKey(event: ConcordEvent): bigint | null {
  switch (event.type) {
    case "MessageCreated":
      return event.message.id;
    case "MessageUpdated":
    case "MessageDeleted":
      return event.eventId;
    default:
      return null;
  }
}

interface Held {
  key: bigint;
  event: ConcordEvent;
  releaseAt: number;
}

/** One channel topic on this instance: a single bus subscription and a small reorder buffer. */
class ChannelHub {
  readonly fanout: LocalFanout;
  /** Held events, sorted by key. Small: only what arrived within the last window. */
  private held: Held[] = [];
  private lastReleased = -1n;
  private timer: NodeJS.Timeout | undefined;
  unsubscribe: Unsubscribe | undefined;

  constructor(
    private readonly topic: Topic,
    private readonly windowMs: number,
    onError: (error: unknown, topic: Topic) => void,
  ) {
    this.fanout = new LocalFanout(onError);
  }

  accept(event: ConcordEvent): void {
    const key = channelOrderKey(event);
    if (key === null) {
      // A channel deletion comes after everything already received; ephemeral events (typing)
      // have no place in the order and pass at once without releasing what is held.
      if (event.type === "ChannelDeleted") this.release(Number.POSITIVE_INFINITY);
      this.fanout.deliver(this.topic, event);
      return;
    }
    if (key <= this.lastReleased) {
      // Later than the window: its place has passed; deliver now rather than never.
      this.fanout.deliver(this.topic, event);
      return;
    }
    const entry = { key, event, releaseAt: Date.now() + this.windowMs };
    let index = this.held.length;
    while (index > 0 && this.held[index - 1]!.key > key) index--;
    this.held.splice(index, 0, entry);
    this.schedule();
  }

  /** Delivers, in key order, every held event whose smallest-key predecessor has waited its window. */
  private release(now: number): void {
    while (this.held.length > 0 && this.held[0]!.releaseAt <= now) {
      const { key, event } = this.held.shift()!;
      this.lastReleased = key;
      this.fanout.deliver(this.topic, event);
    }
  }

  private schedule(): void {
    if (this.timer || this.held.length === 0) return;
    const delay = Math.max(0, this.held[0]!.releaseAt - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.release(Date.now());
      this.schedule();
    }, delay);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.held = [];
    this.fanout.clear();
  }
}

/**
 * Restores each channel's single event order on a fleet of instances. Every instance publishes a
 * channel's events in order (ChannelSequencer), but two instances sending to the same channel at
 * the same moment reach Redis in either order. This decorator holds each channel event for
 * `windowMs` and releases them sorted by {@link channelOrderKey}, once per instance and channel
 * topic (one bus subscription and one buffer per topic, shared by every local subscriber), so
 * the cost is per event, not per subscriber.
 *
 * On channel topics this replaces the port's "publish order per publisher" with "key order",
 * which is the same thing for Concord's publishers (ChannelSequencer publishes in key order) but
 * not for arbitrary ones; that is why the generic EventBus contract does not run on it.
 *
 * Guarantee: events whose publishes are less than `windowMs` apart out of order are delivered in
 * order; one delayed longer (a stalled instance, clock skew between instances beyond the window)
 * is delivered as soon as it arrives, out of order, rather than dropped. Every channel event
 * pays up to `windowMs` of extra latency; other topics pass straight through.
 */
export class ReorderingEventBus implements EventBus {
  private readonly hubs = new Map<Topic, { hub: ChannelHub; ready: Promise<void> }>();

  constructor(
    private readonly inner: EventBus,
    private readonly windowMs: number,
    private readonly onError: (error: unknown, topic: Topic) => void = () => {},
  ) {}

  publish(topic: Topic, event: ConcordEvent): Promise<void> {
    return this.inner.publish(topic, event);
  }

  async subscribe(topic: Topic, handler: EventHandler): Promise<Unsubscribe> {
    if (!topic.startsWith("channel:")) return this.inner.subscribe(topic, handler);
    let entry = this.hubs.get(topic);
    if (!entry) {
      const hub = new ChannelHub(topic, this.windowMs, this.onError);
      const ready = this.inner.subscribe(topic, (event) => hub.accept(event)).then((unsubscribe) => {
        hub.unsubscribe = unsubscribe;
      });
      entry = { hub, ready };
      this.hubs.set(topic, entry);
      ready.catch(() => {
        if (this.hubs.get(topic) === entry) this.hubs.delete(topic);
      });
    }
    const { hub, ready } = entry;
    // Each subscription is distinct, even for the same handler function.
    const own: EventHandler = (event) => handler(event);
    hub.fanout.add(topic, own);
    try {
      await ready;
    } catch (error) {
      hub.fanout.remove(topic, own);
      throw error;
    }
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      if (!hub.fanout.remove(topic, own)) return;
      if (this.hubs.get(topic)?.hub === hub) this.hubs.delete(topic);
      hub.unsubscribe?.();
      hub.dispose();
    };
  }

  /** Live subscriptions to a topic on this instance (tests wait on it instead of sleeping). */
  subscriberCount(topic: Topic): number {
    if (topic.startsWith("channel:")) return this.hubs.get(topic)?.hub.fanout.count(topic) ?? 0;
    return (this.inner as { subscriberCount?: (topic: Topic) => number }).subscriberCount?.(topic) ?? 0;
  }

  async close(): Promise<void> {
    for (const { hub } of this.hubs.values()) hub.dispose();
    this.hubs.clear();
    await this.inner.close();
  }
}
