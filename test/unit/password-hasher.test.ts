import { describe, expect, it } from "vitest";
import { PasswordHasher } from "../../src/auth/password-hasher.js";
import { ConcordError } from "../../src/errors.js";

/** Cost 10 (the lowest): real scrypt, a few ms per call. */
const hasher = (concurrency: number, queueSize: number) => new PasswordHasher({ cost: 10, concurrency, queueSize });

describe("PasswordHasher", () => {
  it("hashes at its cost and verifies the right password only", async () => {
    const h = hasher(2, 4);
    const stored = await h.hash("correct horse");
    expect(stored).toMatch(/^scrypt\$10\$8\$1\$/);
    expect(await h.verify("correct horse", stored)).toBe(true);
    expect(await h.verify("wrong horse", stored)).toBe(false);
  });

  it("answers false without a stored hash, after spending a verification on a decoy", async () => {
    const h = hasher(1, 0);
    const pending = h.verify("anything", null);
    // The decoy check holds the only slot like a real one: a second call has no room.
    expect(h.load).toEqual({ running: 1, waiting: 0 });
    await expect(h.verify("other", null)).rejects.toMatchObject({ extensions: { code: "RATE_LIMITED" } });
    expect(await pending).toBe(false);
    expect(h.load).toEqual({ running: 0, waiting: 0 });
  });

  it("runs at most `concurrency` calls, queues up to `queueSize`, and all of them complete", async () => {
    const h = hasher(2, 3);
    const runningSeen: number[] = [];
    const calls = Array.from({ length: 5 }, (_, i) => h.hash(`password number ${i}`).then((hash) => (runningSeen.push(h.load.running), hash)));
    expect(h.load).toEqual({ running: 2, waiting: 3 });
    const hashes = await Promise.all(calls);
    expect(new Set(hashes).size).toBe(5);
    expect(Math.max(...runningSeen)).toBeLessThanOrEqual(2);
    expect(h.load).toEqual({ running: 0, waiting: 0 });
  });

  it("starts queued calls in arrival order", async () => {
    const h = hasher(1, 3);
    const finished: number[] = [];
    await Promise.all(Array.from({ length: 4 }, (_, i) => h.hash(`password number ${i}`).then(() => finished.push(i))));
    expect(finished).toEqual([0, 1, 2, 3]);
  });

  it("refuses a call arriving at a full queue with RATE_LIMITED (GLOBAL, password-hashing) and a retry delay, and works again once drained", async () => {
    const h = hasher(1, 2);
    // Measure one call first, so the retry delay is based on real durations.
    await h.hash("warm up the average");
    const admitted = [h.hash("first one here"), h.verify("second one", null), h.hash("third one here")];
    let refusal: unknown;
    try {
      await h.hash("one too many");
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(ConcordError);
    const { extensions, message } = refusal as ConcordError;
    expect(message).toMatch(/try again in a moment/);
    expect(extensions).toMatchObject({ code: "RATE_LIMITED", scope: "GLOBAL", bucket: "password-hashing" });
    expect(extensions.retryAfterMs).toEqual(expect.any(Number));
    expect(extensions.retryAfterMs as number).toBeGreaterThanOrEqual(1);
    // Three calls ahead (one running, two waiting) at a few ms each: a short wait, not seconds.
    expect(extensions.retryAfterMs as number).toBeLessThan(2_000);

    const results = await Promise.all(admitted);
    expect(results[1]).toBe(false);
    expect(await h.verify("first one here", results[0] as string)).toBe(true);
  });

  it("frees the slot of a call that fails", async () => {
    const h = hasher(1, 0);
    // A stored hash that cannot be parsed is a failed verification, not a stuck slot.
    expect(await h.verify("x", "scrypt$99$8$1$AAAA$BBBB")).toBe(false);
    expect(h.load).toEqual({ running: 0, waiting: 0 });
    expect(await h.hash("still works fine")).toMatch(/^scrypt\$/);
  });
});
