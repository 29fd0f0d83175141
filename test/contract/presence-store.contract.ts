import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { PresenceStatus, PresenceStore, SessionRef } from "../../src/stores/presence-store.js";
import { suiteFixture } from "../support/suite-fixture.js";

/** What a suite run needs from an adapter: a store and how to release what backs it. */
export interface PresenceStoreFixture {
  store: PresenceStore;
  close(): Promise<void>;
}

export interface PresenceStoreContractOptions {
  /**
   * Whether the adapter's backing service is there. False: every test is reported as skipped;
   * throwing fails the suite (CI must prove every adapter).
   */
  available?: () => Promise<boolean>;
}

/** A random positive 63-bit id: tests never share users, guilds or channels, even across runs. */
const newId = (): bigint => BigInt.asUintN(63, randomBytes(8).readBigUInt64BE()) || 1n;
const newSession = (userId: bigint = newId()): SessionRef => ({ userId, sessionId: `s-${randomUUID()}` });
const ascending = (ids: readonly bigint[]) => [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
const bySession = (refs: readonly SessionRef[]) => [...refs].sort((a, b) => a.sessionId.localeCompare(b.sessionId));

const TTL = 1_000;
/** Each test's clock starts this far before the previous test's, see {@link clock}. */
const EPOCH_GAP_MS = 10_000_000_000;
let epochs = 0;
/**
 * A clock for one test: `at(ms)` is `ms` after the test's epoch. Every test's epoch is earlier
 * than all earlier tests' (by more than any test spans), so sessions other tests left behind
 * in the shared store are never due in this test's sweeps.
 */
function clock(): (ms?: number) => Date {
  const epoch = Date.UTC(2200, 0, 1) - ++epochs * EPOCH_GAP_MS;
  return (ms = 0) => new Date(epoch + ms);
}

/**
 * The behaviour every {@link PresenceStore} adapter must have, as stated in the port's JSDoc,
 * plus the decisions the adapters document where it leaves room (expired sessions are dead
 * before any sweep; each offline transition is reported exactly once). One store per suite
 * run; each test uses fresh random ids and its own clock.
 */
export function presenceStoreContract(name: string, factory: () => Promise<PresenceStoreFixture>, options: PresenceStoreContractOptions = {}) {
  describe(`PresenceStore contract: ${name}`, () => {
    const fixture = suiteFixture(name, factory, options.available);
    const storeOf = (ctx: Parameters<typeof fixture>[0]) => fixture(ctx).store;

    async function statusOf(store: PresenceStore, userId: bigint, now: Date): Promise<PresenceStatus> {
      const [record] = await store.get([userId], now);
      return record!.status;
    }
    async function memberIds(store: PresenceStore, guildId: bigint, limit = 100): Promise<bigint[]> {
      return (await store.activeMembers(guildId, limit)).map((m) => m.userId);
    }
    /** Sweeps until nothing is due, returning every user reported. */
    async function sweepAll(store: PresenceStore, now: Date, limit = 100): Promise<bigint[]> {
      const reported: bigint[] = [];
      for (;;) {
        const batch = await store.sweep(now, limit);
        reported.push(...batch);
        if (batch.length === 0) return reported;
      }
    }

    describe("connect and disconnect", () => {
      it("the first session brings the user online with ONLINE; a second one, or the same again, does not", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const first = newSession();
        const second = newSession(first.userId);
        expect(await statusOf(store, first.userId, at(0))).toBe("OFFLINE");
        expect(await store.connect({ ...first, guildIds: [] }, at(0), TTL)).toEqual({ cameOnline: true, status: "ONLINE" });
        expect(await statusOf(store, first.userId, at(1))).toBe("ONLINE");
        expect(await store.connect({ ...second, guildIds: [] }, at(1), TTL)).toEqual({ cameOnline: false, status: "ONLINE" });
        expect(await store.connect({ ...first, guildIds: [] }, at(2), TTL)).toEqual({ cameOnline: false, status: "ONLINE" });
      });

      it("disconnecting one of two sessions keeps the user online; the last one takes them offline; repeats report false", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const guildId = newId();
        const first = newSession();
        const second = newSession(first.userId);
        await store.connect({ ...first, guildIds: [guildId] }, at(0), TTL);
        await store.connect({ ...second, guildIds: [guildId] }, at(0), TTL);

        expect(await store.disconnect(first, at(10))).toEqual({ wentOffline: false, status: "ONLINE" });
        expect(await statusOf(store, first.userId, at(10))).toBe("ONLINE");
        expect(await store.onlineCount(guildId)).toBe(1);
        expect(await store.disconnect(first, at(11))).toEqual({ wentOffline: false, status: "ONLINE" });
        expect(await store.onlineCount(guildId)).toBe(1);

        expect(await store.disconnect(second, at(20))).toEqual({ wentOffline: true, status: "ONLINE" });
        expect(await statusOf(store, first.userId, at(20))).toBe("OFFLINE");
        expect(await store.onlineCount(guildId)).toBe(0);
        expect(await store.disconnect(second, at(21))).toEqual({ wentOffline: false, status: "ONLINE" });
        // Nothing is left for a sweep to report, and the session is gone for good.
        expect(await sweepAll(store, at(10 * TTL))).toEqual([]);
        expect(await store.heartbeat([first, second], at(30), TTL)).toHaveLength(2);
      });

      it("disconnecting a session nobody knows changes nothing and reports false", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const live = newSession();
        await store.connect({ ...live, guildIds: [] }, at(0), TTL);
        expect(await store.disconnect(newSession(), at(1))).toEqual({ wentOffline: false, status: "ONLINE" });
        expect(await store.disconnect(newSession(live.userId), at(1))).toEqual({ wentOffline: false, status: "ONLINE" });
        expect(await statusOf(store, live.userId, at(2))).toBe("ONLINE");
      });

      it("going offline leaves every guild online set; coming back enters only the guilds given then", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const [g1, g2, g3] = [newId(), newId(), newId()];
        const session = newSession();
        await store.connect({ ...session, guildIds: [g1, g2] }, at(0), TTL);
        expect([await store.onlineCount(g1), await store.onlineCount(g2)]).toEqual([1, 1]);
        await store.disconnect(session, at(1));
        expect([await store.onlineCount(g1), await store.onlineCount(g2)]).toEqual([0, 0]);
        expect(await memberIds(store, g1)).toEqual([]);

        const again = newSession(session.userId);
        expect((await store.connect({ ...again, guildIds: [g2, g3] }, at(2), TTL)).cameOnline).toBe(true);
        expect([await store.onlineCount(g1), await store.onlineCount(g2), await store.onlineCount(g3)]).toEqual([0, 1, 1]);
        // The guilds of the earlier online period are not recorded any more: touch does not reach g1.
        await store.touch(session.userId, at(3));
        expect(await store.onlineCount(g1)).toBe(0);
      });

      it("connecting another session while online adds the guilds it brings", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const [g1, g2] = [newId(), newId()];
        const first = newSession();
        await store.connect({ ...first, guildIds: [g1] }, at(0), TTL);
        await store.connect({ ...newSession(first.userId), guildIds: [g1, g2] }, at(1), TTL);
        expect([await store.onlineCount(g1), await store.onlineCount(g2)]).toEqual([1, 1]);
        await store.disconnect(first, at(2));
        expect([await store.onlineCount(g1), await store.onlineCount(g2)]).toEqual([1, 1]);
      });
    });

    describe("expiry and sweep", () => {
      it("a session lives until now + ttl: get shows OFFLINE from expiresAt on, before any sweep", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const session = newSession();
        await store.connect({ ...session, guildIds: [] }, at(0), TTL);
        expect(await statusOf(store, session.userId, at(TTL - 1))).toBe("ONLINE");
        expect(await statusOf(store, session.userId, at(TTL))).toBe("OFFLINE");
        // A later connect starts a new online period.
        expect(await store.connect({ ...newSession(session.userId), guildIds: [] }, at(TTL + 1), TTL)).toEqual({ cameOnline: true, status: "ONLINE" });
      });

      it("a connect after every session expired starts a new online period: only the guilds given now, no sweep report", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const [g1, g2] = [newId(), newId()];
        const old = newSession();
        await store.connect({ ...old, guildIds: [g1] }, at(0), TTL);
        const fresh = newSession(old.userId);
        expect(await store.connect({ ...fresh, guildIds: [g2] }, at(2 * TTL), TTL)).toEqual({ cameOnline: true, status: "ONLINE" });
        expect([await store.onlineCount(g1), await store.onlineCount(g2)]).toEqual([0, 1]);
        expect(await store.sweep(at(2 * TTL + 1), 100)).toEqual([]);
        expect(await store.heartbeat([old, fresh], at(2 * TTL + 2), TTL)).toEqual([old]);
        expect(await store.sweep(at(10 * TTL), 100)).toEqual([old.userId]);
        expect(await store.onlineCount(g2)).toBe(0);
      });

      it("sweep removes sessions expired at or before now and reports their users once, never one with a live session", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const guildId = newId();
        const gone = newSession();
        const staysOld = newSession();
        const staysNew = newSession(staysOld.userId);
        const fresh = newSession();
        await store.connect({ ...gone, guildIds: [guildId] }, at(0), TTL);
        await store.connect({ ...staysOld, guildIds: [guildId] }, at(0), TTL);
        await store.connect({ ...staysNew, guildIds: [guildId] }, at(500), TTL);
        await store.connect({ ...fresh, guildIds: [guildId] }, at(500), TTL);

        expect(await store.sweep(at(TTL - 1), 100)).toEqual([]);
        expect(await store.sweep(at(TTL), 100)).toEqual([gone.userId]);
        expect(await store.sweep(at(TTL), 100)).toEqual([]);
        expect(ascending(await memberIds(store, guildId))).toEqual(ascending([staysOld.userId, fresh.userId]));
        expect(await store.onlineCount(guildId)).toBe(2);
        // Swept sessions are unknown; the survivor's other session is untouched.
        expect(bySession(await store.heartbeat([gone, staysOld, staysNew], at(TTL + 1), TTL))).toEqual(bySession([gone, staysOld]));
        expect(await statusOf(store, staysOld.userId, at(TTL + 2))).toBe("ONLINE");

        expect(ascending(await store.sweep(at(10 * TTL), 100))).toEqual(ascending([staysOld.userId, fresh.userId]));
        expect(await store.onlineCount(guildId)).toBe(0);
      });

      it("respects limit and removes the oldest expiries first", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const sessions = Array.from({ length: 5 }, () => newSession());
        for (const [i, session] of sessions.entries()) await store.connect({ ...session, guildIds: [] }, at(i * 10), TTL);
        const users = sessions.map((s) => s.userId);
        const now = at(10 * TTL);
        expect(ascending(await store.sweep(now, 2))).toEqual(ascending(users.slice(0, 2)));
        expect(ascending(await store.sweep(now, 2))).toEqual(ascending(users.slice(2, 4)));
        expect(await store.sweep(now, 2)).toEqual([users[4]]);
        expect(await store.sweep(now, 2)).toEqual([]);
      });

      it("a user whose expired sessions are swept in several batches is reported once", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const userId = newId();
        const guildId = newId();
        for (let i = 0; i < 3; i++) await store.connect({ ...newSession(userId), guildIds: [guildId] }, at(i), TTL);
        const reported: bigint[] = [];
        for (let round = 0; round < 5; round++) {
          const batch = await store.sweep(at(10 * TTL), 1);
          expect(batch.length).toBeLessThanOrEqual(1);
          reported.push(...batch);
        }
        expect(reported).toEqual([userId]);
        expect(await store.onlineCount(guildId)).toBe(0);
      });

      it("concurrent sweeps report each expired user exactly once in total", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const guildId = newId();
        const sessions = Array.from({ length: 60 }, () => newSession());
        // Some users have two expired sessions, to be split between sweeps.
        const extra = sessions.slice(0, 20).map((s) => newSession(s.userId));
        await Promise.all([...sessions, ...extra].map((s, i) => store.connect({ ...s, guildIds: [guildId] }, at(i), TTL)));
        const now = at(10 * TTL);
        const batches = await Promise.all(Array.from({ length: 6 }, () => store.sweep(now, 15)));
        const reported = [...batches.flat(), ...(await sweepAll(store, now))];
        for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(15);
        expect(ascending(reported)).toEqual(ascending(sessions.map((s) => s.userId)));
        expect(await store.onlineCount(guildId)).toBe(0);
      });

      it("each offline transition is reported once, whether by disconnect or by sweep, when sessions expired unswept", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        // A: its only session expired; B: two expired sessions, one disconnected;
        // C: one expired session and one live, and the live one is disconnected.
        const guildId = newId();
        const a = newSession();
        const [b1, b2] = [newSession(), newSession()];
        b2.userId = b1.userId;
        const [c1, c2] = [newSession(), newSession()];
        c2.userId = c1.userId;
        await store.connect({ ...a, guildIds: [] }, at(0), TTL);
        await store.connect({ ...b1, guildIds: [] }, at(0), TTL);
        await store.connect({ ...b2, guildIds: [] }, at(0), TTL);
        await store.connect({ ...c1, guildIds: [guildId] }, at(0), TTL);
        await store.connect({ ...c2, guildIds: [guildId] }, at(TTL / 2), 10 * TTL);
        const now = at(6 * TTL);
        const wentOffline = new Map<bigint, boolean>();
        for (const session of [a, b1, c2]) wentOffline.set(session.userId, (await store.disconnect(session, now)).wentOffline);
        // c2 was C's last live session: the port's own case.
        expect(wentOffline.get(c1.userId)).toBe(true);
        expect(await store.onlineCount(guildId)).toBe(0);
        const swept = await sweepAll(store, now);
        for (const userId of [a.userId, b1.userId, c1.userId]) {
          const reports = (wentOffline.get(userId) ? 1 : 0) + swept.filter((id) => id === userId).length;
          expect(reports, `user ${userId}`).toBe(1);
        }
        expect(await store.get([a.userId, b1.userId, c1.userId], now)).toEqual([a.userId, b1.userId, c1.userId].map((userId) => ({ userId, status: "OFFLINE" })));
      });
    });

    describe("heartbeat", () => {
      it("extends every given session to now + ttl, in one call", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const [s1, s2] = [newSession(), newSession()];
        await store.connect({ ...s1, guildIds: [] }, at(0), TTL);
        await store.connect({ ...s2, guildIds: [] }, at(0), TTL);
        expect(await store.heartbeat([s1, s2], at(900), TTL)).toEqual([]);
        expect(await store.get([s1.userId, s2.userId], at(1_500))).toEqual([
          { userId: s1.userId, status: "ONLINE" },
          { userId: s2.userId, status: "ONLINE" },
        ]);
        expect(await store.sweep(at(1_500), 100)).toEqual([]);
        expect(await statusOf(store, s1.userId, at(900 + TTL))).toBe("OFFLINE");
        expect(ascending(await store.sweep(at(900 + TTL), 100))).toEqual(ascending([s1.userId, s2.userId]));
        expect(await store.heartbeat([], at(2_000), TTL)).toEqual([]);
      });

      it("returns the sessions it does not know and never creates them", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const known = newSession();
        const strangerUser = newSession();
        const strangerSession = newSession(known.userId);
        const closed = newSession(known.userId);
        await store.connect({ ...known, guildIds: [] }, at(0), TTL);
        await store.connect({ ...closed, guildIds: [] }, at(0), TTL);
        await store.disconnect(closed, at(1));
        const unknown = [strangerUser, strangerSession, closed];
        expect(bySession(await store.heartbeat([strangerUser, known, strangerSession, closed], at(2), TTL))).toEqual(bySession(unknown));
        expect(bySession(await store.heartbeat(unknown, at(3), TTL))).toEqual(bySession(unknown));
        expect(await statusOf(store, strangerUser.userId, at(4))).toBe("OFFLINE");
        // Only `known` is alive: when it expires, the user goes offline.
        await store.disconnect(known, at(5));
        expect(await statusOf(store, known.userId, at(6))).toBe("OFFLINE");
        expect(await sweepAll(store, at(10 * TTL))).toEqual([]);
      });

      it("does not revive an expired session: it is reported unknown and must be connected again", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const session = newSession();
        await store.connect({ ...session, guildIds: [] }, at(0), TTL);
        expect(await store.heartbeat([session], at(TTL), TTL)).toEqual([session]);
        expect(await statusOf(store, session.userId, at(TTL + 1))).toBe("OFFLINE");
        expect(await store.connect({ ...session, guildIds: [] }, at(TTL + 2), TTL)).toEqual({ cameOnline: true, status: "ONLINE" });
        expect(await store.heartbeat([session], at(TTL + 3), TTL)).toEqual([]);
        // The sessions of the earlier period are not reported by a sweep any more.
        expect(await store.sweep(at(TTL + 10), 100)).toEqual([]);
      });
    });

    describe("chosen status", () => {
      it("is kept while offline, applies on the next connect and to get, and survives going offline again", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const session = newSession();
        const { userId } = session;
        expect(await store.setStatus(userId, "DND", at(0))).toEqual({ online: false, previous: "ONLINE" });
        expect(await statusOf(store, userId, at(1))).toBe("OFFLINE");
        expect(await store.connect({ ...session, guildIds: [] }, at(2), TTL)).toEqual({ cameOnline: true, status: "DND" });
        expect(await statusOf(store, userId, at(3))).toBe("DND");
        expect(await store.disconnect(session, at(4))).toEqual({ wentOffline: true, status: "DND" });
        expect(await statusOf(store, userId, at(5))).toBe("OFFLINE");
        expect(await store.connect({ ...newSession(userId), guildIds: [] }, at(6), TTL)).toEqual({ cameOnline: true, status: "DND" });
        expect(await store.setStatus(userId, "IDLE", at(7))).toEqual({ online: true, previous: "DND" });
        expect(await statusOf(store, userId, at(8))).toBe("IDLE");
        expect(await store.setStatus(userId, "ONLINE", at(9))).toEqual({ online: true, previous: "IDLE" });
        expect(await store.setStatus(userId, "ONLINE", at(10))).toEqual({ online: true, previous: "ONLINE" });
      });

      it("applies to every session of the user, and disconnect reports it", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const first = newSession();
        const second = newSession(first.userId);
        await store.connect({ ...first, guildIds: [] }, at(0), TTL);
        await store.setStatus(first.userId, "IDLE", at(1));
        expect(await store.connect({ ...second, guildIds: [] }, at(2), TTL)).toEqual({ cameOnline: false, status: "IDLE" });
        expect(await store.disconnect(first, at(3))).toEqual({ wentOffline: false, status: "IDLE" });
        expect(await store.disconnect(second, at(4))).toEqual({ wentOffline: true, status: "IDLE" });
      });

      it("is online false for a user whose sessions all expired", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const session = newSession();
        await store.connect({ ...session, guildIds: [] }, at(0), TTL);
        expect(await store.setStatus(session.userId, "DND", at(TTL))).toEqual({ online: false, previous: "ONLINE" });
      });

      it("INVISIBLE leaves every online set, is the true status in get, and leaving it joins them again at now", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const [g1, g2] = [newId(), newId()];
        const other = newSession();
        const session = newSession();
        await store.connect({ ...other, guildIds: [g1] }, at(0), TTL);
        await store.connect({ ...session, guildIds: [g1, g2] }, at(0), TTL);
        expect([await store.onlineCount(g1), await store.onlineCount(g2)]).toEqual([2, 1]);

        expect(await store.setStatus(session.userId, "INVISIBLE", at(10))).toEqual({ online: true, previous: "ONLINE" });
        expect([await store.onlineCount(g1), await store.onlineCount(g2)]).toEqual([1, 0]);
        expect(await memberIds(store, g1)).toEqual([other.userId]);
        expect(await statusOf(store, session.userId, at(11))).toBe("INVISIBLE");
        // Activity and new guilds while invisible do not show.
        const g3 = newId();
        await store.touch(session.userId, at(12));
        await store.joinGuild(session.userId, g3, at(13));
        await store.connect({ ...newSession(session.userId), guildIds: [g1] }, at(14), TTL);
        expect([await store.onlineCount(g1), await store.onlineCount(g2), await store.onlineCount(g3)]).toEqual([1, 0, 0]);

        expect(await store.setStatus(session.userId, "DND", at(20))).toEqual({ online: true, previous: "INVISIBLE" });
        expect([await store.onlineCount(g1), await store.onlineCount(g2), await store.onlineCount(g3)]).toEqual([2, 1, 1]);
        expect(await store.activeMembers(g2, 10)).toEqual([{ userId: session.userId, lastActiveAt: at(20) }]);
        expect(await store.activeMembers(g1, 10)).toEqual([
          { userId: session.userId, lastActiveAt: at(20) },
          { userId: other.userId, lastActiveAt: at(0) },
        ]);
      });

      it("an INVISIBLE user comes online invisible and enters no online set; leaving INVISIBLE while offline adds nothing", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const guildId = newId();
        const session = newSession();
        await store.setStatus(session.userId, "INVISIBLE", at(0));
        expect(await store.connect({ ...session, guildIds: [guildId] }, at(1), TTL)).toEqual({ cameOnline: true, status: "INVISIBLE" });
        expect(await store.onlineCount(guildId)).toBe(0);
        expect(await store.disconnect(session, at(2))).toEqual({ wentOffline: true, status: "INVISIBLE" });
        expect(await store.setStatus(session.userId, "ONLINE", at(3))).toEqual({ online: false, previous: "INVISIBLE" });
        expect(await store.onlineCount(guildId)).toBe(0);
      });

      it("changing between visible statuses keeps the user's place and lastActive in online sets", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const guildId = newId();
        const session = newSession();
        await store.connect({ ...session, guildIds: [guildId] }, at(0), TTL);
        await store.setStatus(session.userId, "DND", at(50));
        await store.setStatus(session.userId, "IDLE", at(60));
        expect(await store.activeMembers(guildId, 10)).toEqual([{ userId: session.userId, lastActiveAt: at(0) }]);
      });
    });

    describe("get", () => {
      it("returns the true presence of each user in the order given, OFFLINE for users never seen", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const [online, dnd, invisible] = [newSession(), newSession(), newSession()];
        const stranger = newId();
        await store.connect({ ...online, guildIds: [] }, at(0), TTL);
        await store.connect({ ...dnd, guildIds: [] }, at(0), TTL);
        await store.setStatus(dnd.userId, "DND", at(0));
        await store.setStatus(invisible.userId, "INVISIBLE", at(0));
        await store.connect({ ...invisible, guildIds: [] }, at(0), TTL);
        const ids = [stranger, invisible.userId, online.userId, dnd.userId, stranger];
        const statuses: PresenceStatus[] = ["OFFLINE", "INVISIBLE", "ONLINE", "DND", "OFFLINE"];
        expect(await store.get(ids, at(1))).toEqual(ids.map((userId, i) => ({ userId, status: statuses[i] })));
        expect(await store.get([], at(1))).toEqual([]);
      });
    });

    describe("guild online sets", () => {
      it("count and list the online, visible members of each guild only", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const [g1, g2, empty] = [newId(), newId(), newId()];
        const [a, b, c] = [newSession(), newSession(), newSession()];
        await store.connect({ ...a, guildIds: [g1] }, at(0), TTL);
        await store.connect({ ...b, guildIds: [g1, g2] }, at(10), TTL);
        await store.connect({ ...c, guildIds: [g2] }, at(20), TTL);
        expect([await store.onlineCount(g1), await store.onlineCount(g2), await store.onlineCount(empty)]).toEqual([2, 2, 0]);
        expect(await store.activeMembers(g1, 10)).toEqual([
          { userId: b.userId, lastActiveAt: at(10) },
          { userId: a.userId, lastActiveAt: at(0) },
        ]);
        expect(await memberIds(store, g2)).toEqual([c.userId, b.userId]);
        expect(await store.activeMembers(empty, 10)).toEqual([]);
      });

      it("activeMembers: most recently active first, ties by user id, at most limit; touch moves up and never down", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const guildId = newId();
        // Ids of 5 to 19 digits: their text order is not their numeric order.
        const sessions = Array.from({ length: 6 }, (_, i) => newSession((newId() % 10n ** BigInt(4 + 3 * i)) + 1n));
        for (const session of sessions) await store.connect({ ...session, guildIds: [guildId] }, at(0), TTL);
        const byId = ascending(sessions.map((s) => s.userId));
        expect(await memberIds(store, guildId)).toEqual(byId);
        // A page boundary inside a run of ties still follows the id order.
        expect(await memberIds(store, guildId, 4)).toEqual(byId.slice(0, 4));

        const [x, y] = [byId[4]!, byId[2]!];
        await store.touch(x, at(100));
        await store.touch(y, at(200));
        await store.touch(x, at(50)); // older than x's last activity: no effect
        const rest = byId.filter((id) => id !== x && id !== y);
        expect(await memberIds(store, guildId)).toEqual([y, x, ...rest]);
        expect(await store.activeMembers(guildId, 3)).toEqual([
          { userId: y, lastActiveAt: at(200) },
          { userId: x, lastActiveAt: at(100) },
          { userId: rest[0], lastActiveAt: at(0) },
        ]);
        expect(await store.activeMembers(guildId, 0)).toEqual([]);
      });

      it("touch does nothing for an offline user or one whose sessions expired", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const guildId = newId();
        const stays = newSession();
        const expires = newSession();
        await store.connect({ ...stays, guildIds: [guildId] }, at(0), 10 * TTL);
        await store.connect({ ...expires, guildIds: [guildId] }, at(0), TTL);
        await store.touch(newId(), at(5));
        await store.touch(expires.userId, at(TTL));
        expect(await store.activeMembers(guildId, 10)).toEqual(
          ascending([stays.userId, expires.userId]).map((userId) => ({ userId, lastActiveAt: at(0) })),
        );
      });

      it("joinGuild puts an online user in the guild's set at now; an offline user nowhere", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const guildId = newId();
        const online = newSession();
        const offline = newSession();
        await store.connect({ ...online, guildIds: [] }, at(0), TTL);
        await store.joinGuild(online.userId, guildId, at(5));
        await store.joinGuild(offline.userId, guildId, at(5));
        expect(await store.activeMembers(guildId, 10)).toEqual([{ userId: online.userId, lastActiveAt: at(5) }]);
        // The offline user's join is not remembered for a later connect that does not list the guild.
        await store.connect({ ...offline, guildIds: [] }, at(6), TTL);
        expect(await memberIds(store, guildId)).toEqual([online.userId]);
        // The online user's join is remembered: touch and going offline reach the guild.
        await store.touch(online.userId, at(7));
        expect((await store.activeMembers(guildId, 10))[0]).toEqual({ userId: online.userId, lastActiveAt: at(7) });
        await store.disconnect(online, at(8));
        expect(await store.onlineCount(guildId)).toBe(0);
      });

      it("leaveGuild takes the user out of that guild only, for good, and is idempotent", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const [left, kept] = [newId(), newId()];
        const session = newSession();
        const other = newSession();
        await store.connect({ ...session, guildIds: [left, kept] }, at(0), TTL);
        await store.connect({ ...other, guildIds: [left] }, at(0), TTL);
        await store.leaveGuild(session.userId, left);
        await store.leaveGuild(session.userId, left);
        await store.leaveGuild(newId(), left);
        expect([await store.onlineCount(left), await store.onlineCount(kept)]).toEqual([1, 1]);
        expect(await memberIds(store, left)).toEqual([other.userId]);
        // Nothing the user does later in this online period brings the guild back.
        await store.touch(session.userId, at(1));
        await store.setStatus(session.userId, "INVISIBLE", at(2));
        await store.setStatus(session.userId, "ONLINE", at(3));
        expect(await memberIds(store, left)).toEqual([other.userId]);
        expect(await memberIds(store, kept)).toEqual([session.userId]);
      });

      it("forgetGuild drops the guild's online set for good, is idempotent, and leaves other guilds alone", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const [deleted, kept] = [newId(), newId()];
        const [a, b] = [newSession(), newSession()];
        await store.connect({ ...a, guildIds: [deleted, kept] }, at(0), TTL);
        await store.connect({ ...b, guildIds: [deleted] }, at(0), TTL);
        await store.forgetGuild(deleted);
        await store.forgetGuild(deleted);
        await store.forgetGuild(newId());
        expect([await store.onlineCount(deleted), await store.onlineCount(kept)]).toEqual([0, 1]);
        expect(await store.activeMembers(deleted, 10)).toEqual([]);
        await store.touch(a.userId, at(1));
        await store.setStatus(a.userId, "INVISIBLE", at(2));
        await store.setStatus(a.userId, "ONLINE", at(3));
        await store.connect({ ...newSession(b.userId), guildIds: [] }, at(4), TTL);
        expect(await store.onlineCount(deleted)).toBe(0);
        expect(await memberIds(store, kept)).toEqual([a.userId]);
      });

      it("counts a large guild from its online set: 2,000 users online, 1,500 after 500 disconnect", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const [guildId, elsewhere] = [newId(), newId()];
        const sessions = Array.from({ length: 2_000 }, () => newSession());
        for (let i = 0; i < sessions.length; i += 500) {
          await Promise.all(sessions.slice(i, i + 500).map((s, j) => store.connect({ ...s, guildIds: [guildId] }, at(i + j), TTL)));
        }
        expect(await store.onlineCount(guildId)).toBe(2_000);
        expect(await store.onlineCount(elsewhere)).toBe(0);
        const results = await Promise.all(sessions.slice(0, 500).map((s) => store.disconnect(s, at(3_000))));
        expect(results.every((r) => r.wentOffline)).toBe(true);
        expect(await store.onlineCount(guildId)).toBe(1_500);
        // Most recent first: the last connected come first.
        expect(await memberIds(store, guildId, 3)).toEqual(sessions.slice(-3).reverse().map((s) => s.userId));
      });
    });

    describe("typing", () => {
      const QUIET = 3_000;
      const TYPING_TTL = 10_000;

      it("startTyping returns true and lists the user until expiry; repeats within quietMs are absorbed, later ones extend", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const [channelId, userId] = [newId(), newId()];
        expect(await store.startTyping(channelId, userId, at(0), TYPING_TTL, QUIET)).toBe(true);
        expect(await store.typing(channelId, at(1))).toEqual([{ userId, expiresAt: at(TYPING_TTL) }]);
        expect(await store.startTyping(channelId, userId, at(QUIET - 1), TYPING_TTL, QUIET)).toBe(false);
        expect(await store.typing(channelId, at(QUIET))).toEqual([{ userId, expiresAt: at(TYPING_TTL) }]);
        expect(await store.startTyping(channelId, userId, at(QUIET), TYPING_TTL, QUIET)).toBe(true);
        expect(await store.typing(channelId, at(QUIET + 1))).toEqual([{ userId, expiresAt: at(QUIET + TYPING_TTL) }]);
        // The quiet period counts from the last accepted start.
        expect(await store.startTyping(channelId, userId, at(2 * QUIET - 1), TYPING_TTL, QUIET)).toBe(false);
        expect(await store.typing(channelId, at(QUIET + TYPING_TTL - 1))).toEqual([{ userId, expiresAt: at(QUIET + TYPING_TTL) }]);
        expect(await store.typing(channelId, at(QUIET + TYPING_TTL))).toEqual([]);
      });

      it("an expired typing state is not current: starting again returns true even within quietMs", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const [channelId, userId] = [newId(), newId()];
        expect(await store.startTyping(channelId, userId, at(0), 1_000, 5_000)).toBe(true);
        expect(await store.startTyping(channelId, userId, at(500), 1_000, 5_000)).toBe(false);
        expect(await store.startTyping(channelId, userId, at(1_000), 1_000, 5_000)).toBe(true);
        expect(await store.typing(channelId, at(1_001))).toEqual([{ userId, expiresAt: at(2_000) }]);
      });

      it("typing lists only unexpired typists of that channel, soonest expiry first", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const [channelId, otherChannel] = [newId(), newId()];
        const [a, b, c, d] = [newId(), newId(), newId(), newId()];
        await store.startTyping(channelId, a, at(0), TYPING_TTL, QUIET);
        await store.startTyping(channelId, b, at(1), TYPING_TTL, QUIET);
        await store.startTyping(channelId, c, at(0), 5_000, QUIET);
        await store.startTyping(channelId, d, at(0), 100, QUIET);
        await store.startTyping(otherChannel, a, at(0), TYPING_TTL, QUIET);
        expect(await store.typing(channelId, at(100))).toEqual([
          { userId: c, expiresAt: at(5_000) },
          { userId: a, expiresAt: at(TYPING_TTL) },
          { userId: b, expiresAt: at(TYPING_TTL + 1) },
        ]);
        expect(await store.typing(channelId, at(5_000))).toEqual([
          { userId: a, expiresAt: at(TYPING_TTL) },
          { userId: b, expiresAt: at(TYPING_TTL + 1) },
        ]);
        expect(await store.typing(otherChannel, at(100))).toEqual([{ userId: a, expiresAt: at(TYPING_TTL) }]);
        expect(await store.typing(newId(), at(100))).toEqual([]);
      });

      it("stopTyping is true once while typing, then false; false after expiry and for someone never typing", async (ctx) => {
        const store = storeOf(ctx);
        const at = clock();
        const [channelId, userId, other] = [newId(), newId(), newId()];
        await store.startTyping(channelId, userId, at(0), TYPING_TTL, QUIET);
        await store.startTyping(channelId, other, at(0), TYPING_TTL, QUIET);
        expect(await store.stopTyping(channelId, userId, at(10))).toBe(true);
        expect(await store.stopTyping(channelId, userId, at(11))).toBe(false);
        expect(await store.typing(channelId, at(12))).toEqual([{ userId: other, expiresAt: at(TYPING_TTL) }]);
        // Stopped, so no current state: a start within the quiet period is announced.
        expect(await store.startTyping(channelId, userId, at(13), TYPING_TTL, QUIET)).toBe(true);
        expect(await store.stopTyping(channelId, other, at(TYPING_TTL))).toBe(false);
        expect(await store.stopTyping(channelId, newId(), at(14))).toBe(false);
        expect(await store.typing(channelId, at(TYPING_TTL))).toEqual([{ userId, expiresAt: at(13 + TYPING_TTL) }]);
      });
    });
  });
}
