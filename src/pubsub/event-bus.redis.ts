import { RedisPubSub } from "graphql-redis-subscriptions";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import { createLogger, type Logger } from "../logger.js";
import { MESSAGE_INDEX_FACTOR, type DeliveryTracer, type EventBus, type EventHandler, type PublishOptions, type SequencedEvent, type TopicHead, type Unsubscribe } from "./event-bus.js";
import { DEFAULT_LOG_RETENTION, type LogRetention } from "./event-log.memory.js";
import { SequenceGate } from "./sequence-gate.js";
import { decodeEnvelope, decodeEvent, encodeEvent } from "./event-codec.js";
import type { ConcordEvent } from "./events.js";
import { LocalFanout } from "./local-fanout.js";
import type { Topic } from "./topics.js";
import { connectServer, shutDown, whenReady, withTimeout, type ServerTarget } from "../redis/connection.js";
import { clusterDefaults, type ClusterSeed } from "../redis/cluster.js";
import type { SentinelTarget } from "../redis/sentinel.js";
import { ShardedSubscriber } from "../redis/sharded-subscriber.js";

export interface RedisEventBusOptions {
  /** One Redis server: a `redis://` or `rediss://` URL (REDIS_URL). Exactly one of `url`, `clusterNodes` and `sentinel`. */
  url?: string;
  /**
   * A primary with replicas, found through Redis Sentinel (REDIS_SENTINELS): as one server, and
   * both connections follow the primary when the sentinels promote a replica. Publishes issued
   * while there is no primary wait for the promoted one (at most `publishTimeoutMs`, default
   * 5,000 ms here) instead of failing at the first refused reconnect, so a failover shorter than
   * that loses no live event.
   */
  sentinel?: SentinelTarget;
  /**
   * A Redis Cluster (REDIS_CLUSTER_NODES): seed nodes. Topics then use sharded pub/sub: each
   * event goes out with SPUBLISH on the channel `<keyPrefix>{<topic>}`, in the hash slot of the
   * topic's keys, and subscribers SSUBSCRIBE on the primary serving that slot (see
   * {@link ShardedSubscriber}), so an event is relayed only within its shard.
   */
  clusterNodes?: readonly ClusterSeed[];
  /**
   * Put in front of every topic to make its Redis channel name (`concord:channel:123`; on a
   * cluster `concord:{channel:123}`), so several deployments (or test runs) can share one Redis
   * without hearing each other. Default "concord:".
   */
  keyPrefix?: string;
  /** Operational messages: connection lost/restored, malformed payloads dropped. Default: warnings to stderr. */
  logger?: Logger;
  /** A local handler threw (handlers must not throw; the others still run). Default: logged. */
  onHandlerError?: (error: unknown, topic: Topic) => void;
  /**
   * Called once the subscriber connection is back after a drop and every topic has been
   * subscribed again. Events published between the drop and this call were NOT delivered here:
   * a good moment to tell live clients to catch up from history.
   */
  onResubscribed?: (topics: Topic[]) => void;
  /** Reconnect delay for attempt n: min(maxMs, baseMs * 2^(n-1)), with jitter. Default 50 ms .. 2,000 ms. */
  reconnect?: { baseMs?: number; maxMs?: number };
  /** Longest wait for Redis to acknowledge a SUBSCRIBE before `subscribe` rejects. Default 5,000 ms. */
  subscribeTimeoutMs?: number;
  /** Longest wait for Redis to acknowledge a PUBLISH before `publish` rejects. Default 2,000 ms (5,000 ms with `sentinel`). */
  publishTimeoutMs?: number;
  /** CLIENT SETNAME of the two connections: `<name>:pub` and `<name>:sub` (on a cluster `<name>:ssub`, one per primary). Default "concord-event-bus". */
  connectionName?: string;
  /** Extra ioredis options (TLS, auth, timeouts), applied over the URL and under the bus's own settings. */
  redisOptions?: RedisOptions;
  /** How much of each topic's log Redis keeps (EVENT_LOG_MAX_EVENTS, EVENT_LOG_MAX_AGE_MS). */
  logRetention?: LogRetention;
  /**
   * Tracing on: wraps this instance's fan-out of each event that arrived with its sender's trace
   * context (once per event, whatever the number of local handlers). Undefined: none is read.
   */
  traceDelivery?: DeliveryTracer;
}

