import { GraphQLError } from "graphql";
import { describe, expect, it, vi } from "vitest";
import { createEventStream, type StreamItem } from "../../src/pubsub/event-stream.js";

const overflow = new GraphQLError("too slow", { extensions: { code: "SUBSCRIBER_TOO_SLOW" } });

function stream(capacity = 10) {
  const onClose = vi.fn();
  const s = createEventStream<number>({ capacity, overflowError: () => overflow, onClose });
  return { s, onClose };
}
const event = (value: number): StreamItem<number> => ({ kind: "event", event: value });

/** Everything the stream yields until it is done (the stream must already be ended). */
async function rest(s: AsyncIterator<StreamItem<number>>): Promise<StreamItem<number>[]> {
  const items: StreamItem<number>[] = [];
  for (let i = 0; i < 1_000; i++) {
    const r = await s.next();
    if (r.done) return items;
    items.push(r.value);
  }
  throw new Error("stream did not finish");
}

describe("createEventStream", () => {
  it("yields pushed events in push order", async () => {
    const { s } = stream(100);
    for (let i = 0; i < 100; i++) expect(s.push(i)).toBe(true);
    s.end();
    expect(await rest(s)).toEqual(Array.from({ length: 100 }, (_, i) => event(i)));
  });

  it("one event over capacity ends the stream with the overflow error, drops the backlog, and calls onClose once", async () => {
    const { s, onClose } = stream(3);
    expect([s.push(1), s.push(2), s.push(3)]).toEqual([true, true, true]);
    expect(onClose).not.toHaveBeenCalled();
    expect(s.push(4)).toBe(false);
    expect(s.ended).toBe(true);
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(s.push(5)).toBe(false);
    s.end();
    await s.return!();
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it("delivers the overflow error as the last item to a consumer that reads after the overflow", async () => {
    const { s, onClose } = stream(2);
    s.push(1);
    s.push(2);
    s.push(3);
    expect(await rest(s)).toEqual([{ kind: "end", error: overflow }]);
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it("counts only waiting events against capacity: events handed to a waiting consumer or already read do not count", async () => {
    const { s } = stream(1);
    const pending = s.next();
    expect(s.push(1)).toBe(true); // handed straight to the waiting consumer
    expect(await pending).toEqual({ value: event(1), done: false });
    expect(s.push(2)).toBe(true);
    expect(await s.next()).toEqual({ value: event(2), done: false });
    expect(s.push(3)).toBe(true);
    expect(s.ended).toBe(false);
  });

  it("end(error) drops queued events: the error is the only and last item", async () => {
    const { s, onClose } = stream();
    s.push(1);
    s.push(2);
    const error = new GraphQLError("channel deleted");
    s.end(error);
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(s.push(3)).toBe(false);
    expect(await rest(s)).toEqual([{ kind: "end", error }]);
  });

  it("end() without an error delivers the queued events first, then finishes; the first end wins", async () => {
    const { s, onClose } = stream();
    s.push(1);
    s.push(2);
    s.end();
    s.end(new GraphQLError("too late"));
    expect(s.ended).toBe(true);
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(await rest(s)).toEqual([event(1), event(2)]);
    expect(await s.next()).toEqual({ value: undefined, done: true });
  });

  it("return() calls onClose once, finishes the stream and refuses later pushes", async () => {
    const { s, onClose } = stream();
    s.push(1);
    expect(await s.return!()).toEqual({ value: undefined, done: true });
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(s.ended).toBe(true);
    expect(s.push(2)).toBe(false);
    expect(await s.next()).toEqual({ value: undefined, done: true });
    await s.return!();
    s.end();
    expect(onClose).toHaveBeenCalledTimes(1);
  });

  it("breaking out of for await calls onClose", async () => {
    const { s, onClose } = stream();
    s.push(1);
    s.push(2);
    for await (const item of s) {
      expect(item).toEqual(event(1));
      break;
    }
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(s.push(3)).toBe(false);
  });

  it("a pending next() resolves on push", async () => {
    const { s } = stream();
    const pending = s.next();
    s.push(42);
    expect(await pending).toEqual({ value: event(42), done: false });
  });

  it("a pending next() resolves as done on end(), and with the error on end(error)", async () => {
    const a = stream();
    const pendingA = a.s.next();
    a.s.end();
    expect(await pendingA).toEqual({ value: undefined, done: true });

    const b = stream();
    const pendingB = b.s.next();
    const error = new GraphQLError("kicked");
    b.s.end(error);
    expect(await pendingB).toEqual({ value: { kind: "end", error }, done: false });
    expect(await b.s.next()).toEqual({ value: undefined, done: true });
  });

  it("a pending next() resolves as done on return()", async () => {
    const { s, onClose } = stream();
    const pending = s.next();
    await s.return!();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(onClose).toHaveBeenCalledTimes(1);
  });
});

describe("createEventStream in push mode", () => {
  it("calls the consumer synchronously per queued item and at the end; take() hands items over in order", () => {
    const { s } = stream(10);
    const taken: (StreamItem<number> | "end")[] = [];
    s.listen({
      readable() {
        for (let item = s.take(); item; item = s.take()) taken.push(item);
        // Called again as the stream finishes: a consumer takes that in its stride.
        if (s.ended && taken.at(-1) !== "end") taken.push("end");
      },
    });
    s.push(1);
    s.push(2);
    expect(taken).toEqual([event(1), event(2)]);
    s.end(overflow);
    expect(taken).toEqual([event(1), event(2), { kind: "end", error: overflow }, "end"]);
  });

  it("keeps what a busy consumer has not taken (bounded as ever), in order", () => {
    const { s } = stream(2);
    let calls = 0;
    s.listen({ readable: () => void calls++ });
    expect([s.push(1), s.push(2)]).toEqual([true, true]);
    expect(calls).toBe(2);
    expect(s.take()).toEqual(event(1));
    expect(s.push(3)).toBe(true);
    expect(s.push(4)).toBe(false);
    expect(s.take()).toEqual({ kind: "end", error: overflow });
    expect(s.take()).toBeUndefined();
    expect(s.ended).toBe(true);
  });
});
