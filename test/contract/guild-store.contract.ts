import { describe, expect, it } from "vitest";
import { createIdGenerator } from "../../src/ids/snowflake.js";
import type { AccountStore, UserRecord } from "../../src/stores/account-store.js";
import type { AuditActor, AuditChange, AuditEntryRecord, AuditLogStore } from "../../src/stores/audit-log-store.js";
import type { ChannelStore } from "../../src/stores/channel-store.js";
import type { GuildRecord, GuildStore, InviteRecord, MemberRecord } from "../../src/stores/guild-store.js";
import { LimitReachedError, MissingReferenceError } from "../../src/stores/store-errors.js";
import { suiteFixture } from "../support/suite-fixture.js";

/**
 * The stores of one adapter family on one database: guilds need users (and own channels), so
 * the suite needs the sibling stores to set up and to observe.
 */
export interface GuildStoreFixture {
  accounts: AccountStore;
  guilds: GuildStore;
  channels: ChannelStore;
  /**
   * An invite's stored use count, read straight from the backing store (null if no such
   * invite): the port has no reader for it, yet "counts the use" is one of its guarantees.
   */
  inviteUses(code: string): Promise<number | null>;
  /** Where the audited writes' entries are read back. */
  auditLog: AuditLogStore;
  /**
   * The guild's timeouts in force now (until later than the backing store's clock), user id →
   * until, read straight from the backing store: the port has no reader for them.
   */
  timeoutsInForce(guildId: bigint): Promise<Map<bigint, Date>>;
  close(): Promise<void>;
}

export interface GuildStoreContractOptions {
  /**
   * Whether the adapter's backing service is there. False: every test is reported as skipped
   * (with the reason the check logged); throwing fails the suite (CI must prove every adapter).
   */
  available?: () => Promise<boolean>;
}

