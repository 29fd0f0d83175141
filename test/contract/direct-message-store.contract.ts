import { describe, expect, it } from "vitest";
import { createIdGenerator } from "../../src/ids/snowflake.js";
import type { AccountStore, UserRecord } from "../../src/stores/account-store.js";
import type { ChannelStore } from "../../src/stores/channel-store.js";
import type { DirectMessageStore } from "../../src/stores/direct-message-store.js";
import { suiteFixture } from "../support/suite-fixture.js";

/** The stores of one adapter family on one database: DMs are made by the ChannelStore. */
export interface DirectMessageStoreFixture {
  accounts: AccountStore;
  channels: ChannelStore;
  directMessages: DirectMessageStore;
  close(): Promise<void>;
}

export interface DirectMessageStoreContractOptions {
  /**
   * Whether the adapter's backing service is there. False: every test is reported as skipped
   * (with the reason the check logged); throwing fails the suite (CI must prove every adapter).
   */
  available?: () => Promise<boolean>;
}

const ascending = (ids: readonly bigint[]) => [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * The behaviour every {@link DirectMessageStore} adapter must have, as stated in the port's
 * JSDoc: closed DMs left out until reopened, group membership under its cap (also under
 * concurrent adds), ownership passing on, and the last one out deleting the group.
 */
export function directMessageStoreContract(name: string, factory: () => Promise<DirectMessageStoreFixture>, options: DirectMessageStoreContractOptions = {}) {
  describe(`DirectMessageStore contract: ${name}`, () => {
    const nextId = createIdGenerator(6);
    const stores = suiteFixture(name, factory, options.available);

    function makeUser(f: DirectMessageStoreFixture): Promise<UserRecord> {
      const id = nextId();
      return f.accounts.createUser({ id, username: `user${id}`, passwordHash: null, bot: false, botOwnerId: null });
    }
    const makeUsers = (f: DirectMessageStoreFixture, n: number) => Promise.all(Array.from({ length: n }, () => makeUser(f)));
    const open = async (f: DirectMessageStoreFixture, userId: bigint) => (await f.directMessages.listOpen(userId, { beforeChannelId: null, limit: 100 })).map((c) => c.id);
    const recipients = async (f: DirectMessageStoreFixture, channelId: bigint) => (await f.channels.getRecipients([channelId])).get(channelId) ?? [];
    async function group(f: DirectMessageStoreFixture, owner: UserRecord, others: UserRecord[]) {
      return f.channels.createGroupDirectMessage({ id: nextId(), ownerId: owner.id, userIds: [owner.id, ...others.map((o) => o.id)] });
    }

    describe("closing and reopening", () => {
      it("listOpen lists DMs and group DMs newest first, pages with beforeChannelId, and leaves out the ones the user closed", async (ctx) => {
        const f = stores(ctx);
        const [a, b, c, d] = await makeUsers(f, 4);
        const { channel: ab } = await f.channels.openDirectMessage(nextId(), a!.id, b!.id);
        const abc = await group(f, a!, [b!, c!]);
        const { channel: ad } = await f.channels.openDirectMessage(nextId(), d!.id, a!.id);
        expect(await open(f, a!.id)).toEqual([ad.id, abc.id, ab.id]);
        expect((await f.directMessages.listOpen(a!.id, { beforeChannelId: ad.id, limit: 1 })).map((ch) => ch.id)).toEqual([abc.id]);
        expect(await f.directMessages.listOpen(a!.id, { beforeChannelId: null, limit: 1 })).toEqual((await f.channels.getChannels([ad.id])));

        expect(await f.directMessages.setHidden(abc.id, a!.id, true)).toBe(true);
        expect(await f.directMessages.setHidden(abc.id, a!.id, true)).toBe(false);
        expect(await open(f, a!.id)).toEqual([ad.id, ab.id]);
        // Closing is the user's own: the others still list it.
        expect(await open(f, b!.id)).toEqual([abc.id, ab.id]);
        expect(await f.directMessages.setHidden(abc.id, a!.id, false)).toBe(true);
        expect(await open(f, a!.id)).toEqual([ad.id, abc.id, ab.id]);
        // Not a recipient: nothing to close.
        expect(await f.directMessages.setHidden(ab.id, c!.id, true)).toBe(false);
      });

      it("reopenForAll reopens for every recipient who closed the DM and says who they were; then nobody", async (ctx) => {
        const f = stores(ctx);
        const [a, b, c] = await makeUsers(f, 3);
        const abc = await group(f, a!, [b!, c!]);
        expect(await f.directMessages.reopenForAll(abc.id)).toEqual([]);
        await f.directMessages.setHidden(abc.id, a!.id, true);
        await f.directMessages.setHidden(abc.id, c!.id, true);
        expect(ascending(await f.directMessages.reopenForAll(abc.id))).toEqual(ascending([a!.id, c!.id]));
        expect(await open(f, a!.id)).toEqual([abc.id]);
        expect(await open(f, c!.id)).toEqual([abc.id]);
        expect(await f.directMessages.reopenForAll(abc.id)).toEqual([]);
        expect(await f.directMessages.reopenForAll(nextId())).toEqual([]);
      });
    });

    describe("group membership", () => {
      it("addRecipient adds up to the cap, once per user, and only to group DMs that exist", async (ctx) => {
        const f = stores(ctx);
        const [a, b, c, d, e] = await makeUsers(f, 5);
        const abc = await group(f, a!, [b!, c!]);
        const added = await f.directMessages.addRecipient(abc.id, d!.id, 4);
        expect(added).toMatchObject({ status: "added", channel: { id: abc.id, kind: "GROUP_DM", ownerId: a!.id } });
        expect(ascending((added as { recipientIds: bigint[] }).recipientIds)).toEqual(ascending([a!.id, b!.id, c!.id, d!.id]));
        expect(await f.directMessages.addRecipient(abc.id, d!.id, 4)).toEqual({ status: "already-recipient" });
        expect(await f.directMessages.addRecipient(abc.id, e!.id, 4)).toEqual({ status: "full", limit: 4 });
        expect(ascending(await recipients(f, abc.id))).toEqual(ascending([a!.id, b!.id, c!.id, d!.id]));
        expect(await open(f, d!.id)).toEqual([abc.id]);
        const { channel: ab } = await f.channels.openDirectMessage(nextId(), a!.id, b!.id);
        expect(await f.directMessages.addRecipient(ab.id, e!.id, 10)).toEqual({ status: "missing" });
        expect(await f.directMessages.addRecipient(nextId(), e!.id, 10)).toEqual({ status: "missing" });
        expect(await recipients(f, ab.id)).toEqual(ascending([a!.id, b!.id]));
      });

      it("concurrent adds cannot pass the cap together", async (ctx) => {
        const f = stores(ctx);
        const [a, b, ...more] = await makeUsers(f, 7);
        const ab = await group(f, a!, [b!]);
        const results = await Promise.all(more.map((u) => f.directMessages.addRecipient(ab.id, u.id, 4)));
        expect(results.filter((r) => r.status === "added")).toHaveLength(2);
        expect(results.filter((r) => r.status === "full")).toHaveLength(3);
        expect(await recipients(f, ab.id)).toHaveLength(4);
      });

      it("removeRecipient removes; the owner leaving passes the group to the longest-standing recipient; the last one out deletes it", async (ctx) => {
        const f = stores(ctx);
        const [a, b, c, d] = await makeUsers(f, 4);
        const abc = await group(f, a!, [b!, c!]);
        // d joins last, so after a, the earliest recipients are b and c (same instant: smaller id first).
        await f.directMessages.addRecipient(abc.id, d!.id, 10);
        const heir = ascending([b!.id, c!.id])[0]!;
        expect(await f.directMessages.removeRecipient(abc.id, d!.id)).toMatchObject({ status: "removed", channel: { ownerId: a!.id } });
        expect(await f.directMessages.removeRecipient(abc.id, d!.id)).toEqual({ status: "not-recipient" });
        const ownerLeft = await f.directMessages.removeRecipient(abc.id, a!.id);
        expect(ownerLeft).toMatchObject({ status: "removed", channel: { id: abc.id, ownerId: heir } });
        expect(ascending((ownerLeft as { recipientIds: bigint[] }).recipientIds)).toEqual(ascending([b!.id, c!.id]));
        expect((await f.channels.getChannels([abc.id]))[0]?.ownerId).toBe(heir);
        await f.directMessages.removeRecipient(abc.id, heir);
        const last = heir === b!.id ? c! : b!;
        expect((await f.channels.getChannels([abc.id]))[0]?.ownerId).toBe(last.id);
        expect(await f.directMessages.removeRecipient(abc.id, last.id)).toEqual({ status: "deleted" });
        expect(await f.channels.getChannels([abc.id])).toEqual([]);
        expect(await f.directMessages.removeRecipient(abc.id, last.id)).toEqual({ status: "not-recipient" });
      });

      it("removeRecipient does not touch one-to-one DMs", async (ctx) => {
        const f = stores(ctx);
        const [a, b] = await makeUsers(f, 2);
        const { channel: ab } = await f.channels.openDirectMessage(nextId(), a!.id, b!.id);
        expect(await f.directMessages.removeRecipient(ab.id, a!.id)).toEqual({ status: "not-recipient" });
        expect(await recipients(f, ab.id)).toEqual(ascending([a!.id, b!.id]));
      });

      it("rename names a group DM, null clears it; one-to-one DMs and unknown ids give null", async (ctx) => {
        const f = stores(ctx);
        const [a, b, c] = await makeUsers(f, 3);
        const abc = await group(f, a!, [b!, c!]);
        expect(await f.directMessages.rename(abc.id, "Night owls 🦉")).toMatchObject({ id: abc.id, name: "Night owls 🦉" });
        expect((await f.channels.getChannels([abc.id]))[0]?.name).toBe("Night owls 🦉");
        expect(await f.directMessages.rename(abc.id, null)).toMatchObject({ id: abc.id, name: null });
        const { channel: ab } = await f.channels.openDirectMessage(nextId(), a!.id, b!.id);
        expect(await f.directMessages.rename(ab.id, "nope")).toBeNull();
        expect((await f.channels.getChannels([ab.id]))[0]?.name).toBeNull();
        expect(await f.directMessages.rename(nextId(), "nope")).toBeNull();
      });
    });
  });
}
