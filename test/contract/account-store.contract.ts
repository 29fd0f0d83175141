import { describe, expect, it, type TestContext } from "vitest";
import { createIdGenerator } from "../../src/ids/snowflake.js";
import type { AccountStore, NewSession, NewUser, SessionRecord, UserRecord } from "../../src/stores/account-store.js";
import { UniqueViolationError } from "../../src/stores/store-errors.js";
import { suiteFixture } from "../support/suite-fixture.js";

/** What a suite run needs from an adapter: the store and how to release what backs it. */
export interface AccountStoreFixture {
  accounts: AccountStore;
  close(): Promise<void>;
}

export interface AccountStoreContractOptions {
  /**
   * Whether the adapter's backing service is there. False: every test is reported as skipped
   * (with the reason the check logged); throwing fails the suite (CI must prove every adapter).
   */
  available?: () => Promise<boolean>;
}

/**
 * The behaviour every {@link AccountStore} adapter must have, as stated in the port's JSDoc.
 * One database per suite run; each test makes its own users, so tests do not see each other.
 */
export function accountStoreContract(name: string, factory: () => Promise<AccountStoreFixture>, options: AccountStoreContractOptions = {}) {
  describe(`AccountStore contract: ${name}`, () => {
    const nextId = createIdGenerator(1);
    const fixtureOf = suiteFixture(name, factory, options.available);

    /** The store under test, or a skip when the adapter's service is absent. */
    function store(ctx: TestContext): AccountStore {
      return fixtureOf(ctx).accounts;
    }

    function person(username: string, passwordHash: string | null = `hash-of-${username}`): NewUser {
      return { id: nextId(), username, passwordHash, bot: false, botOwnerId: null };
    }
    /** A username no other test uses, keeping the given case in its prefix. */
    const unique = (prefix: string) => `${prefix}${nextId()}`;
    const expected = (user: NewUser): UserRecord => ({
      id: user.id,
      username: user.username,
      bot: user.bot,
      botOwnerId: user.botOwnerId,
      createdAt: expect.any(Date) as Date,
    });

    it("createUser returns exactly the user record (no hash), and getUsers reads the same", async (ctx) => {
      const accounts = store(ctx);
      const ada = person(unique("Ada"));
      const created = await accounts.createUser(ada);
      expect(created).toEqual(expected(ada));
      expect(await accounts.getUsers([ada.id])).toEqual([created]);
    });

    it("createUser rejects a username taken in another case, writes nothing, keeps the display case", async (ctx) => {
      const accounts = store(ctx);
      const name = unique("Ada");
      const first = person(name, "first-hash");
      await accounts.createUser(first);
      const clash = person(name.toLowerCase(), "second-hash");
      const error = await accounts.createUser(clash).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UniqueViolationError);
      expect((error as UniqueViolationError).what).toBe("username");
      expect(await accounts.getUsers([clash.id])).toEqual([]);
      const found = await accounts.findCredentials(name.toUpperCase());
      expect(found).toEqual({ user: expected(first), passwordHash: "first-hash" });
      expect(found?.user.username).toBe(name);
    });

    it("createUser rejects an exact duplicate username too", async (ctx) => {
      const accounts = store(ctx);
      const name = unique("grace");
      await accounts.createUser(person(name));
      await expect(accounts.createUser(person(name))).rejects.toBeInstanceOf(UniqueViolationError);
    });

    it("findCredentials finds the user in any case with the password hash, null when absent", async (ctx) => {
      const accounts = store(ctx);
      const name = unique("MiXeD");
      const user = person(name, "scrypt$abc");
      await accounts.createUser(user);
      for (const spelling of [name, name.toLowerCase(), name.toUpperCase()]) {
        expect(await accounts.findCredentials(spelling)).toEqual({ user: expected(user), passwordHash: "scrypt$abc" });
      }
      expect(await accounts.findCredentials(unique("nobody"))).toBeNull();
    });

    it("findCredentials returns a null hash for a bot", async (ctx) => {
      const accounts = store(ctx);
      const owner = await accounts.createUser(person(unique("owner")));
      const bot: NewUser = { id: nextId(), username: unique("Bot"), passwordHash: null, bot: true, botOwnerId: owner.id };
      expect(await accounts.createUser(bot)).toEqual(expected(bot));
      expect(await accounts.findCredentials(bot.username)).toEqual({ user: expected(bot), passwordHash: null });
    });

    it("getUsers returns the existing users among the ids, ignores missing ones, [] for no ids", async (ctx) => {
      const accounts = store(ctx);
      const a = await accounts.createUser(person(unique("a")));
      const b = await accounts.createUser(person(unique("b")));
      const found = await accounts.getUsers([b.id, nextId(), a.id]);
      expect([...found].sort((x, y) => (x.id < y.id ? -1 : 1))).toEqual([a, b]);
      expect(await accounts.getUsers([nextId()])).toEqual([]);
      expect(await accounts.getUsers([])).toEqual([]);
    });

    it("listBots lists only the owner's bots, oldest first", async (ctx) => {
      const accounts = store(ctx);
      const owner = await accounts.createUser(person(unique("owner")));
      const other = await accounts.createUser(person(unique("other")));
      const bot = (ownerId: bigint): NewUser => ({ id: nextId(), username: unique("bot"), passwordHash: null, bot: true, botOwnerId: ownerId });
      const first = await accounts.createUser(bot(owner.id));
      await accounts.createUser(bot(other.id));
      const second = await accounts.createUser(bot(owner.id));
      const third = await accounts.createUser(bot(owner.id));
      expect(await accounts.listBots(owner.id)).toEqual([first, second, third]);
      expect((await accounts.listBots(other.id)).map((u) => u.botOwnerId)).toEqual([other.id]);
      expect(await accounts.listBots(first.id)).toEqual([]);
    });

    it("countBots counts only the owner's bots (0 for none, and for a person's own account)", async (ctx) => {
      const accounts = store(ctx);
      const owner = await accounts.createUser(person(unique("owner")));
      const other = await accounts.createUser(person(unique("other")));
      expect(await accounts.countBots(owner.id)).toBe(0);
      const bot = (ownerId: bigint): NewUser => ({ id: nextId(), username: unique("bot"), passwordHash: null, bot: true, botOwnerId: ownerId });
      await accounts.createUser(bot(owner.id));
      await accounts.createUser(bot(other.id));
      await accounts.createUser(bot(owner.id));
      expect(await accounts.countBots(owner.id)).toBe(2);
      expect(await accounts.countBots(other.id)).toBe(1);
      expect(await accounts.countBots(nextId())).toBe(0);
    });

    /** A session of `userId` created at `createdAt` (default: now, whole milliseconds as stored). */
    function newSession(userId: bigint, createdAt = new Date(), clientHint: string | null = null): NewSession {
      return { id: nextId(), tokenHash: unique("hash-"), userId, clientHint, createdAt };
    }
    const record = (s: NewSession, lastUsedAt = s.createdAt): SessionRecord => ({ id: s.id, userId: s.userId, createdAt: s.createdAt, lastUsedAt, clientHint: s.clientHint });
    const at = (iso: string) => new Date(iso);
    /** Cutoffs under which every session created in the tests is alive. */
    const ALL_ALIVE = { usedAfter: at("2000-01-01T00:00:00.000Z"), createdAfter: at("2000-01-01T00:00:00.000Z") };

    it("createSession records the session; findSession returns it (last used = created) with its user", async (ctx) => {
      const accounts = store(ctx);
      const user = await accounts.createUser(person(unique("sess")));
      const s = newSession(user.id, at("2026-03-04T05:06:07.089Z"), "Mozilla/5.0 (X11; Linux) 🦊");
      await accounts.createSession(s);
      expect(await accounts.findSession(s.tokenHash)).toEqual({ session: record(s), user });
    });

    it("createSession is idempotent by token hash: the first record wins", async (ctx) => {
      const accounts = store(ctx);
      const user = await accounts.createUser(person(unique("sess")));
      const first = newSession(user.id, at("2026-01-01T00:00:00.000Z"), "first");
      await accounts.createSession(first);
      await accounts.createSession({ ...first, id: nextId(), clientHint: "second", createdAt: at("2026-02-01T00:00:00.000Z") });
      expect((await accounts.findSession(first.tokenHash))?.session).toEqual(record(first));
      // One session, not two: revoking all of them counts it once.
      expect(await accounts.deleteSessionsOfUser(user.id)).toBe(1);
    });

    it("createSession stays idempotent when the same session is recorded twice at once", async (ctx) => {
      const accounts = store(ctx);
      const user = await accounts.createUser(person(unique("twice")));
      const s = newSession(user.id);
      await Promise.all([accounts.createSession(s), accounts.createSession(s)]);
      expect((await accounts.findSession(s.tokenHash))?.user).toEqual(user);
      expect(await accounts.deleteSessionsOfUser(user.id)).toBe(1);
    });

    it("findSession answers concurrent lookups (a connect storm) each with its own session, or null", async (ctx) => {
      const accounts = store(ctx);
      const users = await Promise.all([0, 1, 2].map((i) => accounts.createUser(person(unique(`storm${i}`)))));
      const sessions = users.map((u, i) => newSession(u.id, at(`2026-03-0${i + 1}T00:00:00.000Z`), `client ${i}`));
      for (const s of sessions) await accounts.createSession(s);
      const asked = [sessions[2]!.tokenHash, unique("unknown-"), sessions[0]!.tokenHash, sessions[1]!.tokenHash, sessions[0]!.tokenHash];
      const found = await Promise.all(asked.map((hash) => accounts.findSession(hash)));
      expect(found).toEqual([
        { session: record(sessions[2]!), user: users[2] },
        null,
        { session: record(sessions[0]!), user: users[0] },
        { session: record(sessions[1]!), user: users[1] },
        { session: record(sessions[0]!), user: users[0] },
      ]);
    });

    it("findSession returns null for an unknown token hash", async (ctx) => {
      const accounts = store(ctx);
      expect(await accounts.findSession(unique("never-issued-"))).toBeNull();
    });

    it("touchSession moves the last use forward only, and ignores unknown hashes", async (ctx) => {
      const accounts = store(ctx);
      const user = await accounts.createUser(person(unique("touch")));
      const s = newSession(user.id, at("2026-01-01T00:00:00.000Z"));
      await accounts.createSession(s);
      await accounts.touchSession(s.tokenHash, at("2026-01-02T00:00:00.000Z"));
      expect((await accounts.findSession(s.tokenHash))?.session.lastUsedAt).toEqual(at("2026-01-02T00:00:00.000Z"));
      await accounts.touchSession(s.tokenHash, at("2026-01-01T12:00:00.000Z"));
      expect((await accounts.findSession(s.tokenHash))?.session.lastUsedAt, "an older time changes nothing").toEqual(at("2026-01-02T00:00:00.000Z"));
      await Promise.all([accounts.touchSession(s.tokenHash, at("2026-01-03T00:00:00.000Z")), accounts.touchSession(s.tokenHash, at("2026-01-04T00:00:00.000Z"))]);
      expect((await accounts.findSession(s.tokenHash))?.session.lastUsedAt, "concurrent touches keep the latest").toEqual(at("2026-01-04T00:00:00.000Z"));
      await expect(accounts.touchSession(unique("nobody-"), at("2026-01-05T00:00:00.000Z"))).resolves.toBeUndefined();
      expect(await accounts.findSession(unique("nobody-"))).toBeNull();
    });

    it("listSessions lists only the user's live sessions, most recently used first (ties: newest first), up to the limit", async (ctx) => {
      const accounts = store(ctx);
      const user = await accounts.createUser(person(unique("list")));
      const other = await accounts.createUser(person(unique("other")));
      const old = newSession(user.id, at("2026-01-01T00:00:00.000Z"));
      const mid = newSession(user.id, at("2026-01-02T00:00:00.000Z"));
      const tieA = newSession(user.id, at("2026-01-03T00:00:00.000Z"));
      const tieB = newSession(user.id, at("2026-01-03T00:00:00.000Z"));
      for (const s of [old, mid, tieA, tieB, newSession(other.id, at("2026-01-05T00:00:00.000Z"))]) await accounts.createSession(s);
      await accounts.touchSession(old.tokenHash, at("2026-01-10T00:00:00.000Z"));

      const listed = await accounts.listSessions(user.id, ALL_ALIVE, 100);
      expect(listed).toEqual([record(old, at("2026-01-10T00:00:00.000Z")), record(tieB), record(tieA), record(mid)]);
      expect(await accounts.listSessions(user.id, ALL_ALIVE, 2)).toEqual(listed.slice(0, 2));
      expect(await accounts.listSessions(nextId(), ALL_ALIVE, 100)).toEqual([]);
    });

    it("listSessions leaves out sessions at or past either cutoff (idle or too old)", async (ctx) => {
      const accounts = store(ctx);
      const user = await accounts.createUser(person(unique("alive")));
      const idle = newSession(user.id, at("2026-01-05T00:00:00.000Z"));
      const tooOld = newSession(user.id, at("2026-01-01T00:00:00.000Z"));
      const alive = newSession(user.id, at("2026-01-05T00:00:00.001Z"));
      for (const s of [idle, tooOld, alive]) await accounts.createSession(s);
      await accounts.touchSession(tooOld.tokenHash, at("2026-01-09T00:00:00.000Z"));
      const cutoffs = { usedAfter: at("2026-01-05T00:00:00.000Z"), createdAfter: at("2026-01-01T00:00:00.000Z") };
      expect(await accounts.listSessions(user.id, cutoffs, 100)).toEqual([record(alive)]);
    });

    it("deleteSession revokes one session: true, then false; other sessions stay", async (ctx) => {
      const accounts = store(ctx);
      const user = await accounts.createUser(person(unique("del")));
      const [s1, s2] = [newSession(user.id), newSession(user.id)];
      await accounts.createSession(s1);
      await accounts.createSession(s2);
      expect(await accounts.deleteSession(s1.tokenHash)).toBe(true);
      expect(await accounts.findSession(s1.tokenHash)).toBeNull();
      expect(await accounts.deleteSession(s1.tokenHash)).toBe(false);
      expect((await accounts.findSession(s2.tokenHash))?.user).toEqual(user);
    });

    it("deleteSessionById revokes only the owner's session and returns its token hash, then null", async (ctx) => {
      const accounts = store(ctx);
      const user = await accounts.createUser(person(unique("byid")));
      const stranger = await accounts.createUser(person(unique("stranger")));
      const [mine, kept] = [newSession(user.id), newSession(user.id)];
      await accounts.createSession(mine);
      await accounts.createSession(kept);
      expect(await accounts.deleteSessionById(stranger.id, mine.id), "someone else's id").toBeNull();
      expect(await accounts.findSession(mine.tokenHash)).not.toBeNull();
      expect(await accounts.deleteSessionById(user.id, mine.id)).toBe(mine.tokenHash);
      expect(await accounts.findSession(mine.tokenHash)).toBeNull();
      expect(await accounts.deleteSessionById(user.id, mine.id), "already revoked").toBeNull();
      expect(await accounts.deleteSessionById(user.id, nextId()), "never existed").toBeNull();
      expect((await accounts.listSessions(user.id, ALL_ALIVE, 100)).map((s) => s.id)).toEqual([kept.id]);
    });

    it("deleteSessionsOfUser counts the user's sessions and leaves other users' sessions", async (ctx) => {
      const accounts = store(ctx);
      const bot = await accounts.createUser(person(unique("resetme")));
      const bystander = await accounts.createUser(person(unique("bystander")));
      const sessions = [newSession(bot.id), newSession(bot.id), newSession(bot.id)];
      for (const s of sessions) await accounts.createSession(s);
      const kept = newSession(bystander.id);
      await accounts.createSession(kept);

      expect(await accounts.deleteSessionsOfUser(bot.id)).toBe(3);
      for (const s of sessions) expect(await accounts.findSession(s.tokenHash)).toBeNull();
      expect((await accounts.findSession(kept.tokenHash))?.user).toEqual(bystander);
      expect(await accounts.deleteSessionsOfUser(bot.id)).toBe(0);
    });

    it("deleteSessionsOfUser with a kept token revokes all the others and keeps that one", async (ctx) => {
      const accounts = store(ctx);
      const user = await accounts.createUser(person(unique("others")));
      const bystander = await accounts.createUser(person(unique("bystander")));
      const [current, a, b] = [newSession(user.id), newSession(user.id), newSession(user.id)];
      const theirs = newSession(bystander.id);
      for (const s of [current, a, b, theirs]) await accounts.createSession(s);
      expect(await accounts.deleteSessionsOfUser(user.id, current.tokenHash)).toBe(2);
      expect((await accounts.listSessions(user.id, ALL_ALIVE, 100)).map((s) => s.id)).toEqual([current.id]);
      expect(await accounts.findSession(theirs.tokenHash)).not.toBeNull();
      expect(await accounts.deleteSessionsOfUser(user.id, current.tokenHash), "idempotent").toBe(0);
    });

    it("deleteExpiredSessions deletes the user's sessions at or past a cutoff and keeps the live ones", async (ctx) => {
      const accounts = store(ctx);
      const user = await accounts.createUser(person(unique("purge")));
      const bystander = await accounts.createUser(person(unique("bystander")));
      const idle = newSession(user.id, at("2026-01-05T00:00:00.000Z"));
      const tooOld = newSession(user.id, at("2026-01-01T00:00:00.000Z"));
      const alive = newSession(user.id, at("2026-01-06T00:00:00.000Z"));
      const theirs = newSession(bystander.id, at("2026-01-01T00:00:00.000Z"));
      for (const s of [idle, tooOld, alive, theirs]) await accounts.createSession(s);
      await accounts.touchSession(tooOld.tokenHash, at("2026-01-09T00:00:00.000Z"));
      const cutoffs = { usedAfter: at("2026-01-05T00:00:00.000Z"), createdAfter: at("2026-01-01T00:00:00.000Z") };
      expect(await accounts.deleteExpiredSessions(user.id, cutoffs)).toBe(2);
      expect(await accounts.findSession(idle.tokenHash)).toBeNull();
      expect(await accounts.findSession(tooOld.tokenHash)).toBeNull();
      expect(await accounts.findSession(alive.tokenHash)).not.toBeNull();
      expect(await accounts.findSession(theirs.tokenHash), "another user's sessions are not touched").not.toBeNull();
      expect(await accounts.deleteExpiredSessions(user.id, cutoffs)).toBe(0);
    });

    it("replacePasswordHash replaces only while the stored hash is still the expected one", async (ctx) => {
      const accounts = store(ctx);
      const user = await accounts.createUser(person(unique("rehash"), "old-hash"));
      expect(await accounts.replacePasswordHash(user.id, "not-the-hash", "new-hash")).toBe(false);
      expect((await accounts.findCredentials(user.username))?.passwordHash).toBe("old-hash");
      expect(await accounts.replacePasswordHash(user.id, "old-hash", "new-hash")).toBe(true);
      expect((await accounts.findCredentials(user.username))?.passwordHash).toBe("new-hash");
      expect(await accounts.replacePasswordHash(user.id, "old-hash", "newer-hash"), "a stale expectation").toBe(false);
      expect((await accounts.findCredentials(user.username))?.passwordHash).toBe("new-hash");
    });

    it("replacePasswordHash never gives a bot (no password) a hash", async (ctx) => {
      const accounts = store(ctx);
      const owner = await accounts.createUser(person(unique("owner")));
      const bot = await accounts.createUser({ id: nextId(), username: unique("bot"), passwordHash: null, bot: true, botOwnerId: owner.id });
      expect(await accounts.replacePasswordHash(bot.id, "", "hash")).toBe(false);
      expect((await accounts.findCredentials(bot.username))?.passwordHash).toBeNull();
    });

    it("changePassword replaces the hash and revokes every other session of the user in one step", async (ctx) => {
      const accounts = store(ctx);
      const user = await accounts.createUser(person(unique("change"), "old-hash"));
      const bystander = await accounts.createUser(person(unique("bystander")));
      const [current, a, b] = [newSession(user.id), newSession(user.id), newSession(user.id)];
      const theirs = newSession(bystander.id);
      for (const s of [current, a, b, theirs]) await accounts.createSession(s);

      expect(await accounts.changePassword(user.id, "old-hash", "new-hash", current.tokenHash)).toBe(2);
      expect((await accounts.findCredentials(user.username))?.passwordHash).toBe("new-hash");
      expect((await accounts.listSessions(user.id, ALL_ALIVE, 100)).map((s) => s.id)).toEqual([current.id]);
      expect(await accounts.findSession(theirs.tokenHash)).not.toBeNull();
    });

    it("changePassword with a stale expected hash writes nothing and returns null", async (ctx) => {
      const accounts = store(ctx);
      const user = await accounts.createUser(person(unique("stale"), "real-hash"));
      const [current, other] = [newSession(user.id), newSession(user.id)];
      for (const s of [current, other]) await accounts.createSession(s);
      expect(await accounts.changePassword(user.id, "stale-hash", "new-hash", current.tokenHash)).toBeNull();
      expect((await accounts.findCredentials(user.username))?.passwordHash).toBe("real-hash");
      expect(await accounts.findSession(other.tokenHash), "no session revoked").not.toBeNull();
    });

    it("changePassword: of two concurrent changes from the same old hash, exactly one wins", async (ctx) => {
      const accounts = store(ctx);
      const user = await accounts.createUser(person(unique("race"), "old-hash"));
      const current = newSession(user.id);
      await accounts.createSession(current);
      const results = await Promise.all([
        accounts.changePassword(user.id, "old-hash", "hash-one", current.tokenHash),
        accounts.changePassword(user.id, "old-hash", "hash-two", current.tokenHash),
      ]);
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      const winner = results[0] !== null ? "hash-one" : "hash-two";
      expect((await accounts.findCredentials(user.username))?.passwordHash).toBe(winner);
    });
  });
}
