import { describe, expect, it } from "vitest";
import { createIdGenerator } from "../../src/ids/snowflake.js";
import type { AccountStore, UserRecord } from "../../src/stores/account-store.js";
import type { ChannelStore } from "../../src/stores/channel-store.js";
import type { GuildStore } from "../../src/stores/guild-store.js";
import type { PairState, RelationshipLimits, RelationshipStore, RelationshipWrite } from "../../src/stores/relationship-store.js";
import { suiteFixture } from "../support/suite-fixture.js";

/**
 * The stores of one adapter family on one database: relationships need users, and the reach
 * questions (presence circle, DM standing) need guilds and DMs to exist.
 */
export interface RelationshipStoreFixture {
  accounts: AccountStore;
  guilds: GuildStore;
  channels: ChannelStore;
  relationships: RelationshipStore;
  close(): Promise<void>;
}

export interface RelationshipStoreContractOptions {
  /**
   * Whether the adapter's backing service is there. False: every test is reported as skipped
   * (with the reason the check logged); throwing fails the suite (CI must prove every adapter).
   */
  available?: () => Promise<boolean>;
}

const ROOMY: RelationshipLimits = { maxFriends: 1_000, maxPending: 100, maxBlocks: 1_000 };
const ascending = (ids: readonly bigint[]) => [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
/** A pair's kinds only (`since` is checked where it matters). */
const kinds = (pair: PairState) => [pair.mine?.kind ?? null, pair.theirs?.kind ?? null];
const done = (write: RelationshipWrite) => {
  expect(write.status, JSON.stringify(write, (_k, v) => (typeof v === "bigint" ? String(v) : v))).toBe("done");
  return write as Extract<RelationshipWrite, { status: "done" }>;
};

/**
 * The behaviour every {@link RelationshipStore} adapter must have, as stated in the port's JSDoc:
 * consistent pairs, idempotent repeats, caps, and atomicity under concurrent writes (crossing
 * requests, an accept racing a withdrawal, a block racing an accept, caps under a burst).
 * One database per suite run; each test makes its own users.
 */
export function relationshipStoreContract(name: string, factory: () => Promise<RelationshipStoreFixture>, options: RelationshipStoreContractOptions = {}) {
  describe(`RelationshipStore contract: ${name}`, () => {
    const nextId = createIdGenerator(5);
    const stores = suiteFixture(name, factory, options.available);

    function makeUser(f: RelationshipStoreFixture): Promise<UserRecord> {
      const id = nextId();
      return f.accounts.createUser({ id, username: `user${id}`, passwordHash: null, bot: false, botOwnerId: null });
    }
    const makeUsers = (f: RelationshipStoreFixture, n: number) => Promise.all(Array.from({ length: n }, () => makeUser(f)));
    /** Both sides of a pair as the store reads them now, from `a`'s side. */
    async function pair(f: RelationshipStoreFixture, a: UserRecord, b: UserRecord): Promise<(string | null)[]> {
      return kinds((await f.relationships.between(a.id, [b.id])).get(b.id)!);
    }
    /** The pair read from both users agrees (mine for one is theirs for the other) and is a consistent combination. */
    async function expectConsistent(f: RelationshipStoreFixture, a: UserRecord, b: UserRecord): Promise<void> {
      const [ab, ba] = [await pair(f, a, b), await pair(f, b, a)];
      expect(ba).toEqual([ab[1], ab[0]]);
      const valid = [
        [null, null],
        ["FRIEND", "FRIEND"],
        ["OUTGOING", "INCOMING"],
        ["INCOMING", "OUTGOING"],
        ["BLOCKED", null],
        [null, "BLOCKED"],
        ["BLOCKED", "BLOCKED"],
      ];
      expect(valid).toContainEqual(ab);
    }
    async function befriend(f: RelationshipStoreFixture, a: UserRecord, b: UserRecord) {
      done(await f.relationships.sendFriendRequest(a.id, b.id, ROOMY));
      done(await f.relationships.acceptFriendRequest(b.id, a.id, ROOMY));
    }

    describe("friend requests", () => {
      it("sendFriendRequest makes OUTGOING for the sender and INCOMING for the other, with one `since`; repeating it changes nothing", async (ctx) => {
        const f = stores(ctx);
        const [a, b] = await makeUsers(f, 2);
        const first = done(await f.relationships.sendFriendRequest(a!.id, b!.id, ROOMY));
        expect(first.changed).toBe(true);
        expect(kinds(first.before)).toEqual([null, null]);
        expect(kinds(first.after)).toEqual(["OUTGOING", "INCOMING"]);
        expect(first.after.mine!.since).toBeInstanceOf(Date);
        expect(first.after.mine!.since.getTime()).toBe(first.after.theirs!.since.getTime());
        expect(await f.relationships.list(a!.id, { afterOtherId: null, limit: 10 })).toEqual([{ userId: a!.id, otherId: b!.id, kind: "OUTGOING", since: first.after.mine!.since }]);
        expect(await f.relationships.list(b!.id, { afterOtherId: null, limit: 10 })).toEqual([{ userId: b!.id, otherId: a!.id, kind: "INCOMING", since: first.after.mine!.since }]);
        const again = done(await f.relationships.sendFriendRequest(a!.id, b!.id, ROOMY));
        expect(again).toMatchObject({ changed: false });
        expect(kinds(again.after)).toEqual(["OUTGOING", "INCOMING"]);
        expect(again.after.mine!.since.getTime()).toBe(first.after.mine!.since.getTime());
      });

      it("a request to someone who already asked you makes you friends", async (ctx) => {
        const f = stores(ctx);
        const [a, b] = await makeUsers(f, 2);
        done(await f.relationships.sendFriendRequest(a!.id, b!.id, ROOMY));
        const back = done(await f.relationships.sendFriendRequest(b!.id, a!.id, ROOMY));
        expect(kinds(back.before)).toEqual(["INCOMING", "OUTGOING"]);
        expect(kinds(back.after)).toEqual(["FRIEND", "FRIEND"]);
        expect(await pair(f, a!, b!)).toEqual(["FRIEND", "FRIEND"]);
      });

      it("acceptFriendRequest turns a received request into a friendship; accepting again changes nothing; without a request it is refused", async (ctx) => {
        const f = stores(ctx);
        const [a, b, c] = await makeUsers(f, 3);
        done(await f.relationships.sendFriendRequest(a!.id, b!.id, ROOMY));
        // Only the receiver can accept: the sender has nothing to accept.
        expect(await f.relationships.acceptFriendRequest(a!.id, b!.id, ROOMY)).toMatchObject({ status: "refused", reason: "no-request" });
        const accepted = done(await f.relationships.acceptFriendRequest(b!.id, a!.id, ROOMY));
        expect(kinds(accepted.after)).toEqual(["FRIEND", "FRIEND"]);
        expect(done(await f.relationships.acceptFriendRequest(b!.id, a!.id, ROOMY)).changed).toBe(false);
        expect(await f.relationships.acceptFriendRequest(c!.id, a!.id, ROOMY)).toMatchObject({ status: "refused", reason: "no-request" });
        expect(await pair(f, c!, a!)).toEqual([null, null]);
      });

      it("removeFriendRequest declines a received request and withdraws a sent one, on both sides", async (ctx) => {
        const f = stores(ctx);
        const [a, b, c] = await makeUsers(f, 3);
        done(await f.relationships.sendFriendRequest(a!.id, b!.id, ROOMY));
        done(await f.relationships.sendFriendRequest(a!.id, c!.id, ROOMY));
        expect(kinds(done(await f.relationships.removeFriendRequest(b!.id, a!.id)).after)).toEqual([null, null]);
        expect(kinds(done(await f.relationships.removeFriendRequest(a!.id, c!.id)).after)).toEqual([null, null]);
        expect(await f.relationships.list(a!.id, { afterOtherId: null, limit: 10 })).toEqual([]);
        expect(await f.relationships.list(c!.id, { afterOtherId: null, limit: 10 })).toEqual([]);
        expect(await f.relationships.removeFriendRequest(a!.id, b!.id)).toMatchObject({ status: "refused", reason: "no-request" });
      });

      it("refuses a request between friends, and a request to or from a user who does not exist", async (ctx) => {
        const f = stores(ctx);
        const [a, b] = await makeUsers(f, 2);
        await befriend(f, a!, b!);
        expect(await f.relationships.sendFriendRequest(b!.id, a!.id, ROOMY)).toMatchObject({ status: "refused", reason: "already-friends" });
        expect(await f.relationships.sendFriendRequest(a!.id, nextId(), ROOMY)).toMatchObject({ status: "refused", reason: "unknown-user" });
        expect(await f.relationships.sendFriendRequest(nextId(), a!.id, ROOMY)).toMatchObject({ status: "refused", reason: "unknown-user" });
        await expect(f.relationships.sendFriendRequest(a!.id, a!.id, ROOMY)).rejects.toThrow();
        expect(await pair(f, a!, b!)).toEqual(["FRIEND", "FRIEND"]);
      });

      it("removeFriend ends a friendship on both sides; without one it is refused", async (ctx) => {
        const f = stores(ctx);
        const [a, b] = await makeUsers(f, 2);
        await befriend(f, a!, b!);
        expect(kinds(done(await f.relationships.removeFriend(b!.id, a!.id)).after)).toEqual([null, null]);
        expect(await pair(f, a!, b!)).toEqual([null, null]);
        expect(await f.relationships.removeFriend(a!.id, b!.id)).toMatchObject({ status: "refused", reason: "not-friends" });
        done(await f.relationships.sendFriendRequest(a!.id, b!.id, ROOMY));
        expect(await f.relationships.removeFriend(a!.id, b!.id)).toMatchObject({ status: "refused", reason: "not-friends" });
      });
    });

    describe("blocks", () => {
      it("block removes a friendship from both sides and leaves only the blocker's BLOCKED; repeating it changes nothing", async (ctx) => {
        const f = stores(ctx);
        const [a, b] = await makeUsers(f, 2);
        await befriend(f, a!, b!);
        const blocked = done(await f.relationships.block(a!.id, b!.id, ROOMY));
        expect(kinds(blocked.before)).toEqual(["FRIEND", "FRIEND"]);
        expect(kinds(blocked.after)).toEqual(["BLOCKED", null]);
        expect(await f.relationships.list(b!.id, { afterOtherId: null, limit: 10 })).toEqual([]);
        expect(done(await f.relationships.block(a!.id, b!.id, ROOMY)).changed).toBe(false);
      });

      it("block removes pending requests either way, and keeps the other's own block", async (ctx) => {
        const f = stores(ctx);
        const [a, b, c] = await makeUsers(f, 3);
        done(await f.relationships.sendFriendRequest(b!.id, a!.id, ROOMY));
        expect(kinds(done(await f.relationships.block(a!.id, b!.id, ROOMY)).after)).toEqual(["BLOCKED", null]);
        done(await f.relationships.block(c!.id, a!.id, ROOMY));
        expect(kinds(done(await f.relationships.block(a!.id, c!.id, ROOMY)).after)).toEqual(["BLOCKED", "BLOCKED"]);
      });

      it("refuses requests across a block, whoever blocked", async (ctx) => {
        const f = stores(ctx);
        const [a, b] = await makeUsers(f, 2);
        done(await f.relationships.block(a!.id, b!.id, ROOMY));
        const fromBlocked = await f.relationships.sendFriendRequest(b!.id, a!.id, ROOMY);
        expect(fromBlocked).toMatchObject({ status: "refused", reason: "blocked" });
        expect(kinds(fromBlocked.before)).toEqual([null, "BLOCKED"]);
        expect(await f.relationships.sendFriendRequest(a!.id, b!.id, ROOMY)).toMatchObject({ status: "refused", reason: "blocked" });
        expect(await pair(f, a!, b!)).toEqual(["BLOCKED", null]);
      });

      it("unblock lifts only the user's own block; without one it is refused", async (ctx) => {
        const f = stores(ctx);
        const [a, b] = await makeUsers(f, 2);
        done(await f.relationships.block(a!.id, b!.id, ROOMY));
        done(await f.relationships.block(b!.id, a!.id, ROOMY));
        expect(kinds(done(await f.relationships.unblock(a!.id, b!.id)).after)).toEqual([null, "BLOCKED"]);
        expect(await f.relationships.unblock(a!.id, b!.id)).toMatchObject({ status: "refused", reason: "not-blocked" });
        done(await f.relationships.unblock(b!.id, a!.id));
        expect(await pair(f, a!, b!)).toEqual([null, null]);
      });
    });

    describe("caps", () => {
      it("refuses a request past the sender's pending requests, the receiver's pending requests or the sender's friends, writing nothing", async (ctx) => {
        const f = stores(ctx);
        const [a, b, c, d, e] = await makeUsers(f, 5);
        const limits = { ...ROOMY, maxPending: 2 };
        done(await f.relationships.sendFriendRequest(a!.id, b!.id, limits));
        done(await f.relationships.sendFriendRequest(a!.id, c!.id, limits));
        expect(await f.relationships.sendFriendRequest(a!.id, d!.id, limits)).toMatchObject({ status: "refused", reason: "limit", cap: "pendingFriendRequests", whose: "mine", limit: 2 });
        done(await f.relationships.sendFriendRequest(d!.id, b!.id, limits));
        expect(await f.relationships.sendFriendRequest(e!.id, b!.id, limits)).toMatchObject({ status: "refused", reason: "limit", cap: "pendingFriendRequests", whose: "theirs" });
        expect(await pair(f, a!, d!)).toEqual([null, null]);
        expect(await pair(f, e!, b!)).toEqual([null, null]);
        // Answering frees the room.
        done(await f.relationships.removeFriendRequest(b!.id, a!.id));
        done(await f.relationships.sendFriendRequest(a!.id, d!.id, limits));
        // Friends: at the cap, asking is refused (it could never be accepted).
        const one = { ...ROOMY, maxFriends: 1 };
        await befriend(f, e!, c!);
        expect(await f.relationships.sendFriendRequest(e!.id, d!.id, one)).toMatchObject({ status: "refused", reason: "limit", cap: "friendsPerUser", whose: "mine", limit: 1 });
      });

      it("refuses an accept past either user's friends, and a block past the blocker's blocks", async (ctx) => {
        const f = stores(ctx);
        const [a, b, c, d] = await makeUsers(f, 4);
        const one = { ...ROOMY, maxFriends: 1 };
        await befriend(f, a!, b!);
        done(await f.relationships.sendFriendRequest(c!.id, a!.id, ROOMY));
        expect(await f.relationships.acceptFriendRequest(a!.id, c!.id, one)).toMatchObject({ status: "refused", reason: "limit", cap: "friendsPerUser", whose: "mine" });
        done(await f.relationships.sendFriendRequest(a!.id, d!.id, ROOMY));
        expect(await f.relationships.acceptFriendRequest(d!.id, a!.id, one)).toMatchObject({ status: "refused", reason: "limit", cap: "friendsPerUser", whose: "theirs" });
        expect(await pair(f, a!, d!)).toEqual(["OUTGOING", "INCOMING"]);
        const oneBlock = { ...ROOMY, maxBlocks: 1 };
        done(await f.relationships.block(b!.id, c!.id, oneBlock));
        expect(await f.relationships.block(b!.id, d!.id, oneBlock)).toMatchObject({ status: "refused", reason: "limit", cap: "blocksPerUser", whose: "mine", limit: 1 });
        expect(await pair(f, b!, d!)).toEqual([null, null]);
      });
    });

    describe("reads", () => {
      it("list pages by the other user's id", async (ctx) => {
        const f = stores(ctx);
        const [a, ...others] = await makeUsers(f, 6);
        for (const other of others) done(await f.relationships.sendFriendRequest(a!.id, other.id, ROOMY));
        const ids = ascending(others.map((o) => o.id));
        const first = await f.relationships.list(a!.id, { afterOtherId: null, limit: 3 });
        expect(first.map((r) => r.otherId)).toEqual(ids.slice(0, 3));
        const rest = await f.relationships.list(a!.id, { afterOtherId: first[2]!.otherId, limit: 10 });
        expect(rest.map((r) => r.otherId)).toEqual(ids.slice(3));
      });

      it("between gives both sides for each id asked, none/none for strangers, and never the user", async (ctx) => {
        const f = stores(ctx);
        const [a, friend, asked, blocker, stranger] = await makeUsers(f, 5);
        await befriend(f, a!, friend!);
        done(await f.relationships.sendFriendRequest(asked!.id, a!.id, ROOMY));
        done(await f.relationships.block(blocker!.id, a!.id, ROOMY));
        const pairs = await f.relationships.between(a!.id, [friend!.id, asked!.id, blocker!.id, stranger!.id, a!.id, friend!.id]);
        expect(ascending([...pairs.keys()])).toEqual(ascending([friend!.id, asked!.id, blocker!.id, stranger!.id]));
        expect(kinds(pairs.get(friend!.id)!)).toEqual(["FRIEND", "FRIEND"]);
        expect(kinds(pairs.get(asked!.id)!)).toEqual(["INCOMING", "OUTGOING"]);
        expect(kinds(pairs.get(blocker!.id)!)).toEqual([null, "BLOCKED"]);
        expect(kinds(pairs.get(stranger!.id)!)).toEqual([null, null]);
        expect((await f.relationships.between(a!.id, [])).size).toBe(0);
      });

      it("presenceCircle lists friends, and the users a block separates from the user only when they share a guild", async (ctx) => {
        const f = stores(ctx);
        const [a, friend, blockedMate, blockerMate, blockedStranger, mate] = await makeUsers(f, 6);
        const { guild } = await f.guilds.createGuild({ id: nextId(), name: "Circle", ownerId: a!.id, firstChannel: { id: nextId(), name: "general" } });
        const invite = await f.guilds.createInvite({ code: `c${nextId()}`, guildId: guild.id, inviterId: a!.id, maxUses: null, expiresAt: null });
        for (const u of [blockedMate, blockerMate, mate]) await f.guilds.redeemInvite(invite.code, u!.id, new Date());
        await befriend(f, a!, friend!);
        done(await f.relationships.block(a!.id, blockedMate!.id, ROOMY));
        done(await f.relationships.block(blockerMate!.id, a!.id, ROOMY));
        done(await f.relationships.block(a!.id, blockedStranger!.id, ROOMY));
        const circle = await f.relationships.presenceCircle(a!.id);
        expect(circle.friendIds).toEqual([friend!.id]);
        expect(ascending(circle.hiddenFromIds)).toEqual(ascending([blockedMate!.id, blockerMate!.id]));
        expect(await f.relationships.presenceCircle(mate!.id)).toEqual({ friendIds: [], hiddenFromIds: [] });
        // Concurrent calls (users coming online together) each get their own circle.
        const [ofA, ofMate, ofFriend, ofBlocked] = await Promise.all([a!, mate!, friend!, blockedMate!].map((u) => f.relationships.presenceCircle(u.id)));
        expect(ofA!.friendIds).toEqual([friend!.id]);
        expect(ascending(ofA!.hiddenFromIds)).toEqual(ascending([blockedMate!.id, blockerMate!.id]));
        expect(ofMate).toEqual({ friendIds: [], hiddenFromIds: [] });
        expect(ofFriend).toEqual({ friendIds: [a!.id], hiddenFromIds: [] });
        expect(ofBlocked).toEqual({ friendIds: [], hiddenFromIds: [a!.id] });
      });

      it("directMessageStanding reads the pair, the other's policy and whether they share a guild, by user or by DM", async (ctx) => {
        const f = stores(ctx);
        const [a, b, c] = await makeUsers(f, 3);
        const stranger = await f.relationships.directMessageStanding(a!.id, { otherId: b!.id });
        expect(stranger).toEqual({ otherId: b!.id, pair: { mine: null, theirs: null }, policy: "GUILD_MEMBERS", sharesGuild: false });
        expect(await f.relationships.directMessageStanding(a!.id, { otherId: nextId() })).toBeNull();

        const { guild } = await f.guilds.createGuild({ id: nextId(), name: "Shared", ownerId: b!.id, firstChannel: { id: nextId(), name: "general" } });
        const invite = await f.guilds.createInvite({ code: `s${nextId()}`, guildId: guild.id, inviterId: b!.id, maxUses: null, expiresAt: null });
        await f.guilds.redeemInvite(invite.code, a!.id, new Date());
        await f.relationships.updateSettings(b!.id, { allowDirectMessagesFrom: "FRIENDS" });
        done(await f.relationships.sendFriendRequest(a!.id, b!.id, ROOMY));
        const { channel: dm } = await f.channels.openDirectMessage(nextId(), a!.id, b!.id);
        const byChannel = await f.relationships.directMessageStanding(a!.id, { channelId: dm.id });
        expect(byChannel).toMatchObject({ otherId: b!.id, policy: "FRIENDS", sharesGuild: true });
        expect(kinds(byChannel!.pair)).toEqual(["OUTGOING", "INCOMING"]);
        expect(byChannel!.pair.mine!.since).toBeInstanceOf(Date);
        expect(await f.relationships.directMessageStanding(b!.id, { channelId: dm.id })).toMatchObject({ otherId: a!.id, policy: "GUILD_MEMBERS", sharesGuild: true });
        // Not a DM of theirs, or no other recipient: nothing to stand with.
        expect(await f.relationships.directMessageStanding(c!.id, { channelId: nextId() })).toBeNull();
      });

      it("settings default to GUILD_MEMBERS, change, and stay changed", async (ctx) => {
        const f = stores(ctx);
        const [a] = await makeUsers(f, 1);
        expect(await f.relationships.getSettings(a!.id)).toEqual({ allowDirectMessagesFrom: "GUILD_MEMBERS" });
        expect(await f.relationships.updateSettings(a!.id, { allowDirectMessagesFrom: "EVERYONE" })).toEqual({ allowDirectMessagesFrom: "EVERYONE" });
        expect(await f.relationships.updateSettings(a!.id, { allowDirectMessagesFrom: "EVERYONE" })).toEqual({ allowDirectMessagesFrom: "EVERYONE" });
        expect(await f.relationships.updateSettings(a!.id, {})).toEqual({ allowDirectMessagesFrom: "EVERYONE" });
        expect(await f.relationships.getSettings(a!.id)).toEqual({ allowDirectMessagesFrom: "EVERYONE" });
      });
    });

    describe("under concurrency", () => {
      const ROUNDS = 8;

      it("two users asking each other at the same moment end as friends: one request, one acceptance", async (ctx) => {
        const f = stores(ctx);
        for (let i = 0; i < ROUNDS; i++) {
          const [a, b] = await makeUsers(f, 2);
          const results = await Promise.all([f.relationships.sendFriendRequest(a!.id, b!.id, ROOMY), f.relationships.sendFriendRequest(b!.id, a!.id, ROOMY)]);
          expect(results.map((r) => kinds(done(r).after)[0]).sort()).toEqual(["FRIEND", "OUTGOING"]);
          expect(await pair(f, a!, b!)).toEqual(["FRIEND", "FRIEND"]);
        }
      });

      it("an accept racing a withdrawal: exactly one wins, and a refused accept leaves no friendship", async (ctx) => {
        const f = stores(ctx);
        for (let i = 0; i < ROUNDS; i++) {
          const [a, b] = await makeUsers(f, 2);
          done(await f.relationships.sendFriendRequest(a!.id, b!.id, ROOMY));
          const [accept, withdraw] = await Promise.all([f.relationships.acceptFriendRequest(b!.id, a!.id, ROOMY), f.relationships.removeFriendRequest(a!.id, b!.id)]);
          expect([accept.status, withdraw.status].sort()).toEqual(["done", "refused"]);
          expect(await pair(f, a!, b!)).toEqual(accept.status === "done" ? ["FRIEND", "FRIEND"] : [null, null]);
          await expectConsistent(f, a!, b!);
        }
      });

      it("a block racing an accept always ends blocked and not friends", async (ctx) => {
        const f = stores(ctx);
        for (let i = 0; i < ROUNDS; i++) {
          const [a, b] = await makeUsers(f, 2);
          done(await f.relationships.sendFriendRequest(a!.id, b!.id, ROOMY));
          const [, block] = await Promise.all([f.relationships.acceptFriendRequest(b!.id, a!.id, ROOMY), f.relationships.block(a!.id, b!.id, ROOMY)]);
          done(block);
          expect(await pair(f, a!, b!)).toEqual(["BLOCKED", null]);
        }
      });

      it("concurrent accepts cannot pass the friend cap together", async (ctx) => {
        const f = stores(ctx);
        const [hub, ...askers] = await makeUsers(f, 5);
        for (const asker of askers) done(await f.relationships.sendFriendRequest(asker.id, hub!.id, ROOMY));
        const limits = { ...ROOMY, maxFriends: 2 };
        const results = await Promise.all(askers.map((asker) => f.relationships.acceptFriendRequest(hub!.id, asker.id, limits)));
        expect(results.filter((r) => r.status === "done")).toHaveLength(2);
        expect(results.filter((r) => r.status === "refused" && r.reason === "limit")).toHaveLength(2);
        const friends = (await f.relationships.list(hub!.id, { afterOtherId: null, limit: 10 })).filter((r) => r.kind === "FRIEND");
        expect(friends).toHaveLength(2);
        for (const asker of askers) await expectConsistent(f, hub!, asker);
      });

      it("a burst of requests cannot pass the pending caps, sent or received", async (ctx) => {
        const f = stores(ctx);
        const [sender, ...targets] = await makeUsers(f, 7);
        const limits = { ...ROOMY, maxPending: 3 };
        const sent = await Promise.all(targets.map((t) => f.relationships.sendFriendRequest(sender!.id, t.id, limits)));
        expect(sent.filter((r) => r.status === "done")).toHaveLength(3);
        expect((await f.relationships.list(sender!.id, { afterOtherId: null, limit: 10 })).filter((r) => r.kind === "OUTGOING")).toHaveLength(3);

        const [popular, ...fans] = await makeUsers(f, 7);
        const received = await Promise.all(fans.map((fan) => f.relationships.sendFriendRequest(fan.id, popular!.id, limits)));
        expect(received.filter((r) => r.status === "done")).toHaveLength(3);
        expect((await f.relationships.list(popular!.id, { afterOtherId: null, limit: 10 })).filter((r) => r.kind === "INCOMING")).toHaveLength(3);
      });

      it("many writes on overlapping pairs at once neither deadlock nor leave a pair half-written", async (ctx) => {
        const f = stores(ctx);
        const users = await makeUsers(f, 4);
        const writes: Promise<RelationshipWrite>[] = [];
        for (let i = 0; i < 40; i++) {
          const a = users[i % 4]!;
          const b = users[(i * 3 + 1) % 4]!;
          if (a.id === b.id) continue;
          const op = i % 5;
          writes.push(
            op === 0
              ? f.relationships.sendFriendRequest(a.id, b.id, ROOMY)
              : op === 1
                ? f.relationships.acceptFriendRequest(a.id, b.id, ROOMY)
                : op === 2
                  ? f.relationships.block(a.id, b.id, ROOMY)
                  : op === 3
                    ? f.relationships.unblock(a.id, b.id)
                    : f.relationships.removeFriend(a.id, b.id),
          );
        }
        const results = await Promise.allSettled(writes);
        expect(results.filter((r) => r.status === "rejected")).toEqual([]);
        for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) await expectConsistent(f, users[i]!, users[j]!);
      });
    });
  });
}
