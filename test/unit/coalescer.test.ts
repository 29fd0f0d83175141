import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Coalescer } from "../../src/pubsub/coalescer.js";

describe("Coalescer", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("emits the first value at once and the last of a burst when the window ends", () => {
    const emitted: [string, number][] = [];
    const c = new Coalescer<string, number>(1_000, (k, v) => emitted.push([k, v]));
    c.offer("a", 1);
    expect(emitted).toEqual([["a", 1]]);
    for (let i = 2; i <= 50; i++) c.offer("a", i);
    expect(emitted).toEqual([["a", 1]]);
    vi.advanceTimersByTime(999);
    expect(emitted).toEqual([["a", 1]]);
    vi.advanceTimersByTime(1);
    expect(emitted).toEqual([["a", 1], ["a", 50]]);
  });

  it("bounds a flapping key to one emission per window, last state winning", () => {
    const emitted: number[] = [];
    const c = new Coalescer<string, number>(1_000, (_k, v) => emitted.push(v));
    // 10 s of a value every 10 ms: 1,000 offers.
    for (let t = 0; t < 10_000; t += 10) {
      c.offer("flap", t);
      vi.advanceTimersByTime(10);
    }
    vi.advanceTimersByTime(2_000);
    expect(emitted.length).toBeLessThanOrEqual(11);
    expect(emitted.length).toBeGreaterThanOrEqual(10);
    expect(emitted.at(-1)).toBe(9_990);
  });

  it("keeps keys independent and forgets quiet keys", () => {
    const emitted: string[] = [];
    const c = new Coalescer<string, string>(1_000, (k, v) => emitted.push(`${k}=${v}`));
    c.offer("a", "1");
    c.offer("b", "1");
    c.offer("a", "2");
    expect(emitted).toEqual(["a=1", "b=1"]);
    expect(c.size).toBe(2);
    vi.advanceTimersByTime(1_000);
    expect(emitted).toEqual(["a=1", "b=1", "a=2"]);
    vi.advanceTimersByTime(1_000);
    expect(c.size).toBe(0);
    c.offer("b", "2");
    expect(emitted.at(-1)).toBe("b=2");
  });

  it("flush emits held values at once and clears every key", () => {
    const emitted: string[] = [];
    const c = new Coalescer<string, string>(1_000, (k, v) => emitted.push(`${k}=${v}`));
    c.offer("a", "1");
    c.offer("a", "2");
    c.offer("b", "1");
    c.flush();
    expect(emitted).toEqual(["a=1", "b=1", "a=2"]);
    expect(c.size).toBe(0);
    vi.advanceTimersByTime(5_000);
    expect(emitted).toHaveLength(3);
  });
});
