import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { CredentialCache, type SessionLookup } from "../../src/resolvers/credential-cache.js";
import { aliveCutoffs, createSessionPolicy, isExpired, sessionExpiresAt, touchDue } from "../../src/resolvers/session-expiry.js";
import { lookupSession } from "../../src/resolvers/session-lookup.js";
import type { AccountStore, SessionRecord, UserRecord } from "../../src/stores/account-store.js";

const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;
const person: UserRecord = { id: 1n, username: "ada", bot: false, botOwnerId: null, createdAt: new Date(0) };
const bot: UserRecord = { ...person, id: 2n, username: "helper_bot", bot: true, botOwnerId: 1n };
const T0 = Date.UTC(2026, 0, 1);
const at = (ms: number) => new Date(T0 + ms);

describe("session expiry policy", () => {
  const policy = createSessionPolicy(30, 365);

  it("expires after the idle time since the last use, or the absolute time since sign-in, whichever is first", () => {
    const fresh = { createdAt: at(0), lastUsedAt: at(0) };
    expect(sessionExpiresAt(fresh, person, policy)).toEqual(at(30 * DAY));
    const busy = { createdAt: at(0), lastUsedAt: at(350 * DAY) };
    expect(sessionExpiresAt(busy, person, policy), "used daily, it still ends a year after sign-in").toEqual(at(365 * DAY));
    expect(isExpired(fresh, person, policy, at(30 * DAY - 1))).toBe(false);
    expect(isExpired(fresh, person, policy, at(30 * DAY)), "expiry is the first instant it no longer works").toBe(true);
    expect(isExpired(busy, person, policy, at(365 * DAY))).toBe(true);
  });

  it("never expires a bot's token", () => {
    const ancient = { createdAt: at(0), lastUsedAt: at(0) };
    expect(sessionExpiresAt(ancient, bot, policy)).toBeNull();
    expect(isExpired(ancient, bot, policy, at(10_000 * DAY))).toBe(false);
  });

  it("gives the store cutoffs that agree with isExpired at every boundary", () => {
    const now = at(400 * DAY);
    const { usedAfter, createdAfter } = aliveCutoffs(policy, now);
    const aliveByCutoffs = (s: { createdAt: Date; lastUsedAt: Date }) => s.lastUsedAt > usedAfter && s.createdAt > createdAfter;
    for (const createdDay of [34, 35, 36]) {
      for (const usedDay of [369, 370, 371]) {
        for (const nudge of [-1, 0, 1]) {
          const s = { createdAt: at(createdDay * DAY + nudge), lastUsedAt: at(usedDay * DAY + nudge) };
          expect(aliveByCutoffs(s), JSON.stringify(s)).toBe(!isExpired(s, person, policy, now));
        }
      }
    }
  });

  it("writes the last use about once an hour, or every tenth of a short idle time", () => {
    expect(policy.touchEveryMs).toBe(HOUR);
    expect(touchDue({ lastUsedAt: at(0) }, policy, at(HOUR - 1))).toBe(false);
    expect(touchDue({ lastUsedAt: at(0) }, policy, at(HOUR))).toBe(true);
    // Fractional days (tests, demos): 0.0001 days is 8.64 s, written every 0.864 s.
    expect(createSessionPolicy(0.0001, 1)).toEqual({ idleMs: 8_640, maxMs: DAY, touchEveryMs: 864 });
  });
});

/** The three store methods a lookup uses, over one in-memory row per token, counting writes. */
function sessionRows() {
  const rows = new Map<string, { session: SessionRecord; user: UserRecord }>();
  const rowsStore = {
    rows,
    touches: 0,
    failWrites: false,
    add(tokenHash: string, user: UserRecord, createdAt: Date, lastUsedAt = createdAt) {
      rows.set(tokenHash, { user, session: { id: BigInt(rows.size + 1), userId: user.id, createdAt, lastUsedAt, clientHint: null } });
    },
    async findSession(tokenHash: string) {
      const row = rows.get(tokenHash);
      return row ? { user: row.user, session: { ...row.session } } : null;
    },
    async deleteSession(tokenHash: string) {
      if (rowsStore.failWrites) throw new Error("database down");
      return rows.delete(tokenHash);
    },
    async touchSession(tokenHash: string, when: Date) {
      if (rowsStore.failWrites) throw new Error("database down");
      rowsStore.touches++;
      const row = rows.get(tokenHash);
      if (row && row.session.lastUsedAt < when) row.session.lastUsedAt = when;
    },
  };
  return rowsStore;
}

