/**
 * Runs each channel's publish steps one after another, in the order they were enqueued.
 *
 * Sending a message generates its snowflake and enqueues its publish step in the same
 * synchronous turn, so enqueue order is id order; the step then waits for its own store write.
 * Writes of one channel still run concurrently; only the publishes are serialised, which is
 * what makes subscribers see a channel's events in message-id order on this instance.
 */
export class ChannelSequencer {
  private readonly tails = new Map<bigint, Promise<void>>();

  constructor(private readonly onError: (error: unknown) => void) {}

  /** Runs `step` after every step enqueued earlier for the channel; resolves when it has run. */
  enqueue(channelId: bigint, step: () => Promise<unknown>): Promise<void> {
    const previous = this.tails.get(channelId) ?? Promise.resolve();
    const current = previous
      .then(async () => {
        await step();
      })
      .catch((error: unknown) => this.onError(error));
    this.tails.set(channelId, current);
    // Forget idle channels, so the map holds only channels with publishes in flight.
    void current.then(() => {
      if (this.tails.get(channelId) === current) this.tails.delete(channelId);
    });
    return current;
  }

  /** Channels with publishes in flight (for tests and metrics). */
  get size(): number {
    return this.tails.size;
  }

  /** Resolves when every step enqueued so far has run (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.tails.size > 0) await Promise.all(this.tails.values());
  }
}
