/**
 * A counting semaphore with a bounded wait queue: at most `limit` tasks run at once, at most
 * `maxQueued` wait (first come, first served), and a task arriving at a full queue is refused at
 * once instead of waiting — so a burst costs bounded memory and never starves other work.
 */
export class ConcurrencySlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly maxQueued: number = Number.POSITIVE_INFINITY,
  ) {}

  /** Tasks running now. */
  get active(): number {
    return this.running;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `task` when a slot is free; returns null (and does not run it) if the queue is full.
   * The slot is released when the task settles, whether it resolves or rejects.
   */
  run<T>(task: () => Promise<T>): Promise<T> | null {
    if (this.running < this.limit) {
      this.running++;
      return this.start(task);
    }
    if (this.waiting.length >= this.maxQueued) return null;
    // The finishing task hands its slot over (running stays the same), so nothing can slip in between.
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.start(task));
  }

  private async start<T>(task: () => Promise<T>): Promise<T> {
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
