import type { DeliveryTracer, EventBus, EventHandler, PublishOptions, SequencedEvent, TopicHead, Unsubscribe } from "./event-bus.js";
import { MemoryEventLog, type LogRetention } from "./event-log.memory.js";
import type { ConcordEvent } from "./events.js";
import { LocalFanout } from "./local-fanout.js";
import type { Topic } from "./topics.js";

/**
 * {@link EventBus} inside one process, for the zero-setup mode and single-instance deployments.
 * Sequence order is publish order is delivery order, and nothing is ever lost on the way.
 * Handlers run inside `publish` while the turn's fan-out budget lasts (see {@link LocalFanout});
 * an event for a big topic goes out over the next turns, after the publisher has its answer.
 */
export class MemoryEventBus implements EventBus {
  private readonly fanout: LocalFanout;
  private readonly log: MemoryEventLog;
  private closed = false;

  /** `traceDelivery` (tracing on) wraps the fan-out of each event published with a trace context. */
  constructor(
    onError: (error: unknown, topic: Topic) => void = () => {},
    retention?: LogRetention,
    private readonly traceDelivery?: DeliveryTracer,
  ) {
    this.fanout = new LocalFanout(onError);
    this.log = new MemoryEventLog(retention);
  }

  async publish(topic: Topic, event: ConcordEvent, options?: PublishOptions): Promise<number> {
    if (this.closed) return 0;
    const seq = options?.ephemeral ? 0 : this.log.append(topic, event);
    const traceparent = this.traceDelivery && options?.traceparent;
    if (traceparent) this.traceDelivery!(topic, event, traceparent, (done) => this.fanout.deliver(topic, event, seq, this.log.epoch, done));
    else this.fanout.deliver(topic, event, seq, this.log.epoch);
    return seq;
  }

  async head(topic: Topic): Promise<TopicHead> {
    return this.log.head(topic);
  }

  position(topic: Topic): TopicHead | null {
    return this.fanout.count(topic) > 0 ? this.log.head(topic) : null;
  }

  async messageIdsAfter(topic: Topic, after: number, limit: number): Promise<{ ids: { seq: number; id: bigint }[]; complete: boolean }> {
    return this.log.messageIdsAfter(topic, after, limit);
  }

  async replay(topic: Topic, after: number, limit: number): Promise<{ events: SequencedEvent[]; complete: boolean }> {
    return this.log.replay(topic, after, limit);
  }

  async subscribe(topic: Topic, handler: EventHandler): Promise<Unsubscribe> {
    // The wrapper makes each subscription distinct, even for the same handler.
    const own: EventHandler = (event, seq, epoch) => handler(event, seq, epoch);
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
