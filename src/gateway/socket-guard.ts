import { ConcordError, limitExceeded } from "../errors.js";
import { CLOSE_CODES } from "./close-codes.js";
import { ConcurrencySlots } from "../limits/concurrency-slots.js";

export interface SocketGuardOptions {
  /** Live subscriptions per socket (MAX_SUBSCRIPTIONS_PER_SOCKET). */
  maxSubscriptions: number;
  /** Operations executing at once per socket (MAX_OPERATIONS_IN_FLIGHT_PER_SOCKET). */
  maxInFlight: number;
  /** Operations waiting for a slot per socket (MAX_QUEUED_OPERATIONS_PER_SOCKET). */
  maxQueued: number;
  /** Messages a socket may send per minute (SOCKET_MESSAGES_PER_MINUTE); twice that closes it. */
  messagesPerMinute: number;
  /** Open sockets per user on this instance (MAX_SOCKETS_PER_USER). */
  maxSocketsPerUser: number;
  /** Open sockets per client address on this instance (MAX_SOCKETS_PER_ADDRESS). */
  maxSocketsPerAddress: number;
  /** An anonymous socket is closed after this long without a message (ANONYMOUS_SOCKET_IDLE_MS). */
  anonymousIdleMs: number;
  /** Subscription starts running at once on this instance, all sockets together (each costs store reads). */
  subscriptionStartsInFlight: number;
}

/** The parts of a `ws` socket the guard uses. */
export interface GuardedSocket {
  readonly readyState: number;
  readonly OPEN: number;
  close(code: number, reason: string): void;
  prependListener(event: "message", listener: () => void): unknown;
}

/**
 * A count over a fixed window that starts at the first hit (what rate-limiter-flexible's memory
 * limiter does per key), kept in the socket's state: no map entry and no expiry timer per socket.
 */
class FixedWindow {
  count = 0;
  endsAt = 0;

  /** Counts one hit at `now`; returns the count in the current window. */
  hit(now: number, durationMs: number): number {
    if (now >= this.endsAt) {
      this.count = 0;
      this.endsAt = now + durationMs;
    }
    return ++this.count;
  }
}

/** The window of the per-minute budgets. */
const MINUTE_MS = 60_000;

interface SocketState {
  readonly socket: GuardedSocket;
  readonly address: string;
  userId: bigint | null;
  lastMessageAt: number;
  /** Operations started in this event-loop turn, and those waiting for a later turn. */
  startedThisTurn: number;
  readonly waitingForTurn: (() => void)[];
  turnScheduled: boolean;
  readonly slots: ConcurrencySlots;
  /** graphql-ws operation ids that were subscriptions (pruned against the live ones when counting; an array: usually one or two). */
  subscriptionIds: string[];
  /** Operations counted against the per-minute budget. */
  readonly operations: FixedWindow;
  /** Messages of any kind: the flood cut-off. */
  readonly messages: FixedWindow;
}

/**
 * What one client may do with its WebSockets on this instance: how many sockets per user and per
 * address, how many messages per socket per minute, how many subscriptions and operations in
 * flight per socket, and how long an anonymous socket may sit idle. Everything is counted in
 * memory per instance (a socket lives on one instance); per-user rate limits that must hold
 * across the fleet are the RateLimiter's job.
 *
 * Cost per socket: one small state object and a message listener; per message, one in-memory
 * counter increment; no store access anywhere.
 */
export class SocketGuard {
  private readonly states = new WeakMap<object, SocketState>();
  private readonly perAddress = new Map<string, number>();
  private readonly perUser = new Map<bigint, number>();
  private readonly anonymous = new Set<SocketState>();
  private readonly subscriptionStarts: ConcurrencySlots;
  private readonly sweeper: NodeJS.Timeout;
  /** The message listener of every socket: one function for all (`this` is the socket). */
  private readonly onMessage: (this: GuardedSocket) => void;

  constructor(private readonly options: SocketGuardOptions) {
    const guard = this;
    this.onMessage = function (this: GuardedSocket) {
      const state = guard.states.get(this);
      if (state) guard.countMessage(state);
    };
    this.subscriptionStarts = new ConcurrencySlots(options.subscriptionStartsInFlight);
    this.sweeper = setInterval(() => this.closeIdleAnonymous(), Math.max(250, Math.floor(options.anonymousIdleMs / 4)));
    this.sweeper.unref();
  }

  /** The per-user cap, for messages. */
  get maxSocketsPerUser(): number {
    return this.options.maxSocketsPerUser;
  }

