import { describe, expect, it } from "vitest";
import { CONCORD_EPOCH_MS, createIdGenerator, snowflakeAt } from "../../src/ids/snowflake.js";
import type { AccountStore } from "../../src/stores/account-store.js";
import type { AuditEntryRecord, AuditLogStore } from "../../src/stores/audit-log-store.js";
import type { GuildRecord, GuildStore } from "../../src/stores/guild-store.js";
import { suiteFixture } from "../support/suite-fixture.js";

/**
 * The stores of one adapter family on one database. Entries are written by the governance
 * writes themselves (given an AuditActor), so the suite writes them through the guild store,
 * choosing each entry's id: old snowflakes stand for entries made long ago.
 */
export interface AuditLogStoreFixture {
  accounts: AccountStore;
  guilds: GuildStore;
  auditLog: AuditLogStore;
  close(): Promise<void>;
}

export interface AuditLogStoreContractOptions {
  /**
   * Whether the adapter's backing service is there. False: every test is reported as skipped
   * (with the reason the check logged); throwing fails the suite (CI must prove every adapter).
   */
  available?: () => Promise<boolean>;
}

const DAY = 86_400_000;
/** The smallest snowflake of `days` days ago. */
const daysAgo = (days: number) => snowflakeAt(Date.now() - days * DAY);
const ids = (entries: readonly AuditEntryRecord[]) => entries.map((e) => e.id);

/**
 * The behaviour every {@link AuditLogStore} adapter must have, as stated in the port's JSDoc:
 * one guild's entries, newest first, paged, filtered and cut at the retention horizon; the
 * bounded, idempotent prune. One database per suite run; each test makes its own guilds.
 */
