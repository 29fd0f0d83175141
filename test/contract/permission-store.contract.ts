import { describe, expect, it } from "vitest";
import type { Overwrite } from "../../src/permissions/compute.js";
import { DEFAULT_EVERYONE_PERMISSIONS, PERMISSIONS } from "../../src/permissions/permission-set.js";
import { createIdGenerator, MAX_SNOWFLAKE } from "../../src/ids/snowflake.js";
import type { AccountStore, UserRecord } from "../../src/stores/account-store.js";
import type { AuditActor, AuditChange, AuditEntryRecord, AuditLogStore } from "../../src/stores/audit-log-store.js";
import type { ChannelStore } from "../../src/stores/channel-store.js";
import type { GuildRecord, GuildStore } from "../../src/stores/guild-store.js";
import type { OverwriteRecord, PermissionStore, RoleRecord } from "../../src/stores/permission-store.js";
import { LimitReachedError, MissingReferenceError } from "../../src/stores/store-errors.js";
import { suiteFixture } from "../support/suite-fixture.js";

/**
 * The stores of one adapter family on one database: roles need guilds, member roles need
 * memberships and overwrites need channels, so the suite needs the sibling stores to set up
 * (and to check the cascades of deleting a channel, a guild or a membership).
 */
export interface PermissionStoreFixture {
  accounts: AccountStore;
  guilds: GuildStore;
  channels: ChannelStore;
  permissions: PermissionStore;
  /** Where the audited writes' entries are read back. */
  auditLog: AuditLogStore;
  close(): Promise<void>;
}

export interface PermissionStoreContractOptions {
  /**
   * Whether the adapter's backing service is there. False: every test is reported as skipped
   * (with the reason the check logged); throwing fails the suite (CI must prove every adapter).
   */
  available?: () => Promise<boolean>;
}