describe("lookupSession", () => {
  const policy = createSessionPolicy(30, 365);
  function setup() {
    const store = sessionRows();
    const warnings: string[] = [];
    let now = at(0);
    const deps = {
      accounts: store as unknown as AccountStore,
      policy,
      now: () => now,
      logger: createLogger("warn", (line) => warnings.push(line)),
    };
    return { store, warnings, deps, setNow: (ms: number) => void (now = at(ms)), lookup: (hash: string) => lookupSession(deps, hash) };
  }
  const active = (found: SessionLookup) => {
    if (found === null || found === "expired") throw new Error(`expected an active session, got ${found}`);
    return found;
  };

  it("answers a valid session with its user, id and recheck time, and null for an unknown token", async () => {
    const { store, lookup } = setup();
    store.add("t", person, at(0));
    const found = active(await lookup("t"));
    // Asked again when the last use is next due to be written (an hour after the stored one).
    expect(found).toEqual({ user: person, sessionId: 1n, recheckAt: at(HOUR) });
    expect(await lookup("unknown")).toBeNull();
  });

  it("deletes an idle-expired session and reports it expired; the token is unknown afterwards", async () => {
    const { store, lookup, setNow } = setup();
    store.add("t", person, at(0));
    setNow(30 * DAY);
    expect(await lookup("t")).toBe("expired");
    expect(store.rows.has("t")).toBe(false);
    expect(await lookup("t")).toBeNull();
  });

  it("expires a session at the absolute limit however recently it was used", async () => {
    const { store, lookup, setNow } = setup();
    store.add("t", person, at(0), at(365 * DAY - HOUR));
    setNow(365 * DAY);
    expect(await lookup("t")).toBe("expired");
  });

  it("writes the last use only when the stored one is an hour old, and asks to be rechecked when the next write is due", async () => {
    const { store, lookup, setNow } = setup();
    store.add("t", person, at(0));
    setNow(HOUR - 1);
    expect(active(await lookup("t")).recheckAt).toEqual(at(HOUR));
    expect(store.touches, "fresh enough: no write").toBe(0);
    setNow(HOUR);
    expect(active(await lookup("t")).recheckAt).toEqual(at(2 * HOUR));
    expect(store.touches).toBe(1);
    expect(store.rows.get("t")!.session.lastUsedAt).toEqual(at(HOUR));
    setNow(HOUR + 10 * 60 * 1000);
    await lookup("t");
    expect(store.touches, "ten minutes later: still one write").toBe(1);
  });

  it("keeps a session used every 29 days alive for months (until the absolute limit)", async () => {
    const { store, lookup, setNow } = setup();
    store.add("t", person, at(0));
    for (let day = 29; day < 365; day += 29) {
      setNow(day * DAY);
      expect(await lookup("t"), `day ${day}`).not.toBe("expired");
    }
    setNow(365 * DAY);
    expect(await lookup("t")).toBe("expired");
  });

  it("never rechecks later than the session's expiry", async () => {
    const { store, lookup, setNow } = setup();
    store.add("t", person, at(0), at(365 * DAY - 2 * HOUR));
    setNow(365 * DAY - HOUR / 2);
    expect(active(await lookup("t")).recheckAt, "the absolute limit comes before the next write").toEqual(at(365 * DAY));
  });

  it("never expires a bot's token, and still records its last use", async () => {
    const { store, lookup, setNow } = setup();
    store.add("b", bot, at(0));
    setNow(5_000 * DAY);
    expect(active(await lookup("b"))).toMatchObject({ user: bot, recheckAt: at(5_000 * DAY + HOUR) });
    expect(store.rows.get("b")!.session.lastUsedAt).toEqual(at(5_000 * DAY));
  });

  it("answers correctly when the write of the last use or of the deletion fails, and logs a warning", async () => {
    const { store, lookup, setNow, warnings } = setup();
    store.add("t", person, at(0));
    store.add("old", person, at(0));
    store.failWrites = true;
    setNow(2 * HOUR);
    expect(active(await lookup("t")).recheckAt, "the write is tried again an hour later, not on every request").toEqual(at(3 * HOUR));
    expect(store.rows.get("t")!.session.lastUsedAt, "the stored last use stays what it was").toEqual(at(0));
    setNow(31 * DAY);
    expect(await lookup("old")).toBe("expired");
    expect(warnings.map((line) => JSON.parse(line).message)).toEqual(["recording a session's last use failed", "deleting an expired session failed"]);
  });

  it("through the credential cache: a session used every 10 minutes for days stays alive with about one read and one write an hour, then expires when left idle", async () => {
    const { store, deps, setNow } = setup();
    const oneDayIdle = { ...deps, policy: createSessionPolicy(1, 365) };
    let reads = 0;
    let clock = 0;
    const cache = new CredentialCache({
      lookup: (hash) => (reads++, lookupSession(oneDayIdle, hash)),
      // Longer than the idle time: only the recheck makes the cache tell the store about uses.
      ttlMs: 2 * DAY,
      maxEntries: 10,
      now: () => T0 + clock,
    });
    const use = async (ms: number) => {
      clock = ms;
      setNow(ms);
      return cache.get("t");
    };
    store.add("t", person, at(0));
    const TEN_MINUTES = 10 * 60 * 1000;
    for (let t = 0; t <= 3 * DAY; t += TEN_MINUTES) expect(await use(t), `at ${t / HOUR} h`).not.toBe("expired");
    expect(reads).toBeLessThanOrEqual(3 * 24 + 1);
    expect(store.touches).toBeLessThanOrEqual(3 * 24);
    expect(store.rows.get("t")!.session.lastUsedAt.getTime(), "the last use is recorded to within the hour").toBeGreaterThanOrEqual(T0 + 3 * DAY - HOUR);
    expect(await use(4 * DAY + HOUR), "a day and an hour idle").toBe("expired");
  });
});
