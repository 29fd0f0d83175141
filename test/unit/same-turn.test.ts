import { describe, expect, it } from "vitest";
import { sameTurn } from "../../src/stores/cassandra/same-turn.js";

describe("sameTurn", () => {
  it("starts the calls of one turn together, after it, in the order they were made", async () => {
    const started: number[] = [];
    const run = sameTurn(async (n: number) => {
      started.push(n);
      return n * 2;
    });
    const calls = [run(1), run(2), run(3)];
    expect(started).toEqual([]);
    await Promise.resolve();
    expect(started, "not within the turn's microtasks either").toEqual([]);
    expect(await Promise.all(calls)).toEqual([2, 4, 6]);
    expect(started).toEqual([1, 2, 3]);
    // A later call starts on its own turn.
    expect(await run(4)).toBe(8);
    expect(started).toEqual([1, 2, 3, 4]);
  });

  it("gives each call its own outcome: one failing (or throwing at once) fails no other", async () => {
    const run = sameTurn((n: number) => {
      if (n === 2) throw new Error("two throws");
      if (n === 3) return Promise.reject(new Error("three rejects"));
      return Promise.resolve(n);
    });
    const results = await Promise.allSettled([run(1), run(2), run(3), run(4)]);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual([1, "two throws", "three rejects", 4]);
  });
});
