import { buildSchema, parse, type ExecutionArgs, type ExecutionResult } from "graphql";
import { describe, expect, it } from "vitest";
import { fanoutStats, groupKey, subscribeShared, type FanoutSocket } from "../../src/gateway/shared-fanout.js";
import { createEventStream, type EventStream, type StreamItem } from "../../src/pubsub/event-stream.js";
import { GraphQLError } from "graphql";

/**
 * Push-mode delivery of one group's results to many sockets: each event is executed once per
 * group, written in order to every member, synchronously when no resolver awaits, and after one
 * shared wait when one does.
 */
const schema = buildSchema(`
  type Query { ok: Boolean }
  type Tick { n: Int! label: String! }
  type Subscription { ticks: Tick! }
`);

type Tick = { n: number; delayMs: number };

/** Resolvers: `label` awaits `delayMs` when it is above 0 (as a DataLoader read would). */
const rootResolvers = {
  ticks: (item: StreamItem<Tick>) => {
    if (item.kind === "end") throw item.error;
    const tick = item.event;
    return {
      n: tick.n,
      label: () => (tick.delayMs > 0 ? new Promise((resolve) => setTimeout(() => resolve(`tick ${tick.n}`), tick.delayMs)) : `tick ${tick.n}`),
    };
  },
};

function fakeSocket() {
  const sent: string[] = [];
  const socket: FanoutSocket = { OPEN: 1, readyState: 1, bufferedAmount: 0, send: (data) => sent.push(data.toString()), close: () => {} };
  return { socket, sent };
}

async function subscribers(count: number) {
  const document = parse(`subscription { ticks { n label } }`);
  const streams: EventStream<Tick>[] = [];
  const sockets = [];
  for (let i = 0; i < count; i++) {
    const stream = createEventStream<Tick>({ capacity: 100, overflowError: () => new GraphQLError("overflow"), onClose: () => {} });
    const args: ExecutionArgs = {
      schema,
      document,
      rootValue: undefined,
      fieldResolver: (source, _args, _context, info) => {
        if (info.parentType.name === "Subscription") return rootResolvers.ticks(source as StreamItem<Tick>);
        const value = (source as Record<string, unknown>)[info.fieldName];
        return typeof value === "function" ? (value as () => unknown)() : value;
      },
      subscribeFieldResolver: () => stream,
    };
    const key = groupKey({ document, variables: {}, viewerId: null, viewerDependent: false });
    const { socket, sent } = fakeSocket();
    const iterator = (await subscribeShared(args, key, (error) => error as Error, { socket, id: "1", maxBufferedBytes: 1 << 20 })) as AsyncIterable<ExecutionResult>;
    const reporter = iterator as unknown as { reportTo(listener: { ended(): void }): boolean };
    expect(reporter.reportTo({ ended: () => {} })).toBe(true);
    streams.push(stream);
    sockets.push(sent);
  }
  return { streams, sockets };
}

/** Pushes one event to every member, as the bus's local fan-out does (one event object for all). */
function publish(streams: EventStream<Tick>[], tick: Tick) {
  for (const stream of streams) stream.push(tick);
}

const labels = (sent: string[]) => sent.map((message) => (JSON.parse(message) as { payload: { data: { ticks: { label: string } } } }).payload.data.ticks.label);

describe("push-mode shared fan-out", () => {
  it("writes to every member in the same tick when no resolver awaits, executing once", async () => {
    const { streams, sockets } = await subscribers(50);
    const before = fanoutStats.executions;
    publish(streams, { n: 1, delayMs: 0 });
    // No await in between: written synchronously.
    for (const sent of sockets) expect(labels(sent)).toEqual(["tick 1"]);
    expect(fanoutStats.executions - before).toBe(1);
  });

  it("waits once per group for a resolver that awaits, keeping every member's order", async () => {
    const { streams, sockets } = await subscribers(50);
    const before = fanoutStats.executions;
    publish(streams, { n: 1, delayMs: 30 });
    publish(streams, { n: 2, delayMs: 0 });
    publish(streams, { n: 3, delayMs: 10 });
    for (const sent of sockets) expect(sent).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const sent of sockets) expect(labels(sent)).toEqual(["tick 1", "tick 2", "tick 3"]);
    expect(fanoutStats.executions - before).toBe(3);
  });
});