  /** Whether one more socket from `address` is allowed (checked before the WebSocket handshake). */
  admitsAddress(address: string): boolean {
    return (this.perAddress.get(address) ?? 0) < this.options.maxSocketsPerAddress;
  }

  /** Starts guarding a new socket: counts it for its address and counts every message it sends. */
  open(socket: GuardedSocket, address: string): void {
    const state: SocketState = {
      socket,
      address,
      userId: null,
      lastMessageAt: Date.now(),
      startedThisTurn: 0,
      waitingForTurn: [],
      turnScheduled: false,
      slots: new ConcurrencySlots(this.options.maxInFlight, this.options.maxQueued),
      subscriptionIds: [],
      operations: new FixedWindow(),
      messages: new FixedWindow(),
    };
    this.states.set(socket, state);
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    this.anonymous.add(state);
    socket.prependListener("message", this.onMessage);
  }

  /**
   * Ties a socket to the user it authenticated as (once; later calls change nothing). Returns
   * false when the user already holds MAX_SOCKETS_PER_USER sockets here: the caller closes it.
   */
  authenticate(socket: GuardedSocket, userId: bigint): boolean {
    const state = this.states.get(socket);
    if (!state) return true;
    if (state.userId !== null) return true;
    const count = this.perUser.get(userId) ?? 0;
    if (count >= this.options.maxSocketsPerUser) return false;
    state.userId = userId;
    this.perUser.set(userId, count + 1);
    this.anonymous.delete(state);
    return true;
  }

