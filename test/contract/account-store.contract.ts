import { describe, expect, it, type TestContext } from "vitest";
import { createIdGenerator } from "../../src/ids/snowflake.js";
import type { AccountStore, NewUser, UserRecord } from "../../src/stores/account-store.js";
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

    it("createSession is idempotent and findSessionUser returns the session's user", async (ctx) => {
      const accounts = store(ctx);
      const user = await accounts.createUser(person(unique("sess")));
      const token = unique("token-");
      await accounts.createSession(token, user.id);
      await accounts.createSession(token, user.id);
      expect(await accounts.findSessionUser(token)).toEqual(user);
      // One session, not two: revoking all of them counts it once.
      expect(await accounts.deleteSessionsOfUser(user.id)).toBe(1);
    });

    it("createSession stays idempotent when the same session is recorded twice at once", async (ctx) => {
      const accounts = store(ctx);
      const user = await accounts.createUser(person(unique("twice")));
      const token = unique("retry-");
      await Promise.all([accounts.createSession(token, user.id), accounts.createSession(token, user.id)]);
      expect(await accounts.findSessionUser(token)).toEqual(user);
      expect(await accounts.deleteSessionsOfUser(user.id)).toBe(1);
    });

    it("findSessionUser returns null for an unknown token hash", async (ctx) => {
      const accounts = store(ctx);
      expect(await accounts.findSessionUser(unique("never-issued-"))).toBeNull();
    });

    it("deleteSession revokes one session: true, then false; other sessions stay", async (ctx) => {
      const accounts = store(ctx);
      const user = await accounts.createUser(person(unique("del")));
      const [t1, t2] = [unique("t1-"), unique("t2-")];
      await accounts.createSession(t1, user.id);
      await accounts.createSession(t2, user.id);
      expect(await accounts.deleteSession(t1)).toBe(true);
      expect(await accounts.findSessionUser(t1)).toBeNull();
      expect(await accounts.deleteSession(t1)).toBe(false);
      expect(await accounts.findSessionUser(t2)).toEqual(user);
    });

    it("deleteSessionsOfUser counts the user's sessions and leaves other users' sessions", async (ctx) => {
      const accounts = store(ctx);
      const bot = await accounts.createUser(person(unique("resetme")));
      const bystander = await accounts.createUser(person(unique("bystander")));
      const tokens = [unique("a-"), unique("b-"), unique("c-")];
      for (const token of tokens) await accounts.createSession(token, bot.id);
      const kept = unique("kept-");
      await accounts.createSession(kept, bystander.id);

      expect(await accounts.deleteSessionsOfUser(bot.id)).toBe(3);
      for (const token of tokens) expect(await accounts.findSessionUser(token)).toBeNull();
      expect(await accounts.findSessionUser(kept)).toEqual(bystander);
      expect(await accounts.deleteSessionsOfUser(bot.id)).toBe(0);
    });
  });
}
