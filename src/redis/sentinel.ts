import type { RedisOptions } from "ioredis";
import { seedList, type ClusterSeed } from "./cluster.js";

/**
 * A Redis primary found through Redis Sentinel (REDIS_SENTINELS, REDIS_SENTINEL_NAME): the
 * sentinels to ask, and the name of the primary group they watch (`sentinel monitor <name> …`).
 */
export interface SentinelTarget {
  sentinels: readonly ClusterSeed[];
  name: string;
  /** AUTH for the sentinels themselves (REDIS_SENTINEL_PASSWORD), if they require it. */
  password?: string;
}

/** The longest pause between two rounds of asking every sentinel where the primary is. */
const SENTINEL_RETRY_MAX_MS = 1_000;
/** The longest pause between two reconnects of a connection that lost its primary. */
const RECONNECT_MAX_MS = 500;

/**
 * ioredis options that make a connection follow the primary of `target` (over any other
 * options): the client asks the sentinels for the primary's address at every (re)connect and
 * checks that the server it reached is a primary. A primary that dies drops its connections, so
 * clients reconnect and find the promoted replica; one that is demoted while still reachable
 * (a network split healed) refuses writes with READONLY, and that reconnects too.
 * When no sentinel answers, they are asked again every 100 ms, 200 ms … at most 1 s, forever:
 * an instance that gave up would need a restart to work again. The options override the
 * caller's own `retryStrategy`.
 *
 * ioredis' `failoverDetector` (subscribing to the sentinels' +switch-master) is NOT used: in
 * ioredis 5.11, a +switch-master that arrives while the client is already reconnecting (the
 * primary died) aborts that reconnect for good ("Connection is closed", status `end`), which
 * left an instance's presence and readiness connections dead after a failover in the tests.
 */
export function sentinelOptions(target: SentinelTarget): RedisOptions {
  return {
    sentinels: target.sentinels.map(({ host, port }) => ({ host, port })),
    name: target.name,
    sentinelPassword: target.password,
    role: "master",
    failoverDetector: false,
    // 2: reconnect and send the refused command again (it did not run on a replica).
    reconnectOnError: (error: Error) => (error.message.startsWith("READONLY") ? 2 : false),
    sentinelRetryStrategy: (attempt: number) => Math.min(SENTINEL_RETRY_MAX_MS, 100 * attempt),
    // Reconnects every 50 ms, 100 ms … at most ~500 ms (jittered): each asks a sentinel where the
    // primary is, so the promoted one is found within half a second of its promotion rather
    // than after the seconds of backoff a single server's outage calls for.
    retryStrategy: (attempt: number) => Math.round(Math.min(RECONNECT_MAX_MS, 50 * attempt) * (0.5 + Math.random() / 2)),
    // The sentinels' own answers: a sentinel that hangs is skipped for the next one.
    sentinelCommandTimeout: 1_000,
  };
}

/** "name via host:port,…" of a sentinel target, for messages and logs. */
export function describeSentinels(target: SentinelTarget): string {
  return `primary "${target.name}" via sentinels ${seedList(target.sentinels)}`;
}