export function auditLogStoreContract(name: string, factory: () => Promise<AuditLogStoreFixture>, options: AuditLogStoreContractOptions = {}) {
  describe(`AuditLogStore contract: ${name}`, () => {
    const nextId = createIdGenerator(9);
    /** The stores under test, or a skip when the adapter's service is absent. */
    const stores = suiteFixture(name, factory, options.available);

    async function makeGuild(f: AuditLogStoreFixture): Promise<GuildRecord> {
      const ownerId = nextId();
      await f.accounts.createUser({ id: ownerId, username: `user${ownerId}`, passwordHash: null, bot: false, botOwnerId: null });
      return (await f.guilds.createGuild({ id: nextId(), name: "Engines", ownerId, firstChannel: { id: nextId(), name: "general" } })).guild;
    }
    /** Records entry `id` (GUILD_UPDATE) in the guild's log: a rename to a name of its own, by `actorId`. */
    async function rename(f: AuditLogStoreFixture, guild: GuildRecord, id: bigint, actorId: bigint = guild.ownerId, reason: string | null = null): Promise<bigint> {
      expect(await f.guilds.renameGuild(guild.id, `name${id}`, { entryId: id, actorId, reason })).not.toBeNull();
      return id;
    }
    /** Records entry `id` (INVITE_CREATE) in the guild's log, by `actorId`. */
    async function invite(f: AuditLogStoreFixture, guild: GuildRecord, id: bigint, actorId: bigint = guild.ownerId): Promise<bigint> {
      await f.guilds.createInvite({ code: `inv${id}`, guildId: guild.id, inviterId: guild.ownerId, maxUses: null, expiresAt: null }, { entryId: id, actorId, reason: null });
      return id;
    }
    function list(f: AuditLogStoreFixture, guild: GuildRecord, query: Partial<Parameters<AuditLogStore["listEntries"]>[1]> = {}) {
      return f.auditLog.listEntries(guild.id, { beforeId: null, notBeforeId: 0n, action: null, actorId: null, limit: 100, ...query });
    }

    describe("listEntries", () => {
      it("gives the guild's entries newest (highest id) first, each as recorded; never another guild's", async (ctx) => {
        const f = stores(ctx);
        const [guild, other] = [await makeGuild(f), await makeGuild(f)];
        const [older, newer] = [nextId(), nextId()];
        // Recorded out of order: the id, not the insertion, says which is newer.
        await invite(f, guild, newer);
        await rename(f, other, nextId());
        await rename(f, guild, older, guild.ownerId, "tidy up");
        const entries = await list(f, guild);
        expect(ids(entries)).toEqual([newer, older]);
        expect(entries[1]).toEqual({
          id: older,
          guildId: guild.id,
          actorId: guild.ownerId,
          action: "GUILD_UPDATE",
          targetKind: "GUILD",
          targetId: String(guild.id),
          changes: [{ key: "name", before: JSON.stringify("Engines"), after: JSON.stringify(`name${older}`) }],
          reason: "tidy up",
        });
        expect(entries[0]).toMatchObject({ id: newer, guildId: guild.id, action: "INVITE_CREATE", targetKind: "INVITE", targetId: `inv${newer}`, reason: null });
        expect(ids(await list(f, other))).toHaveLength(1);
        expect(await f.auditLog.listEntries(nextId(), { beforeId: null, notBeforeId: 0n, action: null, actorId: null, limit: 10 })).toEqual([]);
      });

      it("pages strictly before beforeId, at most limit a page, none skipped or repeated", async (ctx) => {
        const f = stores(ctx);
        const guild = await makeGuild(f);
        const made: bigint[] = [];
        for (let i = 0; i < 5; i++) made.push(await rename(f, guild, nextId()));
        const newest = [...made].reverse();
        expect(ids(await list(f, guild, { limit: 2 }))).toEqual(newest.slice(0, 2));
        expect(ids(await list(f, guild, { beforeId: newest[1]!, limit: 2 }))).toEqual(newest.slice(2, 4));
        expect(ids(await list(f, guild, { beforeId: newest[3]!, limit: 2 }))).toEqual(newest.slice(4));
        expect(await list(f, guild, { beforeId: newest[4]!, limit: 2 })).toEqual([]);
        // The cursor is only a bound: it need not be an entry.
        expect(ids(await list(f, guild, { beforeId: newest[0]! + 1n, limit: 1 }))).toEqual([newest[0]]);
      });

      it("notBeforeId is an inclusive horizon: entries older than it are never shown, whatever the page or filter", async (ctx) => {
        const f = stores(ctx);
        const guild = await makeGuild(f);
        const ancient = await rename(f, guild, daysAgo(120));
        const old = await rename(f, guild, daysAgo(60));
        const recent = await rename(f, guild, nextId());
        expect(ids(await list(f, guild, { notBeforeId: old }))).toEqual([recent, old]);
        expect(ids(await list(f, guild, { notBeforeId: old + 1n }))).toEqual([recent]);
        expect(ids(await list(f, guild, { notBeforeId: daysAgo(90) }))).toEqual([recent, old]);
        // Paging past the horizon finds nothing, though an older entry is stored.
        expect(await list(f, guild, { notBeforeId: old, beforeId: old })).toEqual([]);
        expect(ids(await list(f, guild, { notBeforeId: daysAgo(90), action: "GUILD_UPDATE", actorId: guild.ownerId }))).toEqual([recent, old]);
        expect(ids(await list(f, guild, { notBeforeId: 0n }))).toEqual([recent, old, ancient]);
      });

      it("filters by action and by actor, alone or together, and pages within the filter", async (ctx) => {
        const f = stores(ctx);
        const [guild, other] = [await makeGuild(f), await makeGuild(f)];
        const [alice, bob] = [nextId(), nextId()];
        const e1 = await rename(f, guild, nextId(), alice);
        const e2 = await invite(f, guild, nextId(), bob);
        const e3 = await invite(f, guild, nextId(), alice);
        await rename(f, guild, nextId(), bob);
        const e5 = await invite(f, guild, nextId(), alice);
        await invite(f, other, nextId(), alice);
        expect(ids(await list(f, guild, { action: "INVITE_CREATE" }))).toEqual([e5, e3, e2]);
        expect(ids(await list(f, guild, { actorId: alice }))).toEqual([e5, e3, e1]);
        expect(ids(await list(f, guild, { action: "INVITE_CREATE", actorId: alice }))).toEqual([e5, e3]);
        expect(ids(await list(f, guild, { action: "INVITE_CREATE", actorId: alice, beforeId: e5, limit: 1 }))).toEqual([e3]);
        expect(ids(await list(f, guild, { action: "INVITE_CREATE", limit: 2 }))).toEqual([e5, e3]);
        expect(await list(f, guild, { action: "MEMBER_KICK" })).toEqual([]);
        expect(await list(f, guild, { actorId: nextId() })).toEqual([]);
      });
    });

    it("pruneEntries deletes at most limit entries older than beforeId, of any guild, says how many; then none", async (ctx) => {
      const f = stores(ctx);
      const [a, b] = [await makeGuild(f), await makeGuild(f)];
      // Older than any other test's entries, so the prune only meets this test's.
      const base = snowflakeAt(CONCORD_EPOCH_MS + 1_000);
      for (const id of [base + 1n, base + 2n, base + 3n]) await rename(f, a, id);
      await rename(f, b, base + 4n);
      const cut = base + 5n;
      const atCut = await rename(f, a, cut);
      const [recentA, recentB] = [await rename(f, a, nextId()), await rename(f, b, nextId())];
      expect(await f.auditLog.pruneEntries(cut, 3)).toBe(3);
      expect(await f.auditLog.pruneEntries(cut, 3)).toBe(1);
      expect(await f.auditLog.pruneEntries(cut, 3)).toBe(0);
      expect(ids(await list(f, a))).toEqual([recentA, atCut]);
      expect(ids(await list(f, b))).toEqual([recentB]);
    });
  });
}
