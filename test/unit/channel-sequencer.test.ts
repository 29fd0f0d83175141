import { describe, expect, it, vi } from "vitest";
import { ChannelSequencer } from "../../src/resolvers/channel-sequencer.js";

/** A promise resolved from outside, to make a step as slow as the test wants. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
/** Lets every already-settled promise callback run. */
const ticks = async (n = 20) => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};

describe("ChannelSequencer", () => {
  it("runs one channel's steps in enqueue order, each after the previous one finished, even when earlier ones are slower", async () => {
    const sequencer = new ChannelSequencer(() => {});
    const log: string[] = [];
    const slow = deferred();
    const first = sequencer.enqueue(1n, async () => {
      log.push("1 start");
      await slow.promise;
      log.push("1 end");
    });
    const second = sequencer.enqueue(1n, async () => {
      log.push("2 start");
      log.push("2 end");
    });
    const third = sequencer.enqueue(1n, async () => {
      log.push("3");
    });
    await ticks();
    expect(log).toEqual(["1 start"]);
    slow.resolve();
    await Promise.all([first, second, third]);
    expect(log).toEqual(["1 start", "1 end", "2 start", "2 end", "3"]);
  });

  it("does not make one channel wait for another", async () => {
    const sequencer = new ChannelSequencer(() => {});
    const stuck = deferred();
    let aDone = false;
    const a = sequencer.enqueue(1n, async () => {
      await stuck.promise;
      aDone = true;
    });
    let bRan = false;
    await sequencer.enqueue(2n, async () => {
      bRan = true;
    });
    expect(bRan).toBe(true);
    expect(aDone).toBe(false);
    expect(sequencer.size).toBe(1);
    stuck.resolve();
    await a;
    expect(aDone).toBe(true);
  });

  it("reports a failing step to onError, resolves its enqueue, and still runs the later steps", async () => {
    const onError = vi.fn();
    const sequencer = new ChannelSequencer(onError);
    const boom = new Error("publish failed");
    const log: number[] = [];
    const failed = sequencer.enqueue(1n, async () => {
      log.push(1);
      throw boom;
    });
    const after = sequencer.enqueue(1n, async () => {
      log.push(2);
    });
    await expect(failed).resolves.toBeUndefined();
    await after;
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError).toHaveBeenCalledWith(boom);
    expect(log).toEqual([1, 2]);
  });

  it("a step that throws synchronously is reported too and does not block the channel", async () => {
    const onError = vi.fn();
    const sequencer = new ChannelSequencer(onError);
    const boom = new Error("sync");
    void sequencer.enqueue(1n, () => {
      throw boom;
    });
    let ran = false;
    await sequencer.enqueue(1n, async () => {
      ran = true;
    });
    expect(onError).toHaveBeenCalledWith(boom);
    expect(ran).toBe(true);
  });

  it("drain resolves only when every step enqueued so far has run, and idle channels are forgotten", async () => {
    const sequencer = new ChannelSequencer(() => {});
    const gates = [deferred(), deferred(), deferred()];
    const done: number[] = [];
    gates.forEach((gate, i) => {
      void sequencer.enqueue(BigInt(i % 2), async () => {
        await gate.promise;
        done.push(i);
      });
    });
    expect(sequencer.size).toBe(2);
    let drained = false;
    const draining = sequencer.drain().then(() => (drained = true));
    gates[0]!.resolve();
    gates[1]!.resolve();
    await ticks();
    expect(drained).toBe(false);
    gates[2]!.resolve();
    await draining;
    expect(done.sort()).toEqual([0, 1, 2]);
    expect(sequencer.size).toBe(0);
    await expect(sequencer.drain()).resolves.toBeUndefined();
  });
});
