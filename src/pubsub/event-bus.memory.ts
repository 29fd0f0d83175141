import type { EventBus, EventHandler, Unsubscribe } from "./event-bus.js";
import type { ConcordEvent } from "./events.js";
import { LocalFanout } from "./local-fanout.js";
import type { Topic } from "./topics.js";

/**
 * {@link EventBus} inside one process, for the zero-setup mode and single-instance deployments.
 * Handlers run synchronously inside `publish`, so publish order is delivery order.
 */
export class MemoryEventBus implements EventBus {
  private readonly fanout: LocalFanout;
  private closed = false;

  constructor(onError: (error: unknown, topic: Topic) => void = () => {}) {
    this.fanout = new LocalFanout(onError);
  }

  async publish(topic: Topic, event: ConcordEvent): Promise<void> {
    if (!this.closed) this.fanout.deliver(topic, event);
  }

  async subscribe(topic: Topic, handler: EventHandler): Promise<Unsubscribe> {
    // The wrapper makes each subscription distinct, even for the same handler.
    const own: EventHandler = (event) => handler(event);
    this.fanout.add(topic, own);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.fanout.remove(topic, own);
    };
  }

  /** Live subscriptions to a topic (tests wait on it instead of sleeping). */
  subscriberCount(topic: Topic): number {
    return this.fanout.count(topic);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.fanout.clear();
  }
}
