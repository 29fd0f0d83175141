import { describe, expect, it } from "vitest";
import { isRetryableClose, jitteredBackoff } from "../../client/src/core.js";

/** The ws client's reconnect policy: which closes it retries, and how long it waits. */
describe("reconnect policy", () => {
  it("retries closes that can recover and not those that cannot", () => {
    for (const code of [1000, 1001, 1005, 1006, 1011, 1012, 1013, 4008, 4029, 4408, 4499]) expect(isRetryableClose(code), String(code)).toBe(true);
    for (const code of [1002, 1003, 1007, 1008, 1009, 1010, 4004, 4005, 4400, 4401, 4403, 4406, 4409, 4429, 4500]) expect(isRetryableClose(code), String(code)).toBe(false);
  });

  it("waits between half and all of an exponentially growing, capped delay", () => {
    const delay = jitteredBackoff({ baseMs: 100, maxMs: 1_000 });
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(1_000, 100 * 2 ** attempt);
      for (let i = 0; i < 20; i++) {
        const ms = delay(attempt);
        expect(ms).toBeGreaterThanOrEqual(ceiling / 2);
        expect(ms).toBeLessThanOrEqual(ceiling);
      }
    }
  });
});
