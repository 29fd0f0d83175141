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
  /**
   * Push mode, instead of `next()`: `consumer.readable()` is called synchronously each time an
   * item is queued and when the stream ends, and the consumer takes items with {@link take}.
   * A consumer in push mode holds no pending promise while idle (live subscriptions wait for
   * hours between events, and an awaiting async frame costs about half a kilobyte).
   */
  listen(consumer: StreamConsumer): void;
  /** The next queued item, if any (push mode); the stream's end is `ended` with nothing left to take. */
  take(): StreamItem<T> | undefined;
}

/** A push-mode consumer of an {@link EventStream}. */
export interface StreamConsumer {
  /** Items are ready to {@link EventStream.take}, or the stream ended. Called synchronously by the producer. */
  readable(): void;
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
  return new BoundedEventStream<T>(options.capacity, options.overflowError, options.onClose);
}

type Waiter<T> = (result: IteratorResult<StreamItem<T>>) => void;

/**
 * The stream of {@link createEventStream}. A class, not closures: the server holds one per live
 * subscription for hours, and its methods then cost nothing per instance.
 */
class BoundedEventStream<T> implements EventStream<T> {
  /**
   * The queue: its first item in a field, the others (only in bursts) in an array made when
   * needed. A live subscription idles almost always with nothing queued and takes each event as
   * it comes, so it keeps no array backing store for its whole life.
   */
  private head: StreamItem<T> | undefined = undefined;
  private rest: StreamItem<T>[] | null = null;
  private count = 0;
  private waiting: Waiter<T> | null = null;
  private consumer: StreamConsumer | null = null;
  private isEnded = false;
  private closed = false;
  /** Producers waiting for room (whenAtMost), checked each time the consumer takes an item. */
  private roomWaiters: { count: number; resolve: () => void }[] | null = null;

  constructor(
    private readonly capacity: number,
    private readonly overflowError: () => GraphQLError,
    private readonly onClose: () => void,
  ) {}

  get ended(): boolean {
    return this.isEnded;
  }

  get queued(): number {
    return this.count;
  }

  whenAtMost(count: number): Promise<void> {
    if (this.isEnded || this.count <= count) return Promise.resolve();
    return new Promise((resolve) => (this.roomWaiters ??= []).push({ count, resolve }));
  }

  push(event: T): boolean {
    if (this.isEnded) return false;
    if (this.count >= this.capacity) {
      this.end(this.overflowError());
      return false;
    }
    this.offer({ kind: "event", event });
    return true;
  }

  end(error?: GraphQLError): void {
    if (this.isEnded) return;
    this.isEnded = true;
    this.close();
    if (error) {
      this.clear();
      this.offer({ kind: "end", error });
    }
    this.finish();
  }

  listen(consumer: StreamConsumer): void {
    this.consumer = consumer;
  }

  take(): StreamItem<T> | undefined {
    const item = this.shift();
    if (item) this.wakeRoomWaiters();
    return item;
  }

  next(): Promise<IteratorResult<StreamItem<T>>> {
    const item = this.shift();
    if (item) {
      this.wakeRoomWaiters();
      return Promise.resolve({ value: item, done: false });
    }
    if (this.isEnded) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<StreamItem<T>>> {
    this.isEnded = true;
    this.clear();
    this.close();
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<StreamItem<T>>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The first queued item, removed (in order: `head`, then `rest`). */
  private shift(): StreamItem<T> | undefined {
    if (this.count === 0) return undefined;
    const item = this.head;
    this.count--;
    if (this.count === 0) {
      this.head = undefined;
      this.rest = null;
    } else this.head = this.rest!.shift();
    return item;
  }

  private clear(): void {
    this.head = undefined;
    this.rest = null;
    this.count = 0;
  }

  private wakeRoomWaiters(): void {
    const waiters = this.roomWaiters;
    if (!waiters) return;
    const still: typeof waiters = [];
    for (const waiter of waiters) (this.isEnded || this.count <= waiter.count ? waiter.resolve() : still.push(waiter));
    this.roomWaiters = still.length > 0 ? still : null;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    this.wakeRoomWaiters();
  }

  private offer(item: StreamItem<T>): void {
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = null;
      waiting({ value: item, done: false });
    } else {
      if (this.count === 0) this.head = item;
      else (this.rest ??= []).push(item);
      this.count++;
      this.consumer?.readable();
    }
  }

  private finish(): void {
    const waiting = this.waiting;
    if (waiting && this.count === 0) {
      this.waiting = null;
      waiting({ value: undefined, done: true });
    }
    this.consumer?.readable();
  }
}
