import { describe, expect, it } from "vitest";
import { createIdGenerator } from "../../src/ids/snowflake.js";
import { NO_BROAD_MENTIONS, type Ack, type BroadMentions, type ReadStateStore } from "../../src/stores/read-state-store.js";
import { seededRandom } from "../support/random.js";
import { suiteFixture } from "../support/suite-fixture.js";

/** One adapter's {@link ReadStateStore} on a database of its own for the suite. */
export interface ReadStateStoreFixture {
  readStates: ReadStateStore;
  close(): Promise<void>;
}

export interface ReadStateStoreContractOptions {
  /**
   * Whether the adapter's backing service is there. False: every test is reported as skipped
   * (with the reason the check logged); throwing fails the suite (CI must prove every adapter).
   */
  available?: () => Promise<boolean>;
}

/** No limit worth the name, for counts that must not be capped. */
const NO_CAP = 1_000_000;

/**
 * The behaviour every {@link ReadStateStore} adapter must have, as stated in the port's JSDoc:
 * pointers that only move forward (also under concurrent acks), the mention index (user and
 * broad mentions) and its counts, and channel deletion; plus a randomized comparison against
 * an in-memory model.
 * One database per suite run; each test uses fresh ids, so tests never see each other's rows.
 */
export function readStateStoreContract(name: string, factory: () => Promise<ReadStateStoreFixture>, options: ReadStateStoreContractOptions = {}) {
  describe(`ReadStateStore contract: ${name}`, () => {
    const nextId = createIdGenerator(3);
    /** The store under test, or a skip when the adapter's service is absent. */
    const stores = suiteFixture(name, factory, options.available);
    /** `n` fresh ids, ascending (so later ones are "newer" messages). */
    const ids = (n: number) => Array.from({ length: n }, () => nextId());
    const ack = (userId: bigint, channelId: bigint, messageId: bigint): Ack => ({ userId, channelId, messageId });
    const all = (...channelIds: bigint[]) => channelIds.map((channelId) => ({ channelId, after: null }));
    const broad = (patch: Partial<BroadMentions>): BroadMentions => ({ ...NO_BROAD_MENTIONS, ...patch });

    describe("advance and pointers", () => {
      it("moves a pointer forward only: an older ack changes nothing, a newer one moves it", async (ctx) => {
        const s = stores(ctx).readStates;
        const [user, channel, m1, m2, m3] = ids(5) as [bigint, bigint, bigint, bigint, bigint];
        await s.advance([ack(user, channel, m2)]);
        expect(await s.pointers(user, [channel])).toEqual(new Map([[channel, m2]]));
        await s.advance([ack(user, channel, m1)]);
        expect(await s.pointers(user, [channel])).toEqual(new Map([[channel, m2]]));
        await s.advance([ack(user, channel, m2)]); // idempotent
        expect(await s.pointers(user, [channel])).toEqual(new Map([[channel, m2]]));
        await s.advance([ack(user, channel, m3)]);
        expect(await s.pointers(user, [channel])).toEqual(new Map([[channel, m3]]));
      });

      it("a batch sets every pair it names, and several acks of one pair keep the largest", async (ctx) => {
        const s = stores(ctx).readStates;
        const [alice, bob, c1, c2, m1, m2, m3, m4] = ids(8) as [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
        await s.advance([
          ack(alice, c1, m2), ack(alice, c1, m3), ack(bob, c1, m1), ack(alice, c1, m1),
          ack(alice, c2, m4), ack(bob, c2, m2), ack(bob, c2, m4), ack(bob, c2, m3),
        ]);
        expect(await s.pointers(alice, [c1, c2])).toEqual(new Map([[c1, m3], [c2, m4]]));
        expect(await s.pointers(bob, [c1, c2])).toEqual(new Map([[c1, m1], [c2, m4]]));
        // A later batch mixing an older and a newer ack of a stored pair still keeps the max.
        await s.advance([ack(alice, c1, m1), ack(alice, c1, m4), ack(alice, c1, m2)]);
        expect(await s.pointers(alice, [c1])).toEqual(new Map([[c1, m4]]));
      });

      it("an empty batch is a no-op", async (ctx) => {
        const s = stores(ctx).readStates;
        await expect(s.advance([])).resolves.toBeUndefined();
      });

      it("pointers: channels never acked are absent, others' pointers are not the user's, [] gives an empty map", async (ctx) => {
        const s = stores(ctx).readStates;
        const [alice, bob, acked, unacked, bobs, m] = ids(6) as [bigint, bigint, bigint, bigint, bigint, bigint];
        await s.advance([ack(alice, acked, m), ack(bob, bobs, m), ack(bob, unacked, m)]);
        expect(await s.pointers(alice, [acked, unacked, bobs])).toEqual(new Map([[acked, m]]));
        expect(await s.pointers(alice, [unacked])).toEqual(new Map());
        expect(await s.pointers(alice, [])).toEqual(new Map());
        expect(await s.pointers(nextId(), [acked])).toEqual(new Map());
      });

      it("concurrency: many advances racing on one pair end at the largest id", async (ctx) => {
        const s = stores(ctx).readStates;
        const [user, channel] = ids(2) as [bigint, bigint];
        const random = seededRandom(0x5eed);
        const base = nextId();
        const acked = Array.from({ length: 40 }, () => base + BigInt(Math.floor(random() * 1_000_000)));
        await Promise.all(acked.map((m) => s.advance([ack(user, channel, m)])));
        const max = acked.reduce((a, b) => (a > b ? a : b));
        expect(await s.pointers(user, [channel])).toEqual(new Map([[channel, max]]));
      });

      it("concurrency: batches naming the same pairs in different orders all apply (no deadlock), each pair ends at its max, mentions below it gone", async (ctx) => {
        const s = stores(ctx).readStates;
        const random = seededRandom(0xdead10c);
        const [alice, bob] = ids(2) as [bigint, bigint];
        const channels = ids(4);
        const pairs = [alice, bob].flatMap((u) => channels.map((c) => [u, c] as const));
        const base = nextId();
        // Mentions of both users spread over the range the acks land in, so the batches also
        // race to drop the same mention rows.
        const mentioned = Array.from({ length: 12 }, (_, i) => base + BigInt(i * 90_000 + 1));
        for (const c of channels) for (const m of mentioned) await s.setMentions(c, m, [alice, bob]);
        const batches = Array.from({ length: 16 }, () =>
          [...pairs]
            .sort(() => random() - 0.5)
            .map(([u, c]) => ack(u, c, base + BigInt(Math.floor(random() * 1_000_000)))),
        );
        await Promise.all(batches.map((batch) => s.advance(batch)));
        for (const user of [alice, bob]) {
          const expected = new Map<bigint, bigint>();
          for (const a of batches.flat()) {
            if (a.userId !== user) continue;
            const seen = expected.get(a.channelId);
            if (seen === undefined || a.messageId > seen) expected.set(a.channelId, a.messageId);
          }
          expect(await s.pointers(user, channels)).toEqual(expected);
          const left = channels.map((c) => [c, mentioned.filter((m) => m > expected.get(c)!).length] as const);
          expect(await s.countMentions(user, all(...channels), NO_CAP)).toEqual(new Map(left));
        }
      });
    });

    describe("setMentions and countMentions", () => {
      it("indexes a message's mentions for each user; indexing again (or with a repeated user) counts once", async (ctx) => {
        const s = stores(ctx).readStates;
        const [alice, bob, carol, channel, m1, m2] = ids(6) as [bigint, bigint, bigint, bigint, bigint, bigint];
        await s.setMentions(channel, m1, [alice, bob]);
        await s.setMentions(channel, m1, [alice, bob]);
        await s.setMentions(channel, m2, [alice, alice]);
        expect(await s.countMentions(alice, all(channel), NO_CAP)).toEqual(new Map([[channel, 2]]));
        expect(await s.countMentions(bob, all(channel), NO_CAP)).toEqual(new Map([[channel, 1]]));
        expect(await s.countMentions(carol, all(channel), NO_CAP)).toEqual(new Map([[channel, 0]]));
      });

      it("replaces what was indexed for the message (an edit); an empty list removes the message", async (ctx) => {
        const s = stores(ctx).readStates;
        const [alice, bob, carol, channel, m1, m2] = ids(6) as [bigint, bigint, bigint, bigint, bigint, bigint];
        await s.setMentions(channel, m1, [alice, bob]);
        await s.setMentions(channel, m2, [alice, bob]);
        await s.setMentions(channel, m1, [bob, carol]);
        const count = async (user: bigint) => (await s.countMentions(user, all(channel), NO_CAP)).get(channel);
        expect([await count(alice), await count(bob), await count(carol)]).toEqual([1, 2, 1]);
        await s.setMentions(channel, m1, []);
        expect([await count(alice), await count(bob), await count(carol)]).toEqual([1, 1, 0]);
        await s.setMentions(channel, m1, []); // idempotent, and the other message is untouched
        expect([await count(alice), await count(bob), await count(carol)]).toEqual([1, 1, 0]);
      });

      it("counts only mentions newer than the pointer (strictly); a null pointer counts them all", async (ctx) => {
        const s = stores(ctx).readStates;
        const [user, channel, ...messages] = ids(7) as [bigint, bigint, ...bigint[]];
        for (const m of messages.slice(1)) await s.setMentions(channel, m, [user]);
        const count = async (after: bigint | null) => (await s.countMentions(user, [{ channelId: channel, after }], NO_CAP)).get(channel);
        expect(await count(null)).toBe(4);
        expect(await count(messages[0]!)).toBe(4); // before every mention
        expect(await count(messages[1]!)).toBe(3); // at a mention: that one is read
        expect(await count(messages[3]!)).toBe(1);
        expect(await count(messages[4]!)).toBe(0);
        expect(await count(nextId())).toBe(0);
      });

      it("counts at most `limit` per channel", async (ctx) => {
        const s = stores(ctx).readStates;
        const [user, c1, c2, c3] = ids(4) as [bigint, bigint, bigint, bigint];
        for (const m of ids(7)) await s.setMentions(c1, m, [user]);
        for (const m of ids(2)) await s.setMentions(c2, m, [user]);
        expect(await s.countMentions(user, all(c1, c2, c3), 5)).toEqual(new Map([[c1, 5], [c2, 2], [c3, 0]]));
        expect(await s.countMentions(user, all(c1, c2), 2)).toEqual(new Map([[c1, 2], [c2, 2]]));
        expect(await s.countMentions(user, all(c1, c2), 0)).toEqual(new Map([[c1, 0], [c2, 0]]));
        expect(await s.countMentions(user, all(c1), 7)).toEqual(new Map([[c1, 7]]));
      });

      it("keeps channels and users apart: each channel its own pointer and count, nobody else's mentions", async (ctx) => {
        const s = stores(ctx).readStates;
        const [alice, bob, c1, c2, c3] = ids(5) as [bigint, bigint, bigint, bigint, bigint];
        const [m1, m2, m3, m4] = ids(4) as [bigint, bigint, bigint, bigint];
        await s.setMentions(c1, m1, [alice]);
        await s.setMentions(c1, m3, [alice, bob]);
        await s.setMentions(c2, m2, [alice]);
        await s.setMentions(c2, m4, [alice]);
        await s.setMentions(c3, m4, [bob]);
        // c1 read up to m2 (so m3 is new), c2 read up to m3 (so m4 is new), c3 never read.
        const counts = await s.countMentions(alice, [{ channelId: c1, after: m2 }, { channelId: c2, after: m1 }, { channelId: c3, after: null }], NO_CAP);
        expect(counts).toEqual(new Map([[c1, 1], [c2, 2], [c3, 0]]));
        expect(await s.countMentions(bob, all(c1, c2, c3), NO_CAP)).toEqual(new Map([[c1, 1], [c2, 0], [c3, 1]]));
        expect(await s.countMentions(alice, [], NO_CAP)).toEqual(new Map());
      });

      it("advance drops the user's mentions at or below the new pointer and keeps newer ones (and other users')", async (ctx) => {
        const s = stores(ctx).readStates;
        const [alice, bob, channel, other] = ids(4) as [bigint, bigint, bigint, bigint];
        const messages = ids(5);
        for (const m of messages) await s.setMentions(channel, m, [alice, bob]);
        await s.setMentions(other, messages[0]!, [alice]);
        await s.advance([ack(alice, channel, messages[2]!)]);
        // Counted with no pointer, only what is still indexed shows.
        expect(await s.countMentions(alice, all(channel, other), NO_CAP)).toEqual(new Map([[channel, 2], [other, 1]]));
        expect(await s.countMentions(bob, all(channel), NO_CAP)).toEqual(new Map([[channel, 5]]));
        // A mention indexed later below the pointer (an old message edited) goes with the next
        // ack, even one that does not move the pointer.
        await s.setMentions(channel, messages[1]!, [alice, bob]);
        expect(await s.countMentions(alice, [{ channelId: channel, after: messages[2]! }], NO_CAP)).toEqual(new Map([[channel, 2]]));
        await s.advance([ack(alice, channel, messages[0]!)]);
        expect(await s.pointers(alice, [channel])).toEqual(new Map([[channel, messages[2]!]]));
        expect(await s.countMentions(alice, all(channel), NO_CAP)).toEqual(new Map([[channel, 2]]));
        await s.advance([ack(alice, channel, messages[4]!)]);
        expect(await s.countMentions(alice, all(channel), NO_CAP)).toEqual(new Map([[channel, 0]]));
        expect(await s.countMentions(bob, all(channel), NO_CAP)).toEqual(new Map([[channel, 5]]));
      });
    });

    describe("setBroadMentions and countMentions", () => {
      it("@everyone and @here reach every member query (any roles), never a query without roles (a DM, a non-member)", async (ctx) => {
        const s = stores(ctx).readStates;
        const [user, role, channel, m1, m2] = ids(5) as [bigint, bigint, bigint, bigint, bigint];
        await s.setBroadMentions(channel, m1, broad({ everyone: true }));
        await s.setBroadMentions(channel, m2, broad({ here: true }));
        const count = async (roleIds?: readonly bigint[] | null) => (await s.countMentions(user, [{ channelId: channel, after: null, roleIds }], NO_CAP)).get(channel);
        expect(await count([])).toBe(2);
        expect(await count([role])).toBe(2);
        expect(await count(null)).toBe(0);
        expect(await count(undefined)).toBe(0);
        // Nobody's own mention rows were written: it is one row per message, for anyone.
        expect(await s.countMentions(nextId(), [{ channelId: channel, after: null, roleIds: [] }], NO_CAP)).toEqual(new Map([[channel, 2]]));
      });

      it("a role mention reaches the holders of one of its roles only", async (ctx) => {
        const s = stores(ctx).readStates;
        const [user, mods, admins, other, channel, m1, m2] = ids(7) as [bigint, bigint, bigint, bigint, bigint, bigint, bigint];
        await s.setBroadMentions(channel, m1, broad({ roleIds: [mods] }));
        await s.setBroadMentions(channel, m2, broad({ roleIds: [admins, mods] }));
        const count = async (roleIds: bigint[]) => (await s.countMentions(user, [{ channelId: channel, after: null, roleIds }], NO_CAP)).get(channel);
        expect(await count([])).toBe(0);
        expect(await count([other])).toBe(0);
        expect(await count([admins])).toBe(1);
        expect(await count([mods])).toBe(2);
        expect(await count([other, admins, mods])).toBe(2);
      });

      it("a message that mentions a user directly, by role and as everyone counts once", async (ctx) => {
        const s = stores(ctx).readStates;
        const [user, role, channel, m1, m2, m3] = ids(6) as [bigint, bigint, bigint, bigint, bigint, bigint];
        await s.setMentions(channel, m1, [user]);
        await s.setBroadMentions(channel, m1, broad({ everyone: true, here: true, roleIds: [role] }));
        await s.setMentions(channel, m2, [user]);
        await s.setBroadMentions(channel, m3, broad({ roleIds: [role] }));
        expect(await s.countMentions(user, [{ channelId: channel, after: null, roleIds: [role] }], NO_CAP)).toEqual(new Map([[channel, 3]]));
        expect(await s.countMentions(user, [{ channelId: channel, after: null, roleIds: [] }], NO_CAP)).toEqual(new Map([[channel, 2]]));
        expect(await s.countMentions(user, all(channel), NO_CAP)).toEqual(new Map([[channel, 2]]));
      });

      it("replaces what was indexed for the message (an edit); nothing broad removes it; idempotent", async (ctx) => {
        const s = stores(ctx).readStates;
        const [user, role, channel, m1, m2] = ids(5) as [bigint, bigint, bigint, bigint, bigint];
        const count = async (roleIds: bigint[]) => (await s.countMentions(user, [{ channelId: channel, after: null, roleIds }], NO_CAP)).get(channel);
        await s.setBroadMentions(channel, m1, broad({ everyone: true }));
        await s.setBroadMentions(channel, m2, broad({ everyone: true }));
        await s.setBroadMentions(channel, m1, broad({ roleIds: [role, role] }));
        await s.setBroadMentions(channel, m1, broad({ roleIds: [role] }));
        expect([await count([]), await count([role])]).toEqual([1, 2]);
        await s.setBroadMentions(channel, m1, NO_BROAD_MENTIONS);
        await s.setBroadMentions(channel, m1, NO_BROAD_MENTIONS);
        expect([await count([]), await count([role])]).toEqual([1, 1]);
        expect(await s.getBroadMentions(channel, [m1, m2])).toEqual(new Map([[m2, { everyone: true, here: false, roleIds: [] }]]));
      });

      it("getBroadMentions: what was indexed per message (role ids once each, in order), absent when none, [] gives an empty map", async (ctx) => {
        const s = stores(ctx).readStates;
        const [r1, r2, channel, other, m1, m2, m3] = ids(7) as [bigint, bigint, bigint, bigint, bigint, bigint, bigint];
        await s.setBroadMentions(channel, m1, broad({ roleIds: [r2, r1, r2] }));
        await s.setBroadMentions(channel, m2, broad({ here: true }));
        await s.setBroadMentions(other, m3, broad({ everyone: true }));
        expect(await s.getBroadMentions(channel, [m1, m2, m3, m1])).toEqual(
          new Map([
            [m1, { everyone: false, here: false, roleIds: [r2, r1] }],
            [m2, { everyone: false, here: true, roleIds: [] }],
          ]),
        );
        expect(await s.getBroadMentions(channel, [])).toEqual(new Map());
      });

      it("counts broad mentions newer than the pointer only; acks never drop them (readers share the row)", async (ctx) => {
        const s = stores(ctx).readStates;
        const [alice, bob, channel, ...messages] = ids(7) as [bigint, bigint, bigint, ...bigint[]];
        for (const m of messages.slice(1)) await s.setBroadMentions(channel, m, broad({ everyone: true }));
        const count = async (user: bigint, after: bigint | null) => (await s.countMentions(user, [{ channelId: channel, after, roleIds: [] }], NO_CAP)).get(channel);
        expect(await count(alice, null)).toBe(3);
        expect(await count(alice, messages[0]!)).toBe(3);
        expect(await count(alice, messages[1]!)).toBe(2);
        expect(await count(alice, messages[3]!)).toBe(0);
        await s.advance([ack(alice, channel, messages[3]!)]);
        // Counted with no pointer, the rows are still there, for alice as for bob.
        expect(await count(alice, null)).toBe(3);
        expect(await count(bob, null)).toBe(3);
        expect(await s.getBroadMentions(channel, messages)).toHaveProperty("size", 3);
      });

      it("counts at most `limit` per channel, user and broad mentions together", async (ctx) => {
        const s = stores(ctx).readStates;
        const [user, c1, c2] = ids(3) as [bigint, bigint, bigint];
        const messages = ids(8);
        for (const m of messages.slice(0, 5)) await s.setMentions(c1, m, [user]);
        for (const m of messages.slice(3)) await s.setBroadMentions(c1, m, broad({ everyone: true }));
        await s.setBroadMentions(c2, messages[0]!, broad({ everyone: true }));
        const query = [{ channelId: c1, after: null, roleIds: [] }, { channelId: c2, after: null, roleIds: [] }];
        expect(await s.countMentions(user, query, NO_CAP)).toEqual(new Map([[c1, 8], [c2, 1]]));
        expect(await s.countMentions(user, query, 6)).toEqual(new Map([[c1, 6], [c2, 1]]));
        expect(await s.countMentions(user, query, 4)).toEqual(new Map([[c1, 4], [c2, 1]]));
        expect(await s.countMentions(user, query, 0)).toEqual(new Map([[c1, 0], [c2, 0]]));
      });

      it("keeps channels apart: each channel its own roles, pointer and broad mentions", async (ctx) => {
        const s = stores(ctx).readStates;
        const [user, r1, r2, c1, c2, c3, m1, m2, m3] = ids(9) as [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
        await s.setBroadMentions(c1, m1, broad({ roleIds: [r1] }));
        await s.setBroadMentions(c1, m3, broad({ roleIds: [r2] }));
        await s.setBroadMentions(c2, m2, broad({ roleIds: [r1] }));
        await s.setBroadMentions(c3, m3, broad({ everyone: true }));
        const counts = await s.countMentions(
          user,
          [
            { channelId: c1, after: null, roleIds: [r2] },
            { channelId: c2, after: null, roleIds: [r1, r2] },
            { channelId: c3, after: m3, roleIds: [r1] },
          ],
          NO_CAP,
        );
        expect(counts).toEqual(new Map([[c1, 1], [c2, 1], [c3, 0]]));
      });
    });

    describe("deleteChannel", () => {
      it("drops every pointer and mention of the channel and nothing of other channels; idempotent", async (ctx) => {
        const s = stores(ctx).readStates;
        const [alice, bob, doomed, kept] = ids(4) as [bigint, bigint, bigint, bigint];
        const [m1, m2, m3] = ids(3) as [bigint, bigint, bigint];
        for (const channel of [doomed, kept]) {
          await s.setMentions(channel, m2, [alice, bob]);
          await s.setMentions(channel, m3, [alice, bob]);
          await s.setBroadMentions(channel, m3, broad({ everyone: true }));
          await s.advance([ack(alice, channel, m1), ack(bob, channel, m2)]);
        }
        await s.deleteChannel(doomed);
        expect(await s.getBroadMentions(doomed, [m3])).toEqual(new Map());
        expect(await s.getBroadMentions(kept, [m3])).toEqual(new Map([[m3, { everyone: true, here: false, roleIds: [] }]]));
        expect(await s.pointers(alice, [doomed, kept])).toEqual(new Map([[kept, m1]]));
        expect(await s.pointers(bob, [doomed, kept])).toEqual(new Map([[kept, m2]]));
        expect(await s.countMentions(alice, all(doomed, kept), NO_CAP)).toEqual(new Map([[doomed, 0], [kept, 2]]));
        expect(await s.countMentions(bob, all(doomed, kept), NO_CAP)).toEqual(new Map([[doomed, 0], [kept, 1]]));
        await s.deleteChannel(doomed);
        await s.deleteChannel(nextId());
        expect(await s.pointers(alice, [kept])).toEqual(new Map([[kept, m1]]));
      });
    });

    it("randomized: a random history of setMentions, setBroadMentions and advance matches an in-memory model", async (ctx) => {
      const s = stores(ctx).readStates;
      const seed = 20_261_129;
      const random = seededRandom(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
      const users = ids(4);
      const channels = ids(3);
      const roles = ids(3);
      // Each user's roles: none, one, two, and null (not a member: broad mentions never count).
      const rolesOf = new Map<bigint, bigint[] | null>(users.map((u, i) => [u, i === 3 ? null : roles.slice(0, i)]));
      const messages = ids(25); // shared across channels: (channel, message) is what is unique
      // The model: pointers per "user:channel", the indexed (user, channel, message) rows, and
      // the broad mentions per "channel:message" (never pruned by acks).
      const pointer = new Map<string, bigint>();
      const index = new Set<string>();
      const broadIndex = new Map<string, BroadMentions>();
      const key = (...parts: bigint[]) => parts.join(":");
      const reaches = (b: BroadMentions | undefined, held: bigint[] | null) =>
        b !== undefined && held !== null && (b.everyone || b.here || b.roleIds.some((r) => held.includes(r)));

      for (let step = 0; step < 200; step++) {
        const roll = random();
        if (roll < 0.45) {
          const channel = pick(channels);
          const message = pick(messages);
          const mentioned = users.filter(() => random() < 0.4);
          await s.setMentions(channel, message, mentioned);
          for (const user of users) index.delete(key(user, channel, message));
          for (const user of mentioned) index.add(key(user, channel, message));
        } else if (roll < 0.65) {
          const channel = pick(channels);
          const message = pick(messages);
          const b = broad({ everyone: random() < 0.2, here: random() < 0.1, roleIds: roles.filter(() => random() < 0.3) });
          await s.setBroadMentions(channel, message, b);
          if (b.everyone || b.here || b.roleIds.length > 0) broadIndex.set(key(channel, message), b);
          else broadIndex.delete(key(channel, message));
        } else {
          const batch = Array.from({ length: 1 + Math.floor(random() * 4) }, () => ack(pick(users), pick(channels), pick(messages)));
          await s.advance(batch);
          for (const a of batch) {
            const k = key(a.userId, a.channelId);
            const seen = pointer.get(k);
            if (seen === undefined || a.messageId > seen) pointer.set(k, a.messageId);
          }
          for (const a of batch) {
            const at = pointer.get(key(a.userId, a.channelId))!;
            for (const m of messages) if (m <= at) index.delete(key(a.userId, a.channelId, m));
          }
        }

        if (step % 5 !== 4) continue;
        const limit = 1 + Math.floor(random() * 8);
        for (const user of users) {
          const where = `seed ${seed}, step ${step}, user ${user}`;
          const held = rolesOf.get(user)!;
          const expectedPointers = new Map(channels.flatMap((c) => {
            const p = pointer.get(key(user, c));
            return p === undefined ? [] : [[c, p] as const];
          }));
          expect(await s.pointers(user, channels), where).toEqual(expectedPointers);
          const query = channels.map((channelId) => ({ channelId, after: pointer.get(key(user, channelId)) ?? null, roleIds: held }));
          const modelCount = (channelId: bigint, after: bigint | null, cap: number, roleIds: bigint[] | null) =>
            Math.min(
              cap,
              messages.filter((m) => (index.has(key(user, channelId, m)) || reaches(broadIndex.get(key(channelId, m)), roleIds)) && (after === null || m > after)).length,
            );
          expect(await s.countMentions(user, query, limit), where).toEqual(new Map(query.map((q) => [q.channelId, modelCount(q.channelId, q.after, limit, held)])));
          expect(await s.countMentions(user, all(...channels), NO_CAP), where).toEqual(new Map(channels.map((c) => [c, modelCount(c, null, NO_CAP, null)])));
        }
        for (const channel of channels) {
          const expected = new Map(messages.flatMap((m) => {
            const b = broadIndex.get(key(channel, m));
            return b ? [[m, b] as const] : [];
          }));
          expect(await s.getBroadMentions(channel, messages), `seed ${seed}, step ${step}`).toEqual(expected);
        }
      }
    });
  });
}
