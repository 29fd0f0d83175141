import type { ConcordEvent } from "./events.js";
import type { EventHandler } from "./event-bus.js";
import type { Topic } from "./topics.js";

/** Handler calls one turn of the event loop makes before the rest of the fan-out waits for the next turn. */
export const DEFAULT_HANDLERS_PER_TURN = 256;

/** One event on its way to a topic's handlers: where it stands in the set. */
interface Delivery {
  topic: Topic;
  handlers: IterableIterator<EventHandler>;
  event: ConcordEvent;
  seq: number;
  epoch: string;
  /** Called once every handler has been called (tracing: the end of the event's deliver span). */
  done: (() => void) | undefined;
}

/**
 * The handlers of one instance, by topic. Both bus adapters deliver through it: the memory bus
 * directly, the Redis bus once per event received from Redis. It tells its owner when a topic
 * gains its first handler or loses its last, so a remote subscription exists only while needed.
 *
 * Fan-out is paced: at most `handlersPerTurn` handler calls (and the socket writes their
 * subscriptions make in the microtasks that follow) per turn of the event loop, the rest in the
 * next turns. An event for a big topic therefore never holds the loop for long: the sender's
 * `sendMessage` answer, other requests and other sockets' reads go out between two slices, so
 * the author's latency does not grow with the number of subscribers. Deliveries wait in one
 * FIFO queue, so every handler still receives events in the order they were handed over, across
 * topics too; a handler removed meanwhile receives nothing more.
 */
export class LocalFanout {
  private readonly handlers = new Map<Topic, Set<EventHandler>>();
  /** Deliveries not finished yet, oldest first; only the head is ever in progress. */
  private readonly queue: Delivery[] = [];
  /** Handler calls still allowed in this turn. */
  private budget: number;
  /** A slice is scheduled for the next turn (it restores the budget and continues the queue). */
  private scheduled = false;

  constructor(
    private readonly onError: (error: unknown, topic: Topic) => void,
    private readonly handlersPerTurn = DEFAULT_HANDLERS_PER_TURN,
  ) {
    this.budget = handlersPerTurn;
  }

  /** Adds a handler (adding the same function twice keeps one); returns true if it is the topic's first. */
  add(topic: Topic, handler: EventHandler): boolean {
    let set = this.handlers.get(topic);
    const first = set === undefined;
    if (!set) this.handlers.set(topic, (set = new Set()));
    set.add(handler);
    return first;
  }

  /** Removes a handler; returns true if the topic has none left. Deliveries in progress skip it from now on. */
  remove(topic: Topic, handler: EventHandler): boolean {
    const set = this.handlers.get(topic);
    if (!set) return false;
    set.delete(handler);
    if (set.size > 0) return false;
    this.handlers.delete(topic);
    return true;
  }

  /**
   * Hands the event, its sequence number and epoch (for a notice outside the sequence, such as
   * LiveGap: where the sequence stands) to every handler of the topic, in subscription order; a
   * throwing handler does not stop the others. Synchronous while the turn's budget lasts and
   * nothing is waiting; otherwise queued behind what is, and continued in the next turns.
   * Handlers added while an event is on its way may receive it too (subscribers skip what is
   * at or before the place they start from). `done`, if given, is called once every handler
   * has been called (at once when the topic has none here).
   */
  deliver(topic: Topic, event: ConcordEvent, seq = 0, epoch = "", done?: () => void): void {
    const set = this.handlers.get(topic);
    if (!set) return done?.();
    const delivery: Delivery = { topic, handlers: set.values(), event, seq, epoch, done };
    if (this.queue.length > 0 || set.size > this.budget) {
      this.queue.push(delivery);
      this.schedule();
      return;
    }
    if (this.run(delivery)) done?.();
  }

  /** How many handlers the topic has on this instance. */
  count(topic: Topic): number {
    return this.handlers.get(topic)?.size ?? 0;
  }

  /** Topics with at least one handler. */
  topics(): Topic[] {
    return [...this.handlers.keys()];
  }

  /** Deliveries still on their way (queued for later turns). */
  get backlog(): number {
    return this.queue.length;
  }

  /** Forgets every handler and every delivery still on its way (whose `done` is called). */
  clear(): void {
    this.handlers.clear();
    const dropped = this.queue.splice(0);
    for (const delivery of dropped) delivery.done?.();
  }

  /** Calls handlers of one delivery while the budget lasts; true when every handler was called. */
  private run(delivery: Delivery): boolean {
    const { topic, handlers, event, seq, epoch } = delivery;
    this.schedule();
    while (this.budget > 0) {
      const next = handlers.next();
      if (next.done) return true;
      this.budget--;
      try {
        next.value(event, seq, epoch);
      } catch (error) {
        this.onError(error, topic);
      }
    }
    return false;
  }

  /** The next turn restores the budget and goes on with the queue (once per turn). */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.budget = this.handlersPerTurn;
      while (this.queue.length > 0) {
        const head = this.queue[0]!;
        if (!this.run(head)) return;
        this.queue.shift();
        head.done?.();
      }
    });
  }
}
