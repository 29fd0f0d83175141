import type { Logger } from "../logger.js";
import type { EventBus } from "../pubsub/event-bus.js";
import { topics } from "../pubsub/topics.js";
import type { Ack, ReadStateStore } from "../stores/read-state-store.js";

export interface AckBufferOptions {
  store: ReadStateStore;
  bus: EventBus;
  logger: Logger;
  /** Acks are written (and announced) at most this long after they are made. */
  flushMs: number;
  /** Pending (user, channel) pairs that trigger an early flush. */
  maxPending?: number;
}

const key = (userId: bigint, channelId: bigint) => `${userId}:${channelId}`;

/**
 * Gathers read acknowledgements on this instance and writes them in batches: a client acking
 * every message of a busy channel costs one database write per flush interval, not one per
 * ack. Per (user, channel) only the largest pending id is kept (pointers only move forward).
 *
 * After each batch is written, a ReadStateUpdated per pair goes to the user's topic, so their
 * other sessions (on any instance) learn the new pointer, and a read there sees it. A failed
 * write keeps the acks for the next flush; {@link close} flushes, so a graceful shutdown loses
 * nothing acknowledged. A crash loses at most one interval of acks.
 */
export class AckBuffer {
  private pending = new Map<string, Ack>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  /** Batches written (for tests and the cost report). */
  writes = 0;

  constructor(private readonly options: AckBufferOptions) {
    this.timer = setInterval(() => void this.flush(), options.flushMs);
    this.timer.unref();
  }

  /** Records an ack; written with the next batch. */
  add(ack: Ack): void {
    const k = key(ack.userId, ack.channelId);
    const current = this.pending.get(k);
    if (!current || current.messageId < ack.messageId) this.pending.set(k, ack);
    if (this.pending.size >= (this.options.maxPending ?? 50_000)) void this.flush();
  }

  /** The largest id acked here for the pair and not yet written, if any. */
  pendingPointer(userId: bigint, channelId: bigint): bigint | undefined {
    return this.pending.get(key(userId, channelId))?.messageId;
  }

  /** Writes everything pending in one batch, then announces it. Flushes run one at a time. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeBatch());
    return this.flushing;
  }

  /** Stops the timer and writes what is pending. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return this.flushing;
    this.closed = true;
    clearInterval(this.timer);
    await this.flush();
  }

  private async writeBatch(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    try {
      await this.options.store.advance(batch);
      this.writes++;
    } catch (error) {
      this.options.logger.error("writing read states failed; retrying with the next batch", { error, acks: batch.length });
      for (const ack of batch) {
        const current = this.pending.get(key(ack.userId, ack.channelId));
        if (!current || current.messageId < ack.messageId) this.pending.set(key(ack.userId, ack.channelId), ack);
      }
      return;
    }
    await Promise.all(
      batch.map((ack) =>
        this.options.bus
          .publish(topics.user(ack.userId), { type: "ReadStateUpdated", userId: ack.userId, channelId: ack.channelId, lastReadMessageId: ack.messageId })
          .catch((error) => this.options.logger.error("read state publish failed", { error })),
      ),
    );
  }
}
