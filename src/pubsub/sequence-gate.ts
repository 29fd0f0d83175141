import type { SequencedEvent } from "./event-bus.js";
import type { ConcordEvent } from "./events.js";

/** What a gate needs from where the topic's sequence and log live. */
export interface GateSource {
  /** The topic's current epoch and last sequence number; epoch "" when the topic has no sequence (yet, or any more). */
  head(): Promise<{ epoch: string; seq: number }>;
  /** Logged events after `after`, in order, at most `limit` (see EventBus.replay), with the log's epoch. */
  replay(after: number, limit: number): Promise<{ epoch: string; events: SequencedEvent[] }>;
}

export interface GateOptions {
  source: GateSource;
  /** Hands on one event, in sequence order, each once, with the epoch it belongs to. */
  deliver: (event: ConcordEvent, seq: number, epoch: string) => void;
  /**
   * Some events could not be recovered (not in the log any more, or the log was lost: `to`
   * null). Called once the gate has moved past them: `position` is where delivery now stands
   * (the next event delivered is `position.seq + 1` of `position.epoch`; epoch "" while the new
   * sequence is not known yet).
   */
  onGap: (missing: { from: number; to: number | null }, position: { epoch: string; seq: number }) => void;
  /** A repair failed (the source is unreachable); the gate tries again on the next event or `catchUp`. */
  onError: (error: unknown) => void;
  /** Events held while a gap is repaired; beyond this the gap is given up as missed. Default 10,000. */
  maxPending?: number;
  /** Events read from the log per round trip. Default 500. */
  pageSize?: number;
}

/**
 * Puts one topic's events back in sequence order on one instance, whatever order (or gaps)
 * they arrive in: an event is delivered only after every earlier one, each exactly once. A gap
 * (an event that never arrived) is noticed as soon as a later one arrives, and repaired from the
 * topic's log before anything later is delivered; what the log no longer has is reported through
 * `onGap` and skipped. No timer, no waiting window: on a healthy bus (one Redis relays a topic's
 * messages in sequence order) every event passes straight through.
 *
 * Epochs: a new epoch means the sequence started again (the log was lost). The gate reports
 * the loss and follows the new epoch from its first event.
 */
export class SequenceGate {
  private epoch: string | null = null;
  /** The next sequence number to deliver; null until the starting point is known. */
  private next: number | null = null;
  private readonly pending = new Map<number, ConcordEvent>();
  private repairing: Promise<void> | null = null;
  private closed = false;
  private readonly maxPending: number;
  private readonly pageSize: number;

  constructor(private readonly options: GateOptions) {
    this.maxPending = options.maxPending ?? 10_000;
    this.pageSize = options.pageSize ?? 500;
  }

  /**
   * Sets the starting point: events up to the head now were published before the subscription
   * and are not delivered; every later one is. Call once the transport subscription is live.
   */
  async start(): Promise<void> {
    const head = await this.options.source.head();
    if (this.next !== null) return;
    // No sequence yet: the first publish starts one, whose epoch is adopted as it arrives.
    if (head.epoch !== "") this.epoch = head.epoch;
    this.next = head.epoch === "" ? 1 : head.seq + 1;
    // Events that arrived before the head was known and are not older than it.
    for (const seq of [...this.pending.keys()].sort((a, b) => a - b)) if (seq < this.next) this.pending.delete(seq);
    this.drain();
    if (this.pending.size > 0) this.repair();
  }

  /** An event from the wire, with its epoch and sequence number. */
  accept(epoch: string, seq: number, event: ConcordEvent): void {
    if (this.closed) return;
    if (this.epoch !== null && epoch !== this.epoch) {
      // The sequence restarted: everything not yet delivered from the old epoch is lost.
      const from = this.next ?? 0;
      this.pending.clear();
      this.epoch = epoch;
      this.next = 1;
      this.gap(from, null);
    }
    this.epoch ??= epoch;
    if (this.next !== null && seq < this.next) return; // delivered already (a repair got there first)
    this.pending.set(seq, event);
    if (this.next === null) return; // start() decides
    this.drain();
    if (this.pending.size > 0) this.repair();
  }

  /** Fetches whatever the log has beyond what was delivered (after a reconnect: events may have been lost). */
  catchUp(): Promise<void> {
    return this.repair(true);
  }

  close(): void {
    this.closed = true;
    this.pending.clear();
  }

  /** Where delivery stands: the last sequence number delivered (or given up as missed), and its epoch ("" if none yet). */
  position(): { epoch: string; seq: number } {
    return { epoch: this.epoch ?? "", seq: (this.next ?? 1) - 1 };
  }

  private gap(from: number, to: number | null): void {
    this.options.onGap({ from, to }, this.position());
  }

  /** Delivers the pending events that are next in line. */
  private drain(): void {
    while (this.next !== null && !this.closed) {
      const event = this.pending.get(this.next);
      if (event === undefined) return;
      this.pending.delete(this.next);
      const seq = this.next++;
      this.options.deliver(event, seq, this.epoch ?? "");
    }
  }

  /** One repair at a time; `toHead` also reads past the last event seen (up to the log's end). */
  private repair(toHead = false): Promise<void> {
    this.repairing ??= this.repairOnce(toHead).finally(() => {
      this.repairing = null;
      // More may have gone missing while this one ran.
      if (!this.closed && this.pending.size > 0) void this.repair();
    });
    return this.repairing;
  }

  private async repairOnce(toHead: boolean): Promise<void> {
    try {
      while (!this.closed && this.next !== null && (toHead || this.pending.size > 0)) {
        const from = this.next;
        const { epoch, events } = await this.options.source.replay(from - 1, this.pageSize);
        if (this.closed || this.next !== from) continue; // delivered meanwhile: look again
        if (epoch !== this.epoch) {
          // The log is gone ("") or was started again: what was not delivered is lost.
          const known = this.epoch !== null;
          this.pending.clear();
          this.epoch = epoch === "" ? null : epoch;
          this.next = 1;
          if (known) this.gap(from, null);
          if (epoch === "") return;
          continue;
        }
        for (const { seq, event } of events) if (seq >= from && !this.pending.has(seq)) this.pending.set(seq, event);
        this.drain();
        if (this.next === from) {
          // The log does not have the next event: skip to the first one that is still known.
          const known = [...this.pending.keys()].filter((seq) => seq > from);
          if (known.length === 0) return; // nothing later exists yet
          const resume = Math.min(...known);
          this.next = resume;
          this.gap(from, resume - 1);
          this.drain();
        }
        if (events.length < this.pageSize && this.pending.size === 0) return;
        if (this.pending.size > this.maxPending) {
          const resume = Math.min(...this.pending.keys());
          const skipped = this.next;
          this.next = resume;
          this.gap(skipped, resume - 1);
          this.drain();
        }
      }
    } catch (error) {
      this.options.onError(error);
    }
  }
}
