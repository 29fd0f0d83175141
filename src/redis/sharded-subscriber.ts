import { Redis, type Cluster } from "ioredis";
import type { Logger } from "../logger.js";
import { keySlot } from "./cluster.js";
import { withTimeout } from "./connection.js";

export interface ShardedSubscriberOptions {
  /** The cluster whose slot map says which primary serves each channel (it is not used for the subscriptions themselves). */
  cluster: Cluster;
  /** CLIENT SETNAME of the per-primary connections: `<name>:ssub`. */
  connectionName: string;
  /**
   * Channels subscribed again on their (possibly new) primary after their subscription was lost:
   * the connection dropped, the slot moved to another primary, or the primary failed over.
   * Messages published between the loss and this call were NOT delivered.
   */
  onResubscribed: (channels: string[]) => void;
  logger: Logger;
  /** Delay before placing lost channels again after a failed attempt n: min(maxMs, baseMs * 2^(n-1)). Default 50 .. 2,000 ms. */
  retry?: { baseMs?: number; maxMs?: number };
  /** Longest wait for an SSUBSCRIBE to be acknowledged before its connection is given up and rebuilt. Default 5,000 ms. */
  ackTimeoutMs?: number;
}

/** One connection to a primary, holding the subscriptions of the channels whose slots it serves. */
interface NodeLink {
  /** "host:port", as in `Cluster#slots`. */
  key: string;
  redis: Redis;
  channels: Set<ShardChannel>;
  /** SSUBSCRIBE/SUNSUBSCRIBE sent here and not answered yet (see {@link ShardedSubscriber.onProtocolError}). */
  inFlight: number;
  broken: boolean;
  /** Rejects when the connection is given up: an SSUBSCRIBE that ioredis dropped (MOVED) never settles by itself. */
  whenBroken: Promise<never>;
  giveUp: (reason: Error) => void;
}

interface ShardChannel {
  name: string;
  slot: number;
  /** The connection it is subscribed on (or being subscribed on); null while it waits for a place. */
  link: NodeLink | null;
  /** Bumped whenever it is placed or dropped, so the answer to an older SSUBSCRIBE is ignored. */
  attempt: number;
  /** Acknowledged at least once: later acknowledgements are re-subscriptions. */
  acked: boolean;
  onMessage: (message: string) => void;
  first: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void };
}

/** The text ioredis gives an error for a reply no command was waiting for. */
const STRAY_REPLY = /Command queue state error.*Last reply: (\w+),(.*),(\d+)$/s;

/**
 * Sharded pub/sub (SSUBSCRIBE) on a Redis Cluster: one connection per primary that serves a
 * subscribed channel, each channel subscribed where its hash slot lives, so a message published
 * with SPUBLISH travels only within its shard instead of to every node of the cluster.
 *
 * ioredis 5.11's own `shardedSubscribers` cluster option is not used: it re-subscribes after a
 * slot moved only on the next topology refresh, without saying when it did, and an SSUBSCRIBE
 * that meets a MOVED reply never settles. Here every way a subscription can end is handled the
 * same way — the channel is placed again on the primary that serves its slot now, and once that
 * SSUBSCRIBE is acknowledged {@link ShardedSubscriberOptions.onResubscribed} names it (the event
 * bus then repairs what it missed from the topic's log):
 * - the connection drops (primary restarted or failed over, network cut): all of its channels;
 * - the slot moved (resharding): Redis pushes an unsolicited `sunsubscribe` for the channel,
 *   which ioredis reports as a "Command queue state error" naming it: that channel. If a command
 *   was in flight on the connection, ioredis may have matched the push to it, so the connection
 *   is rebuilt instead (all of its channels);
 * - an SSUBSCRIBE met MOVED (ioredis emits "moved" and drops the command) or was not answered
 *   within `ackTimeoutMs`: the connection is rebuilt;
 * - a slot map refresh (every 5 s, or after any MOVED) shows another primary for the slot.
 * Placing waits for a fresh slot map and retries with capped backoff until it succeeds or the
 * channel is unsubscribed. Delivery is at-most-once, like Redis pub/sub itself.
 */
export class ShardedSubscriber {
  private readonly channels = new Map<string, ShardChannel>();
  private readonly links = new Map<string, NodeLink>();
  /** Channels that lost their subscription and wait for the next placing pass. */
  private readonly homeless = new Set<ShardChannel>();
  private readonly ackTimeoutMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private placing: Promise<void> | undefined;
  private failedPasses = 0;
  private closed = false;
  private readonly onRefresh = () => this.verifyPlacement();

