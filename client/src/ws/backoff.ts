/** How long to wait before reconnect attempt `attempt` (0 for the first retry), in milliseconds. */
export type RetryDelay = (attempt: number) => number;

/**
 * Exponential back-off with jitter: a random delay between half and all of
 * `min(maxMs, baseMs × 2^attempt)`, so a fleet of clients dropped at once (an instance restart)
 * does not reconnect in step.
 */
export function jitteredBackoff({ baseMs = 500, maxMs = 30_000 }: { baseMs?: number; maxMs?: number } = {}): RetryDelay {
  return (attempt) => {
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  };
}

/** Waits `ms` milliseconds. */
export const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
