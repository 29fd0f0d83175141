import type { ConcordEvent } from "./events.js";
import type { EventHandler } from "./event-bus.js";
import type { Topic } from "./topics.js";

/**
 * The handlers of one instance, by topic. Both bus adapters deliver through it: the memory bus
 * directly, the Redis bus once per event received from Redis. It tells its owner when a topic
 * gains its first handler or loses its last, so a remote subscription exists only while needed.
 */
export class LocalFanout {
  private readonly handlers = new Map<Topic, Set<EventHandler>>();

  constructor(private readonly onError: (error: unknown, topic: Topic) => void) {}

  /** Adds a handler (adding the same function twice keeps one); returns true if it is the topic's first. */
  add(topic: Topic, handler: EventHandler): boolean {
    let set = this.handlers.get(topic);
    const first = set === undefined;
    if (!set) this.handlers.set(topic, (set = new Set()));
    set.add(handler);
    return first;
  }

  /** Removes a handler; returns true if the topic has none left. */
  remove(topic: Topic, handler: EventHandler): boolean {
    const set = this.handlers.get(topic);
    if (!set) return false;
    set.delete(handler);
    if (set.size > 0) return false;
    this.handlers.delete(topic);
    return true;
  }

  /**
   * Calls every handler of the topic with the event, its sequence number and epoch (for a
   * notice outside the sequence, such as LiveGap: where the sequence stands), in
   * subscription order; a throwing handler does not stop the others.
   */
  deliver(topic: Topic, event: ConcordEvent, seq = 0, epoch = ""): void {
    const set = this.handlers.get(topic);
    if (!set) return;
    for (const handler of set) {
      try {
        handler(event, seq, epoch);
      } catch (error) {
        this.onError(error, topic);
      }
    }
  }

  /** How many handlers the topic has on this instance. */
  count(topic: Topic): number {
    return this.handlers.get(topic)?.size ?? 0;
  }

  /** Topics with at least one handler. */
  topics(): Topic[] {
    return [...this.handlers.keys()];
  }

  clear(): void {
    this.handlers.clear();
  }
}