/**
 * Publishes one event atomically: the topic's next sequence number (in a new epoch when the
 * topic's sequence is gone: never used, expired, or Redis lost it), an entry in the topic's log
 * (a Stream whose entry ids are the sequence numbers, trimmed to about ARGV[4] entries), and the
 * PUBLISH (SPUBLISH on a cluster), whose message is `<epoch>:<seq>|<event>`. Because Redis runs
 * a script at once and relays a channel's messages in the order they were published, subscribers
 * receive a topic's events in sequence order unless some are lost on the way.
 * A MessageCreated also goes into the topic's message-id index (a sorted set by sequence
 * number, MESSAGE_INDEX_FACTOR times longer than the log; `idsTrimmed` in the hash records how
 * far it was trimmed).
 * A retry (ARGV[10] = "1") of a MessageCreated whose id the index already holds publishes
 * nothing and returns the number it got: the first try ran after all.
 * KEYS: the topic's sequence hash, its log, its message-id index. ARGV: channel, event, new
 * epoch, max entries, log TTL ms, sequence TTL ms, message id (or ""), max index entries, the
 * publish command (PUBLISH, or SPUBLISH: its channel is in the keys' slot on a cluster), and
 * "1" for a retry ("" otherwise).
 */
const PUBLISH_SCRIPT = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if ARGV[10] == '1' and ARGV[7] ~= '' and epoch then
  local known = redis.call('ZSCORE', KEYS[3], ARGV[7])
  if known then return {epoch, tonumber(known)} end
