import { describe, expect, it } from "vitest";
import { createIdGenerator } from "../../src/ids/snowflake.js";
import type { AccountStore, UserRecord } from "../../src/stores/account-store.js";
import type { ChannelRecord, ChannelStore } from "../../src/stores/channel-store.js";
import type { GuildStore } from "../../src/stores/guild-store.js";
import { LimitReachedError, MissingReferenceError } from "../../src/stores/store-errors.js";
import { suiteFixture } from "../support/suite-fixture.js";

/**
 * The stores of one adapter family on one database: channels need users and guilds to exist,
 * so the suite needs the sibling stores to set up.
 */
export interface ChannelStoreFixture {
  accounts: AccountStore;
  guilds: GuildStore;
  channels: ChannelStore;
  close(): Promise<void>;
}

export interface ChannelStoreContractOptions {
  /**
   * Whether the adapter's backing service is there. False: every test is reported as skipped
   * (with the reason the check logged); throwing fails the suite (CI must prove every adapter).
   */
  available?: () => Promise<boolean>;
}

const byId = <T extends { id: bigint }>(rows: readonly T[]) => [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
const ascending = (ids: readonly bigint[]) => [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * The behaviour every {@link ChannelStore} adapter must have, as stated in the port's JSDoc:
 * dense channel positions, idempotent DMs under concurrency, recipient bookkeeping.
 * One database per suite run; each test makes its own users and guilds.
 */
export function channelStoreContract(name: string, factory: () => Promise<ChannelStoreFixture>, options: ChannelStoreContractOptions = {}) {
  describe(`ChannelStore contract: ${name}`, () => {
    const nextId = createIdGenerator(3);
    /** The stores under test, or a skip when the adapter's service is absent. */
    const stores = suiteFixture(name, factory, options.available);

    function makeUser(f: ChannelStoreFixture): Promise<UserRecord> {
      const id = nextId();
      return f.accounts.createUser({ id, username: `user${id}`, passwordHash: null, bot: false, botOwnerId: null });
    }
    /**
     * A guild with `count` channels named c0, c1, ... at positions 0..count-1, as this store
     * reads them (the first one comes from the GuildStore, whose own contract checks its return).
     */
    async function guildWithChannels(f: ChannelStoreFixture, count = 4) {
      const owner = await makeUser(f);
      const { guild, channel } = await f.guilds.createGuild({ id: nextId(), name: "Engines", ownerId: owner.id, firstChannel: { id: nextId(), name: "c0" } });
      const [first] = await f.channels.getChannels([channel.id]);
      const channels = [first!];
      for (let i = 1; i < count; i++) channels.push(await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: `c${i}` }));
      return { guild, owner, channels };
    }
    /** Every direct channel of a user, newest first (one page larger than any test makes). */
    function allDirect(f: ChannelStoreFixture, userId: bigint): Promise<ChannelRecord[]> {
      return f.channels.listDirectChannelsOfUser(userId, { beforeChannelId: null, limit: 1_000 });
    }
    /** The guild's channel list as [id, position] pairs, in the store's display order. */
    async function layout(f: ChannelStoreFixture, guildId: bigint): Promise<[bigint, number][]> {
      return (await f.channels.listGuildChannels(guildId)).map((c) => [c.id, c.position]);
    }
    const dense = (ids: readonly bigint[]) => ids.map((id, position) => [id, position]);

    it("createGuildChannel appends text channels at positions 1..n after the first", async (ctx) => {
      const f = stores(ctx);
      const { guild, channels } = await guildWithChannels(f, 1);
      for (let i = 1; i <= 3; i++) {
        const id = nextId();
        const created = await f.channels.createGuildChannel({ id, guildId: guild.id, name: `extra-${i}` });
        expect(created).toEqual({ id, kind: "GUILD_TEXT", guildId: guild.id, name: `extra-${i}`, position: i, ownerId: null, parentId: null, topic: null, rateLimitPerUser: 0, createdAt: expect.any(Date) });
        channels.push(created);
      }
      expect(await layout(f, guild.id)).toEqual(dense(channels.map((c) => c.id)));
    });

    it("createGuildChannel into a deleted (or unknown) guild rejects with MissingReferenceError and writes nothing", async (ctx) => {
      const f = stores(ctx);
      const { guild } = await guildWithChannels(f, 2);
      await f.guilds.deleteGuild(guild.id);
      for (const guildId of [guild.id, nextId()]) {
        const id = nextId();
        const refused = f.channels.createGuildChannel({ id, guildId, name: "late", maxChannels: 10 });
        await expect(refused).rejects.toBeInstanceOf(MissingReferenceError);
        await expect(refused).rejects.toMatchObject({ what: "guild" });
        expect(await f.channels.getChannels([id])).toEqual([]);
      }
    });

    it("deleteChannel closes the gap in the guild's positions, and createGuildChannel appends at the new end", async (ctx) => {
      const f = stores(ctx);
      const { guild, channels } = await guildWithChannels(f, 4);
      const [a, b, c, d] = channels.map((ch) => ch.id) as [bigint, bigint, bigint, bigint];
      expect(await f.channels.deleteChannel(b)).toBe(true);
      expect(await layout(f, guild.id)).toEqual(dense([a, c, d]));
      const added = await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "late" });
      expect(added.position).toBe(3);
      expect(await layout(f, guild.id)).toEqual(dense([a, c, d, added.id]));
    });

    it("concurrency: simultaneous deletes in a guild leave its positions dense", async (ctx) => {
      const f = stores(ctx);
      // Three guilds at once, every other channel deleted in each, to make the interleaving likely.
      const guilds = await Promise.all([0, 1, 2].map(() => guildWithChannels(f, 8)));
      const doomed = guilds.flatMap(({ channels }) => channels.filter((_, i) => i % 2 === 1));
      expect(await Promise.all(doomed.map((ch) => f.channels.deleteChannel(ch.id)))).toEqual(doomed.map(() => true));
      for (const { guild, channels } of guilds) {
        expect(await layout(f, guild.id)).toEqual(dense(channels.filter((ch) => !doomed.includes(ch)).map((ch) => ch.id)));
      }
    });

    it("concurrency: simultaneous createGuildChannel calls each land at their own end position", async (ctx) => {
      const f = stores(ctx);
      const { guild, channels } = await guildWithChannels(f, 1);
      const created = await Promise.all(
        Array.from({ length: 5 }, (_, i) => f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: `race-${i}` })),
      );
      expect(created.map((c) => c.position).sort()).toEqual([1, 2, 3, 4, 5]);
      expect((await layout(f, guild.id)).map(([, position]) => position)).toEqual([0, 1, 2, 3, 4, 5]);
      expect((await f.channels.listGuildChannels(guild.id))[0]!.id).toBe(channels[0]!.id);
    });

    it("getChannels returns the existing channels among the ids (guild and DM), ignores missing ones, [] for no ids", async (ctx) => {
      const f = stores(ctx);
      const { channels, owner } = await guildWithChannels(f, 2);
      const other = await makeUser(f);
      const { channel: dm } = await f.channels.openDirectMessage(nextId(), owner.id, other.id);
      const found = await f.channels.getChannels([dm.id, nextId(), channels[1]!.id, channels[0]!.id]);
      expect(byId(found)).toEqual(byId([...channels, dm]));
      expect(await f.channels.getChannels([nextId()])).toEqual([]);
      expect(await f.channels.getChannels([])).toEqual([]);
    });

    it("getReadableChannels returns, among the ids, the guild channels of the user's guilds and their own DMs only", async (ctx) => {
      const f = stores(ctx);
      const { guild, channels, owner } = await guildWithChannels(f, 2);
      const [member, outsider, partner] = [await makeUser(f), await makeUser(f), await makeUser(f)];
      const code = `inv${nextId()}`;
      await f.guilds.createInvite({ code, guildId: guild.id, inviterId: owner.id, maxUses: null, expiresAt: null });
      expect((await f.guilds.redeemInvite(code, member.id, new Date())).status).toBe("joined");
      const { channel: dm } = await f.channels.openDirectMessage(nextId(), member.id, partner.id);
      const group = await f.channels.createGroupDirectMessage({ id: nextId(), ownerId: outsider.id, userIds: [outsider.id, partner.id] });
      const all = [channels[0]!.id, channels[1]!.id, dm.id, group.id, nextId()];

      expect(byId(await f.channels.getReadableChannels(member.id, all))).toEqual(byId([...channels, dm]));
      expect(byId(await f.channels.getReadableChannels(owner.id, all))).toEqual(byId(channels));
      expect(byId(await f.channels.getReadableChannels(partner.id, all))).toEqual(byId([dm, group]));
      expect(await f.channels.getReadableChannels(outsider.id, [channels[0]!.id, dm.id])).toEqual([]);
      expect(await f.channels.getReadableChannels(member.id, [])).toEqual([]);

      // Leaving the guild takes its channels away at once.
      await f.guilds.removeMember(guild.id, member.id);
      expect(await f.channels.getReadableChannels(member.id, [channels[0]!.id, channels[1]!.id])).toEqual([]);
    });

    it("listGuildChannels lists only that guild's channels, in position order (not id order)", async (ctx) => {
      const f = stores(ctx);
      const { guild, channels } = await guildWithChannels(f, 3);
      await guildWithChannels(f, 2); // another guild's channels stay out
      await f.channels.updateGuildChannel(channels[2]!.id, { position: 0 });
      const list = await f.channels.listGuildChannels(guild.id);
      expect(list.map((c) => c.id)).toEqual([channels[2]!.id, channels[0]!.id, channels[1]!.id]);
      expect(list.map((c) => c.position)).toEqual([0, 1, 2]);
      expect(list[0]).toEqual({ ...channels[2], position: 0 });
      expect(await f.channels.listGuildChannels(nextId())).toEqual([]);
    });

    describe("updateGuildChannel", () => {
      it("renames, keeping the position and the other channels", async (ctx) => {
        const f = stores(ctx);
        const { guild, channels } = await guildWithChannels(f, 3);
        const updated = await f.channels.updateGuildChannel(channels[1]!.id, { name: "renamed" });
        expect(updated).toEqual({ ...channels[1], name: "renamed" });
        expect((await f.channels.listGuildChannels(guild.id)).map((c) => c.name)).toEqual(["c0", "renamed", "c2"]);
      });

      it("moves the first channel to the last index, renumbering 0..n-1", async (ctx) => {
        const f = stores(ctx);
        const { guild, channels } = await guildWithChannels(f);
        const [a, b, c, d] = channels.map((ch) => ch.id) as [bigint, bigint, bigint, bigint];
        expect(await f.channels.updateGuildChannel(a, { position: 3 })).toEqual({ ...channels[0], position: 3 });
        expect(await layout(f, guild.id)).toEqual(dense([b, c, d, a]));
      });

      it("moves the last channel to index 0, renumbering 0..n-1", async (ctx) => {
        const f = stores(ctx);
        const { guild, channels } = await guildWithChannels(f);
        const [a, b, c, d] = channels.map((ch) => ch.id) as [bigint, bigint, bigint, bigint];
        expect((await f.channels.updateGuildChannel(d, { position: 0 }))?.position).toBe(0);
        expect(await layout(f, guild.id)).toEqual(dense([d, a, b, c]));
      });

      it("moves into the middle, in both directions", async (ctx) => {
        const f = stores(ctx);
        const { guild, channels } = await guildWithChannels(f);
        const [a, b, c, d] = channels.map((ch) => ch.id) as [bigint, bigint, bigint, bigint];
        await f.channels.updateGuildChannel(a, { position: 2 });
        expect(await layout(f, guild.id)).toEqual(dense([b, c, a, d]));
        await f.channels.updateGuildChannel(d, { position: 1 });
        expect(await layout(f, guild.id)).toEqual(dense([b, d, c, a]));
      });

      it("clamps a position beyond the end to the last index", async (ctx) => {
        const f = stores(ctx);
        const { guild, channels } = await guildWithChannels(f);
        const [a, b, c, d] = channels.map((ch) => ch.id) as [bigint, bigint, bigint, bigint];
        expect((await f.channels.updateGuildChannel(b, { position: 99 }))?.position).toBe(3);
        expect(await layout(f, guild.id)).toEqual(dense([a, c, d, b]));
      });

      it("moves by index among the remaining channels after a deletion", async (ctx) => {
        const f = stores(ctx);
        const { guild, channels } = await guildWithChannels(f);
        const [a, b, c, d] = channels.map((ch) => ch.id) as [bigint, bigint, bigint, bigint];
        await f.channels.deleteChannel(b);
        await f.channels.updateGuildChannel(d, { position: 1 });
        expect(await layout(f, guild.id)).toEqual(dense([a, d, c]));
      });

      it("renames and moves in one call", async (ctx) => {
        const f = stores(ctx);
        const { guild, channels } = await guildWithChannels(f, 3);
        const updated = await f.channels.updateGuildChannel(channels[0]!.id, { name: "moved", position: 1 });
        expect(updated).toEqual({ ...channels[0], name: "moved", position: 1 });
        expect((await f.channels.listGuildChannels(guild.id)).map((c) => [c.name, c.position])).toEqual([["c1", 0], ["moved", 1], ["c2", 2]]);
      });

      it("concurrency: simultaneous moves leave positions dense and unique", async (ctx) => {
        const f = stores(ctx);
        const { guild, channels } = await guildWithChannels(f, 6);
        // Every channel moves three places on, all at once (admins dragging channels together).
        const settled = await Promise.allSettled(channels.map((c, i) => f.channels.updateGuildChannel(c.id, { position: (i + 3) % channels.length })));
        const after = await layout(f, guild.id);
        const failures = settled.flatMap((r) => (r.status === "rejected" ? [String(r.reason).trim().split("\n").pop()] : []));
        expect({ failures, positions: after.map(([, position]) => position) }).toEqual({ failures: [], positions: [0, 1, 2, 3, 4, 5] });
        expect(ascending(after.map(([id]) => id))).toEqual(ascending(channels.map((c) => c.id)));
      });

      it("returns null for a missing channel and for a DM, changing nothing", async (ctx) => {
        const f = stores(ctx);
        const [a, b] = [await makeUser(f), await makeUser(f)];
        const { channel: dm } = await f.channels.openDirectMessage(nextId(), a.id, b.id);
        expect(await f.channels.updateGuildChannel(nextId(), { name: "ghost", position: 0 })).toBeNull();
        expect(await f.channels.updateGuildChannel(dm.id, { name: "not a guild channel", position: 3 })).toBeNull();
        expect(await f.channels.getChannels([dm.id])).toEqual([dm]);
      });
    });

    it("deleteChannel deletes a guild channel: true, then false", async (ctx) => {
      const f = stores(ctx);
      const { guild, channels } = await guildWithChannels(f, 2);
      expect(await f.channels.deleteChannel(channels[1]!.id)).toBe(true);
      expect(await f.channels.getChannels([channels[1]!.id])).toEqual([]);
      expect((await f.channels.listGuildChannels(guild.id)).map((c) => c.id)).toEqual([channels[0]!.id]);
      expect(await f.channels.deleteChannel(channels[1]!.id)).toBe(false);
      expect(await f.channels.deleteChannel(nextId())).toBe(false);
    });

    it("deleteChannel deletes a DM with its recipients", async (ctx) => {
      const f = stores(ctx);
      const [a, b] = [await makeUser(f), await makeUser(f)];
      const { channel: dm } = await f.channels.openDirectMessage(nextId(), a.id, b.id);
      expect(await f.channels.deleteChannel(dm.id)).toBe(true);
      expect(await f.channels.getRecipients([dm.id])).toEqual(new Map([[dm.id, []]]));
      expect(await allDirect(f, a.id)).toEqual([]);
      expect(await allDirect(f, b.id)).toEqual([]);
    });

    describe("openDirectMessage", () => {
      it("creates the DM once; (A,B) and (B,A) give the same channel, created false afterwards", async (ctx) => {
        const f = stores(ctx);
        const [a, b] = [await makeUser(f), await makeUser(f)];
        const id = nextId();
        const first = await f.channels.openDirectMessage(id, a.id, b.id);
        expect(first).toEqual({
          channel: { id, kind: "DM", guildId: null, name: null, position: 0, ownerId: null, parentId: null, topic: null, rateLimitPerUser: 0, createdAt: expect.any(Date) },
          created: true,
        });
        expect(await f.channels.openDirectMessage(nextId(), b.id, a.id)).toEqual({ channel: first.channel, created: false });
        expect(await f.channels.openDirectMessage(nextId(), a.id, b.id)).toEqual({ channel: first.channel, created: false });
        expect(await f.channels.getRecipients([id])).toEqual(new Map([[id, ascending([a.id, b.id])]]));
        expect(await f.channels.getChannels([id])).toEqual([first.channel]);
      });

      it("a different pair gets a different DM", async (ctx) => {
        const f = stores(ctx);
        const [a, b, c] = [await makeUser(f), await makeUser(f), await makeUser(f)];
        const ab = await f.channels.openDirectMessage(nextId(), a.id, b.id);
        const ac = await f.channels.openDirectMessage(nextId(), a.id, c.id);
        expect(ac.created).toBe(true);
        expect(ac.channel.id).not.toBe(ab.channel.id);
      });

      it("concurrency: 5 simultaneous opens of one pair, in both orders, yield one channel", async (ctx) => {
        const f = stores(ctx);
        const [a, b] = [await makeUser(f), await makeUser(f)];
        const opens = await Promise.all(
          Array.from({ length: 5 }, (_, i) => (i % 2 === 0 ? f.channels.openDirectMessage(nextId(), a.id, b.id) : f.channels.openDirectMessage(nextId(), b.id, a.id))),
        );
        expect(new Set(opens.map((o) => o.channel.id)).size).toBe(1);
        expect(opens.filter((o) => o.created)).toHaveLength(1);
        const channelId = opens[0]!.channel.id;
        expect((await allDirect(f, a.id)).map((c) => c.id)).toEqual([channelId]);
        expect((await allDirect(f, b.id)).map((c) => c.id)).toEqual([channelId]);
        expect(await f.channels.getRecipients([channelId])).toEqual(new Map([[channelId, ascending([a.id, b.id])]]));
      });
    });

    it("createGroupDirectMessage creates a GROUP_DM owned by its creator, recipients deduplicated", async (ctx) => {
      const f = stores(ctx);
      const [owner, b, c] = [await makeUser(f), await makeUser(f), await makeUser(f)];
      const id = nextId();
      const group = await f.channels.createGroupDirectMessage({ id, ownerId: owner.id, userIds: [c.id, owner.id, b.id, c.id, owner.id] });
      expect(group).toEqual({ id, kind: "GROUP_DM", guildId: null, name: null, position: 0, ownerId: owner.id, parentId: null, topic: null, rateLimitPerUser: 0, createdAt: expect.any(Date) });
      expect(await f.channels.getRecipients([id])).toEqual(new Map([[id, ascending([owner.id, b.id, c.id])]]));
      // Unlike one-to-one DMs, each call makes a new group.
      const again = await f.channels.createGroupDirectMessage({ id: nextId(), ownerId: owner.id, userIds: [owner.id, b.id, c.id] });
      expect(again.id).not.toBe(id);
    });

    it("getRecipients keys every requested id: ascending user ids, [] for unknown or guild channels", async (ctx) => {
      const f = stores(ctx);
      const users = [await makeUser(f), await makeUser(f), await makeUser(f), await makeUser(f)];
      const [u0, u1, u2, u3] = users.map((u) => u.id) as [bigint, bigint, bigint, bigint];
      const { channel: dm } = await f.channels.openDirectMessage(nextId(), u3, u1);
      const group = await f.channels.createGroupDirectMessage({ id: nextId(), ownerId: u2, userIds: [u2, u3, u0] });
      const { channels } = await guildWithChannels(f, 1);
      const unknown = nextId();
      const recipients = await f.channels.getRecipients([group.id, unknown, dm.id, channels[0]!.id]);
      expect(recipients).toEqual(
        new Map([
          [group.id, [u0, u2, u3]],
          [unknown, []],
          [dm.id, [u1, u3]],
          [channels[0]!.id, []],
        ]),
      );
      expect(await f.channels.getRecipients([])).toEqual(new Map());
    });

    it("listDirectChannelsOfUser lists the user's DMs and group DMs, newest first, nobody else's", async (ctx) => {
      const f = stores(ctx);
      const [a, b, c, d] = [await makeUser(f), await makeUser(f), await makeUser(f), await makeUser(f)];
      const { channel: ab } = await f.channels.openDirectMessage(nextId(), a.id, b.id);
      const group = await f.channels.createGroupDirectMessage({ id: nextId(), ownerId: c.id, userIds: [c.id, a.id, d.id] });
      const { channel: bc } = await f.channels.openDirectMessage(nextId(), b.id, c.id);
      const { channel: ca } = await f.channels.openDirectMessage(nextId(), c.id, a.id);
      // Reopening an old DM does not make it new.
      await f.channels.openDirectMessage(nextId(), b.id, a.id);
      // Guild channels of a guild `a` owns are not direct channels.
      await f.guilds.createGuild({ id: nextId(), name: "Mine", ownerId: a.id, firstChannel: { id: nextId(), name: "general" } });

      expect(await allDirect(f, a.id)).toEqual([ca, group, ab]);
      expect((await allDirect(f, b.id)).map((ch) => ch.id)).toEqual([bc.id, ab.id]);
      expect((await allDirect(f, d.id)).map((ch) => ch.id)).toEqual([group.id]);
      expect(await allDirect(f, (await makeUser(f)).id)).toEqual([]);
    });

    it("listDirectChannelsOfUser pages: at most limit, then those older than beforeChannelId", async (ctx) => {
      const f = stores(ctx);
      const a = await makeUser(f);
      const others = [await makeUser(f), await makeUser(f), await makeUser(f), await makeUser(f), await makeUser(f)];
      const dms: ChannelRecord[] = [];
      for (const other of others) dms.push((await f.channels.openDirectMessage(nextId(), a.id, other.id)).channel);
      const newestFirst = dms.map((c) => c.id).reverse();
      const page = (beforeChannelId: bigint | null, limit: number) =>
        f.channels.listDirectChannelsOfUser(a.id, { beforeChannelId, limit }).then((rows) => rows.map((c) => c.id));
      expect(await page(null, 2)).toEqual(newestFirst.slice(0, 2));
      expect(await page(newestFirst[1]!, 2)).toEqual(newestFirst.slice(2, 4));
      expect(await page(newestFirst[3]!, 2)).toEqual(newestFirst.slice(4));
      expect(await page(newestFirst[4]!, 2)).toEqual([]);
      // A cursor need not be one of the user's channels: any id works as a point in time.
      expect(await page(nextId(), 10)).toEqual(newestFirst);
    });

    describe("createGuildChannel with maxChannels", () => {
      it("creates up to maxChannels (the guild's first channel counts) and then refuses with LimitReachedError, writing nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await guildWithChannels(f, 2);
        const third = await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "c2", maxChannels: 3 });
        expect(third.position).toBe(2);
        const refused = f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "c3", maxChannels: 3 });
        await expect(refused).rejects.toBeInstanceOf(LimitReachedError);
        await expect(refused).rejects.toMatchObject({ what: "channelsPerGuild", limit: 3 });
        expect((await f.channels.listGuildChannels(guild.id)).map((c) => c.name)).toEqual(["c0", "c1", "c2"]);
        // Without the option (or with a higher cap) it still creates.
        expect((await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "c3", maxChannels: 4 })).position).toBe(3);
      });

      it("concurrency: 6 creates racing into a guild with room for 2 → exactly 2 created, positions dense", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await guildWithChannels(f, 3);
        const results = await Promise.allSettled(
          Array.from({ length: 6 }, (_, i) => f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: `race${i}`, maxChannels: 5 })),
        );
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
        for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(LimitReachedError);
        expect((await layout(f, guild.id)).map(([, position]) => position)).toEqual([0, 1, 2, 3, 4]);
      });
    });
  });
}
