import { describe, expect, it } from "vitest";
import { CONCORD_EPOCH_MS, MAX_SNOWFLAKE, createIdGenerator, parseSnowflake, snowflakeAt, snowflakeTime } from "../../src/ids/snowflake.js";

const T = Date.UTC(2026, 5, 15, 12, 0, 0, 123);
const sequenceOf = (id: bigint) => Number(id & 0xfffn);
const workerOf = (id: bigint) => Number((id >> 12n) & 0x3ffn);

/** Checks every id is larger than the one before (which also makes them unique). */
function expectStrictlyIncreasing(ids: bigint[]): void {
  for (let i = 1; i < ids.length; i++) {
    if (ids[i]! <= ids[i - 1]!) expect.fail(`id ${i} (${ids[i]}) is not above id ${i - 1} (${ids[i - 1]})`);
  }
}

describe("createIdGenerator", () => {
  it("stays strictly increasing over 10,000 ids in one millisecond", () => {
    const next = createIdGenerator(3, () => T);
    const ids = Array.from({ length: 10_000 }, () => next());
    expectStrictlyIncreasing(ids);
    expect(new Set(ids).size).toBe(10_000);
    expect(ids.every((id) => workerOf(id) === 3)).toBe(true);
  });

  it("numbers ids within a millisecond 0..4095, then borrows the next millisecond, and stays ahead when the clock catches up", () => {
    let clock = T;
    const next = createIdGenerator(1, () => clock);
    const ids = Array.from({ length: 4_097 }, () => next());
    expect(ids.slice(0, 4_096).map(sequenceOf)).toEqual(Array.from({ length: 4_096 }, (_, i) => i));
    expect(ids.slice(0, 4_096).every((id) => snowflakeTime(id).getTime() === T)).toBe(true);
    expect(snowflakeTime(ids[4_096]!).getTime()).toBe(T + 1);
    expect(sequenceOf(ids[4_096]!)).toBe(0);
    clock = T + 1; // the real clock reaches the borrowed millisecond
    const caughtUp = next();
    expect(caughtUp).toBeGreaterThan(ids[4_096]!);
    expect(snowflakeTime(caughtUp).getTime()).toBe(T + 1);
    clock = T + 5;
    const later = next();
    expect(snowflakeTime(later).getTime()).toBe(T + 5);
    expect(sequenceOf(later)).toBe(0);
  });

  it("keeps issuing increasing ids at the last timestamp when the clock steps backwards", () => {
    let clock = T;
    const next = createIdGenerator(9, () => clock);
    const before = next();
    clock = T - 60_000; // NTP step back by a minute
    const during = [next(), next(), next()];
    expectStrictlyIncreasing([before, ...during]);
    for (const id of during) expect(snowflakeTime(id).getTime()).toBe(T);
    clock = T + 10;
    const after = next();
    expect(after).toBeGreaterThan(during.at(-1)!);
    expect(snowflakeTime(after).getTime()).toBe(T + 10);
  });

  it("encodes the worker id, so two workers in the same millisecond never collide", () => {
    const a = createIdGenerator(0, () => T);
    const b = createIdGenerator(1023, () => T);
    const fromA = Array.from({ length: 100 }, () => a());
    const fromB = Array.from({ length: 100 }, () => b());
    expect(new Set([...fromA, ...fromB]).size).toBe(200);
    expect(fromA.every((id) => workerOf(id) === 0)).toBe(true);
    expect(fromB.every((id) => workerOf(id) === 1023)).toBe(true);
  });

  it("accepts worker ids 0..1023 only", () => {
    expect(() => createIdGenerator(0)).not.toThrow();
    expect(() => createIdGenerator(1023)).not.toThrow();
    for (const bad of [-1, 1024, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => createIdGenerator(bad), `worker ${bad}`).toThrow(RangeError);
    }
  });

  it("uses the real clock by default", () => {
    const before = Date.now();
    const id = createIdGenerator(4)();
    const time = snowflakeTime(id).getTime();
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(Date.now());
    expect(id).toBeGreaterThan(2n ** 53n); // ids outgrow doubles: they must stay bigints end to end
  });
});

describe("snowflakeTime and snowflakeAt", () => {
  it("round-trip the millisecond a generator encoded", () => {
    for (const time of [CONCORD_EPOCH_MS, CONCORD_EPOCH_MS + 1, T, Date.UTC(2100, 0, 1)]) {
      const id = createIdGenerator(77, () => time)();
      expect(snowflakeTime(id).getTime()).toBe(time);
      expect(snowflakeAt(time)).toBeLessThanOrEqual(id);
      expect(snowflakeAt(time + 1)).toBeGreaterThan(id);
      expect(snowflakeTime(snowflakeAt(time)).getTime()).toBe(time);
    }
  });

  it("snowflakeAt is the smallest id of its millisecond and clamps times before the epoch to 0", () => {
    expect(snowflakeAt(CONCORD_EPOCH_MS)).toBe(0n);
    expect(snowflakeAt(CONCORD_EPOCH_MS - 86_400_000)).toBe(0n);
    expect(snowflakeAt(CONCORD_EPOCH_MS + 1)).toBe(1n << 22n);
    expect(createIdGenerator(0, () => T)()).toBe(snowflakeAt(T));
  });
});

describe("parseSnowflake", () => {
  it("parses decimal strings up to 2^63-1 exactly", () => {
    expect(parseSnowflake("0")).toBe(0n);
    expect(parseSnowflake("9007199254740993")).toBe(9_007_199_254_740_993n);
    expect(parseSnowflake("9223372036854775807")).toBe(MAX_SNOWFLAKE);
    const id = createIdGenerator(2)();
    expect(parseSnowflake(String(id))).toBe(id);
  });

  it("rejects non-digits, signs, blanks, too many digits and values above 2^63-1", () => {
    const rejected = ["", " ", "abc", "12a", "-1", "+1", "1.0", "1e5", "0x1f", " 12", "12 ", "١٢", "9223372036854775808", "9999999999999999999", "12345678901234567890"];
    for (const value of rejected) expect(parseSnowflake(value), JSON.stringify(value)).toBeNull();
  });
});