  constructor(private readonly options: ShardedSubscriberOptions) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 5_000;
    options.cluster.on("refresh", this.onRefresh);
  }

  /**
   * Subscribes to `channel` on the primary serving its slot, handing each message to `onMessage`
   * until {@link unsubscribe}; resolves once that SSUBSCRIBE is acknowledged (the first time).
   * One subscription per channel: subscribing a channel again before unsubscribing it is an error.
   */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<void> {
    if (this.closed) return Promise.reject(new Error("ShardedSubscriber is closed"));
    if (this.channels.has(channel)) return Promise.reject(new Error(`already subscribed to ${channel}`));
    let resolve!: () => void, reject!: (error: Error) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    promise.catch(() => {}); // a caller that stopped waiting (timeout) must not cause an unhandled rejection
    const entry: ShardChannel = { name: channel, slot: keySlot(channel), link: null, attempt: 0, acked: false, onMessage, first: { promise, resolve, reject } };
    this.channels.set(channel, entry);
    void this.place(entry).then((ok) => {
      if (!ok) this.lose(entry);
    });
    return promise;
  }

  /** Stops delivering `channel` at once and sends SUNSUBSCRIBE (not awaited). Unknown channels are ignored. */
  unsubscribe(channel: string): void {
    const entry = this.channels.get(channel);
    if (!entry) return;
    this.channels.delete(channel);
    this.homeless.delete(entry);
    entry.attempt++;
    entry.first.reject(new Error(`unsubscribed from ${channel} before Redis acknowledged it`));
    const link = entry.link;
    entry.link = null;
    if (!link || link.broken) return;
    link.channels.delete(entry);
    this.send(link, "sunsubscribe", channel).catch(() => {});
  }

  /** Primaries ("host:port") this subscriber holds a connection to, with the channels subscribed on each (tests, metrics). */
  placement(): Map<string, string[]> {
    const map = new Map<string, string[]>();
    for (const link of this.links.values()) map.set(link.key, [...link.channels].map((c) => c.name));
    return map;
  }

  /** Drops every subscription and connection; pending subscribes reject. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.options.cluster.off("refresh", this.onRefresh);
    for (const entry of this.channels.values()) entry.first.reject(new Error("ShardedSubscriber is closed"));
    this.channels.clear();
    this.homeless.clear();
    const links = [...this.links.values()];
    this.links.clear();
    await Promise.all(
      links.map(async (link) => {
        link.broken = true;
        link.giveUp(new Error("ShardedSubscriber is closed"));
        await withTimeout(link.redis.quit(), 1_000, () => new Error("QUIT timed out")).catch(() => {});
        link.redis.disconnect();
      }),
    );
  }

  /**
   * Subscribes `entry` on the primary the cached slot map names; resolves true once acknowledged
   * there (and still wanted there), false if it could not be placed (the caller makes it homeless).
   */
  private async place(entry: ShardChannel): Promise<boolean> {
    const owner = this.options.cluster.slots[entry.slot]?.[0];
    if (!owner || this.closed) return false;
    const link = this.linkTo(owner);
    const attempt = ++entry.attempt;
    entry.link = link;
    link.channels.add(entry);
    try {
      const acknowledged = Promise.race([this.send(link, "ssubscribe", entry.name), link.whenBroken]);
      await withTimeout(acknowledged, this.ackTimeoutMs, () => new Error(`SSUBSCRIBE ${entry.name} not acknowledged within ${this.ackTimeoutMs} ms`));
    } catch (error) {
      if (entry.attempt !== attempt) return true; // dropped or placed anew meanwhile: not this call's business
      entry.link = null;
      link.channels.delete(entry);
      // No answer (MOVED swallowed by ioredis, or a stuck connection): the connection's state is unknown.
      if (!link.broken) this.breakLink(link, (error as Error).message);
      return false;
    }
    if (entry.attempt !== attempt || this.channels.get(entry.name) !== entry) return true;
    entry.acked = true;
    entry.first.resolve();
    return true;
  }

  /** The connection to primary `key`, opened on first use. */
  private linkTo(key: string): NodeLink {
    const existing = this.links.get(key);
    if (existing) return existing;
    const colon = key.lastIndexOf(":");
    const { username, password, tls } = this.options.cluster.options.redisOptions ?? {};
    const redis = new Redis({
      host: key.slice(0, colon),
      port: Number(key.slice(colon + 1)),
      username,
      password,
      tls,
      connectionName: `${this.options.connectionName}:ssub`,
      keepAlive: 10_000,
      // A dropped connection is not reconnected: its channels are placed again from the slot map,
      // which may name another primary by then.
      retryStrategy: () => null,
      autoResubscribe: false,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
    });
    let giveUp!: (reason: Error) => void;
    const whenBroken = new Promise<never>((_, reject) => (giveUp = reject));
    whenBroken.catch(() => {});
    const link: NodeLink = { key, redis, channels: new Set(), inFlight: 0, broken: false, whenBroken, giveUp };
    this.links.set(key, link);
    redis.on("smessage", (channel: string, message: string) => {
      const entry = this.channels.get(channel);
      if (entry?.link === link) entry.onMessage(message);
    });
    redis.on("error", (error: Error) => this.onProtocolError(link, error));
    redis.on("moved", () => this.breakLink(link, "an SSUBSCRIBE was answered with MOVED"));
    redis.on("close", () => this.breakLink(link, "connection closed"));
    return link;
  }

  /** Sends SSUBSCRIBE or SUNSUBSCRIBE for one channel, counting it as in flight until answered. */
  private send(link: NodeLink, command: "ssubscribe" | "sunsubscribe", channel: string): Promise<unknown> {
    link.inFlight++;
    return link.redis[command](channel).finally(() => link.inFlight--);
  }

  /**
   * A stray reply. A `sunsubscribe` push with nothing in flight is Redis saying the channel's slot
   * is served elsewhere now: that channel is placed again. Anything else means ioredis may have
   * matched a reply to the wrong command: the connection is rebuilt.
   */
  private onProtocolError(link: NodeLink, error: Error): void {
    const stray = STRAY_REPLY.exec(error.message);
    if (!stray) return; // connection errors: "close" follows
    const entry = this.channels.get(stray[2]!);
    if (stray[1] === "sunsubscribe" && link.inFlight === 0) {
      if (entry?.link !== link) return;
      link.channels.delete(entry);
      this.lose(entry);
      return;
    }
    this.breakLink(link, `unexpected ${stray[1]} reply`);
  }

  /** Gives up a connection: every channel on it waits for a new place. */
  private breakLink(link: NodeLink, reason: string): void {
    if (link.broken) return;
    link.broken = true;
    link.giveUp(new Error(`connection to ${link.key} given up: ${reason}`));
    if (this.links.get(link.key) === link) this.links.delete(link.key);
    link.redis.disconnect();
    const lost = [...link.channels];
    link.channels.clear();
    if (this.closed) return;
    if (lost.length > 0) this.options.logger.warn("sharded subscriber lost a primary's subscriptions; placing them again", { node: link.key, reason, channels: lost.length });
    for (const entry of lost) if (entry.link === link) this.lose(entry);
  }

  /** `entry` has no subscription any more: it waits for the next placing pass (a running pass schedules the next one itself). */
  private lose(entry: ShardChannel): void {
    if (this.closed || this.channels.get(entry.name) !== entry) return;
    entry.attempt++;
    entry.link = null;
    this.homeless.add(entry);
    if (!this.placing) this.schedule(this.backoffMs());
  }

  /** 0 after a pass that placed everything; then min(maxMs, baseMs * 2^(n-1)) after n passes in a row that did not. */
  private backoffMs(): number {
    if (this.failedPasses === 0) return 0;
    const { baseMs = 50, maxMs = 2_000 } = this.options.retry ?? {};
    return Math.min(maxMs, baseMs * 2 ** Math.min(this.failedPasses - 1, 20));
  }

  /** Channels whose slot the refreshed map gives to another primary are placed again. */
  private verifyPlacement(): void {
    for (const entry of this.channels.values()) {
      const link = entry.link;
      if (!link || this.options.cluster.slots[entry.slot]?.[0] === link.key) continue;
      link.channels.delete(entry);
      this.send(link, "sunsubscribe", entry.name).catch(() => {});
      this.lose(entry);
    }
  }

  private schedule(delayMs: number): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.placeHomeless();
    }, delayMs);
  }

  /**
   * One placing pass: a fresh slot map, then every homeless channel subscribed where it says.
   * Channels that are homeless again when it ends (not placed, or lost meanwhile) wait for the
   * next pass, after a backoff that grows with each such pass in a row.
   */
  private async placeHomeless(): Promise<void> {
    if (this.placing || this.closed) return;
    this.placing = (async () => {
      await new Promise<void>((resolve) => this.options.cluster.refreshSlotsCache(() => resolve()));
      const batch = [...this.homeless].filter((entry) => this.channels.get(entry.name) === entry && entry.link === null);
      this.homeless.clear();
      const wasAcked = batch.map((entry) => entry.acked);
      const placed = await Promise.all(batch.map((entry) => this.place(entry)));
      for (const [i, entry] of batch.entries()) if (!placed[i] && this.channels.get(entry.name) === entry && entry.link === null) this.homeless.add(entry);
      const resubscribed = batch.filter((entry, i) => placed[i] && wasAcked[i] && entry.link !== null).map((entry) => entry.name);
      if (resubscribed.length === 0) return;
      try {
        this.options.onResubscribed(resubscribed);
      } catch (error) {
        this.options.logger.error("onResubscribed failed", { error });
      }
    })().finally(() => {
      this.placing = undefined;
      this.failedPasses = this.homeless.size > 0 ? this.failedPasses + 1 : 0;
      if (this.homeless.size > 0) this.schedule(this.backoffMs());
    });
    return this.placing;
  }
}
