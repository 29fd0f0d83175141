import { afterEach } from "vitest";
import type { Logger } from "../../src/logger.js";
import type { EventHandler } from "../../src/pubsub/event-bus.js";
import { createRedisEventBus, type RedisEventBus, type RedisEventBusOptions } from "../../src/pubsub/event-bus.redis.js";
import type { ConcordEvent } from "../../src/pubsub/events.js";
import type { EventBusFixture } from "../contract/event-bus.contract.js";

/** Shared by the RedisEventBus suites on one Redis and on a Redis Cluster. */

/** A logger that keeps the bus's operational lines in memory: the tests stay quiet and can look at them. */
export function memoryLogger(): Logger & { lines: { level: string; message: string; fields?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, fields });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** A bus as the suites open it: with its in-memory log and its unique connection name. */
export type TestBus = RedisEventBus & { logger: ReturnType<typeof memoryLogger>; connectionName: string };

/**
 * Opens connected buses on `where` (a URL or cluster seeds) under `keyPrefix`, each with a
 * connection name of its own, so tests can find (and kill) exactly its connections.
 */
export function busOpener(where: Pick<RedisEventBusOptions, "url" | "clusterNodes">, keyPrefix: string): (options?: Partial<RedisEventBusOptions>) => Promise<TestBus> {
  let opened = 0;
  return async (options = {}) => {
    const logger = memoryLogger();
    const connectionName = `${keyPrefix.replaceAll(":", "-")}bus${++opened}`;
    const bus = await createRedisEventBus({ ...where, keyPrefix, logger, connectionName, ...options });
    return Object.assign(bus, { logger, connectionName });
  };
}

/** Call inside `describe`: opens buses with `open` and closes them after each test. */
export function busesPerTest(open: (options?: Partial<RedisEventBusOptions>) => Promise<TestBus>): (options?: Partial<RedisEventBusOptions>) => Promise<TestBus> {
  const opened: TestBus[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((bus) => bus.close()));
  });
  return async (options) => {
    const bus = await open(options);
    opened.push(bus);
    return bus;
  };
}

/** The event-bus contract's fixture: a bus, and peers (other instances) on the same Redis. */
export async function contractFixture(open: () => Promise<RedisEventBus>): Promise<EventBusFixture> {
  const bus = await open();
  const peers: RedisEventBus[] = [];
  return {
    bus,
    peers: async (count) => {
      const more = await Promise.all(Array.from({ length: count }, () => open()));
      peers.push(...more);
      return more;
    },
    close: async () => {
      await Promise.all([bus, ...peers].map((b) => b.close()));
    },
  };
}

/** A handler that records the events it gets and their sequence numbers. */
export function recorder(): EventHandler & { events: ConcordEvent[]; seqs: number[] } {
  const events: ConcordEvent[] = [];
  const seqs: number[] = [];
  return Object.assign((event: ConcordEvent, seq: number) => void (events.push(event), seqs.push(seq)), { events, seqs });
}

/** A small event that carries `n`. */
export const numbered = (n: number): ConcordEvent => ({ type: "MessageDeleted", channelId: 1n, eventId: BigInt(n), messageId: BigInt(n) });

/** The numbers of the events a recorder got (NaN for other events). */
export const numbers = (handler: { events: ConcordEvent[] }) => handler.events.map((e) => (e.type === "MessageDeleted" ? Number(e.messageId) : Number.NaN));

/** Polls `condition` every 10 ms; fails with `what()` after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, what: () => string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
