/**
 * Calls `close` on each item at a random moment within `windowMs` (all at once when it is 0), so
 * that thousands of clients told to reconnect do not all come back in the same instant. Resolves
 * once every item was closed.
 */
export function closeSpread<T>(items: readonly T[], windowMs: number, close: (item: T) => void): Promise<void> {
  return new Promise((resolve) => {
    let left = items.length;
    if (left === 0) return resolve();
    for (const item of items) {
      setTimeout(() => {
        try {
          close(item);
        } finally {
          if (--left === 0) resolve();
        }
      }, Math.random() * windowMs);
    }
  });
}