const ascending = (ids: readonly bigint[]) => [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
const byTarget = <T extends Overwrite>(list: readonly T[]) =>
  [...list].sort((a, b) => (a.targetKind !== b.targetKind ? (a.targetKind < b.targetKind ? -1 : 1) : a.targetId < b.targetId ? -1 : a.targetId > b.targetId ? 1 : 0));
const { VIEW_CHANNEL, SEND_MESSAGES, MANAGE_MESSAGES, KICK_MEMBERS, BAN_MEMBERS, MANAGE_ROLES } = PERMISSIONS;
/** The largest value a signed 64-bit column holds: bitsets and ids must survive it exactly. */
const MAX_I64 = MAX_SNOWFLAKE;

/**
 * The behaviour every {@link PermissionStore} adapter must have, as stated in the port's JSDoc:
 * @everyone made with the guild, dense role positions under concurrency, the role cap, the
 * refusals that write nothing, and what goes with a role, a channel, a guild or a membership.
 * One database per suite run; each test makes its own users and guilds.
 */
export function permissionStoreContract(name: string, factory: () => Promise<PermissionStoreFixture>, options: PermissionStoreContractOptions = {}) {
  describe(`PermissionStore contract: ${name}`, () => {
    const nextId = createIdGenerator(7);
    /** The stores under test, or a skip when the adapter's service is absent. */
    const stores = suiteFixture(name, factory, options.available);

    function makeUser(f: PermissionStoreFixture): Promise<UserRecord> {
      const id = nextId();
      return f.accounts.createUser({ id, username: `user${id}`, passwordHash: null, bot: false, botOwnerId: null });
    }
    /** A guild with its owner and first channel. */
    async function makeGuild(f: PermissionStoreFixture, extra: { everyonePermissions?: bigint } = {}) {
      const owner = await makeUser(f);
      const { guild, channel } = await f.guilds.createGuild({ id: nextId(), name: "Engines", ownerId: owner.id, firstChannel: { id: nextId(), name: "general" }, ...extra });
      return { guild, owner, channel };
    }
    /** A new user who joined `guild` (through an invite, as people do). */
    async function makeMember(f: PermissionStoreFixture, guild: GuildRecord): Promise<UserRecord> {
      const user = await makeUser(f);
      const code = `inv${nextId()}`;
      await f.guilds.createInvite({ code, guildId: guild.id, inviterId: guild.ownerId, maxUses: null, expiresAt: null });
      expect((await f.guilds.redeemInvite(code, user.id, new Date())).status).toBe("joined");
      return user;
    }
    function makeRole(f: PermissionStoreFixture, guildId: bigint, extra: Partial<Parameters<PermissionStore["createRole"]>[0]> = {}): Promise<RoleRecord> {
      return f.permissions.createRole({ id: nextId(), guildId, name: "role", permissions: 0n, color: 0, hoist: false, mentionable: false, ...extra });
    }
    /** `count` roles r1..rN created in order, so rN is at position 1 and r1 at N. */
    async function makeRoles(f: PermissionStoreFixture, guildId: bigint, count: number): Promise<RoleRecord[]> {
      const roles: RoleRecord[] = [];
      for (let i = 1; i <= count; i++) roles.push(await makeRole(f, guildId, { name: `r${i}` }));
      return roles;
    }
    /** The guild's roles as [name, position], highest first, as listRoles gives them. */
    async function ladder(f: PermissionStoreFixture, guildId: bigint): Promise<[string, number][]> {
      return (await f.permissions.listRoles(guildId)).map((r) => [r.name, r.position]);
    }
    /** Positions of the guild's roles, highest first: dense and unique means n-1..0. */
    async function positions(f: PermissionStoreFixture, guildId: bigint): Promise<number[]> {
      return (await f.permissions.listRoles(guildId)).map((r) => r.position);
    }
    const dense = (n: number) => Array.from({ length: n }, (_, i) => n - 1 - i);
    async function rolesOf(f: PermissionStoreFixture, guildId: bigint, userId: bigint): Promise<bigint[] | null | undefined> {
      const ids = (await f.permissions.getMemberRoleIds(guildId, [userId])).get(userId);
      return ids ? ascending(ids) : ids;
    }
    async function overwritesOf(f: PermissionStoreFixture, channelId: bigint): Promise<OverwriteRecord[]> {
      return byTarget((await f.permissions.listOverwrites([channelId])).get(channelId) ?? []);
    }
    const roleOverwrite = (channelId: bigint, targetId: bigint, allow: bigint, deny: bigint): OverwriteRecord => ({ channelId, targetKind: "ROLE", targetId, allow, deny });
    const memberOverwrite = (channelId: bigint, targetId: bigint, allow: bigint, deny: bigint): OverwriteRecord => ({ channelId, targetKind: "MEMBER", targetId, allow, deny });
    /** An overwrite as GuildAccess holds it (no channel id). */
    const bare = ({ targetKind, targetId, allow, deny }: Overwrite): Overwrite => ({ targetKind, targetId, allow, deny });

    describe("@everyone, made with the guild", () => {
      it("has the guild's id, position 0, DEFAULT_EVERYONE_PERMISSIONS, and is the guild's only role", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const roles = await f.permissions.listRoles(guild.id);
        expect(roles).toEqual([
          { id: guild.id, guildId: guild.id, name: "@everyone", permissions: DEFAULT_EVERYONE_PERMISSIONS, position: 0, color: 0, hoist: false, mentionable: false, createdAt: expect.any(Date) },
        ]);
        expect(await f.permissions.getRoles([guild.id])).toEqual(roles);
      });

      it("takes createGuild's everyonePermissions when given", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f, { everyonePermissions: VIEW_CHANNEL });
        expect((await f.permissions.getRoles([guild.id]))[0]?.permissions).toBe(VIEW_CHANNEL);
      });
    });

    describe("loadAccess", () => {
      it("reads the owner, every role, every channel's overwrites and the member's role ids in one answer", async (ctx) => {
        const f = stores(ctx);
        const { guild, owner, channel: general } = await makeGuild(f);
        const [mods, helpers] = [await makeRole(f, guild.id, { name: "mods", permissions: KICK_MEMBERS | BAN_MEMBERS }), await makeRole(f, guild.id, { name: "helpers", permissions: MANAGE_MESSAGES })];
        const member = await makeMember(f, guild);
        expect(await f.permissions.addMemberRole(guild.id, member.id, mods.id)).toBe("added");
        expect(await f.permissions.addMemberRole(guild.id, member.id, helpers.id)).toBe("added");
        const secret = await f.channels.createGuildChannel({
          id: nextId(),
          guildId: guild.id,
          name: "secret",
          overwrites: [
            { targetKind: "ROLE", targetId: guild.id, allow: 0n, deny: VIEW_CHANNEL },
            { targetKind: "ROLE", targetId: mods.id, allow: VIEW_CHANNEL, deny: 0n },
          ],
        });
        await f.permissions.setOverwrite(memberOverwrite(general.id, member.id, 0n, SEND_MESSAGES));
        const quiet = await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "quiet" });
        // Another guild's roles and overwrites stay out.
        const { guild: other, channel: otherChannel } = await makeGuild(f);
        await makeRole(f, other.id);
        await f.permissions.setOverwrite(roleOverwrite(otherChannel.id, other.id, 0n, VIEW_CHANNEL));

        const loaded = await f.permissions.loadAccess(guild.id, member.id);
        expect(loaded).not.toBeNull();
        const { access, memberRoleIds } = loaded!;
        expect(access.guildId).toBe(guild.id);
        expect(access.ownerId).toBe(owner.id);
        expect(new Map(access.roles)).toEqual(
          new Map([
            [guild.id, { permissions: DEFAULT_EVERYONE_PERMISSIONS, position: 0 }],
            [mods.id, { permissions: KICK_MEMBERS | BAN_MEMBERS, position: 2 }],
            [helpers.id, { permissions: MANAGE_MESSAGES, position: 1 }],
          ]),
        );
        expect(byTarget(access.overwrites.get(secret.id) ?? [])).toEqual(
          byTarget([
            { targetKind: "ROLE", targetId: guild.id, allow: 0n, deny: VIEW_CHANNEL },
            { targetKind: "ROLE", targetId: mods.id, allow: VIEW_CHANNEL, deny: 0n },
          ]),
        );
        expect(access.overwrites.get(general.id)?.map(bare)).toEqual([{ targetKind: "MEMBER", targetId: member.id, allow: 0n, deny: SEND_MESSAGES }]);
        expect(access.overwrites.get(quiet.id) ?? []).toEqual([]);
        expect(access.overwrites.get(otherChannel.id)).toBeUndefined();
        expect(ascending([...access.overwrites.keys()])).toEqual(ascending([secret.id, general.id]));
        expect(ascending(memberRoleIds ?? [])).toEqual(ascending([mods.id, helpers.id]));
        expect(memberRoleIds).not.toContain(guild.id);
        // Every channel of the guild, as the channel store has it, and no other guild's.
        const stored = await f.channels.getChannels([general.id, secret.id, quiet.id]);
        expect(ascending([...access.channels.keys()])).toEqual(ascending([general.id, secret.id, quiet.id]));
        for (const channel of stored) expect(access.channels.get(channel.id)).toEqual(channel);
        expect(access.channels.has(otherChannel.id)).toBe(false);
      });

      it("holds each channel's current name, slowmode, category and position, and forgets deleted ones", async (ctx) => {
        const f = stores(ctx);
        const { guild, channel: general } = await makeGuild(f);
        const category = await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "talk", kind: "GUILD_CATEGORY" });
        const doomed = await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "doomed" });
        await f.channels.updateGuildChannel(general.id, { name: "renamed", rateLimitPerUser: 30, parentId: category.id, topic: "about" });
        expect(await f.channels.deleteChannel(doomed.id)).toBe(true);
        const access = (await f.permissions.loadAccess(guild.id, null))!.access;
        const [current] = await f.channels.getChannels([general.id]);
        expect(access.channels.get(general.id)).toEqual(current);
        expect(current).toMatchObject({ name: "renamed", rateLimitPerUser: 30, parentId: category.id, topic: "about", guildId: guild.id });
        expect(access.channels.get(category.id)?.kind).toBe("GUILD_CATEGORY");
        expect(access.channels.has(doomed.id)).toBe(false);
      });

      it("gives a member without roles [] (the owner too), a non-member null, and no user null", async (ctx) => {
        const f = stores(ctx);
        const { guild, owner } = await makeGuild(f);
        const member = await makeMember(f, guild);
        const stranger = await makeUser(f);
        expect((await f.permissions.loadAccess(guild.id, owner.id))?.memberRoleIds).toEqual([]);
        expect((await f.permissions.loadAccess(guild.id, member.id))?.memberRoleIds).toEqual([]);
        expect((await f.permissions.loadAccess(guild.id, stranger.id))?.memberRoleIds).toBeNull();
        expect((await f.permissions.loadAccess(guild.id, nextId()))?.memberRoleIds).toBeNull();
        const withoutUser = await f.permissions.loadAccess(guild.id, null);
        expect(withoutUser?.memberRoleIds).toBeNull();
        expect(withoutUser?.access.ownerId).toBe(owner.id);
        expect([...withoutUser!.access.roles.keys()]).toEqual([guild.id]);
      });

      it("a member of another guild with roles there is not a member here", async (ctx) => {
        const f = stores(ctx);
        const { guild: here } = await makeGuild(f);
        const { guild: there } = await makeGuild(f);
        const user = await makeMember(f, there);
        const role = await makeRole(f, there.id);
        await f.permissions.addMemberRole(there.id, user.id, role.id);
        expect((await f.permissions.loadAccess(here.id, user.id))?.memberRoleIds).toBeNull();
        expect((await f.permissions.loadAccess(there.id, user.id))?.memberRoleIds).toEqual([role.id]);
      });

      it("is null for a guild that does not exist (or no longer does)", async (ctx) => {
        const f = stores(ctx);
        const { guild, owner } = await makeGuild(f);
        expect(await f.permissions.loadAccess(nextId(), owner.id)).toBeNull();
        expect(await f.permissions.loadAccess(nextId(), null)).toBeNull();
        await f.guilds.deleteGuild(guild.id);
        expect(await f.permissions.loadAccess(guild.id, owner.id)).toBeNull();
      });

      it("keeps bitsets and ids at the 63-bit edge exact (no precision lost on the way)", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const member = await makeMember(f, guild);
        // Ids and bitsets far above 2^53, where a JSON number would round.
        const roleId = MAX_I64 - (nextId() % 1_000_000n);
        const odd = (1n << 62n) | (1n << 53n) | 1n;
        const role = await f.permissions.createRole({ id: roleId, guildId: guild.id, name: "edge", permissions: MAX_I64, color: 0, hoist: false, mentionable: false });
        expect(role.id).toBe(roleId);
        expect(role.permissions).toBe(MAX_I64);
        await f.permissions.addMemberRole(guild.id, member.id, roleId);
        const channelId = MAX_I64 - (nextId() % 1_000_000n);
        await f.channels.createGuildChannel({ id: channelId, guildId: guild.id, name: "edge" });
        const ghost = MAX_I64 - 12_345n;
        await f.permissions.setOverwrite(roleOverwrite(channelId, roleId, odd, MAX_I64));
        await f.permissions.setOverwrite(memberOverwrite(channelId, ghost, MAX_I64, odd));

        const loaded = await f.permissions.loadAccess(guild.id, member.id);
        expect(loaded?.access.roles.get(roleId)).toEqual({ permissions: MAX_I64, position: 1 });
        expect(byTarget(loaded?.access.overwrites.get(channelId) ?? [])).toEqual(
          byTarget([
            { targetKind: "ROLE", targetId: roleId, allow: odd, deny: MAX_I64 },
            { targetKind: "MEMBER", targetId: ghost, allow: MAX_I64, deny: odd },
          ]),
        );
        expect(loaded?.memberRoleIds).toEqual([roleId]);
        expect(await rolesOf(f, guild.id, member.id)).toEqual([roleId]);
        expect(await overwritesOf(f, channelId)).toEqual(byTarget([roleOverwrite(channelId, roleId, odd, MAX_I64), memberOverwrite(channelId, ghost, MAX_I64, odd)]));
        expect((await f.permissions.getRoles([roleId]))[0]?.permissions).toBe(MAX_I64);
      });

      it("reflects every later change (it is a read, nothing is remembered)", async (ctx) => {
        const f = stores(ctx);
        const { guild, channel } = await makeGuild(f);
        const member = await makeMember(f, guild);
        const role = await makeRole(f, guild.id);
        await f.permissions.addMemberRole(guild.id, member.id, role.id);
        await f.permissions.setOverwrite(roleOverwrite(channel.id, role.id, VIEW_CHANNEL, 0n));
        await f.permissions.updateRole(guild.id, guild.id, { permissions: 0n });
        await f.permissions.deleteRole(guild.id, role.id);
        const loaded = await f.permissions.loadAccess(guild.id, member.id);
        expect(new Map(loaded!.access.roles)).toEqual(new Map([[guild.id, { permissions: 0n, position: 0 }]]));
        expect(loaded!.access.overwrites.get(channel.id) ?? []).toEqual([]);
        expect(loaded!.memberRoleIds).toEqual([]);
      });
    });

    describe("getMemberRoleIds", () => {
      it("keys every requested user: their role ids, [] for a member without roles, null for a non-member", async (ctx) => {
        const f = stores(ctx);
        const { guild, owner } = await makeGuild(f);
        const [a, b] = [await makeMember(f, guild), await makeMember(f, guild)];
        const stranger = await makeUser(f);
        const [r1, r2] = await makeRoles(f, guild.id, 2);
        await f.permissions.addMemberRole(guild.id, a.id, r1!.id);
        await f.permissions.addMemberRole(guild.id, a.id, r2!.id);
        const missing = nextId();
        const result = await f.permissions.getMemberRoleIds(guild.id, [a.id, b.id, owner.id, stranger.id, missing]);
        expect(ascending([...result.keys()])).toEqual(ascending([a.id, b.id, owner.id, stranger.id, missing]));
        expect(ascending(result.get(a.id) ?? [])).toEqual(ascending([r1!.id, r2!.id]));
        expect(result.get(b.id)).toEqual([]);
        expect(result.get(owner.id)).toEqual([]);
        expect(result.get(stranger.id)).toBeNull();
        expect(result.get(missing)).toBeNull();
      });

      it("gives an empty map for no users, and null for everyone in an unknown guild", async (ctx) => {
        const f = stores(ctx);
        const { owner } = await makeGuild(f);
        expect((await f.permissions.getMemberRoleIds(nextId(), [])).size).toBe(0);
        const result = await f.permissions.getMemberRoleIds(nextId(), [owner.id]);
        expect([...result.entries()]).toEqual([[owner.id, null]]);
      });

      it("only counts the roles of that guild", async (ctx) => {
        const f = stores(ctx);
        const { guild: one } = await makeGuild(f);
        const { guild: two } = await makeGuild(f);
        const user = await makeMember(f, one);
        await f.guilds.redeemInvite((await f.guilds.createInvite({ code: `inv${nextId()}`, guildId: two.id, inviterId: two.ownerId, maxUses: null, expiresAt: null })).code, user.id, new Date());
        const [roleOne, roleTwo] = [await makeRole(f, one.id), await makeRole(f, two.id)];
        await f.permissions.addMemberRole(one.id, user.id, roleOne.id);
        await f.permissions.addMemberRole(two.id, user.id, roleTwo.id);
        expect(await rolesOf(f, one.id, user.id)).toEqual([roleOne.id]);
        expect(await rolesOf(f, two.id, user.id)).toEqual([roleTwo.id]);
      });
    });

    describe("listRoles and getRoles", () => {
      it("listRoles gives the guild's roles highest first, @everyone last, no other guild's", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const { guild: other } = await makeGuild(f);
        await makeRoles(f, guild.id, 3);
        await makeRole(f, other.id, { name: "elsewhere" });
        expect(await ladder(f, guild.id)).toEqual([
          ["r1", 3],
          ["r2", 2],
          ["r3", 1],
          ["@everyone", 0],
        ]);
        expect(await f.permissions.listRoles(nextId())).toEqual([]);
      });

      it("getRoles gives the existing roles among the ids (any guild), ignores missing ones, [] for no ids", async (ctx) => {
        const f = stores(ctx);
        const { guild: a } = await makeGuild(f);
        const { guild: b } = await makeGuild(f);
        const [ra, rb] = [await makeRole(f, a.id), await makeRole(f, b.id)];
        const got = await f.permissions.getRoles([rb.id, nextId(), ra.id, a.id]);
        expect(ascending(got.map((r) => r.id))).toEqual(ascending([ra.id, rb.id, a.id]));
        expect(got.find((r) => r.id === ra.id)).toEqual(ra);
        expect(await f.permissions.getRoles([nextId()])).toEqual([]);
        expect(await f.permissions.getRoles([])).toEqual([]);
      });
    });

    describe("createRole", () => {
      it("returns the role at position 1 with the given fields, as getRoles reads it", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const id = nextId();
        const role = await f.permissions.createRole({ id, guildId: guild.id, name: "Moderators", permissions: KICK_MEMBERS | MANAGE_ROLES, color: 0x3498db, hoist: true, mentionable: true });
        expect(role).toEqual({ id, guildId: guild.id, name: "Moderators", permissions: KICK_MEMBERS | MANAGE_ROLES, position: 1, color: 0x3498db, hoist: true, mentionable: true, createdAt: expect.any(Date) });
        expect(await f.permissions.getRoles([id])).toEqual([role]);
      });

      it("puts each new role at 1 and moves the others up one; @everyone stays at 0", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        await makeRoles(f, guild.id, 2);
        expect(await ladder(f, guild.id)).toEqual([
          ["r1", 2],
          ["r2", 1],
          ["@everyone", 0],
        ]);
        await makeRole(f, guild.id, { name: "newest" });
        expect(await ladder(f, guild.id)).toEqual([
          ["r1", 3],
          ["r2", 2],
          ["newest", 1],
          ["@everyone", 0],
        ]);
      });

      it("with maxRoles, refuses the role past the cap (@everyone counts) with LimitReachedError, writing nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        await makeRoles(f, guild.id, 1);
        const third = await makeRole(f, guild.id, { name: "r2", maxRoles: 3 });
        expect(third.position).toBe(1);
        const before = await f.permissions.listRoles(guild.id);
        const id = nextId();
        const refused = makeRole(f, guild.id, { id, name: "r3", maxRoles: 3 });
        await expect(refused).rejects.toBeInstanceOf(LimitReachedError);
        await expect(refused).rejects.toMatchObject({ what: "rolesPerGuild", limit: 3 });
        expect(await f.permissions.listRoles(guild.id)).toEqual(before);
        expect(await f.permissions.getRoles([id])).toEqual([]);
        // A higher cap, or none, still creates.
        expect((await makeRole(f, guild.id, { name: "r3", maxRoles: 4 })).position).toBe(1);
        expect((await makeRole(f, guild.id, { name: "r4" })).position).toBe(1);
        expect(await positions(f, guild.id)).toEqual(dense(5));
      });

      it("counts per guild: another guild's roles do not use this guild's room", async (ctx) => {
        const f = stores(ctx);
        const { guild: full } = await makeGuild(f);
        const { guild: empty } = await makeGuild(f);
        await makeRoles(f, full.id, 4);
        expect((await makeRole(f, empty.id, { maxRoles: 2 })).position).toBe(1);
      });

      it("concurrency: 6 creates racing into a guild with room for 2 → exactly 2 created, positions dense", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        await makeRoles(f, guild.id, 2);
        const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => makeRole(f, guild.id, { name: `race${i}`, maxRoles: 5 })));
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
        for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(LimitReachedError);
        expect(await positions(f, guild.id)).toEqual(dense(5));
      });

      it("concurrency: creates without a cap all land, positions dense and unique", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        await Promise.all(Array.from({ length: 6 }, (_, i) => makeRole(f, guild.id, { name: `burst${i}` })));
        expect(await positions(f, guild.id)).toEqual(dense(7));
      });

      it("into a deleted (or unknown) guild rejects with MissingReferenceError('guild'), writing nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        await f.guilds.deleteGuild(guild.id);
        for (const guildId of [guild.id, nextId()]) {
          const id = nextId();
          const refused = makeRole(f, guildId, { id });
          await expect(refused).rejects.toBeInstanceOf(MissingReferenceError);
          await expect(refused).rejects.toMatchObject({ what: "guild" });
          expect(await f.permissions.getRoles([id])).toEqual([]);
        }
      });
    });

    describe("updateRole", () => {
      it("changes the given fields and keeps the rest (position, createdAt included)", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const [, role] = await makeRoles(f, guild.id, 2);
        const updated = await f.permissions.updateRole(guild.id, role!.id, { name: "Helpers", permissions: MANAGE_MESSAGES, color: 0xff0000 });
        expect(updated).toEqual({ ...role, name: "Helpers", permissions: MANAGE_MESSAGES, color: 0xff0000 });
        expect(await f.permissions.getRoles([role!.id])).toEqual([updated]);
        const again = await f.permissions.updateRole(guild.id, role!.id, { hoist: true, mentionable: true });
        expect(again).toEqual({ ...updated, hoist: true, mentionable: true });
        expect(await ladder(f, guild.id)).toEqual([
          ["r1", 2],
          ["Helpers", 1],
          ["@everyone", 0],
        ]);
      });

      it("changes @everyone's permissions", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const updated = await f.permissions.updateRole(guild.id, guild.id, { permissions: VIEW_CHANNEL });
        expect(updated).toMatchObject({ id: guild.id, name: "@everyone", position: 0, permissions: VIEW_CHANNEL });
        expect((await f.permissions.loadAccess(guild.id, null))?.access.roles.get(guild.id)).toEqual({ permissions: VIEW_CHANNEL, position: 0 });
      });

      it("an empty patch returns the role unchanged", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const role = await makeRole(f, guild.id);
        expect(await f.permissions.updateRole(guild.id, role.id, {})).toEqual(role);
      });

      it("is null for an unknown role and for another guild's role, changing nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const { guild: other } = await makeGuild(f);
        const theirs = await makeRole(f, other.id, { name: "theirs" });
        expect(await f.permissions.updateRole(guild.id, nextId(), { name: "ghost" })).toBeNull();
        expect(await f.permissions.updateRole(guild.id, theirs.id, { name: "stolen", permissions: MANAGE_ROLES })).toBeNull();
        expect(await f.permissions.updateRole(guild.id, other.id, { permissions: 0n })).toBeNull();
        expect(await f.permissions.getRoles([theirs.id, other.id])).toEqual(expect.arrayContaining([theirs, expect.objectContaining({ id: other.id, permissions: DEFAULT_EVERYONE_PERMISSIONS })]));
      });
    });

    describe("deleteRole", () => {
      it("deletes the role: true, then false; the roles above move down one", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const [, r2] = await makeRoles(f, guild.id, 4); // r1 4, r2 3, r3 2, r4 1
        expect(await f.permissions.deleteRole(guild.id, r2!.id)).toBe(true);
        expect(await ladder(f, guild.id)).toEqual([
          ["r1", 3],
          ["r3", 2],
          ["r4", 1],
          ["@everyone", 0],
        ]);
        expect(await f.permissions.getRoles([r2!.id])).toEqual([]);
        expect(await f.permissions.deleteRole(guild.id, r2!.id)).toBe(false);
      });

      it("takes the role from its members and removes its overwrites, leaving other roles' and members' alone", async (ctx) => {
        const f = stores(ctx);
        const { guild, channel: general } = await makeGuild(f);
        const other = await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "other" });
        const [doomed, kept] = await makeRoles(f, guild.id, 2);
        const [a, b] = [await makeMember(f, guild), await makeMember(f, guild)];
        for (const user of [a, b]) await f.permissions.addMemberRole(guild.id, user.id, doomed!.id);
        await f.permissions.addMemberRole(guild.id, a.id, kept!.id);
        for (const channel of [general, other]) {
          await f.permissions.setOverwrite(roleOverwrite(channel.id, doomed!.id, VIEW_CHANNEL, 0n));
          await f.permissions.setOverwrite(roleOverwrite(channel.id, kept!.id, 0n, SEND_MESSAGES));
        }
        // A member overwrite whose target id happens to be the role's id is not the role's.
        await f.permissions.setOverwrite(memberOverwrite(general.id, doomed!.id, SEND_MESSAGES, 0n));

        expect(await f.permissions.deleteRole(guild.id, doomed!.id)).toBe(true);
        expect(await rolesOf(f, guild.id, a.id)).toEqual([kept!.id]);
        expect(await rolesOf(f, guild.id, b.id)).toEqual([]);
        expect(await overwritesOf(f, general.id)).toEqual(byTarget([roleOverwrite(general.id, kept!.id, 0n, SEND_MESSAGES), memberOverwrite(general.id, doomed!.id, SEND_MESSAGES, 0n)]));
        expect(await overwritesOf(f, other.id)).toEqual([roleOverwrite(other.id, kept!.id, 0n, SEND_MESSAGES)]);
        const loaded = await f.permissions.loadAccess(guild.id, a.id);
        expect(loaded?.access.roles.has(doomed!.id)).toBe(false);
        expect(loaded?.memberRoleIds).toEqual([kept!.id]);
      });

      it("never deletes @everyone: false, and it stays", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        await makeRoles(f, guild.id, 1);
        expect(await f.permissions.deleteRole(guild.id, guild.id)).toBe(false);
        expect(await ladder(f, guild.id)).toEqual([
          ["r1", 1],
          ["@everyone", 0],
        ]);
      });

      it("is false for an unknown role, another guild's role or an unknown guild, deleting nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const { guild: other } = await makeGuild(f);
        const theirs = await makeRole(f, other.id);
        expect(await f.permissions.deleteRole(guild.id, nextId())).toBe(false);
        expect(await f.permissions.deleteRole(guild.id, theirs.id)).toBe(false);
        expect(await f.permissions.deleteRole(guild.id, other.id)).toBe(false);
        expect(await f.permissions.deleteRole(nextId(), theirs.id)).toBe(false);
        expect(await f.permissions.getRoles([theirs.id])).toEqual([theirs]);
      });

      it("concurrency: simultaneous deletes leave positions dense", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const roles = await makeRoles(f, guild.id, 8);
        const doomed = roles.filter((_, i) => i % 2 === 0);
        expect(await Promise.all(doomed.map((r) => f.permissions.deleteRole(guild.id, r.id)))).toEqual(doomed.map(() => true));
        expect(await positions(f, guild.id)).toEqual(dense(5));
      });
    });

    describe("moveRole", () => {
      /** A guild with r4 1, r3 2, r2 3, r1 4 (made in order r1..r4). */
      async function four(f: PermissionStoreFixture) {
        const { guild } = await makeGuild(f);
        const roles = await makeRoles(f, guild.id, 4);
        return { guild, byName: Object.fromEntries(roles.map((r) => [r.name, r])) as Record<"r1" | "r2" | "r3" | "r4", RoleRecord> };
      }

      it("moves a role up, shifting the roles in between down; returns the roles highest first", async (ctx) => {
        const f = stores(ctx);
        const { guild, byName } = await four(f);
        const moved = await f.permissions.moveRole(guild.id, byName.r4.id, 3);
        expect(moved?.map((r) => [r.name, r.position])).toEqual([
          ["r1", 4],
          ["r4", 3],
          ["r2", 2],
          ["r3", 1],
          ["@everyone", 0],
        ]);
        expect(moved).toEqual(await f.permissions.listRoles(guild.id));
      });

      it("moves a role down, shifting the roles in between up", async (ctx) => {
        const f = stores(ctx);
        const { guild, byName } = await four(f);
        await f.permissions.moveRole(guild.id, byName.r1.id, 1);
        expect(await ladder(f, guild.id)).toEqual([
          ["r2", 4],
          ["r3", 3],
          ["r4", 2],
          ["r1", 1],
          ["@everyone", 0],
        ]);
      });

      it("moving to its own position changes nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild, byName } = await four(f);
        const before = await f.permissions.listRoles(guild.id);
        expect(await f.permissions.moveRole(guild.id, byName.r2.id, 3)).toEqual(before);
      });

      it("clamps: above the top goes to n-1, below 1 goes to 1 (@everyone stays 0)", async (ctx) => {
        const f = stores(ctx);
        const { guild, byName } = await four(f);
        await f.permissions.moveRole(guild.id, byName.r4.id, 99);
        expect(await ladder(f, guild.id)).toEqual([
          ["r4", 4],
          ["r1", 3],
          ["r2", 2],
          ["r3", 1],
          ["@everyone", 0],
        ]);
        for (const position of [0, -5]) {
          await f.permissions.moveRole(guild.id, byName.r4.id, position);
          expect(await ladder(f, guild.id)).toEqual([
            ["r1", 4],
            ["r2", 3],
            ["r3", 2],
            ["r4", 1],
            ["@everyone", 0],
          ]);
        }
      });

      it("is null for @everyone, an unknown role, another guild's role and an unknown guild, moving nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await four(f);
        const { guild: other } = await makeGuild(f);
        const theirs = await makeRole(f, other.id);
        const before = await f.permissions.listRoles(guild.id);
        expect(await f.permissions.moveRole(guild.id, guild.id, 3)).toBeNull();
        expect(await f.permissions.moveRole(guild.id, nextId(), 2)).toBeNull();
        expect(await f.permissions.moveRole(guild.id, theirs.id, 2)).toBeNull();
        expect(await f.permissions.moveRole(nextId(), theirs.id, 2)).toBeNull();
        expect(await f.permissions.listRoles(guild.id)).toEqual(before);
        expect(await f.permissions.getRoles([theirs.id])).toEqual([theirs]);
      });

      it("concurrency: simultaneous moves (with a create and a delete) leave positions dense and unique, @everyone at 0", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const roles = await makeRoles(f, guild.id, 6);
        await Promise.all([
          ...roles.slice(1).map((r, i) => f.permissions.moveRole(guild.id, r.id, ((i * 3) % 6) + 1)),
          makeRole(f, guild.id, { name: "late" }),
          f.permissions.deleteRole(guild.id, roles[0]!.id),
        ]);
        const after = await f.permissions.listRoles(guild.id);
        expect(after.map((r) => r.position)).toEqual(dense(7));
        expect(after[after.length - 1]?.id).toBe(guild.id);
      });
    });

    describe("addMemberRole and removeMemberRole", () => {
      it("added, then already (idempotent); removeMemberRole true, then false", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const member = await makeMember(f, guild);
        const [r1, r2] = await makeRoles(f, guild.id, 2);
        expect(await f.permissions.addMemberRole(guild.id, member.id, r1!.id)).toBe("added");
        expect(await f.permissions.addMemberRole(guild.id, member.id, r1!.id)).toBe("already");
        expect(await f.permissions.addMemberRole(guild.id, member.id, r2!.id)).toBe("added");
        expect(await rolesOf(f, guild.id, member.id)).toEqual(ascending([r1!.id, r2!.id]));
        expect(await f.permissions.removeMemberRole(guild.id, member.id, r1!.id)).toBe(true);
        expect(await f.permissions.removeMemberRole(guild.id, member.id, r1!.id)).toBe(false);
        expect(await rolesOf(f, guild.id, member.id)).toEqual([r2!.id]);
      });

      it("the owner can be given roles like anyone", async (ctx) => {
        const f = stores(ctx);
        const { guild, owner } = await makeGuild(f);
        const role = await makeRole(f, guild.id);
        expect(await f.permissions.addMemberRole(guild.id, owner.id, role.id)).toBe("added");
        expect(await rolesOf(f, guild.id, owner.id)).toEqual([role.id]);
      });

      it("not-member for a user outside the guild (or who left), writing nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const role = await makeRole(f, guild.id);
        const stranger = await makeUser(f);
        const leaver = await makeMember(f, guild);
        await f.guilds.removeMember(guild.id, leaver.id);
        expect(await f.permissions.addMemberRole(guild.id, stranger.id, role.id)).toBe("not-member");
        expect(await f.permissions.addMemberRole(guild.id, leaver.id, role.id)).toBe("not-member");
        expect(await f.permissions.addMemberRole(guild.id, nextId(), role.id)).toBe("not-member");
        expect(await rolesOf(f, guild.id, stranger.id)).toBeNull();
        expect(await rolesOf(f, guild.id, leaver.id)).toBeNull();
        // Joining later does not bring a role along.
        await f.guilds.redeemInvite((await f.guilds.createInvite({ code: `inv${nextId()}`, guildId: guild.id, inviterId: guild.ownerId, maxUses: null, expiresAt: null })).code, stranger.id, new Date());
        expect(await rolesOf(f, guild.id, stranger.id)).toEqual([]);
      });

      it("no-role for an unknown role, another guild's role and @everyone, writing nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const { guild: other } = await makeGuild(f);
        const member = await makeMember(f, guild);
        const theirs = await makeRole(f, other.id);
        expect(await f.permissions.addMemberRole(guild.id, member.id, nextId())).toBe("no-role");
        expect(await f.permissions.addMemberRole(guild.id, member.id, theirs.id)).toBe("no-role");
        expect(await f.permissions.addMemberRole(guild.id, member.id, guild.id)).toBe("no-role");
        expect(await f.permissions.addMemberRole(guild.id, member.id, other.id)).toBe("no-role");
        expect(await rolesOf(f, guild.id, member.id)).toEqual([]);
        expect(await f.permissions.getMemberRoleIds(other.id, [member.id])).toEqual(new Map([[member.id, null]]));
      });

      it("a refusal for both reasons (not a member, no such role) is one of the two, writing nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const stranger = await makeUser(f);
        expect(["not-member", "no-role"]).toContain(await f.permissions.addMemberRole(guild.id, stranger.id, nextId()));
        expect(await rolesOf(f, guild.id, stranger.id)).toBeNull();
      });

      it("removeMemberRole is false for a role never held, a non-member and another guild's role, removing nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const { guild: other } = await makeGuild(f);
        const member = await makeMember(f, guild);
        const [mine, unheld] = await makeRoles(f, guild.id, 2);
        await f.permissions.addMemberRole(guild.id, member.id, mine!.id);
        expect(await f.permissions.removeMemberRole(guild.id, member.id, unheld!.id)).toBe(false);
        expect(await f.permissions.removeMemberRole(guild.id, nextId(), mine!.id)).toBe(false);
        expect(await f.permissions.removeMemberRole(other.id, member.id, mine!.id)).toBe(false);
        expect(await f.permissions.removeMemberRole(guild.id, member.id, guild.id)).toBe(false);
        expect(await rolesOf(f, guild.id, member.id)).toEqual([mine!.id]);
      });

      it("concurrency: 5 simultaneous adds of one role → one added, the others already", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const member = await makeMember(f, guild);
        const role = await makeRole(f, guild.id);
        const results = await Promise.all(Array.from({ length: 5 }, () => f.permissions.addMemberRole(guild.id, member.id, role.id)));
        expect(results.filter((r) => r === "added")).toHaveLength(1);
        expect(results.filter((r) => r === "already")).toHaveLength(4);
        expect(await rolesOf(f, guild.id, member.id)).toEqual([role.id]);
      });

      it("concurrency: racing a deleteRole or a leave, addMemberRole answers (never throws) and leaves no role behind", async (ctx) => {
        const f = stores(ctx);
        for (let i = 0; i < 20; i++) {
          const { guild } = await makeGuild(f);
          if (i % 2 === 0) {
            // Three members are given a role while it is deleted.
            const members = [await makeMember(f, guild), await makeMember(f, guild), await makeMember(f, guild)];
            const role = await makeRole(f, guild.id);
            const [, ...added] = await Promise.all([f.permissions.deleteRole(guild.id, role.id), ...members.map((m) => f.permissions.addMemberRole(guild.id, m.id, role.id))]);
            for (const outcome of added) expect(["added", "no-role"]).toContain(outcome);
            for (const m of members) expect(await rolesOf(f, guild.id, m.id)).toEqual([]);
          } else {
            // A member is given three roles while they leave.
            const member = await makeMember(f, guild);
            const roles = await makeRoles(f, guild.id, 3);
            const [, ...added] = await Promise.all([f.guilds.removeMember(guild.id, member.id), ...roles.map((r) => f.permissions.addMemberRole(guild.id, member.id, r.id))]);
            for (const outcome of added) expect(["added", "not-member"]).toContain(outcome);
            expect(await rolesOf(f, guild.id, member.id)).toBeNull();
          }
        }
      });
    });

    describe("overwrites", () => {
      it("setOverwrite creates and returns the overwrite; listOverwrites reads it", async (ctx) => {
        const f = stores(ctx);
        const { guild, channel } = await makeGuild(f);
        const member = await makeMember(f, guild);
        const forRole = roleOverwrite(channel.id, guild.id, 0n, VIEW_CHANNEL);
        const forMember = memberOverwrite(channel.id, member.id, VIEW_CHANNEL | SEND_MESSAGES, 0n);
        expect(await f.permissions.setOverwrite(forRole)).toEqual(forRole);
        expect(await f.permissions.setOverwrite(forMember)).toEqual(forMember);
        expect(await overwritesOf(f, channel.id)).toEqual(byTarget([forRole, forMember]));
      });

      it("setOverwrite replaces the overwrite of the same target (upsert), keeping one", async (ctx) => {
        const f = stores(ctx);
        const { guild, channel } = await makeGuild(f);
        await f.permissions.setOverwrite(roleOverwrite(channel.id, guild.id, 0n, VIEW_CHANNEL));
        const replaced = roleOverwrite(channel.id, guild.id, MANAGE_MESSAGES, SEND_MESSAGES);
        expect(await f.permissions.setOverwrite(replaced)).toEqual(replaced);
        expect(await overwritesOf(f, channel.id)).toEqual([replaced]);
        // Setting an overwrite to allow nothing and deny nothing still keeps it (deleting is deleteOverwrite's job).
        const neutral = roleOverwrite(channel.id, guild.id, 0n, 0n);
        expect(await f.permissions.setOverwrite(neutral)).toEqual(neutral);
        expect(await overwritesOf(f, channel.id)).toEqual([neutral]);
      });

      it("a ROLE and a MEMBER overwrite with the same target id are two overwrites", async (ctx) => {
        const f = stores(ctx);
        const { channel } = await makeGuild(f);
        const id = nextId();
        await f.permissions.setOverwrite(roleOverwrite(channel.id, id, VIEW_CHANNEL, 0n));
        await f.permissions.setOverwrite(memberOverwrite(channel.id, id, 0n, VIEW_CHANNEL));
        expect(await overwritesOf(f, channel.id)).toHaveLength(2);
        expect(await f.permissions.deleteOverwrite(channel.id, "MEMBER", id)).toBe(true);
        expect(await overwritesOf(f, channel.id)).toEqual([roleOverwrite(channel.id, id, VIEW_CHANNEL, 0n)]);
      });

      it("setOverwrite on a deleted (or unknown) channel rejects with MissingReferenceError('channel'), writing nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const doomed = await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "doomed" });
        await f.channels.deleteChannel(doomed.id);
        for (const channelId of [doomed.id, nextId()]) {
          const refused = f.permissions.setOverwrite(roleOverwrite(channelId, guild.id, 0n, VIEW_CHANNEL));
          await expect(refused).rejects.toBeInstanceOf(MissingReferenceError);
          await expect(refused).rejects.toMatchObject({ what: "channel" });
          expect(await overwritesOf(f, channelId)).toEqual([]);
        }
      });

      it("concurrency: simultaneous sets of one target all succeed and leave one overwrite", async (ctx) => {
        const f = stores(ctx);
        const { guild, channel } = await makeGuild(f);
        const values = [VIEW_CHANNEL, SEND_MESSAGES, MANAGE_MESSAGES, KICK_MEMBERS, BAN_MEMBERS];
        await Promise.all(values.map((deny) => f.permissions.setOverwrite(roleOverwrite(channel.id, guild.id, 0n, deny))));
        const list = await overwritesOf(f, channel.id);
        expect(list).toHaveLength(1);
        expect(values).toContain(list[0]!.deny);
      });

      it("deleteOverwrite removes one overwrite: true, then false; others stay", async (ctx) => {
        const f = stores(ctx);
        const { guild, channel } = await makeGuild(f);
        const member = await makeMember(f, guild);
        await f.permissions.setOverwrite(roleOverwrite(channel.id, guild.id, 0n, VIEW_CHANNEL));
        await f.permissions.setOverwrite(memberOverwrite(channel.id, member.id, VIEW_CHANNEL, 0n));
        expect(await f.permissions.deleteOverwrite(channel.id, "ROLE", guild.id)).toBe(true);
        expect(await f.permissions.deleteOverwrite(channel.id, "ROLE", guild.id)).toBe(false);
        expect(await f.permissions.deleteOverwrite(channel.id, "ROLE", member.id)).toBe(false);
        expect(await f.permissions.deleteOverwrite(nextId(), "MEMBER", member.id)).toBe(false);
        expect(await overwritesOf(f, channel.id)).toEqual([memberOverwrite(channel.id, member.id, VIEW_CHANNEL, 0n)]);
      });

      it("listOverwrites keys every requested channel, [] for those without (or unknown), only those channels", async (ctx) => {
        const f = stores(ctx);
        const { guild, channel: a } = await makeGuild(f);
        const b = await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "b" });
        const c = await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "c" });
        const [r1, r2] = await makeRoles(f, guild.id, 2);
        await f.permissions.setOverwrite(roleOverwrite(a.id, r1!.id, VIEW_CHANNEL, 0n));
        await f.permissions.setOverwrite(roleOverwrite(a.id, r2!.id, 0n, SEND_MESSAGES));
        await f.permissions.setOverwrite(roleOverwrite(c.id, r1!.id, 0n, VIEW_CHANNEL));
        const unknown = nextId();
        const result = await f.permissions.listOverwrites([a.id, b.id, unknown]);
        expect(ascending([...result.keys()])).toEqual(ascending([a.id, b.id, unknown]));
        expect(byTarget(result.get(a.id)!)).toEqual(byTarget([roleOverwrite(a.id, r1!.id, VIEW_CHANNEL, 0n), roleOverwrite(a.id, r2!.id, 0n, SEND_MESSAGES)]));
        expect(result.get(b.id)).toEqual([]);
        expect(result.get(unknown)).toEqual([]);
        expect((await f.permissions.listOverwrites([])).size).toBe(0);
      });

      it("createGuildChannel's overwrites are stored like setOverwrite's", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const role = await makeRole(f, guild.id);
        const channel = await f.channels.createGuildChannel({
          id: nextId(),
          guildId: guild.id,
          name: "mods-only",
          overwrites: [
            { targetKind: "ROLE", targetId: guild.id, allow: 0n, deny: VIEW_CHANNEL },
            { targetKind: "ROLE", targetId: role.id, allow: VIEW_CHANNEL, deny: 0n },
          ],
        });
        expect(await overwritesOf(f, channel.id)).toEqual(byTarget([roleOverwrite(channel.id, guild.id, 0n, VIEW_CHANNEL), roleOverwrite(channel.id, role.id, VIEW_CHANNEL, 0n)]));
      });
    });

    describe("category sync (ChannelStore writes, PermissionStore reads)", () => {
      /** A guild with a category holding a private overwrite set: @everyone denied, a role and a member allowed. */
      async function privateCategory(f: PermissionStoreFixture) {
        const { guild } = await makeGuild(f);
        const role = await makeRole(f, guild.id);
        const member = await makeMember(f, guild);
        const category = await f.channels.createGuildChannel({
          id: nextId(),
          guildId: guild.id,
          name: "Staff",
          kind: "GUILD_CATEGORY",
          overwrites: [
            { targetKind: "ROLE", targetId: guild.id, allow: 0n, deny: VIEW_CHANNEL },
            { targetKind: "ROLE", targetId: role.id, allow: VIEW_CHANNEL | SEND_MESSAGES, deny: 0n },
            { targetKind: "MEMBER", targetId: member.id, allow: VIEW_CHANNEL, deny: SEND_MESSAGES },
          ],
        });
        /** The category's overwrites as `channelId`'s would be after a copy. */
        const expected = async (channelId: bigint) => byTarget((await overwritesOf(f, category.id)).map((o) => ({ ...o, channelId })));
        return { guild, role, member, category, expected };
      }

      it("a text channel created in a category without overwrites gets a copy of the category's; given ones (even []) are kept as given", async (ctx) => {
        const f = stores(ctx);
        const { guild, role, category, expected } = await privateCategory(f);
        const synced = await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "inside", parentId: category.id });
        expect(synced.parentId).toBe(category.id);
        expect(await overwritesOf(f, synced.id)).toEqual(await expected(synced.id));
        expect(await overwritesOf(f, synced.id)).toHaveLength(3);
        const open = await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "open", parentId: category.id, overwrites: [] });
        expect(await overwritesOf(f, open.id)).toEqual([]);
        const own = await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "own", parentId: category.id, overwrites: [{ targetKind: "ROLE", targetId: role.id, allow: 0n, deny: SEND_MESSAGES }] });
        expect(await overwritesOf(f, own.id)).toEqual([roleOverwrite(own.id, role.id, 0n, SEND_MESSAGES)]);
        const outside = await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "outside" });
        expect(await overwritesOf(f, outside.id)).toEqual([]);
        // A copy, not a link: changing the category later leaves the channel as it was.
        await f.permissions.setOverwrite(roleOverwrite(category.id, guild.id, 0n, VIEW_CHANNEL | SEND_MESSAGES));
        expect(await overwritesOf(f, synced.id)).toHaveLength(3);
        expect((await overwritesOf(f, synced.id)).find((o) => o.targetId === guild.id)).toEqual(roleOverwrite(synced.id, guild.id, 0n, VIEW_CHANNEL));
        // loadAccess (what the permission cache holds) sees the copy.
        const access = (await f.permissions.loadAccess(guild.id, null))!.access;
        expect(byTarget(access.overwrites.get(synced.id) ?? [])).toEqual((await overwritesOf(f, synced.id)).map(bare));
      });

      it("a category created with a parentId is still a top-level category without copied overwrites", async (ctx) => {
        const f = stores(ctx);
        const { guild, category } = await privateCategory(f);
        const other = await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "Other", kind: "GUILD_CATEGORY", parentId: category.id });
        expect(other.parentId).toBeNull();
        expect(await overwritesOf(f, other.id)).toEqual([]);
      });

      it("moving into a category keeps the channel's overwrites; lockPermissions replaces them with the category's, idempotently", async (ctx) => {
        const f = stores(ctx);
        const { guild, role, member, category, expected } = await privateCategory(f);
        const channel = await f.channels.createGuildChannel({
          id: nextId(),
          guildId: guild.id,
          name: "loose",
          overwrites: [
            { targetKind: "ROLE", targetId: role.id, allow: 0n, deny: VIEW_CHANNEL },
            { targetKind: "MEMBER", targetId: guild.ownerId, allow: MANAGE_MESSAGES, deny: 0n },
          ],
        });
        const own = await overwritesOf(f, channel.id);
        expect((await f.channels.updateGuildChannel(channel.id, { parentId: category.id }))?.parentId).toBe(category.id);
        expect(await overwritesOf(f, channel.id)).toEqual(own);
        const locked = await f.channels.updateGuildChannel(channel.id, { lockPermissions: true });
        expect(locked?.parentId).toBe(category.id);
        expect(await overwritesOf(f, channel.id)).toEqual(await expected(channel.id));
        await f.channels.updateGuildChannel(channel.id, { lockPermissions: true });
        expect(await overwritesOf(f, channel.id)).toEqual(await expected(channel.id));
        // Out of sync again, then moved and synced in one call with another category.
        await f.permissions.setOverwrite(memberOverwrite(channel.id, member.id, 0n, VIEW_CHANNEL));
        const open = await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "Open", kind: "GUILD_CATEGORY" });
        const moved = await f.channels.updateGuildChannel(channel.id, { parentId: open.id, name: "moved", lockPermissions: true });
        expect(moved).toMatchObject({ parentId: open.id, name: "moved" });
        expect(await overwritesOf(f, channel.id)).toEqual([]);
        const access = (await f.permissions.loadAccess(guild.id, null))!.access;
        expect(access.overwrites.get(channel.id) ?? []).toEqual([]);
      });

      it("lockPermissions without a category to sync with rejects with MissingReferenceError and changes nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild, role, category } = await privateCategory(f);
        const channel = await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "kept", parentId: category.id, overwrites: [{ targetKind: "ROLE", targetId: role.id, allow: 0n, deny: SEND_MESSAGES }] });
        const before = await overwritesOf(f, channel.id);
        const refused = f.channels.updateGuildChannel(channel.id, { parentId: null, name: "renamed", lockPermissions: true });
        await expect(refused).rejects.toBeInstanceOf(MissingReferenceError);
        await expect(refused).rejects.toMatchObject({ what: "category" });
        await expect(f.channels.updateGuildChannel(category.id, { lockPermissions: true })).rejects.toMatchObject({ what: "category" });
        await expect(f.channels.updateGuildChannel(channel.id, { parentId: nextId(), lockPermissions: true })).rejects.toMatchObject({ what: "parent" });
        const [after] = await f.channels.getChannels([channel.id]);
        expect(after).toMatchObject({ name: "kept", parentId: category.id });
        expect(await overwritesOf(f, channel.id)).toEqual(before);
        expect(await f.channels.updateGuildChannel(nextId(), { lockPermissions: true })).toBeNull();
      });

      it("concurrent syncs and overwrite changes of one channel all succeed; the last writer's state stands", async (ctx) => {
        const f = stores(ctx);
        const { guild, member, category, expected } = await privateCategory(f);
        const channel = await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "busy", parentId: category.id, overwrites: [] });
        const results = await Promise.allSettled([
          f.channels.updateGuildChannel(channel.id, { lockPermissions: true }),
          f.permissions.setOverwrite(memberOverwrite(channel.id, member.id, 0n, SEND_MESSAGES)),
          f.channels.updateGuildChannel(channel.id, { lockPermissions: true }),
          f.permissions.setOverwrite(roleOverwrite(channel.id, guild.id, SEND_MESSAGES, 0n)),
        ]);
        expect(results.filter((r) => r.status === "rejected")).toEqual([]);
        await f.channels.updateGuildChannel(channel.id, { lockPermissions: true });
        expect(await overwritesOf(f, channel.id)).toEqual(await expected(channel.id));
      });
    });

    describe("what goes with a channel, a guild or a membership", () => {
      it("deleting a channel removes its overwrites (and only its)", async (ctx) => {
        const f = stores(ctx);
        const { guild, channel: kept } = await makeGuild(f);
        const doomed = await f.channels.createGuildChannel({ id: nextId(), guildId: guild.id, name: "doomed" });
        for (const channel of [kept, doomed]) await f.permissions.setOverwrite(roleOverwrite(channel.id, guild.id, 0n, VIEW_CHANNEL));
        expect(await f.channels.deleteChannel(doomed.id)).toBe(true);
        expect(await overwritesOf(f, doomed.id)).toEqual([]);
        expect(await overwritesOf(f, kept.id)).toHaveLength(1);
        const access = (await f.permissions.loadAccess(guild.id, null))!.access;
        expect([...access.overwrites.keys()]).toEqual([kept.id]);
        // The id is free again for a new channel, which starts without overwrites.
        await f.channels.createGuildChannel({ id: doomed.id, guildId: guild.id, name: "reborn" });
        expect(await overwritesOf(f, doomed.id)).toEqual([]);
      });

      it("deleting a guild removes its roles, member roles and overwrites; other guilds keep theirs", async (ctx) => {
        const f = stores(ctx);
        const { guild, channel } = await makeGuild(f);
        const { guild: bystander, channel: bystanderChannel } = await makeGuild(f);
        const member = await makeMember(f, guild);
        const role = await makeRole(f, guild.id);
        await f.permissions.addMemberRole(guild.id, member.id, role.id);
        await f.permissions.setOverwrite(roleOverwrite(channel.id, role.id, VIEW_CHANNEL, 0n));
        const theirRole = await makeRole(f, bystander.id);
        await f.permissions.setOverwrite(roleOverwrite(bystanderChannel.id, theirRole.id, VIEW_CHANNEL, 0n));

        expect(await f.guilds.deleteGuild(guild.id)).not.toBeNull();
        expect(await f.permissions.getRoles([guild.id, role.id])).toEqual([]);
        expect(await f.permissions.listRoles(guild.id)).toEqual([]);
        expect(await rolesOf(f, guild.id, member.id)).toBeNull();
        expect(await overwritesOf(f, channel.id)).toEqual([]);
        expect(await f.permissions.loadAccess(guild.id, member.id)).toBeNull();
        expect(await ladder(f, bystander.id)).toEqual([
          ["role", 1],
          ["@everyone", 0],
        ]);
        expect(await overwritesOf(f, bystanderChannel.id)).toHaveLength(1);
      });

      it("leaving a guild (GuildStore.removeMember) removes the member's roles; rejoining starts with none", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const leaver = await makeMember(f, guild);
        const stayer = await makeMember(f, guild);
        const role = await makeRole(f, guild.id);
        for (const user of [leaver, stayer]) await f.permissions.addMemberRole(guild.id, user.id, role.id);
        expect(await f.guilds.removeMember(guild.id, leaver.id)).toBe(true);
        expect(await rolesOf(f, guild.id, leaver.id)).toBeNull();
        expect((await f.permissions.loadAccess(guild.id, leaver.id))?.memberRoleIds).toBeNull();
        expect(await rolesOf(f, guild.id, stayer.id)).toEqual([role.id]);
        await f.guilds.redeemInvite((await f.guilds.createInvite({ code: `inv${nextId()}`, guildId: guild.id, inviterId: guild.ownerId, maxUses: null, expiresAt: null })).code, leaver.id, new Date());
        expect(await rolesOf(f, guild.id, leaver.id)).toEqual([]);
        // The role itself stays.
        expect(await f.permissions.getRoles([role.id])).toHaveLength(1);
      });
    });

    describe("loadAccess: timeouts", () => {
      it("holds the timeouts in force (until > now) as ms by user id, a member's who left included; passed, lifted and other guilds' are not there", async (ctx) => {
        const f = stores(ctx);
        const { guild } = await makeGuild(f);
        const { guild: other } = await makeGuild(f);
        const [muted, left, passed, lifted] = [await makeMember(f, guild), await makeMember(f, guild), await makeMember(f, guild), await makeMember(f, guild)];
        const elsewhere = await makeMember(f, other);
        const timeout = (g: GuildRecord, userId: bigint, until: Date | null, now = new Date()) =>
          f.guilds.setMemberTimeout({ guildId: g.id, userId, until, moderatorId: g.ownerId, reason: null, now });
        const until = new Date(Date.now() + 3_600_000);
        await timeout(guild, muted.id, until);
        await timeout(guild, left.id, new Date(until.getTime() + 1));
        expect(await f.guilds.removeMember(guild.id, left.id)).toBe(true);
        // Set earlier, passed a second ago.
        await timeout(guild, passed.id, new Date(Date.now() - 1_000), new Date(Date.now() - 60_000));
        await timeout(guild, lifted.id, until);
        await timeout(guild, lifted.id, null);
        await timeout(other, elsewhere.id, until);
        const loaded = await f.permissions.loadAccess(guild.id, muted.id);
        expect(new Map(loaded!.access.timeouts)).toEqual(new Map([[muted.id, until.getTime()], [left.id, until.getTime() + 1]]));
        expect(new Map((await f.permissions.loadAccess(other.id, null))!.access.timeouts)).toEqual(new Map([[elsewhere.id, until.getTime()]]));
        const { guild: calm } = await makeGuild(f);
        expect((await f.permissions.loadAccess(calm.id, null))!.access.timeouts.size).toBe(0);
      });
    });

    describe("audit: writes given an AuditActor record one entry, only when they changed something", () => {
      /** An actor whose entry will get a fresh id. */
      const actor = (actorId: bigint, reason: string | null = null): AuditActor => ({ entryId: nextId(), actorId, reason });
      const json = (value: unknown) => JSON.stringify(value);
      const byKey = (changes: readonly AuditChange[]) => [...changes].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      /** The guild's whole log, newest first (each entry's changes in key order). */
      async function auditOf(f: PermissionStoreFixture, guildId: bigint): Promise<AuditEntryRecord[]> {
        const entries = await f.auditLog.listEntries(guildId, { beforeId: null, notBeforeId: 0n, action: null, actorId: null, limit: 100 });
        return entries.map((e) => ({ ...e, changes: byKey(e.changes) }));
      }
      const entry = (by: AuditActor, guildId: bigint, action: AuditEntryRecord["action"], targetKind: AuditEntryRecord["targetKind"], targetId: bigint, changes: AuditChange[]): AuditEntryRecord => ({
        id: by.entryId,
        guildId,
        actorId: by.actorId,
        action,
        targetKind,
        targetId: String(targetId),
        changes: byKey(changes),
        reason: by.reason,
      });
      const added = (key: string, value: unknown): AuditChange => ({ key, before: null, after: json(value) });
      const removed = (key: string, value: unknown): AuditChange => ({ key, before: json(value), after: null });
      const changed = (key: string, before: unknown, after: unknown): AuditChange => ({ key, before: json(before), after: json(after) });

      it("createRole: ROLE_CREATE with the role's fields as after; deleteRole: ROLE_DELETE with them as before (nothing when there is no role)", async (ctx) => {
        const f = stores(ctx);
        const { guild, owner } = await makeGuild(f);
        const create = actor(owner.id, "new team");
        const role = await f.permissions.createRole({ id: nextId(), guildId: guild.id, name: "mods", permissions: KICK_MEMBERS | BAN_MEMBERS, color: 0xff0000, hoist: true, mentionable: false }, create);
        const remove = actor(owner.id, "disbanded");
        expect(await f.permissions.deleteRole(guild.id, role.id, remove)).toBe(true);
        expect(await f.permissions.deleteRole(guild.id, role.id, actor(owner.id))).toBe(false);
        const fields = Object.entries({ name: "mods", permissions: String(KICK_MEMBERS | BAN_MEMBERS), color: 0xff0000, hoist: true, mentionable: false });
        expect(await auditOf(f, guild.id)).toEqual([
          entry(remove, guild.id, "ROLE_DELETE", "ROLE", role.id, fields.map(([key, value]) => removed(key, value))),
          entry(create, guild.id, "ROLE_CREATE", "ROLE", role.id, fields.map(([key, value]) => added(key, value))),
        ]);
      });

      it("updateRole: ROLE_UPDATE with only the fields that changed; a patch changing nothing (or no such role) records nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild, owner } = await makeGuild(f);
        const role = await makeRole(f, guild.id, { name: "helpers", color: 5 });
        const update = actor(owner.id);
        expect(await f.permissions.updateRole(guild.id, role.id, { name: "staff", color: 5, hoist: true }, update)).toMatchObject({ name: "staff", hoist: true });
        expect(await f.permissions.updateRole(guild.id, role.id, { name: "staff", hoist: true }, actor(owner.id))).toMatchObject({ name: "staff" });
        expect(await f.permissions.updateRole(guild.id, role.id, {}, actor(owner.id))).toMatchObject({ name: "staff" });
        expect(await f.permissions.updateRole(guild.id, nextId(), { name: "ghost" }, actor(owner.id))).toBeNull();
        const everyone = actor(owner.id);
        await f.permissions.updateRole(guild.id, guild.id, { permissions: VIEW_CHANNEL }, everyone);
        expect(await auditOf(f, guild.id)).toEqual([
          entry(everyone, guild.id, "ROLE_UPDATE", "ROLE", guild.id, [changed("permissions", String(DEFAULT_EVERYONE_PERMISSIONS), String(VIEW_CHANNEL))]),
          entry(update, guild.id, "ROLE_UPDATE", "ROLE", role.id, [changed("name", "helpers", "staff"), changed("hoist", false, true)]),
        ]);
      });

      it("moveRole: ROLE_UPDATE position for the moved role, nothing when it stays where it is", async (ctx) => {
        const f = stores(ctx);
        const { guild, owner } = await makeGuild(f);
        const [, , r3] = await makeRoles(f, guild.id, 3);
        const move = actor(owner.id);
        expect(await f.permissions.moveRole(guild.id, r3!.id, 3, move)).not.toBeNull();
        expect(await f.permissions.moveRole(guild.id, r3!.id, 3, actor(owner.id))).not.toBeNull();
        expect(await f.permissions.moveRole(guild.id, r3!.id, 99, actor(owner.id))).not.toBeNull();
        expect(await auditOf(f, guild.id)).toEqual([entry(move, guild.id, "ROLE_UPDATE", "ROLE", r3!.id, [changed("position", 1, 3)])]);
      });

      it("addMemberRole and removeMemberRole: MEMBER_ROLE_UPDATE $add and $remove on the member; already, refused and false record nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild, owner } = await makeGuild(f);
        const member = await makeMember(f, guild);
        const role = await makeRole(f, guild.id);
        const add = actor(owner.id, "promoted");
        expect(await f.permissions.addMemberRole(guild.id, member.id, role.id, add)).toBe("added");
        expect(await f.permissions.addMemberRole(guild.id, member.id, role.id, actor(owner.id))).toBe("already");
        expect(await f.permissions.addMemberRole(guild.id, (await makeUser(f)).id, role.id, actor(owner.id))).toBe("not-member");
        expect(await f.permissions.addMemberRole(guild.id, member.id, nextId(), actor(owner.id))).toBe("no-role");
        const remove = actor(owner.id, "demoted");
        expect(await f.permissions.removeMemberRole(guild.id, member.id, role.id, remove)).toBe(true);
        expect(await f.permissions.removeMemberRole(guild.id, member.id, role.id, actor(owner.id))).toBe(false);
        const naming = expect.stringContaining(String(role.id)) as string;
        expect(await auditOf(f, guild.id)).toEqual([
          entry(remove, guild.id, "MEMBER_ROLE_UPDATE", "USER", member.id, [{ key: "$remove", before: null, after: naming }]),
          entry(add, guild.id, "MEMBER_ROLE_UPDATE", "USER", member.id, [{ key: "$add", before: null, after: naming }]),
        ]);
      });

      it("setOverwrite: CHANNEL_OVERWRITE_CREATE, then _UPDATE with the changed fields, nothing when identical; deleteOverwrite: _DELETE, nothing when none", async (ctx) => {
        const f = stores(ctx);
        const { guild, owner, channel } = await makeGuild(f);
        const role = await makeRole(f, guild.id);
        const create = actor(owner.id);
        await f.permissions.setOverwrite(roleOverwrite(channel.id, role.id, VIEW_CHANNEL, 0n), create);
        const update = actor(owner.id, "lock it");
        await f.permissions.setOverwrite(roleOverwrite(channel.id, role.id, VIEW_CHANNEL, SEND_MESSAGES), update);
        await f.permissions.setOverwrite(roleOverwrite(channel.id, role.id, VIEW_CHANNEL, SEND_MESSAGES), actor(owner.id));
        const forMember = actor(owner.id);
        await f.permissions.setOverwrite(memberOverwrite(channel.id, owner.id, MANAGE_MESSAGES, 0n), forMember);
        const remove = actor(owner.id);
        expect(await f.permissions.deleteOverwrite(channel.id, "ROLE", role.id, remove)).toBe(true);
        expect(await f.permissions.deleteOverwrite(channel.id, "ROLE", role.id, actor(owner.id))).toBe(false);
        const overwrite = (targetId: bigint, type: 0 | 1, allow: bigint, deny: bigint) => Object.entries({ id: String(targetId), type, allow: String(allow), deny: String(deny) });
        expect(await auditOf(f, guild.id)).toEqual([
          entry(remove, guild.id, "CHANNEL_OVERWRITE_DELETE", "CHANNEL", channel.id, overwrite(role.id, 0, VIEW_CHANNEL, SEND_MESSAGES).map(([k, v]) => removed(k, v))),
          entry(forMember, guild.id, "CHANNEL_OVERWRITE_CREATE", "CHANNEL", channel.id, overwrite(owner.id, 1, MANAGE_MESSAGES, 0n).map(([k, v]) => added(k, v))),
          entry(update, guild.id, "CHANNEL_OVERWRITE_UPDATE", "CHANNEL", channel.id, [changed("deny", "0", String(SEND_MESSAGES))]),
          entry(create, guild.id, "CHANNEL_OVERWRITE_CREATE", "CHANNEL", channel.id, overwrite(role.id, 0, VIEW_CHANNEL, 0n).map(([k, v]) => added(k, v))),
        ]);
      });

      it("without an actor the same writes record nothing", async (ctx) => {
        const f = stores(ctx);
        const { guild, channel } = await makeGuild(f);
        const member = await makeMember(f, guild);
        const [role, other] = await makeRoles(f, guild.id, 2);
        await f.permissions.updateRole(guild.id, role!.id, { name: "renamed" });
        await f.permissions.moveRole(guild.id, role!.id, 1);
        expect(await f.permissions.addMemberRole(guild.id, member.id, role!.id)).toBe("added");
        expect(await f.permissions.removeMemberRole(guild.id, member.id, role!.id)).toBe(true);
        await f.permissions.setOverwrite(roleOverwrite(channel.id, role!.id, VIEW_CHANNEL, 0n));
        await f.permissions.setOverwrite(roleOverwrite(channel.id, role!.id, 0n, VIEW_CHANNEL));
        expect(await f.permissions.deleteOverwrite(channel.id, "ROLE", role!.id)).toBe(true);
        expect(await f.permissions.deleteRole(guild.id, other!.id)).toBe(true);
        expect(await auditOf(f, guild.id)).toEqual([]);
      });

      it("a write whose entry cannot be stored (its id is taken) does not happen", async (ctx) => {
        const f = stores(ctx);
        const { guild, owner } = await makeGuild(f);
        const member = await makeMember(f, guild);
        const first = actor(owner.id);
        const role = await f.permissions.createRole({ id: nextId(), guildId: guild.id, name: "first", permissions: 0n, color: 0, hoist: false, mentionable: false }, first);
        const taken: AuditActor = { ...actor(owner.id), entryId: first.entryId };
        const ghostId = nextId();
        await expect(f.permissions.createRole({ id: ghostId, guildId: guild.id, name: "ghost", permissions: 0n, color: 0, hoist: false, mentionable: false }, taken)).rejects.toThrow();
        expect(await f.permissions.getRoles([ghostId])).toEqual([]);
        expect(await positions(f, guild.id)).toEqual(dense(2));
        await expect(f.permissions.addMemberRole(guild.id, member.id, role.id, taken)).rejects.toThrow();
        expect(await rolesOf(f, guild.id, member.id)).toEqual([]);
        expect((await auditOf(f, guild.id)).map((e) => e.id)).toEqual([first.entryId]);
      });
    });
  });
}