  /**
   * Counts a long-lived HTTP stream (a subscription over SSE) like one more socket of its user
   * and address. Returns the function that releases it (idempotent), or null when the user or
   * the address already holds its cap; then nothing is counted.
   */
  claimStream(userId: bigint | null, address: string): (() => void) | null {
    if (!this.admitsAddress(address)) return null;
    if (userId !== null && (this.perUser.get(userId) ?? 0) >= this.options.maxSocketsPerUser) return null;
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    if (userId !== null) this.perUser.set(userId, (this.perUser.get(userId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      decrement(this.perAddress, address);
      if (userId !== null) decrement(this.perUser, userId);
    };
  }

  /** Stops guarding a closed socket. Idempotent. */
  close(socket: GuardedSocket): void {
    const state = this.states.get(socket);
    if (!state) return;
    this.states.delete(socket);
    this.anonymous.delete(state);
    // Operations waiting for their turn go on at once and find the socket closed.
    for (const release of state.waitingForTurn.splice(0)) release();
    decrement(this.perAddress, state.address);
    if (state.userId !== null) decrement(this.perUser, state.userId);
  }

  /**
   * Waits, when needed, for the socket's turn to start one more operation: each socket starts at
   * most {@link OPERATIONS_PER_TURN} per turn of the event loop, the rest in later turns, in
   * order. A client writing thousands of operations at once would otherwise have them all
   * handled in one go (their work is a chain of microtasks), holding up every other client's
   * request for as long; this way other requests are served between every few of them.
   * Resolves at once (null, no allocation) in the common case.
   */
  turn(socket: GuardedSocket): Promise<void> | null {
    const state = this.states.get(socket);
    if (!state) return null;
    this.scheduleTurn(state);
    if (state.startedThisTurn < OPERATIONS_PER_TURN && state.waitingForTurn.length === 0) {
      state.startedThisTurn++;
      return null;
    }
    return new Promise((resolve) => state.waitingForTurn.push(resolve));
  }

  /**
   * Counts one operation of the socket against its per-minute budget, in the order operations
   * are handled: RATE_LIMITED past the budget (null when within it), and past twice the budget
   * the socket is closed with 4029 as well (a client that ignores refusals is flooding).
   */
  countOperation(socket: GuardedSocket): ConcordError | null {
    const state = this.states.get(socket);
    if (!state) return null;
    const now = Date.now();
    const consumed = state.operations.hit(now, MINUTE_MS);
    if (consumed <= this.options.messagesPerMinute) return null;
    if (consumed > 2 * this.options.messagesPerMinute) closeFlooding(state);
    const waitMs = Math.max(1, state.operations.endsAt - now);
    return new ConcordError(
      "RATE_LIMITED",
      `This connection sent more than ${this.options.messagesPerMinute} operations in a minute; wait ${Math.ceil(waitMs / 1000)} s.`,
      { retryAfterMs: waitMs, bucket: "socket.messages", limit: this.options.messagesPerMinute, remaining: 0, resetAfterMs: waitMs, scope: state.userId === null ? "IP" : "USER" },
    );
  }

  /**
   * Reserves a subscription slot for operation `id`, or returns LIMIT_EXCEEDED when the socket
   * holds MAX_SUBSCRIPTIONS_PER_SOCKET live ones. `isLive(id)` says whether an earlier
   * subscription is still running (graphql-ws' own record), so ended ones free their slot.
   */
  reserveSubscription(socket: GuardedSocket, id: string, isLive: (id: string) => boolean): ConcordError | null {
    const state = this.states.get(socket);
    if (!state) return null;
    state.subscriptionIds = state.subscriptionIds.filter((known) => known !== id && isLive(known));
    if (state.subscriptionIds.length >= this.options.maxSubscriptions) {
      const max = this.options.maxSubscriptions;
      return limitExceeded(
        "subscriptionsPerSocket",
        max,
        "MAX_SUBSCRIPTIONS_PER_SOCKET",
        `This connection already has ${max} live subscriptions; complete one first, or open another connection.`,
      );
    }
    state.subscriptionIds.push(id);
    return null;
  }

  /**
   * Runs one operation of the socket within its in-flight limit (and, for subscription starts,
   * within the instance-wide limit that keeps them from taking the whole store pool). Throws
   * RATE_LIMITED without running it when the socket's wait queue is full.
   */
  run<T>(socket: GuardedSocket | undefined, kind: "subscription" | "operation", task: () => Promise<T>): Promise<T> {
    const state = socket ? this.states.get(socket) : undefined;
    const guarded = kind === "subscription" ? () => this.subscriptionStarts.run(task)! : task;
    if (!state) return guarded();
    const running = state.slots.run(guarded);
    if (running) return running;
    return Promise.reject(
      new ConcordError(
        "RATE_LIMITED",
        `This connection has ${this.options.maxInFlight} operations running and ${this.options.maxQueued} waiting; wait for some to finish.`,
        { retryAfterMs: 1_000, bucket: "socket.operations", limit: this.options.maxInFlight + this.options.maxQueued, remaining: 0, resetAfterMs: 1_000, scope: state.userId === null ? "IP" : "USER" },
      ),
    );
  }

  /** Stops the idle sweep. */
  stop(): void {
    clearInterval(this.sweeper);
  }

  private countMessage(state: SocketState): void {
    const now = Date.now();
    state.lastMessageAt = now;
    // Operations wait their turn (see turn()), so a burst could queue without bound: past
    // FLOOD_FACTOR times the budget of messages of any kind, the socket is cut off at once.
    if (state.messages.hit(now, MINUTE_MS) > FLOOD_FACTOR * this.options.messagesPerMinute) closeFlooding(state);
  }

  /** Once per turn of the event loop in which the socket started operations: a new turn, a new allowance. */
  private scheduleTurn(state: SocketState): void {
    if (state.turnScheduled) return;
    state.turnScheduled = true;
    // An immediate queued from an immediate runs in the next turn, after pending I/O.
    setImmediate(() => {
      state.turnScheduled = false;
      state.startedThisTurn = 0;
      while (state.startedThisTurn < OPERATIONS_PER_TURN && state.waitingForTurn.length > 0) {
        state.startedThisTurn++;
        state.waitingForTurn.shift()!();
      }
      if (state.waitingForTurn.length > 0) this.scheduleTurn(state);
    });
  }

  private closeIdleAnonymous(): void {
    const cutoff = Date.now() - this.options.anonymousIdleMs;
    for (const state of this.anonymous) {
      if (state.lastMessageAt > cutoff) continue;
      this.anonymous.delete(state);
      if (state.socket.readyState === state.socket.OPEN) state.socket.close(CLOSE_CODES.idle, "Idle without signing in");
    }
  }
}

/** Messages of any kind (pings included) a socket may send per minute, as a multiple of its operation budget. */
const FLOOD_FACTOR = 10;

function closeFlooding(state: SocketState): void {
  if (state.socket.readyState === state.socket.OPEN) state.socket.close(CLOSE_CODES.tooMany, "Too many messages: slow down and reconnect later");
}

/** Operations one socket may start per turn of the event loop (see SocketGuard.turn). */
const OPERATIONS_PER_TURN = 4;

function decrement<K>(map: Map<K, number>, key: K): void {
  const count = (map.get(key) ?? 1) - 1;
  if (count <= 0) map.delete(key);
  else map.set(key, count);
}
