/**
 * Defers calls of `start` made during one turn of the event loop to its end (setImmediate) and
 * starts them there one after the other, synchronously. For cassandra-driver that means one
 * socket write for all of them: its write queue coalesces requests queued before its next
 * `process.nextTick`, and sends that arrive on different HTTP sockets are otherwise queued in
 * different callbacks, so each became its own write system call. A lone call waits one turn.
 *
 * Each caller gets its own call's outcome; nothing is retried or reordered (calls start in the
 * order they were made).
 */
export function sameTurn<A, R>(start: (arg: A) => Promise<R>): (arg: A) => Promise<R> {
  let queue: { arg: A; resolve: (value: R) => void; reject: (error: unknown) => void }[] = [];
  const flush = (): void => {
    const calls = queue;
    queue = [];
    for (const call of calls) {
      let started: Promise<R>;
      try {
        started = start(call.arg);
      } catch (error) {
        call.reject(error);
        continue;
      }
      started.then(call.resolve, call.reject);
    }
  };
  return (arg) =>
    new Promise<R>((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push({ arg, resolve, reject });
    });
}