const byId = <T extends { id: bigint }>(rows: readonly T[]) => [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
const ascending = (ids: readonly bigint[]) => [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The behaviour every {@link GuildStore} adapter must have, as stated in the port's JSDoc,
 * including the atomicity of invite redemption under concurrent joins.
 * One database per suite run; each test makes its own users and guilds.
 */
export function guildStoreContract(name: string, factory: () => Promise<GuildStoreFixture>, options: GuildStoreContractOptions = {}) {
  describe(`GuildStore contract: ${name}`, () => {
    const nextId = createIdGenerator(2);
    /** The stores under test, or a skip when the adapter's service is absent. */
    const stores = suiteFixture(name, factory, options.available);

    function makeUser(f: GuildStoreFixture): Promise<UserRecord> {
      const id = nextId();
      return f.accounts.createUser({ id, username: `user${id}`, passwordHash: null, bot: false, botOwnerId: null });
    }
    async function makeGuild(f: GuildStoreFixture, owner?: UserRecord) {
      const ownerId = (owner ?? (await makeUser(f))).id;
      return f.guilds.createGuild({ id: nextId(), name: "Engines", ownerId, firstChannel: { id: nextId(), name: "general" } });
    }
    async function makeInvite(f: GuildStoreFixture, guild: GuildRecord, extra: { maxUses?: number | null; expiresAt?: Date | null } = {}) {
      return f.guilds.createInvite({ code: `inv${nextId()}`, guildId: guild.id, inviterId: guild.ownerId, maxUses: null, expiresAt: null, ...extra });
    }
    async function memberCount(f: GuildStoreFixture, guildId: bigint): Promise<number | undefined> {
      return (await f.guilds.getGuilds([guildId]))[0]?.memberCount;
    }
    async function allMembers(f: GuildStoreFixture, guildId: bigint): Promise<bigint[]> {
      return (await f.guilds.listMembers(guildId, { afterUserId: null, limit: 1_000 })).map((m) => m.userId);
    }
    const member = (guildId: bigint, userId: bigint): MemberRecord => ({ guildId, userId, joinedAt: expect.any(Date) as Date });

    describe("createGuild", () => {
      it("creates the guild with memberCount 1, the owner's membership and a GUILD_TEXT first channel at 0", async (ctx) => {
        const f = stores(ctx);
        const owner = await makeUser(f);
        const [id, channelId] = [nextId(), nextId()];
        const { guild, channel } = await f.guilds.createGuild({ id, name: "Analytical", ownerId: owner.id, firstChannel: { id: channelId, name: "general" } });
        expect(guild).toEqual({ id, name: "Analytical", ownerId: owner.id, memberCount: 1, createdAt: expect.any(Date) });
        expect(channel).toMatchObject({ id: channelId, kind: "GUILD_TEXT", guildId: id, name: "general", position: 0, ownerId: null });
        expect(await f.guilds.getGuilds([id])).toEqual([guild]);
        expect(await f.guilds.getMember(id, owner.id)).toEqual(member(id, owner.id));
        expect(await allMembers(f, id)).toEqual([owner.id]);
        expect((await f.channels.listGuildChannels(id)).map((c) => c.id)).toEqual([channelId]);
        expect(await f.guilds.listGuildIdsOfUser(owner.id)).toEqual([id]);
      });

      it("returns the first channel exactly as getChannels reads it (a ChannelRecord, nothing more)", async (ctx) => {
        const f = stores(ctx);
        const { channel } = await makeGuild(f);
        const [read] = await f.channels.getChannels([channel.id]);
        expect(read).toBeDefined();
        expect(channel).toStrictEqual(read);
      });

      it("is all or nothing: a failing first channel leaves no guild and no membership", async (ctx) => {
        const f = stores(ctx);
        const owner = await makeUser(f);
        const { channel: taken } = await makeGuild(f);
        const id = nextId();
        await expect(
          f.guilds.createGuild({ id, name: "Doomed", ownerId: owner.id, firstChannel: { id: taken.id, name: "clash" } }),
        ).rejects.toThrow();
        expect(await f.guilds.getGuilds([id])).toEqual([]);
        expect(await f.guilds.getMember(id, owner.id)).toBeNull();
        expect(await f.guilds.listGuildIdsOfUser(owner.id)).toEqual([]);
      });
    });

    it("getGuilds returns the existing guilds among the ids, ignores missing ones, [] for no ids", async (ctx) => {
      const f = stores(ctx);
      const { guild: a } = await makeGuild(f);
      const { guild: b } = await makeGuild(f);
      expect(byId(await f.guilds.getGuilds([b.id, nextId(), a.id]))).toEqual(byId([a, b]));
      expect(await f.guilds.getGuilds([nextId()])).toEqual([]);
      expect(await f.guilds.getGuilds([])).toEqual([]);
    });

    it("renameGuild returns the renamed guild (other fields kept) and null when it does not exist", async (ctx) => {
      const f = stores(ctx);
      const { guild } = await makeGuild(f);
      const renamed = await f.guilds.renameGuild(guild.id, "Difference Engine");
      expect(renamed).toEqual({ ...guild, name: "Difference Engine" });
      expect(await f.guilds.getGuilds([guild.id])).toEqual([renamed]);
      expect(await f.guilds.renameGuild(nextId(), "ghost")).toBeNull();
    });

    describe("deleteGuild", () => {
      it("returns every channel id and removes the guild, memberships, channels and invites", async (ctx) => {
        const f = stores(ctx);
        const { guild, channel: first } = await makeGuild(f);
        const second = await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "random" });
        const third = await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "help" });
        const joiner = await makeUser(f);
        const invite = await makeInvite(f, guild);
        expect((await f.guilds.redeemInvite(invite.code, joiner.id, new Date())).status).toBe("joined");
        const { guild: bystander, channel: bystanderChannel } = await makeGuild(f, joiner);

        const result = await f.guilds.deleteGuild(guild.id);
        expect(result).not.toBeNull();
        expect(ascending(result!.channelIds)).toEqual(ascending([first.id, second.id, third.id]));
        expect(await f.guilds.getGuilds([guild.id])).toEqual([]);
        expect(await f.guilds.getMember(guild.id, guild.ownerId)).toBeNull();
        expect(await f.guilds.getMember(guild.id, joiner.id)).toBeNull();
        expect(await f.guilds.listGuildIdsOfUser(joiner.id)).toEqual([bystander.id]);
        expect(await f.channels.getChannels([first.id, second.id, third.id])).toEqual([]);
        expect(await f.channels.listGuildChannels(guild.id)).toEqual([]);
        expect(await f.guilds.redeemInvite(invite.code, (await makeUser(f)).id, new Date())).toEqual({ status: "unknown" });
        // Another guild is untouched.
        expect((await f.channels.listGuildChannels(bystander.id)).map((c) => c.id)).toEqual([bystanderChannel.id]);
        expect(await memberCount(f, bystander.id)).toBe(1);
      });

      it("returns null when the guild does not exist (or is already deleted)", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        expect(await f.guilds.deleteGuild(guild.id)).not.toBeNull();
        expect(await f.guilds.deleteGuild(guild.id)).toBeNull();
        expect(await f.guilds.deleteGuild(nextId())).toBeNull();
      });
    });

    it("getMember returns the membership, null for a non-member or an unknown guild", async (ctx) => {
      const f = stores(ctx);
      const { guild } = await makeGuild(f);
      const stranger = await makeUser(f);
      expect(await f.guilds.getMember(guild.id, guild.ownerId)).toEqual(member(guild.id, guild.ownerId));
      expect(await f.guilds.getMember(guild.id, stranger.id)).toBeNull();
      expect(await f.guilds.getMember(nextId(), guild.ownerId)).toBeNull();
    });

    it("listGuildIdsOfUser lists the user's guilds, oldest membership first, [] for none", async (ctx) => {
      const f = stores(ctx);
      const user = await makeUser(f);
      const { guild: own } = await makeGuild(f, user);
      // Created in id order, joined in reverse: membership order must win over guild id order.
      const { guild: older } = await makeGuild(f);
      const { guild: newer } = await makeGuild(f);
      await makeGuild(f); // one the user never joins
      for (const guild of [newer, older]) {
        await sleep(5);
        expect((await f.guilds.redeemInvite((await makeInvite(f, guild)).code, user.id, new Date())).status).toBe("joined");
      }
      expect(await f.guilds.listGuildIdsOfUser(user.id)).toEqual([own.id, newer.id, older.id]);
      expect(await f.guilds.listGuildIdsOfUser((await makeUser(f)).id)).toEqual([]);

      // The same guilds in the same order, with their member counts as they change.
      const third = await makeUser(f);
      expect((await f.guilds.redeemInvite((await makeInvite(f, older)).code, third.id, new Date())).status).toBe("joined");
      expect(await f.guilds.listGuildSizesOfUser(user.id)).toEqual([
        { guildId: own.id, memberCount: 1 },
        { guildId: newer.id, memberCount: 2 },
        { guildId: older.id, memberCount: 3 },
      ]);
      await f.guilds.removeMember(newer.id, user.id);
      expect(await f.guilds.listGuildSizesOfUser(user.id)).toEqual([
        { guildId: own.id, memberCount: 1 },
        { guildId: older.id, memberCount: 3 },
      ]);
      expect(await f.guilds.listGuildSizesOfUser((await makeUser(f)).id)).toEqual([]);
      // Concurrent calls (users coming online together) each get their own guilds, in order.
      const nobody = await makeUser(f);
      const [mine, thirds, none, again] = await Promise.all([user.id, third.id, nobody.id, user.id].map((id) => f.guilds.listGuildSizesOfUser(id)));
      expect(mine).toEqual([
        { guildId: own.id, memberCount: 1 },
        { guildId: older.id, memberCount: 3 },
      ]);
      expect(again).toEqual(mine);
      expect(thirds).toEqual([{ guildId: older.id, memberCount: 3 }]);
      expect(none).toEqual([]);
    });

    describe("filterGuildmates", () => {
      /** Joins `user` to `guild` through a fresh invite. */
      async function join(f: GuildStoreFixture, guild: GuildRecord, user: UserRecord) {
        expect((await f.guilds.redeemInvite((await makeInvite(f, guild)).code, user.id, new Date())).status).toBe("joined");
      }

      it("keeps those sharing a guild with the user and drops strangers and unknown ids", async (ctx) => {
        const f = stores(ctx);
        const [me, mate, stranger] = [await makeUser(f), await makeUser(f), await makeUser(f)];
        const { guild } = await makeGuild(f, me);
        await join(f, guild, mate);
        await makeGuild(f, stranger);
        expect(await f.guilds.filterGuildmates(me.id, [stranger.id, mate.id, nextId()])).toEqual([mate.id]);
        // Symmetric: the owner is a guildmate of the joiner.
        expect(await f.guilds.filterGuildmates(mate.id, [me.id, stranger.id])).toEqual([me.id]);
      });

      it("returns [] when no guild is shared, or when the user belongs to none", async (ctx) => {
        const f = stores(ctx);
        const [me, a, b, loner] = [await makeUser(f), await makeUser(f), await makeUser(f), await makeUser(f)];
        await makeGuild(f, me);
        const { guild: theirs } = await makeGuild(f, a);
        await join(f, theirs, b);
        expect(await f.guilds.filterGuildmates(me.id, [a.id, b.id])).toEqual([]);
        expect(await f.guilds.filterGuildmates(loner.id, [me.id, a.id, b.id])).toEqual([]);
      });

      it("lists a user sharing several guilds (or listed twice) once", async (ctx) => {
        const f = stores(ctx);
        const [me, mate, other] = [await makeUser(f), await makeUser(f), await makeUser(f)];
        for (let i = 0; i < 3; i++) {
          const { guild } = await makeGuild(f, me);
          await join(f, guild, mate);
          if (i === 0) await join(f, guild, other);
        }
        expect(ascending(await f.guilds.filterGuildmates(me.id, [mate.id, other.id, mate.id]))).toEqual(ascending([mate.id, other.id]));
      });

      it("includes the user itself when listed and a member of some guild", async (ctx) => {
        const f = stores(ctx);
        const [me, loner] = [await makeUser(f), await makeUser(f)];
        await makeGuild(f, me);
        expect(await f.guilds.filterGuildmates(me.id, [me.id])).toEqual([me.id]);
        expect(await f.guilds.filterGuildmates(loner.id, [loner.id])).toEqual([]);
      });

      it("returns [] for an empty list, and forgets a guildmate who left", async (ctx) => {
        const f = stores(ctx);
        const [me, mate] = [await makeUser(f), await makeUser(f)];
        const { guild } = await makeGuild(f, me);
        await join(f, guild, mate);
        expect(await f.guilds.filterGuildmates(me.id, [])).toEqual([]);
        expect(await f.guilds.removeMember(guild.id, mate.id)).toBe(true);
        expect(await f.guilds.filterGuildmates(me.id, [mate.id])).toEqual([]);
      });
    });

    it("listMembers orders by user id, starts strictly after afterUserId, returns at most limit", async (ctx) => {
      const f = stores(ctx);
      const users = [] as UserRecord[];
      for (let i = 0; i < 5; i++) users.push(await makeUser(f));
      const owner = users[2]!;
      const { guild } = await makeGuild(f, owner);
      const invite = await makeInvite(f, guild);
      for (const user of [users[4]!, users[0]!, users[3]!, users[1]!]) await f.guilds.redeemInvite(invite.code, user.id, new Date());
      const ids = users.map((u) => u.id);

      const all = await f.guilds.listMembers(guild.id, { afterUserId: null, limit: 100 });
      expect(all).toEqual(ids.map((id) => member(guild.id, id)));
      expect((await f.guilds.listMembers(guild.id, { afterUserId: null, limit: 2 })).map((m) => m.userId)).toEqual(ids.slice(0, 2));
      expect((await f.guilds.listMembers(guild.id, { afterUserId: ids[1]!, limit: 2 })).map((m) => m.userId)).toEqual(ids.slice(2, 4));
      expect((await f.guilds.listMembers(guild.id, { afterUserId: ids[3]!, limit: 2 })).map((m) => m.userId)).toEqual(ids.slice(4));
      expect(await f.guilds.listMembers(guild.id, { afterUserId: ids[4]!, limit: 2 })).toEqual([]);
      // The cursor need not be a member: it is only a bound.
      expect((await f.guilds.listMembers(guild.id, { afterUserId: ids[0]! - 1n, limit: 1 })).map((m) => m.userId)).toEqual([ids[0]]);
      expect(await f.guilds.listMembers(nextId(), { afterUserId: null, limit: 10 })).toEqual([]);
    });

    it("listMembers from the last end: highest user ids first, strictly before beforeUserId, within both bounds", async (ctx) => {
      const f = stores(ctx);
      const users = [] as UserRecord[];
      for (let i = 0; i < 5; i++) users.push(await makeUser(f));
      const { guild } = await makeGuild(f, users[0]!);
      const invite = await makeInvite(f, guild);
      for (const user of users.slice(1)) await f.guilds.redeemInvite(invite.code, user.id, new Date());
      const ids = users.map((u) => u.id);
      const userIds = async (page: Parameters<typeof f.guilds.listMembers>[1]) => (await f.guilds.listMembers(guild.id, page)).map((m) => m.userId);

      expect(await userIds({ limit: 2, from: "last" })).toEqual([ids[4], ids[3]]);
      expect(await userIds({ beforeUserId: ids[3]!, limit: 2, from: "last" })).toEqual([ids[2], ids[1]]);
      expect(await userIds({ beforeUserId: ids[1]!, limit: 2, from: "last" })).toEqual([ids[0]]);
      expect(await userIds({ beforeUserId: ids[0]!, limit: 2, from: "last" })).toEqual([]);
      // Both bounds: a window, read from either end.
      expect(await userIds({ afterUserId: ids[0]!, beforeUserId: ids[4]!, limit: 10 })).toEqual(ids.slice(1, 4));
      expect(await userIds({ afterUserId: ids[0]!, beforeUserId: ids[4]!, limit: 2, from: "last" })).toEqual([ids[3], ids[2]]);
      expect(await userIds({ afterUserId: ids[3]!, beforeUserId: ids[1]!, limit: 10 })).toEqual([]);
      // A bound need not be a member.
      expect(await userIds({ beforeUserId: ids[4]! + 1n, limit: 1, from: "last" })).toEqual([ids[4]]);
    });

    it("createInvite stores the invite with no uses yet", async (ctx) => {
      const f = stores(ctx);
      const { guild } = await makeGuild(f);
      const code = `inv${nextId()}`;
      const expiresAt = new Date(Date.now() + 3_600_123);
      const invite = await f.guilds.createInvite({ code, guildId: guild.id, inviterId: guild.ownerId, maxUses: 5, expiresAt });
      expect(invite).toEqual({ code, guildId: guild.id, inviterId: guild.ownerId, maxUses: 5, uses: 0, expiresAt, createdAt: expect.any(Date) });
      expect(await f.inviteUses(code)).toBe(0);
    });

    it("createInvite for a deleted (or unknown) guild rejects with MissingReferenceError and stores nothing", async (ctx) => {
      const f = stores(ctx);
      const { guild } = await makeGuild(f);
      await f.guilds.deleteGuild(guild.id);
      for (const guildId of [guild.id, nextId()]) {
        const code = `inv${nextId()}`;
        const refused = f.guilds.createInvite({ code, guildId, inviterId: guild.ownerId, maxUses: null, expiresAt: null });
        await expect(refused).rejects.toBeInstanceOf(MissingReferenceError);
        await expect(refused).rejects.toMatchObject({ what: "guild" });
        expect((await f.guilds.redeemInvite(code, (await makeUser(f)).id, new Date())).status).toBe("unknown");
      }
    });

    it("createInvite rejects a code already in use and keeps the first invite", async (ctx) => {
      const f = stores(ctx);
      const { guild: first } = await makeGuild(f);
      const { guild: second } = await makeGuild(f);
      const invite = await makeInvite(f, first);
      await expect(f.guilds.createInvite({ code: invite.code, guildId: second.id, inviterId: second.ownerId, maxUses: null, expiresAt: null })).rejects.toThrow();
      const result = await f.guilds.redeemInvite(invite.code, (await makeUser(f)).id, new Date());
      expect(result.status === "joined" && result.guild.id).toBe(first.id);
    });

    describe("redeemInvite", () => {
      it("joins: counts the use, adds the membership, bumps memberCount", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const invite = await makeInvite(f, guild, { maxUses: 10 });
        const joiner = await makeUser(f);
        const result = await f.guilds.redeemInvite(invite.code, joiner.id, new Date());
        expect(result).toEqual({ status: "joined", guild: { ...guild, memberCount: 2 }, member: member(guild.id, joiner.id) });
        expect(await f.inviteUses(invite.code)).toBe(1);
        expect(await f.guilds.getMember(guild.id, joiner.id)).toEqual(member(guild.id, joiner.id));
        expect(await memberCount(f, guild.id)).toBe(2);
      });

      it("already-member: changes nothing and counts no use", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const invite = await makeInvite(f, guild, { maxUses: 2 });
        const joiner = await makeUser(f);
        expect(await f.guilds.redeemInvite(invite.code, guild.ownerId, new Date())).toEqual({ status: "already-member", guild });
        expect((await f.guilds.redeemInvite(invite.code, joiner.id, new Date())).status).toBe("joined");
        expect(await f.guilds.redeemInvite(invite.code, joiner.id, new Date())).toEqual({ status: "already-member", guild: { ...guild, memberCount: 2 } });
        expect(await f.inviteUses(invite.code)).toBe(1);
        expect(await memberCount(f, guild.id)).toBe(2);
        // The use the re-joins did not count is still there for someone new.
        expect((await f.guilds.redeemInvite(invite.code, (await makeUser(f)).id, new Date())).status).toBe("joined");
      });

      it("unknown: a code that was never created", async (ctx) => {
        const f = stores(ctx);
        const user = await makeUser(f);
        expect(await f.guilds.redeemInvite(`nope${nextId()}`, user.id, new Date())).toEqual({ status: "unknown" });
      });

      it("expired: expiresAt at or before now, writing nothing; a moment before expiry still joins", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const now = new Date();
        const atNow = await makeInvite(f, guild, { expiresAt: now });
        const past = await makeInvite(f, guild, { expiresAt: new Date(now.getTime() - 60_000) });
        const user = await makeUser(f);
        expect(await f.guilds.redeemInvite(atNow.code, user.id, now)).toEqual({ status: "expired" });
        expect(await f.guilds.redeemInvite(past.code, user.id, now)).toEqual({ status: "expired" });
        expect(await f.guilds.getMember(guild.id, user.id)).toBeNull();
        expect(await f.inviteUses(atNow.code)).toBe(0);
        expect(await memberCount(f, guild.id)).toBe(1);
        expect((await f.guilds.redeemInvite(atNow.code, user.id, new Date(now.getTime() - 1))).status).toBe("joined");
      });

      it("exhausted: at maxUses, writing nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const invite = await makeInvite(f, guild, { maxUses: 2 });
        const [a, b, c] = [await makeUser(f), await makeUser(f), await makeUser(f)];
        expect((await f.guilds.redeemInvite(invite.code, a.id, new Date())).status).toBe("joined");
        expect((await f.guilds.redeemInvite(invite.code, b.id, new Date())).status).toBe("joined");
        expect(await f.guilds.redeemInvite(invite.code, c.id, new Date())).toEqual({ status: "exhausted" });
        expect(await f.guilds.getMember(guild.id, c.id)).toBeNull();
        expect(await f.inviteUses(invite.code)).toBe(2);
        expect(await memberCount(f, guild.id)).toBe(3);
      });

      it("an invite without maxUses never runs out", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const invite = await makeInvite(f, guild, { maxUses: null });
        for (let i = 0; i < 4; i++) expect((await f.guilds.redeemInvite(invite.code, (await makeUser(f)).id, new Date())).status).toBe("joined");
        expect(await f.inviteUses(invite.code)).toBe(4);
        expect(await memberCount(f, guild.id)).toBe(5);
      });

      it("concurrency: 10 users racing for an invite with maxUses 3 → exactly 3 join", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const invite = await makeInvite(f, guild, { maxUses: 3 });
        const users = await Promise.all(Array.from({ length: 10 }, () => makeUser(f)));
        const results = await Promise.all(users.map((u) => f.guilds.redeemInvite(invite.code, u.id, new Date())));
        const statuses = results.map((r) => r.status);
        expect(statuses.filter((s) => s === "joined")).toHaveLength(3);
        expect(statuses.filter((s) => s === "exhausted")).toHaveLength(7);
        expect(await f.inviteUses(invite.code)).toBe(3);
        expect(await memberCount(f, guild.id)).toBe(4);
        const joined = users.filter((_, i) => results[i]!.status === "joined").map((u) => u.id);
        expect(await allMembers(f, guild.id)).toEqual(ascending([guild.ownerId, ...joined]));
      });

      it("concurrency: the same user redeeming twice at once joins once (one joined, one already-member)", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const invite = await makeInvite(f, guild, { maxUses: 100 });
        // Several users at once, each racing against themselves, to make the interleaving likely.
        const users = await Promise.all(Array.from({ length: 5 }, () => makeUser(f)));
        const results = await Promise.all(users.flatMap((u) => [u, u]).map((u) => f.guilds.redeemInvite(invite.code, u.id, new Date())));
        for (let i = 0; i < users.length; i++) {
          expect([results[2 * i]!.status, results[2 * i + 1]!.status].sort()).toEqual(["already-member", "joined"]);
        }
        expect(await memberCount(f, guild.id)).toBe(1 + users.length);
        expect(await f.inviteUses(invite.code)).toBe(users.length);
        expect(await allMembers(f, guild.id)).toEqual(ascending([guild.ownerId, ...users.map((u) => u.id)]));
      });
    });

    describe("maxGuildsPerUser (createGuild and redeemInvite)", () => {
      /** A user who owns one guild and joined another: two memberships. */
      async function userInTwoGuilds(f: GuildStoreFixture) {
        const user = await makeUser(f);
        await makeGuild(f, user);
        const { guild: other } = await makeGuild(f);
        await f.guilds.redeemInvite((await makeInvite(f, other)).code, user.id, new Date());
        return user;
      }

      it("createGuild refuses an owner already in maxGuildsPerUser guilds (LimitReachedError), writing nothing", async (ctx) => {
        const f = stores(ctx);
        const user = await userInTwoGuilds(f);
        const id = nextId();
        const refused = f.guilds.createGuild({ id, name: "One too many", ownerId: user.id, firstChannel: { id: nextId(), name: "general" }, maxGuildsPerUser: 2 });
        await expect(refused).rejects.toBeInstanceOf(LimitReachedError);
        await expect(refused).rejects.toMatchObject({ what: "guildsPerUser", limit: 2 });
        expect(await f.guilds.getGuilds([id])).toEqual([]);
        expect(await f.guilds.listGuildIdsOfUser(user.id)).toHaveLength(2);
        // Below the cap it creates.
        const { guild } = await f.guilds.createGuild({ id, name: "Room", ownerId: user.id, firstChannel: { id: nextId(), name: "general" }, maxGuildsPerUser: 3 });
        expect(guild.id).toBe(id);
      });

      it("redeemInvite answers guild-limit at the cap, writing nothing and counting no use", async (ctx) => {
        const f = stores(ctx);
        const user = await userInTwoGuilds(f);
        const { guild } = await makeGuild(f);
        const invite = await makeInvite(f, guild, { maxUses: 5 });
        expect(await f.guilds.redeemInvite(invite.code, user.id, new Date(), { maxGuildsPerUser: 2 })).toEqual({ status: "guild-limit", limit: 2 });
        expect(await f.guilds.getMember(guild.id, user.id)).toBeNull();
        expect(await f.inviteUses(invite.code)).toBe(0);
        expect(await memberCount(f, guild.id)).toBe(1);
        // A member at the cap re-using an invite is still told already-member, not the cap.
        expect((await f.guilds.redeemInvite(invite.code, guild.ownerId, new Date(), { maxGuildsPerUser: 1 })).status).toBe("already-member");
        expect((await f.guilds.redeemInvite(invite.code, user.id, new Date(), { maxGuildsPerUser: 3 })).status).toBe("joined");
      });

      it("concurrency: one user racing 3 joins and 3 creates with room for 2 more → exactly 2 succeed", async (ctx) => {
        const f = stores(ctx);
        const user = await userInTwoGuilds(f);
        const guilds = await Promise.all(Array.from({ length: 3 }, () => makeGuild(f)));
        const invites = await Promise.all(guilds.map(({ guild }) => makeInvite(f, guild)));
        const outcomes = await Promise.allSettled([
          ...invites.map((invite) => f.guilds.redeemInvite(invite.code, user.id, new Date(), { maxGuildsPerUser: 4 }).then((r) => r.status)),
          ...Array.from({ length: 3 }, () =>
            f.guilds.createGuild({ id: nextId(), name: "Race", ownerId: user.id, firstChannel: { id: nextId(), name: "general" }, maxGuildsPerUser: 4 }).then(() => "created"),
          ),
        ]);
        const succeeded = outcomes.filter((o) => o.status === "fulfilled" && (o.value === "joined" || o.value === "created"));
        expect(succeeded).toHaveLength(2);
        for (const o of outcomes) {
          if (o.status === "rejected") expect(o.reason).toBeInstanceOf(LimitReachedError);
          else if (o.value !== "joined" && o.value !== "created") expect(o.value).toBe("guild-limit");
        }
        expect(await f.guilds.listGuildIdsOfUser(user.id)).toHaveLength(4);
      });
    });

    it("removeMember removes the membership and decrements memberCount; false when not a member", async (ctx) => {
      const f = stores(ctx);
      const { guild } = await makeGuild(f);
      const invite = await makeInvite(f, guild);
      const [a, b] = [await makeUser(f), await makeUser(f)];
      await f.guilds.redeemInvite(invite.code, a.id, new Date());
      await f.guilds.redeemInvite(invite.code, b.id, new Date());
      expect(await memberCount(f, guild.id)).toBe(3);

      expect(await f.guilds.removeMember(guild.id, a.id)).toBe(true);
      expect(await f.guilds.getMember(guild.id, a.id)).toBeNull();
      expect(await memberCount(f, guild.id)).toBe(2);
      expect(await f.guilds.listGuildIdsOfUser(a.id)).toEqual([]);

      expect(await f.guilds.removeMember(guild.id, a.id)).toBe(false);
      expect(await f.guilds.removeMember(guild.id, (await makeUser(f)).id)).toBe(false);
      expect(await f.guilds.removeMember(nextId(), b.id)).toBe(false);
      expect(await memberCount(f, guild.id)).toBe(2);
      // Removal is not a ban: the same invite lets them back in, counted again.
      expect((await f.guilds.redeemInvite(invite.code, a.id, new Date())).status).toBe("joined");
      expect(await memberCount(f, guild.id)).toBe(3);
    });

    describe("bans", () => {
      const ban = (guildId: bigint, userId: bigint, moderatorId: bigint, reason: string | null) => ({ guildId, userId, moderatorId, reason, createdAt: expect.any(Date) as Date });

      it("banMember removes a member (memberCount down) and stores the ban; banning again changes nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const invite = await makeInvite(f, guild);
        const target = await makeUser(f);
        await f.guilds.redeemInvite(invite.code, target.id, new Date());
        const first = await f.guilds.banMember({ guildId: guild.id, userId: target.id, moderatorId: guild.ownerId, reason: "spam" });
        expect(first).toEqual({ ban: ban(guild.id, target.id, guild.ownerId, "spam"), removedMember: true, guild: { ...guild, memberCount: 1 } });
        expect(await f.guilds.getMember(guild.id, target.id)).toBeNull();
        expect(await memberCount(f, guild.id)).toBe(1);
        const again = await f.guilds.banMember({ guildId: guild.id, userId: target.id, moderatorId: guild.ownerId, reason: "other" });
        expect(again).toEqual({ ban: first!.ban, removedMember: false, guild: { ...guild, memberCount: 1 } });
        expect(await f.guilds.listBans(guild.id, { afterUserId: null, limit: 10 })).toEqual([first!.ban]);
      });

      it("a banned user cannot redeem an invite (no use counted) until unbanned; a non-member can be banned ahead", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const invite = await makeInvite(f, guild, { maxUses: 1 });
        const stranger = await makeUser(f);
        const result = await f.guilds.banMember({ guildId: guild.id, userId: stranger.id, moderatorId: guild.ownerId, reason: null });
        expect(result).toEqual({ ban: ban(guild.id, stranger.id, guild.ownerId, null), removedMember: false, guild });
        expect(await f.guilds.redeemInvite(invite.code, stranger.id, new Date())).toEqual({ status: "banned" });
        expect(await f.inviteUses(invite.code)).toBe(0);
        expect(await f.guilds.getMember(guild.id, stranger.id)).toBeNull();
        expect(await memberCount(f, guild.id)).toBe(1);
        expect(await f.guilds.unbanMember(guild.id, stranger.id)).toBe(true);
        expect(await f.guilds.unbanMember(guild.id, stranger.id)).toBe(false);
        expect((await f.guilds.redeemInvite(invite.code, stranger.id, new Date())).status).toBe("joined");
        expect(await f.guilds.listBans(guild.id, { afterUserId: null, limit: 10 })).toEqual([]);
      });

      it("banMember answers null for an unknown guild or user, writing nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        expect(await f.guilds.banMember({ guildId: nextId(), userId: guild.ownerId, moderatorId: guild.ownerId, reason: null })).toBeNull();
        expect(await f.guilds.banMember({ guildId: guild.id, userId: nextId(), moderatorId: guild.ownerId, reason: null })).toBeNull();
        expect(await f.guilds.listBans(guild.id, { afterUserId: null, limit: 10 })).toEqual([]);
      });

      it("listBans orders by user id, starts strictly after afterUserId, returns at most limit; bans go with the guild", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const users = await Promise.all(Array.from({ length: 5 }, () => makeUser(f)));
        for (const u of users) await f.guilds.banMember({ guildId: guild.id, userId: u.id, moderatorId: guild.ownerId, reason: null });
        const ids = ascending(users.map((u) => u.id));
        expect((await f.guilds.listBans(guild.id, { afterUserId: null, limit: 3 })).map((b) => b.userId)).toEqual(ids.slice(0, 3));
        expect((await f.guilds.listBans(guild.id, { afterUserId: ids[2]!, limit: 3 })).map((b) => b.userId)).toEqual(ids.slice(3));
        await f.guilds.deleteGuild(guild.id);
        expect(await f.guilds.listBans(guild.id, { afterUserId: null, limit: 10 })).toEqual([]);
      });

      it("concurrency: joins racing a ban never leave the banned user a member (each join is refused or removed)", async (ctx) => {
        const f = stores(ctx);
        for (let round = 0; round < 10; round++) {
          const { guild } = await makeGuild(f);
          const invite = await makeInvite(f, guild);
          const target = await makeUser(f);
          const [joined, banned] = await Promise.all([
            f.guilds.redeemInvite(invite.code, target.id, new Date()),
            f.guilds.banMember({ guildId: guild.id, userId: target.id, moderatorId: guild.ownerId, reason: null }),
          ]);
          expect(["joined", "banned"]).toContain(joined.status);
          expect(banned!.removedMember).toBe(joined.status === "joined");
          expect(await f.guilds.getMember(guild.id, target.id)).toBeNull();
          expect(await memberCount(f, guild.id)).toBe(1);
        }
      });
    });

    describe("transferOwnership", () => {
      it("hands the guild to a member; refuses a non-member or a caller who is not the owner, writing nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const invite = await makeInvite(f, guild);
        const [heir, outsider] = [await makeUser(f), await makeUser(f)];
        await f.guilds.redeemInvite(invite.code, heir.id, new Date());
        expect(await f.guilds.transferOwnership(guild.id, guild.ownerId, outsider.id)).toBeNull();
        expect(await f.guilds.transferOwnership(guild.id, heir.id, heir.id)).toBeNull();
        expect(await f.guilds.transferOwnership(nextId(), guild.ownerId, heir.id)).toBeNull();
        expect((await f.guilds.getGuilds([guild.id]))[0]!.ownerId).toBe(guild.ownerId);
        expect(await f.guilds.transferOwnership(guild.id, guild.ownerId, heir.id)).toEqual({ ...guild, ownerId: heir.id, memberCount: 2 });
        // The old owner stays a member and can no longer transfer it.
        expect(await f.guilds.getMember(guild.id, guild.ownerId)).toEqual(member(guild.id, guild.ownerId));
        expect(await f.guilds.transferOwnership(guild.id, guild.ownerId, guild.ownerId)).toBeNull();
      });

      it("concurrency: two transfers by the owner racing: exactly one wins", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const invite = await makeInvite(f, guild);
        const [a, b] = [await makeUser(f), await makeUser(f)];
        await f.guilds.redeemInvite(invite.code, a.id, new Date());
        await f.guilds.redeemInvite(invite.code, b.id, new Date());
        const results = await Promise.all([f.guilds.transferOwnership(guild.id, guild.ownerId, a.id), f.guilds.transferOwnership(guild.id, guild.ownerId, b.id)]);
        expect(results.filter((r) => r !== null)).toHaveLength(1);
        const winner = results.find((r) => r !== null)!.ownerId;
        expect((await f.guilds.getGuilds([guild.id]))[0]!.ownerId).toBe(winner);
      });
    });

    /** A new user who joined `guild` through a fresh invite. */
    async function makeMember(f: GuildStoreFixture, guild: GuildRecord): Promise<UserRecord> {
      const user = await makeUser(f);
      expect((await f.guilds.redeemInvite((await makeInvite(f, guild)).code, user.id, new Date())).status).toBe("joined");
      return user;
    }
    const HOUR = 3_600_000;
    const inAnHour = () => new Date(Date.now() + HOUR);
    /** setMemberTimeout by the guild's owner, `now` being the real time unless given. */
    function timeout(f: GuildStoreFixture, guild: GuildRecord, userId: bigint, until: Date | null, extra: { reason?: string | null; now?: Date } = {}, audit?: AuditActor) {
      return f.guilds.setMemberTimeout({ guildId: guild.id, userId, until, moderatorId: guild.ownerId, reason: extra.reason ?? null, now: extra.now ?? new Date() }, audit);
    }
    const invitePage = (beforeCreatedAt: Date | null, beforeCode: string | null, limit: number) => ({ beforeCreatedAt, beforeCode, limit });
    const codes = (invites: readonly InviteRecord[]) => invites.map((i) => i.code);

    describe("listInvites, getInvite and revokeInvite", () => {
      it("listInvites gives the guild's invites newest first, expired and used-up ones included, no other guild's", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const { guild: other } = await makeGuild(f);
        const now = new Date();
        const expired = await makeInvite(f, guild, { expiresAt: new Date(now.getTime() - 60_000) });
        const usedUp = await makeInvite(f, guild, { maxUses: 1 });
        expect((await f.guilds.redeemInvite(usedUp.code, (await makeUser(f)).id, now)).status).toBe("joined");
        const fresh = await makeInvite(f, guild, { maxUses: 10, expiresAt: new Date(now.getTime() + HOUR) });
        await makeInvite(f, other);
        expect(await f.guilds.listInvites(guild.id, invitePage(null, null, 10))).toEqual([fresh, { ...usedUp, uses: 1 }, expired]);
        expect(await f.guilds.listInvites(guild.id, invitePage(null, null, 2))).toEqual([fresh, { ...usedUp, uses: 1 }]);
        expect(await f.guilds.listInvites(nextId(), invitePage(null, null, 10))).toEqual([]);
      });

      it("listInvites pages by (createdAt, code): strictly older than the cursor, at most limit, none skipped or repeated", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        // Made at once, so several are likely to share a createdAt: the code must break the tie.
        const made = await Promise.all(Array.from({ length: 7 }, () => makeInvite(f, guild)));
        const newestFirst = [...made].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.code < b.code ? 1 : a.code > b.code ? -1 : 0));
        expect(codes(await f.guilds.listInvites(guild.id, invitePage(null, null, 100)))).toEqual(codes(newestFirst));
        const pages: string[][] = [];
        let cursor: InviteRecord | undefined;
        for (;;) {
          const page = await f.guilds.listInvites(guild.id, invitePage(cursor?.createdAt ?? null, cursor?.code ?? null, 3));
          if (page.length === 0) break;
          pages.push(codes(page));
          cursor = page.at(-1);
        }
        const all = codes(newestFirst);
        expect(pages).toEqual([all.slice(0, 3), all.slice(3, 6), all.slice(6)]);
        // At the same createdAt, a higher code comes first: a cursor just above the newest code includes it.
        const [newest] = newestFirst;
        expect(codes(await f.guilds.listInvites(guild.id, invitePage(newest!.createdAt, `${newest!.code}~`, 1)))).toEqual([newest!.code]);
      });

      it("getInvite reads an invite by code with its current uses; null for an unknown code", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const invite = await makeInvite(f, guild, { maxUses: 3, expiresAt: new Date(Date.now() + HOUR) });
        expect(await f.guilds.getInvite(invite.code)).toEqual(invite);
        expect((await f.guilds.redeemInvite(invite.code, (await makeUser(f)).id, new Date())).status).toBe("joined");
        expect(await f.guilds.getInvite(invite.code)).toEqual({ ...invite, uses: 1 });
        expect(await f.guilds.getInvite(`nope${nextId()}`)).toBeNull();
      });

      it("revokeInvite deletes the invite (true, then false): it is no longer read or listed and redeems as unknown", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const gone = await makeInvite(f, guild);
        const kept = await makeInvite(f, guild);
        expect(await f.guilds.revokeInvite(guild.id, gone.code)).toBe(true);
        expect(await f.guilds.revokeInvite(guild.id, gone.code)).toBe(false);
        expect(await f.guilds.getInvite(gone.code)).toBeNull();
        expect(await f.guilds.listInvites(guild.id, invitePage(null, null, 10))).toEqual([kept]);
        const user = await makeUser(f);
        expect(await f.guilds.redeemInvite(gone.code, user.id, new Date())).toEqual({ status: "unknown" });
        expect(await f.guilds.getMember(guild.id, user.id)).toBeNull();
        expect(await memberCount(f, guild.id)).toBe(1);
      });

      it("revokeInvite is false for an unknown code and for another guild's code, which keeps working", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const { guild: other } = await makeGuild(f);
        const theirs = await makeInvite(f, other);
        expect(await f.guilds.revokeInvite(guild.id, `nope${nextId()}`)).toBe(false);
        expect(await f.guilds.revokeInvite(guild.id, theirs.code)).toBe(false);
        expect(await f.guilds.getInvite(theirs.code)).toEqual(theirs);
        expect((await f.guilds.redeemInvite(theirs.code, (await makeUser(f)).id, new Date())).status).toBe("joined");
      });
    });

    describe("setMemberTimeout", () => {
      it("times a member out, replaces the timeout, lifts it (lifting again changes nothing); others keep theirs", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const [target, bystander] = [await makeMember(f, guild), await makeMember(f, guild)];
        const [first, later] = [inAnHour(), new Date(Date.now() + 2 * HOUR)];
        await timeout(f, guild, bystander.id, first);
        const record = { guildId: guild.id, userId: target.id, moderatorId: guild.ownerId };
        expect(await timeout(f, guild, target.id, first, { reason: "spam" })).toEqual({ timeout: { ...record, until: first, reason: "spam" } });
        expect(await f.timeoutsInForce(guild.id)).toEqual(new Map([[target.id, first], [bystander.id, first]]));
        expect(await timeout(f, guild, target.id, later, { reason: "again" })).toEqual({ timeout: { ...record, until: later, reason: "again" } });
        expect(await f.timeoutsInForce(guild.id)).toEqual(new Map([[target.id, later], [bystander.id, first]]));
        expect(await timeout(f, guild, target.id, null)).toEqual({ timeout: null });
        expect(await timeout(f, guild, target.id, null)).toEqual({ timeout: null });
        expect(await f.timeoutsInForce(guild.id)).toEqual(new Map([[bystander.id, first]]));
        // A timeout is not a removal.
        expect(await f.guilds.getMember(guild.id, target.id)).toEqual(member(guild.id, target.id));
        expect(await memberCount(f, guild.id)).toBe(3);
      });

      it("not-member for a user outside the guild (or an unknown guild), writing nothing; lifting needs no membership", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const stranger = await makeUser(f);
        expect(await timeout(f, guild, stranger.id, inAnHour())).toBe("not-member");
        expect(await timeout(f, { ...guild, id: nextId() }, guild.ownerId, inAnHour())).toBe("not-member");
        expect(await f.timeoutsInForce(guild.id)).toEqual(new Map());
        expect(await timeout(f, guild, stranger.id, null)).toEqual({ timeout: null });
      });

      it("stays through leaving and is in force again after rejoining through an invite", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const target = await makeMember(f, guild);
        const until = inAnHour();
        await timeout(f, guild, target.id, until);
        expect(await f.guilds.removeMember(guild.id, target.id)).toBe(true);
        expect(await f.timeoutsInForce(guild.id)).toEqual(new Map([[target.id, until]]));
        // Away, they cannot be given another one.
        expect(await timeout(f, guild, target.id, new Date(until.getTime() + HOUR))).toBe("not-member");
        expect((await f.guilds.redeemInvite((await makeInvite(f, guild)).code, target.id, new Date())).status).toBe("joined");
        expect(await f.timeoutsInForce(guild.id)).toEqual(new Map([[target.id, until]]));
      });
    });

    describe("audit: writes given an AuditActor record one entry, in the same transaction", () => {
      /** An actor whose entry will get a fresh id. */
      const actor = (actorId: bigint, reason: string | null = null): AuditActor => ({ entryId: nextId(), actorId, reason });
      const json = (value: unknown) => JSON.stringify(value);
      /** The guild's whole log, newest first. */
      function auditOf(f: GuildStoreFixture, guildId: bigint): Promise<AuditEntryRecord[]> {
        return f.auditLog.listEntries(guildId, { beforeId: null, notBeforeId: 0n, action: null, actorId: null, limit: 100 });
      }
      const entry = (by: AuditActor, guildId: bigint, action: AuditEntryRecord["action"], targetKind: AuditEntryRecord["targetKind"], targetId: bigint | string, changes: AuditChange[]): AuditEntryRecord => ({
        id: by.entryId,
        guildId,
        actorId: by.actorId,
        action,
        targetKind,
        targetId: String(targetId),
        changes,
        reason: by.reason,
      });

      it("renameGuild and transferOwnership: GUILD_UPDATE with the name, and the owner_id, before and after", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const heir = await makeMember(f, guild);
        const rename = actor(guild.ownerId, "rebrand");
        expect((await f.guilds.renameGuild(guild.id, "Difference Engine", rename))?.name).toBe("Difference Engine");
        const transfer = actor(guild.ownerId);
        expect((await f.guilds.transferOwnership(guild.id, guild.ownerId, heir.id, transfer))?.ownerId).toBe(heir.id);
        expect(await auditOf(f, guild.id)).toEqual([
          entry(transfer, guild.id, "GUILD_UPDATE", "GUILD", guild.id, [{ key: "owner_id", before: json(String(guild.ownerId)), after: json(String(heir.id)) }]),
          entry(rename, guild.id, "GUILD_UPDATE", "GUILD", guild.id, [{ key: "name", before: json("Engines"), after: json("Difference Engine") }]),
        ]);
      });

      it("createInvite and revokeInvite: INVITE_CREATE (the invite's fields as after) and INVITE_DELETE (as before) on the code", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const code = `inv${nextId()}`;
        const expiresAt = inAnHour();
        const create = actor(guild.ownerId, "recruiting");
        await f.guilds.createInvite({ code, guildId: guild.id, inviterId: guild.ownerId, maxUses: 5, expiresAt }, create);
        expect((await f.guilds.redeemInvite(code, (await makeUser(f)).id, new Date())).status).toBe("joined");
        const revoke = actor(guild.ownerId, "leaked");
        expect(await f.guilds.revokeInvite(guild.id, code, revoke)).toBe(true);
        const [deleted, created, ...rest] = await auditOf(f, guild.id);
        expect(rest).toEqual([]);
        expect(created).toEqual(
          entry(create, guild.id, "INVITE_CREATE", "INVITE", code, expect.arrayContaining([
            { key: "code", before: null, after: json(code) },
            { key: "max_uses", before: null, after: "5" },
            { key: "expires_at", before: null, after: json(expiresAt.toISOString()) },
          ]) as AuditChange[]),
        );
        expect(deleted).toEqual(
          entry(revoke, guild.id, "INVITE_DELETE", "INVITE", code, expect.arrayContaining([
            { key: "code", before: json(code), after: null },
            { key: "uses", before: "1", after: null },
          ]) as AuditChange[]),
        );
        expect(created!.changes.every((c) => c.before === null)).toBe(true);
        expect(deleted!.changes.every((c) => c.after === null)).toBe(true);
      });

      it("removeMember (a kick), banMember and unbanMember: MEMBER_KICK, MEMBER_BAN_ADD and MEMBER_BAN_REMOVE on the user", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const [kicked, banned] = [await makeMember(f, guild), await makeMember(f, guild)];
        const kick = actor(guild.ownerId, "rude");
        expect(await f.guilds.removeMember(guild.id, kicked.id, kick)).toBe(true);
        const ban = actor(guild.ownerId, "spam");
        expect((await f.guilds.banMember({ guildId: guild.id, userId: banned.id, moderatorId: guild.ownerId, reason: "spam" }, ban))?.removedMember).toBe(true);
        const unban = actor(guild.ownerId, "appealed");
        expect(await f.guilds.unbanMember(guild.id, banned.id, unban)).toBe(true);
        expect(await auditOf(f, guild.id)).toEqual([
          entry(unban, guild.id, "MEMBER_BAN_REMOVE", "USER", banned.id, []),
          entry(ban, guild.id, "MEMBER_BAN_ADD", "USER", banned.id, []),
          entry(kick, guild.id, "MEMBER_KICK", "USER", kicked.id, []),
        ]);
      });

      it("setMemberTimeout: MEMBER_UPDATE communication_disabled_until when set, replaced and lifted", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const target = await makeMember(f, guild);
        const [first, later] = [inAnHour(), new Date(Date.now() + 2 * HOUR)];
        const set = actor(guild.ownerId, "cool off");
        await timeout(f, guild, target.id, first, {}, set);
        const replace = actor(guild.ownerId);
        await timeout(f, guild, target.id, later, {}, replace);
        const lift = actor(guild.ownerId, "apologised");
        await timeout(f, guild, target.id, null, {}, lift);
        const key = "communication_disabled_until";
        expect(await auditOf(f, guild.id)).toEqual([
          entry(lift, guild.id, "MEMBER_UPDATE", "USER", target.id, [{ key, before: json(later.toISOString()), after: null }]),
          entry(replace, guild.id, "MEMBER_UPDATE", "USER", target.id, [{ key, before: json(first.toISOString()), after: json(later.toISOString()) }]),
          entry(set, guild.id, "MEMBER_UPDATE", "USER", target.id, [{ key, before: null, after: json(first.toISOString()) }]),
        ]);
      });

      it("a write that changes nothing records nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const { guild: other } = await makeGuild(f);
        const [target, expiring, stranger] = [await makeMember(f, guild), await makeMember(f, guild), await makeUser(f)];
        const by = () => actor(guild.ownerId);
        // The state the no-ops meet, set up without an actor.
        await f.guilds.banMember({ guildId: guild.id, userId: stranger.id, moderatorId: guild.ownerId, reason: null });
        const until = inAnHour();
        await timeout(f, guild, target.id, until);
        await timeout(f, guild, expiring.id, until);
        const theirs = await makeInvite(f, other);

        expect(await f.guilds.renameGuild(guild.id, "Engines", by())).toEqual({ ...guild, memberCount: 3 });
        expect((await f.guilds.banMember({ guildId: guild.id, userId: stranger.id, moderatorId: guild.ownerId, reason: "again" }, by()))?.removedMember).toBe(false);
        expect(await f.guilds.unbanMember(guild.id, target.id, by())).toBe(false);
        expect(await f.guilds.removeMember(guild.id, stranger.id, by())).toBe(false);
        expect(await f.guilds.transferOwnership(guild.id, guild.ownerId, stranger.id, by())).toBeNull();
        expect(await f.guilds.transferOwnership(guild.id, target.id, target.id, by())).toBeNull();
        expect(await f.guilds.revokeInvite(guild.id, theirs.code, by())).toBe(false);
        expect(await f.guilds.revokeInvite(guild.id, `nope${nextId()}`, by())).toBe(false);
        expect(await timeout(f, guild, stranger.id, inAnHour(), {}, by())).toBe("not-member");
        expect(await timeout(f, guild, target.id, until, { reason: "same until" }, by())).toMatchObject({ timeout: { until } });
        expect(await timeout(f, guild, stranger.id, null, {}, by())).toEqual({ timeout: null });
        // Lifted once it had passed: nothing was in force.
        expect(await timeout(f, guild, expiring.id, null, { now: new Date(until.getTime() + 1) }, by())).toEqual({ timeout: null });
        expect(await auditOf(f, guild.id)).toEqual([]);
        expect(await auditOf(f, other.id)).toEqual([]);
      });

      it("without an actor the same writes record nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const [heir, kicked, banned] = [await makeMember(f, guild), await makeMember(f, guild), await makeMember(f, guild)];
        expect(await f.guilds.renameGuild(guild.id, "Renamed")).not.toBeNull();
        const invite = await makeInvite(f, guild);
        expect(await f.guilds.revokeInvite(guild.id, invite.code)).toBe(true);
        expect(await timeout(f, guild, heir.id, inAnHour())).not.toBe("not-member");
        expect(await timeout(f, guild, heir.id, null)).toEqual({ timeout: null });
        expect(await f.guilds.removeMember(guild.id, kicked.id)).toBe(true);
        expect(await f.guilds.banMember({ guildId: guild.id, userId: banned.id, moderatorId: guild.ownerId, reason: null })).not.toBeNull();
        expect(await f.guilds.unbanMember(guild.id, banned.id)).toBe(true);
        expect(await f.guilds.transferOwnership(guild.id, guild.ownerId, heir.id)).not.toBeNull();
        expect(await auditOf(f, guild.id)).toEqual([]);
      });

      it("the write and its entry stand or fall together", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const target = await makeMember(f, guild);
        const first = actor(guild.ownerId);
        await f.guilds.renameGuild(guild.id, "Renamed", first);
        // An entry that cannot be stored (its id is taken) undoes the write.
        const taken: AuditActor = { ...actor(guild.ownerId), entryId: first.entryId };
        await expect(f.guilds.banMember({ guildId: guild.id, userId: target.id, moderatorId: guild.ownerId, reason: null }, taken)).rejects.toThrow();
        expect(await f.guilds.getMember(guild.id, target.id)).toEqual(member(guild.id, target.id));
        expect(await f.guilds.listBans(guild.id, { afterUserId: null, limit: 10 })).toEqual([]);
        expect(await memberCount(f, guild.id)).toBe(2);
        await expect(f.guilds.renameGuild(guild.id, "Again", taken)).rejects.toThrow();
        expect((await f.guilds.getGuilds([guild.id]))[0]?.name).toBe("Renamed");
        // A write that fails records no entry.
        const { code } = await makeInvite(f, guild);
        await expect(f.guilds.createInvite({ code, guildId: guild.id, inviterId: guild.ownerId, maxUses: null, expiresAt: null }, actor(guild.ownerId))).rejects.toThrow();
        expect((await auditOf(f, guild.id)).map((e) => e.id)).toEqual([first.entryId]);
      });
    });
  });
}
