import type { GraphQLError } from "graphql";

/** What a subscription's source stream yields: an event, or a final error to show the client. */
export type StreamItem<T> = { kind: "event"; event: T } | { kind: "end"; error: GraphQLError };

export interface EventStream<T> extends AsyncIterableIterator<StreamItem<T>> {
  /** Queues an event for the consumer. Returns false once the stream has ended. */
  push(event: T): boolean;
  /**
   * Ends the stream. With an error, the consumer receives it as the last item (after the events
   * already queued are dropped: the reason to stop wins over stale events); without one, the
   * queued events are delivered first. Idempotent: the first end wins.
   */
  end(error?: GraphQLError): void;
  readonly ended: boolean;
  /** Events queued and not yet taken by the consumer. */
  readonly queued: number;
  /**
   * Resolves once at most `count` events are queued (at once if already so) or the stream
   * ended: a producer with a backlog (a replay) paces itself on the consumer with it.
   */
  whenAtMost(count: number): Promise<void>;
}

/**
 * A bounded push-to-pull queue between the event bus (push, synchronous) and a GraphQL
 * subscription (pull, async). At most `capacity` events wait for a slow consumer; one more and
 * the stream ends with `overflowError()`, so a stuck client costs bounded memory and never
 * slows the publisher or other subscribers. `onClose` runs once when the stream ends for any
 * reason (end, consumer `return()`, overflow) to release bus subscriptions.
 */
export function createEventStream<T>(options: {
  capacity: number;
  overflowError: () => GraphQLError;
  onClose: () => void;
}): EventStream<T> {
  const queue: StreamItem<T>[] = [];
  let waiting: ((result: IteratorResult<StreamItem<T>>) => void) | null = null;
  let ended = false;
  let closed = false;
  /** Producers waiting for room (whenAtMost), checked each time the consumer takes an item. */
  let roomWaiters: { count: number; resolve: () => void }[] = [];
  const wakeRoomWaiters = () => {
    if (roomWaiters.length === 0) return;
    const still: typeof roomWaiters = [];
    for (const waiter of roomWaiters) (ended || queue.length <= waiter.count ? waiter.resolve() : still.push(waiter));
    roomWaiters = still;
  };

  const close = () => {
    if (closed) return;
    closed = true;
    options.onClose();
    wakeRoomWaiters();
  };
  const offer = (item: StreamItem<T>) => {
    if (waiting) {
      const resolve = waiting;
      waiting = null;
      resolve({ value: item, done: false });
    } else {
      queue.push(item);
    }
  };
  const finish = () => {
    if (waiting && queue.length === 0) {
      const resolve = waiting;
      waiting = null;
      resolve({ value: undefined, done: true });
    }
  };

  const stream: EventStream<T> = {
    get ended() {
      return ended;
    },
    get queued() {
      return queue.length;
    },
    whenAtMost(count) {
      if (ended || queue.length <= count) return Promise.resolve();
      return new Promise((resolve) => roomWaiters.push({ count, resolve }));
    },
    push(event) {
      if (ended) return false;
      if (queue.length >= options.capacity) {
        stream.end(options.overflowError());
        return false;
      }
      offer({ kind: "event", event });
      return true;
    },
    end(error) {
      if (ended) return;
      ended = true;
      close();
      if (error) {
        queue.length = 0;
        offer({ kind: "end", error });
      }
      finish();
    },
    next() {
      const item = queue.shift();
      if (item) {
        wakeRoomWaiters();
        return Promise.resolve({ value: item, done: false });
      }
      if (ended) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
    return() {
      ended = true;
      queue.length = 0;
      close();
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(error) {
      stream.return!();
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}