end
if not epoch then
  epoch = ARGV[3]
  redis.call('DEL', KEYS[2], KEYS[3])
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0, 'idsTrimmed', 0)
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], seq .. '-0', 'e', ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
if ARGV[7] ~= '' then
  redis.call('ZADD', KEYS[3], seq, ARGV[7])
  local extra = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[8])
  if extra > 0 then
    local last = redis.call('ZRANGE', KEYS[3], extra - 1, extra - 1, 'WITHSCORES')
    redis.call('HSET', KEYS[1], 'idsTrimmed', last[2])
    redis.call('ZREMRANGEBYRANK', KEYS[3], 0, extra - 1)
  end
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
end
redis.call(ARGV[9], ARGV[1], epoch .. ':' .. seq .. '|' .. ARGV[2])
return {epoch, seq}
`;

/** A topic's sequence outlives its log: a subscriber idle past the log's age keeps its place. */
const SEQUENCE_TTL_MS = 30 * 86_400_000;

/** A message as it travels: the event with its epoch and sequence number. */
interface WireEvent {
  epoch: string;
  seq: number;
  event: ConcordEvent;
  /** The sender's W3C trace context, when it traced the publish. */
  traceparent: string | undefined;
}

/** A fresh epoch name: unique enough that two restarts never reuse one. */
function newEpoch(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/** What the deserializer hands on for a payload that is not a valid event: dropped, never delivered. */
const MALFORMED = Symbol("malformed event");

/** One Redis subscription of this instance, shared by all local handlers of its topic. */
interface RemoteSubscription {
  channel: string;
  /** Settles when Redis acknowledged the SUBSCRIBE, with RedisPubSub's subscription id. */
  acked: Promise<number>;
  /** Set once acknowledged; until then the subscription cannot be released, only marked unused. */
  id: number | undefined;
  /** Puts the topic's events in sequence order and repairs gaps from the log. */
  gate: SequenceGate;
  /** Settles when the gate knows where to start (after the SUBSCRIBE was acknowledged). */
  started: Promise<void>;
  /** True once `started` settled: the gate's position is meaningful. */
  live: boolean;
}

/**
 * {@link EventBus} across instances through Redis pub/sub, built on graphql-redis-subscriptions'
 * RedisPubSub over two ioredis connections (a subscriber connection can do nothing else).
 *
 * Fan-out: each instance holds ONE Redis subscription per topic while at least one local
 * handler wants it, whatever the number of handlers, and drops it when the last one leaves.
 * A message is decoded once per instance (RedisPubSub's deserializer) and the same event
 * object is handed to every local handler through a {@link LocalFanout}.
 *
 * Ordering: one bus's publishes go out in call order on one connection and Redis relays a
 * channel's messages in the order it received them, so every subscriber sees one publisher's
 * events on a topic in publish order (possibly with a gap, never reordered).
 *
 * Redis outage (restart, failover, network cut) — delivery is AT-MOST-ONCE:
 * - Both connections reconnect by themselves (capped exponential backoff, forever) and the
 *   subscriber re-subscribes every topic it held (`autoResubscribe`); local handlers stay
 *   registered, so live subscriptions resume without anyone re-subscribing.
 * - Events published while either side is cut off are lost for live delivery: Redis pub/sub
 *   keeps nothing for absent subscribers. Publishing fails fast instead of queueing: a publish
 *   issued while disconnected waits at most for the next reconnect attempt (publisher
 *   `maxRetriesPerRequest: 0`, at most `reconnect.maxMs`) or `publishTimeoutMs`, then rejects;
 *   the caller logs it. A publish in flight when the connection dropped rejects too, although
 *   Redis may have relayed it. Nothing is resent, so nothing is delivered twice.
 * - Nothing is lost for good: the message was written to the MessageStore before it was
 *   published. A client catches up by cursor: `Channel.messages(after: lastSeenId)` returns
 *   every message after the last id it saw, in order (ids are snowflakes, so the cursor is
 *   also a time); edits and deletions are read back the same way from current history.
 *   `onResubscribed` marks when a gap may have happened.
 * - `subscribe` during an outage waits for the SUBSCRIBE to be acknowledged after reconnection,
 *   and rejects after `subscribeTimeoutMs` so a client is told rather than left hanging.
 *
 * On a Redis Cluster (`clusterNodes`) the same holds per shard: scripts and log reads go through
 * an ioredis Cluster client (a topic's keys and channel share one hash slot), events go out with
 * SPUBLISH, and a {@link ShardedSubscriber} holds each topic's SSUBSCRIBE on the primary serving
 * its slot. When a subscription is lost and placed again (connection dropped, slot moved,
 * failover), the topics concerned are repaired from their logs and `onResubscribed` names them.
 */
export class RedisEventBus implements EventBus {
  private readonly prefix: string;
  private readonly log: Logger;
  private readonly fanout: LocalFanout;
  private readonly publisher: Redis | Cluster;
  /** The subscriber connection on one server; undefined on a cluster (see `sharded`). */
  private readonly subscriber: Redis | undefined;
  private readonly sharded: ShardedSubscriber | undefined;
  private readonly pubsub: ChannelSubscriptions;
  private readonly subscriptions = new Map<Topic, RemoteSubscription>();
  private readonly subscribeTimeoutMs: number;
  private readonly retention: LogRetention;
  private readonly traceDelivery: DeliveryTracer | undefined;
  /** Tracing on: the trace context each received event came with, until the sequence gate hands it to the fan-out. */
  private readonly traceparents = new WeakMap<ConcordEvent, string>();
  private closing: Promise<void> | undefined;

  constructor(private readonly options: RedisEventBusOptions) {
    this.prefix = options.keyPrefix ?? "concord:";
    this.log = options.logger ?? createLogger("warn");
    this.subscribeTimeoutMs = options.subscribeTimeoutMs ?? 5_000;
    this.retention = options.logRetention ?? DEFAULT_LOG_RETENTION;
    this.traceDelivery = options.traceDelivery;
    this.fanout = new LocalFanout(
      options.onHandlerError ?? ((error, topic) => this.log.error("event handler failed", { error, topic })),
    );

    const baseMs = options.reconnect?.baseMs ?? 50;
    const maxMs = options.reconnect?.maxMs ?? 2_000;
    const name = options.connectionName ?? "concord-event-bus";
    // Never give up: a bus that stopped reconnecting would need a restart to work again.
    const backoff = (attempt: number) => Math.round(Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 20)) * (0.5 + Math.random() / 2));
    const common: RedisOptions = {
      ...options.redisOptions,
      retryStrategy: backoff,
      keepAlive: options.redisOptions?.keepAlive ?? 10_000,
    };
    if ([options.url, options.clusterNodes, options.sentinel].filter((target) => target !== undefined).length !== 1) {
      throw new Error("RedisEventBus: give exactly one of url (one Redis), clusterNodes (a Redis Cluster) and sentinel (a primary found through Sentinel)");
    }
    if (options.clusterNodes) {
      if (/[{}]/.test(this.prefix)) throw new Error(`RedisEventBus: a key prefix with { or } would break the hash tags on a cluster: ${JSON.stringify(this.prefix)}`);
      const cluster = new Cluster([...options.clusterNodes], {
        ...clusterDefaults(),
        clusterRetryStrategy: backoff,
        // As on one server: publishes wait out a short blip in order, each bounded by commandTimeout.
        enableOfflineQueue: true,
        // Node connections keep ioredis' cluster handling (a dropped node is found again from the
        // slot map), not the single-server retryStrategy.
        redisOptions: { ...options.redisOptions, keepAlive: common.keepAlive, connectionName: `${name}:pub`, maxRetriesPerRequest: 0, commandTimeout: options.publishTimeoutMs ?? 2_000 },
      });
      this.publisher = cluster;
      this.subscriber = undefined;
      this.sharded = new ShardedSubscriber({
        cluster,
        connectionName: name,
        logger: this.log,
        retry: { baseMs, maxMs },
        ackTimeoutMs: this.subscribeTimeoutMs,
        onResubscribed: (channels) => this.resubscribed(channels),
      });
      this.pubsub = shardedPubSub(this.sharded, (raw, channel) => this.decode(raw, channel));
      this.watch(this.publisher, "publisher");
      return;
    }
    this.sharded = undefined;
    const server = (options.sentinel ? { sentinel: options.sentinel } : { url: options.url! }) satisfies ServerTarget;
    this.publisher = connectServer(server, {
      ...common,
      connectionName: `${name}:pub`,
      // The offline queue stays on so a publish issued during a short blip (or before the first
      // connection is ready) goes out once the connection is back, in order. It cannot grow
      // without bound: with maxRetriesPerRequest 0 every failed connection attempt rejects all
      // that is queued or in flight (so a publish waits at most one backoff step, <= maxMs), and
      // commandTimeout bounds the wait when a dead connection is not noticed (no RST).
      enableOfflineQueue: true,
      maxRetriesPerRequest: 0,
      commandTimeout: options.publishTimeoutMs ?? 2_000,
      // With Sentinel an outage has a known end, the promotion of a replica: queued publishes
      // wait across the refused reconnects until then, bounded by commandTimeout alone.
      ...(options.sentinel && { maxRetriesPerRequest: null, autoResendUnfulfilledCommands: false, commandTimeout: options.publishTimeoutMs ?? 5_000 }),
    });
    if (options.sentinel) failInFlightOnClose(this.publisher);
    this.subscriber = connectServer(server, {
      ...common,
      connectionName: `${name}:sub`,
      autoResubscribe: true,
      // SUBSCRIBE/UNSUBSCRIBE wait for the connection instead of failing: they are few (topic
      // churn, not traffic) and RedisPubSub's bookkeeping assumes they succeed. `subscribe`
      // bounds its own wait with subscribeTimeoutMs.
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
    });
    guardFireAndForget(this.subscriber);
    this.watch(this.publisher, "publisher");
    this.watch(this.subscriber, "subscriber");

    this.pubsub = new RedisPubSub({
      publisher: this.publisher,
      subscriber: this.subscriber,
      serializer: (event: ConcordEvent) => encodeEvent(event),
      // Runs once per message per instance, before the message is handed to the topic's one
      // RedisPubSub subscription.
      deserializer: (source, { channel }) => this.decode(typeof source === "string" ? source : source.toString("utf8"), channel),
    });
  }

  /** A message as it came from Redis, decoded once per instance; never throws (RedisPubSub would pass the raw string on). */
  private decode(message: string, channel: string): WireEvent | typeof MALFORMED {
    try {
      return decodeWire(message);
    } catch (error) {
      this.log.error("dropped a malformed event from Redis", { channel, error });
      return MALFORMED;
    }
  }

  /** Resolves when the connections are ready (on a cluster: the slot map is known); rejects after `timeoutMs` with the last connection error. */
  async connected(timeoutMs = 10_000): Promise<void> {
    await Promise.all([this.publisher, this.subscriber].map((client) => client && whenReady(client, timeoutMs)));
  }

  async publish(topic: Topic, event: ConcordEvent, options?: PublishOptions): Promise<number> {
    if (this.closing) throw new Error("RedisEventBus is closed");
    if (options?.ephemeral) {
      // Outside the sequence: epoch "" and number 0 on the wire, no log entry.
      const wire = `:0|${encodeEvent(event, options.traceparent)}`;
      await (this.sharded ? this.publisher.spublish(this.channelOf(topic), wire) : this.publisher.publish(this.channelOf(topic), wire));
      return 0;
    }
    try {
      return await this.runPublish(topic, event, false, options?.traceparent);
    } catch (error) {
      // With Sentinel: the primary died with this publish in flight, and the promoted one may or
      // may not have it. A MessageCreated is tried once more there (waiting for it, at most the
      // publish timeout): the message-id index makes the retry a no-op if the first run made it.
      // Other events are not retried (a second run could number them twice).
      if (!this.options.sentinel || event.type !== "MessageCreated" || !(error instanceof InFlightLost)) throw error;
      this.log.warn("Redis primary lost with a publish in flight; publishing it again", { topic });
      return await this.runPublish(topic, event, true, options?.traceparent);
    }
  }

  /** One run of the publish script; `retry` (see PUBLISH_SCRIPT) makes a MessageCreated already indexed a no-op. */
  private async runPublish(topic: Topic, event: ConcordEvent, retry: boolean, traceparent: string | undefined): Promise<number> {
    const [sequence, log, ids] = this.keysOf(topic);
    const result = (await this.publisher.eval(
      PUBLISH_SCRIPT,
      3,
      sequence,
      log,
      ids,
      this.channelOf(topic),
      encodeEvent(event, traceparent),
      newEpoch(),
      this.retention.maxEvents,
      this.retention.maxAgeMs,
      Math.max(SEQUENCE_TTL_MS, this.retention.maxAgeMs),
      event.type === "MessageCreated" ? String(event.message.id) : "",
      this.retention.maxEvents * MESSAGE_INDEX_FACTOR,
      this.sharded ? "SPUBLISH" : "PUBLISH",
      retry ? "1" : "",
    )) as [string, number];
    return Number(result[1]);
  }

  async head(topic: Topic): Promise<TopicHead> {
    const [epoch, seq] = await this.publisher.hmget(this.keysOf(topic)[0], "epoch", "seq");
    return headOf(epoch, seq);
  }

  async replay(topic: Topic, after: number, limit: number): Promise<{ events: SequencedEvent[]; complete: boolean }> {
    const { events, head } = await this.readLog(topic, after, limit);
    const complete = after >= head.seq || (events.length > 0 && events[0]!.seq === after + 1);
    return { events, complete };
  }

  /** The head and the logged events after `after`, read together (one MULTI). */
  private async readLog(topic: Topic, after: number, limit: number): Promise<{ events: SequencedEvent[]; head: TopicHead }> {
    const [sequence, log] = this.keysOf(topic);
    const replies = await this.publisher
      .multi()
      .hmget(sequence, "epoch", "seq")
      .xrange(log, `${after + 1}-0`, "+", "COUNT", Math.max(1, limit))
      .exec();
    if (!replies) throw new Error("Redis discarded the log read");
    for (const [error] of replies) if (error) throw error;
    const [epoch, seq] = replies[0]![1] as [string | null, string | null];
    const entries = replies[1]![1] as [string, string[]][];
    const events: SequencedEvent[] = [];
    for (const [id, fields] of limit > 0 ? entries : []) {
      try {
        events.push({ seq: Number(id.split("-")[0]), event: decodeEvent(fields[1]!) });
      } catch (error) {
        this.log.error("dropped a malformed event from the log", { topic, id, error });
      }
    }
    return { events, head: headOf(epoch, seq) };
  }

  async messageIdsAfter(topic: Topic, after: number, limit: number): Promise<{ ids: { seq: number; id: bigint }[]; complete: boolean }> {
    const [sequence, , index] = this.keysOf(topic);
    const replies = await this.publisher
      .multi()
      .hget(sequence, "idsTrimmed")
      .zrangebyscore(index, `(${after}`, "+inf", "WITHSCORES", "LIMIT", 0, Math.max(1, limit))
      .exec();
    if (!replies) throw new Error("Redis discarded the message index read");
    for (const [error] of replies) if (error) throw error;
    const trimmed = Number((replies[0]![1] as string | null) ?? 0);
    const flat = limit > 0 ? (replies[1]![1] as string[]) : [];
    const ids: { seq: number; id: bigint }[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) ids.push({ id: BigInt(flat[i]!), seq: Number(flat[i + 1]!) });
    return { ids, complete: after >= trimmed };
  }

  /** The topic's sequence hash, log stream and message-id index (one hash slot, for Redis Cluster). */
  private keysOf(topic: Topic): [string, string, string] {
    return [`${this.prefix}{${topic}}:seq`, `${this.prefix}{${topic}}:log`, `${this.prefix}{${topic}}:ids`];
  }

  async subscribe(topic: Topic, handler: EventHandler): Promise<Unsubscribe> {
    if (this.closing) throw new Error("RedisEventBus is closed");
    // The wrapper makes each subscription distinct, even for the same handler.
    const own: EventHandler = (event, seq, epoch) => handler(event, seq, epoch);
    this.fanout.add(topic, own);
    const remote = this.subscriptions.get(topic) ?? this.openRemote(topic);
    try {
      await withTimeout(remote.started, this.subscribeTimeoutMs, () =>
        new Error(`Redis did not acknowledge SUBSCRIBE ${remote.channel} within ${this.subscribeTimeoutMs} ms`),
      );
    } catch (error) {
      this.release(topic, own);
      throw error;
    }
    if (this.closing) throw new Error("RedisEventBus is closed");
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.release(topic, own);
    };
  }

  /**
   * Hands an event to this instance's handlers of a topic without publishing it (for local
   * notices such as "events may have been missed" after a reconnect).
   */
  deliverLocal(topic: Topic, event: ConcordEvent): void {
    this.fanout.deliver(topic, event);
  }

  position(topic: Topic): TopicHead | null {
    const remote = this.subscriptions.get(topic);
    return remote?.live && this.fanout.count(topic) > 0 ? remote.gate.position() : null;
  }

  /** Live local subscriptions to a topic (tests wait on it instead of sleeping). */
  subscriberCount(topic: Topic): number {
    return this.fanout.count(topic);
  }

  /** Topics this instance holds a Redis subscription for, acknowledged or in flight (metrics, tests). */
  remoteTopics(): Topic[] {
    return [...this.subscriptions.keys()];
  }

  /**
   * The Redis channel that carries a topic: key prefix + topic (`concord:channel:1`), or on a
   * cluster key prefix + `{topic}` (`concord:{channel:1}`), a shard channel in the slot of the
   * topic's keys so the publish script may SPUBLISH to it.
   */
  channelOf(topic: Topic): string {
    return this.sharded ? `${this.prefix}{${topic}}` : this.prefix + topic;
  }

  /** On a cluster: where each subscribed channel is held, by primary ("host:port"); undefined on one server (tests). */
  shardPlacement(): Map<string, string[]> | undefined {
    return this.sharded?.placement();
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      this.fanout.clear();
      this.subscriptions.clear();
      await Promise.all([this.sharded?.close(), ...[this.publisher, this.subscriber].map((client) => client && shutDown(client))]);
    })();
    return this.closing;
  }

  /** Cluster: the sharded subscriber placed these channels again; what they missed meanwhile is in their topics' logs. */
  private resubscribed(channels: string[]): void {
    if (this.closing) return;
    const lost = new Set(channels);
    const held = [...this.subscriptions.entries()].filter(([, remote]) => remote.id !== undefined && lost.has(remote.channel));
    if (held.length === 0) return;
    this.log.info("Redis event bus resubscribed on the cluster; repairing from the event log", { topics: held.length });
    for (const [, remote] of held) void remote.gate.catchUp();
    this.options.onResubscribed?.(held.map(([topic]) => topic));
  }

  private openRemote(topic: Topic): RemoteSubscription {
    const channel = this.channelOf(topic);
    const gate = new SequenceGate({
      source: {
        head: () => this.head(topic),
        replay: async (after, limit) => {
          const { events, head } = await this.readLog(topic, after, limit);
          return { epoch: head.epoch, events };
        },
      },
      deliver: (event, seq, epoch) => {
        if (this.subscriptions.get(topic) === remote) this.fanOut(topic, event, seq, epoch);
      },
      onGap: (missing, position) => this.gapIn(topic, missing, position),
      onError: (error) => this.log.warn("repairing a gap from the event log failed; retrying on the next event", { topic, error }),
    });
    const remote: RemoteSubscription = { channel, acked: undefined as never, id: undefined, gate, started: undefined as never, live: false };
    remote.acked = this.pubsub.subscribe(channel, (wire: WireEvent | typeof MALFORMED) => {
      if (wire === MALFORMED || this.subscriptions.get(topic) !== remote) return;
      if (wire.traceparent !== undefined && this.traceDelivery) this.traceparents.set(wire.event, wire.traceparent);
      // An ephemeral event has no place in the sequence: it passes at once.
      if (wire.seq === 0) return this.fanOut(topic, wire.event, 0, gate.position().epoch);
      gate.accept(wire.epoch, wire.seq, wire.event);
    });
    // Where to start is read once Redis has the SUBSCRIBE: nothing published after that is missed.
    remote.started = remote.acked.then(async () => {
      await gate.start();
      remote.live = true;
    });
    // RedisPubSub also rejects an internal promise nobody awaits when a SUBSCRIBE fails (e.g.
    // flushed by close() during an outage); without a handler that is an unhandled rejection.
    (this.pubsub as unknown as PubSubInternals).subsPendingRefsMap?.get(channel)?.pending?.catch?.(() => {});
    this.subscriptions.set(topic, remote);
    remote.acked.then(
      (id) => {
        remote.id = id;
        // Every handler left (or timed out) while the SUBSCRIBE was in flight.
        if (this.subscriptions.get(topic) !== remote || this.fanout.count(topic) === 0) this.dropRemote(topic, remote);
      },
      (error: unknown) => {
        if (this.subscriptions.get(topic) === remote) this.subscriptions.delete(topic);
        if (!this.closing) this.log.warn("Redis SUBSCRIBE failed", { channel, error });
      },
    );
    return remote;
  }

  /** Hands a received event to the topic's local handlers, inside its deliver span when it came with a trace context. */
  private fanOut(topic: Topic, event: ConcordEvent, seq: number, epoch: string): void {
    const traceparent = this.traceDelivery && this.traceparents.get(event);
    if (traceparent) this.traceDelivery!(topic, event, traceparent, (done) => this.fanout.deliver(topic, event, seq, epoch, done));
    else this.fanout.deliver(topic, event, seq, epoch);
  }

  /** Removes one local handler; the topic's Redis subscription goes with the last one. */
  private release(topic: Topic, handler: EventHandler): void {
    if (!this.fanout.remove(topic, handler)) return;
    const remote = this.subscriptions.get(topic);
    // Still waiting for its acknowledgement: the `acked` callback drops it if nobody came back.
    if (remote && remote.id !== undefined) this.dropRemote(topic, remote);
  }

  /**
   * Events of a topic that neither the wire nor the log could give: its subscribers get a
   * LiveGap notice in their place, which subscriptions turn into ResyncRequired.
   */
  private gapIn(topic: Topic, missing: { from: number; to: number | null }, position: TopicHead): void {
    this.log.warn("events lost: not in the event log any more", { topic, from: missing.from, to: missing.to });
    this.fanout.deliver(topic, { type: "LiveGap", topic }, position.seq, position.epoch);
  }

  private dropRemote(topic: Topic, remote: RemoteSubscription): void {
    remote.gate.close();
    if (this.subscriptions.get(topic) === remote) this.subscriptions.delete(topic);
    if (this.closing || remote.id === undefined) return;
    try {
      this.pubsub.unsubscribe(remote.id);
    } catch (error) {
      this.log.warn("Redis UNSUBSCRIBE failed", { channel: remote.channel, error });
    }
  }

  /** Logs connection loss and recovery; after a subscriber reconnection, reports the resubscribed topics. */
  private watch(client: Redis | Cluster, role: "publisher" | "subscriber"): void {
    let lost = false;
    let lastError = "";
    client.on("error", (error: Error) => {
      // One line per distinct error, not one per reconnect attempt.
      if (error.message === lastError) return;
      lastError = error.message;
      this.log.warn("Redis event bus connection error", { role, error: error.message });
    });
    client.on("close", () => {
      if (this.closing || lost) return;
      lost = true;
      this.log.warn("Redis event bus connection lost; reconnecting (events published meanwhile are not delivered live)", { role });
    });
    client.on("ready", () => {
      lastError = "";
      if (!lost || this.closing) return;
      lost = false;
      if (role === "publisher") return this.log.info("Redis event bus publisher reconnected", {});
      // ioredis has just re-sent SUBSCRIBE for every channel; replies come in order, so the PING
      // answers after all of them.
      const held = [...this.subscriptions.entries()].filter(([, r]) => r.id !== undefined);
      const topics = held.map(([t]) => t);
      client.ping().then(
        () => {
          this.log.info("Redis event bus resubscribed; repairing from the event log", { topics: topics.length });
          // Whatever was published while cut off is in the log (unless Redis lost it: then the
          // gate sees a new epoch and reports the gap).
          for (const [, remote] of held) void remote.gate.catchUp();
          this.options.onResubscribed?.(topics);
        },
        () => {},
      );
    });
  }
}

/**
 * A topic's head from its sequence hash's `epoch` and `seq` fields. No sequence yet: the epoch
 * the next publish will start is not known; "" matches none.
 */
function headOf(epoch: string | null | undefined, seq: string | null | undefined): TopicHead {
  return { epoch: epoch ?? "", seq: epoch ? Number(seq ?? 0) : 0 };
}

/** Parses `<epoch>:<seq>|<event>` (see PUBLISH_SCRIPT). */
function decodeWire(message: string): WireEvent {
  const bar = message.indexOf("|");
  const colon = message.lastIndexOf(":", bar);
  if (bar < 0 || colon < 0) throw new Error("not a sequenced event");
  const seq = Number(message.slice(colon + 1, bar));
  if (!Number.isSafeInteger(seq) || seq < 0) throw new Error("bad sequence number");
  return { epoch: message.slice(0, colon), seq, ...decodeEnvelope(message.slice(bar + 1)) };
}

/** Creates a {@link RedisEventBus} and waits until it is connected; closes it and rethrows if it cannot connect in time. */
export async function createRedisEventBus(options: RedisEventBusOptions & { connectTimeoutMs?: number }): Promise<RedisEventBus> {
  const bus = new RedisEventBus(options);
  try {
    await bus.connected(options.connectTimeoutMs ?? 10_000);
  } catch (error) {
    await bus.close();
    throw error;
  }
  return bus;
}

/** What the bus uses of its subscriber side: RedisPubSub (SUBSCRIBE on one server) or {@link shardedPubSub} (SSUBSCRIBE on a cluster). */
type ChannelSubscriptions = Pick<RedisPubSub, "subscribe" | "unsubscribe">;

/**
 * RedisPubSub's subscribe/unsubscribe over a {@link ShardedSubscriber}: the bus holds one
 * subscription per channel, so ids map one to one to channels; messages are decoded by `decode`.
 */
function shardedPubSub(sharded: ShardedSubscriber, decode: (message: string, channel: string) => unknown): ChannelSubscriptions {
  const channels = new Map<number, string>();
  let lastId = 0;
  return {
    async subscribe<T>(channel: string, onMessage: (message: T) => void): Promise<number> {
      await sharded.subscribe(channel, (message) => onMessage(decode(message, channel) as T));
      channels.set(++lastId, channel);
      return lastId;
    },
    unsubscribe(id: number): void {
      const channel = channels.get(id);
      if (channel === undefined) return;
      channels.delete(id);
      sharded.unsubscribe(channel);
    },
  };
}

interface PubSubInternals {
  subsPendingRefsMap?: Map<string, { pending?: { catch?: (onRejected: () => void) => unknown } }>;
}

/**
 * A command in flight when the connection dropped is rejected at once and never re-sent: the
 * old primary may have run it, and a second run would number the event twice. (Left to ioredis,
 * with `maxRetriesPerRequest: null` and no resend, it would wait for its commandTimeout and
 * hold up the channel's later publishes behind it.) Queued ones (not sent yet) keep waiting.
 */
function failInFlightOnClose(client: Redis): void {
  const internals = client as unknown as { flushQueue(error: Error, options: { offlineQueue: boolean; commandQueue: boolean }): void };
  client.on("close", () => internals.flushQueue(new InFlightLost(), { offlineQueue: false, commandQueue: true }));
}

/** A command was in flight when its connection dropped: it may or may not have run. */
class InFlightLost extends Error {
  override name = "InFlightLost";
  constructor() {
    super("Redis connection lost with the command in flight (it may or may not have run)");
  }
}

/**
 * RedisPubSub calls UNSUBSCRIBE/PUNSUBSCRIBE without looking at the result, and ioredis'
 * auto-resubscribe does the same with SUBSCRIBE. Those only fail when the connection is
 * closed for good (close() during an outage); observe the promises so that is not an
 * unhandled rejection. Callers that do look (RedisPubSub's subscribe callback) still see errors.
 */
function guardFireAndForget(client: Redis): void {
  const methods = client as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of ["subscribe", "unsubscribe", "psubscribe", "punsubscribe"]) {
    const original = methods[name]!.bind(client);
    methods[name] = (...args: unknown[]) => {
      const result = original(...args);
      if (result instanceof Promise) result.catch(() => {});
      return result;
    };
  }
}



