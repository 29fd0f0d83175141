import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/stores/prisma/database.js";
import { ending, eventually, expectError, type User } from "../support/assertions.js";
import { openTestPglite } from "../support/databases.js";
import { befriend, guildOf } from "../support/people.js";
import { startTestServer, subscribe, waitForSubscribers, type Subscription, type TestServer } from "../support/server.js";

/**
 * Who may DM whom, over real HTTP and graphql-ws: strangers may not (by default friends and
 * guildmates may), `allowDirectMessagesFrom` narrows or widens it, a block closes even an old DM
 * without saying who blocked whom, group DMs hold only the creator's friends. Every refusal writes
 * nothing (no channel, no message).
 */

const OPEN_DM = `mutation($u: [ID!]!) { openDirectMessage(userIds: $u) { id kind recipients { id } } }`;
const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;
const TYPE = `mutation($c: ID!) { startTyping(channelId: $c) }`;
const HISTORY = `query($c: ID!) { channel(id: $c) { messages { edges { node { content } } } } }`;
const SET_POLICY = `mutation($p: DirectMessagePolicy!) { updateSettings(input: { allowDirectMessagesFrom: $p }) { allowDirectMessagesFrom } }`;
const BLOCK = `mutation($u: ID!) { blockUser(userId: $u) { type } }`;
const UNBLOCK = `mutation($u: ID!) { unblockUser(userId: $u) }`;

let server: TestServer;
let database: Database;
beforeAll(async () => {
  database = await openTestPglite();
  server = await startTestServer({ database, warmUp: true });
}, 120_000);
afterAll(() => server?.close());

const ok = <T = any>(query: string, variables: Record<string, unknown>, token: string): Promise<T> => server.ok<T>(query, variables, token);
const openDm = async (from: User, to: User): Promise<string> => (await ok(OPEN_DM, { u: [to.id] }, from.token)).openDirectMessage.id;
const history = async (channelId: string, viewer: User): Promise<string[]> =>
  (await ok(HISTORY, { c: channelId }, viewer.token)).channel.messages.edges.map((e: { node: { content: string } }) => e.node.content);
const channelsOf = (user: User) => database.prisma.channelRecipient.count({ where: { userId: BigInt(user.id) } });
const REFUSED = /you may not share a guild with them, or they accept direct messages only from friends/;

describe("who may open a DM", () => {
  it("refuses a stranger (no shared guild, not a friend) and creates nothing", async () => {
    const [ada, eve] = await Promise.all([server.signUp("ada"), server.signUp("eve")]);
    expectError(await server.gql(OPEN_DM, { u: [ada.id] }, eve.token), "FORBIDDEN", REFUSED);
    expect(await channelsOf(ada)).toBe(0);
    expect(await channelsOf(eve)).toBe(0);
  });

  it("lets friends and guildmates in by default; FRIENDS keeps guildmates out, EVERYONE lets strangers in", async () => {
    const [ada, friend, mate, stranger] = await Promise.all([server.signUp("ada"), server.signUp("friend"), server.signUp("mate"), server.signUp("stranger")]);
    await befriend(server, ada, friend);
    await guildOf(server, ada, [mate]);
    expect(await ok(`{ me { settings { allowDirectMessagesFrom } } }`, {}, ada.token)).toEqual({ me: { settings: { allowDirectMessagesFrom: "GUILD_MEMBERS" } } });
    await openDm(friend, ada);
    const mateDm = await openDm(mate, ada);

    expect((await ok(SET_POLICY, { p: "FRIENDS" }, ada.token)).updateSettings).toEqual({ allowDirectMessagesFrom: "FRIENDS" });
    expectError(await server.gql(OPEN_DM, { u: [ada.id] }, mate.token), "FORBIDDEN", REFUSED);
    // It is checked at every send, so an existing DM closes too; friends still get through.
    expectError(await server.gql(SEND, { c: mateDm, t: "still there?" }, mate.token), "FORBIDDEN", /Your message could not be delivered/);
    expect(await history(mateDm, ada)).toEqual([]);
    await openDm(friend, ada);
    // The one who set it may still write to them (their setting is about receiving).
    expect((await server.gql(SEND, { c: mateDm, t: "hello from ada" }, ada.token)).errors).toBeUndefined();

    await ok(SET_POLICY, { p: "EVERYONE" }, ada.token);
    await openDm(stranger, ada);
    expect((await ok(`{ me { settings { allowDirectMessagesFrom } } }`, {}, ada.token)).me.settings.allowDirectMessagesFrom).toBe("EVERYONE");
    expectError(await server.gql(`mutation { updateSettings(input: {}) { allowDirectMessagesFrom } }`, {}, ada.token), "BAD_USER_INPUT", /Give a setting/, "allowDirectMessagesFrom");
  });

  it("closes a guildmates' DM when they stop sharing a guild", async () => {
    const [ada, bob] = await Promise.all([server.signUp("ada"), server.signUp("bob")]);
    const { guildId } = await guildOf(server, ada, [bob]);
    const dm = await openDm(bob, ada);
    await ok(SEND, { c: dm, t: "while we share a guild" }, bob.token);
    await ok(`mutation($g: ID!) { leaveGuild(guildId: $g) }`, { g: guildId }, bob.token);
    expectError(await server.gql(SEND, { c: dm, t: "after leaving" }, bob.token), "FORBIDDEN", /could not be delivered/);
    expect(await history(dm, ada)).toEqual(["while we share a guild"]);
  });

  it("group DMs may only include your friends", async () => {
    const [ada, friend, mate] = await Promise.all([server.signUp("ada"), server.signUp("friend"), server.signUp("mate")]);
    await befriend(server, ada, friend);
    await guildOf(server, ada, [mate]);
    const refused = await server.gql(OPEN_DM, { u: [friend.id, mate.id] }, ada.token);
    expectError(refused, "FORBIDDEN", new RegExp(`may only include your friends; not your friends: ${mate.username}\\.$`));
    expect(await channelsOf(friend)).toBe(0);
    const friend2 = await server.signUp("friend");
    await befriend(server, ada, friend2);
    expect((await ok(OPEN_DM, { u: [friend.id, friend2.id] }, ada.token)).openDirectMessage.kind).toBe("GROUP_DM");
  });
});

describe("blocks and DMs", () => {
  it("a blocked user cannot DM at all: not a new DM, not into an old one, not even typing; the message does not say who blocked", async () => {
    const [ada, bob] = await Promise.all([server.signUp("ada"), server.signUp("bob")]);
    await befriend(server, ada, bob);
    const dm = await openDm(bob, ada);
    await ok(SEND, { c: dm, t: "before" }, bob.token);
    await ok(BLOCK, { u: bob.id }, ada.token);

    for (const res of [await server.gql(SEND, { c: dm, t: "after" }, bob.token), await server.gql(TYPE, { c: dm }, bob.token), await server.gql(OPEN_DM, { u: [ada.id] }, bob.token)]) {
      expectError(res, "FORBIDDEN", REFUSED);
      expect(res.errors![0]!.message).not.toMatch(/block/i);
    }
    // The blocker is reminded that it is their own block.
    expectError(await server.gql(SEND, { c: dm, t: "ada writes" }, ada.token), "FORBIDDEN", /You blocked bob.*unblock them to send them messages/);
    expectError(await server.gql(OPEN_DM, { u: [bob.id] }, ada.token), "FORBIDDEN", /You blocked bob.*unblock them to open a DM/);
    // Even a policy of EVERYONE does not let a blocked user in.
    await ok(SET_POLICY, { p: "EVERYONE" }, ada.token);
    expectError(await server.gql(SEND, { c: dm, t: "now?" }, bob.token), "FORBIDDEN", REFUSED);
    expect(await history(dm, ada)).toEqual(["before"]);
    // History stays readable to both.
    expect(await history(dm, bob)).toEqual(["before"]);

    await ok(UNBLOCK, { u: bob.id }, ada.token);
    expect((await server.gql(SEND, { c: dm, t: "after unblock" }, bob.token)).errors).toBeUndefined();
  });

  it("a blocked user cannot add the blocker to a group DM (only friends can be added, and a block ends the friendship)", async () => {
    const [ada, bob, cy] = await Promise.all([server.signUp("ada"), server.signUp("bob"), server.signUp("cy")]);
    await befriend(server, bob, ada, cy);
    const group = (await ok(OPEN_DM, { u: [cy.id, ada.id] }, bob.token)).openDirectMessage.id;
    await ok(`mutation($c: ID!) { leaveGroupDirectMessage(channelId: $c) }`, { c: group }, ada.token);
    await ok(BLOCK, { u: bob.id }, ada.token);
    expectError(await server.gql(OPEN_DM, { u: [cy.id, ada.id] }, bob.token), "FORBIDDEN", /not your friends/);
    const add = `mutation($c: ID!, $u: ID!) { addGroupRecipient(input: { channelId: $c, userId: $u }) { id } }`;
    expectError(await server.gql(add, { c: group, u: ada.id }, bob.token), "FORBIDDEN", /Only your friends can be added/);
    expect(await channelsOf(ada)).toBe(0);
  });

  it("messages in a shared guild channel stay visible to the blocked user", async () => {
    const [ada, bob] = await Promise.all([server.signUp("ada"), server.signUp("bob")]);
    const { channelId } = await guildOf(server, ada, [bob]);
    await ok(BLOCK, { u: bob.id }, ada.token);
    await ok(SEND, { c: channelId, t: "announcement" }, ada.token);
    expect(await history(channelId, bob)).toContain("announcement");
  });
});

describe("closing DMs", () => {
  const MY_DMS = `{ me { directMessages { id } } }`;
  const CLOSE = `mutation($c: ID!) { closeDirectMessage(channelId: $c) }`;
  const EVENTS = `subscription { userEvents { __typename ... on DirectMessageClosed { channelId } ... on DirectMessageOpened { channel { id } } } }`;
  const myDms = async (user: User) => (await ok(MY_DMS, {}, user.token)).me.directMessages.map((c: { id: string }) => c.id);

  it("hides a DM until a new message arrives in it, telling your other sessions both times", async () => {
    const [ada, bob] = await Promise.all([server.signUp("ada"), server.signUp("bob")]);
    await befriend(server, ada, bob);
    const dm = await openDm(ada, bob);
    const adaElsewhere = subscribe(server.ws(ada.token), EVENTS);
    await waitForSubscribers(server, `user:${ada.id}`);
    expect((await ok(CLOSE, { c: dm }, ada.token)).closeDirectMessage).toBe(true);
    expect((await ok(CLOSE, { c: dm }, ada.token)).closeDirectMessage).toBe(true);
    expect(await myDms(ada)).toEqual([]);
    expect(await myDms(bob)).toEqual([dm]);
    await ok(SEND, { c: dm, t: "you there?" }, bob.token);
    expect(await myDms(ada)).toEqual([dm]);
    await eventually(() =>
      expect(adaElsewhere.received.map((r) => r.data?.userEvents)).toEqual([
        { __typename: "DirectMessageClosed", channelId: dm },
        { __typename: "DirectMessageOpened", channel: { id: dm } },
      ]),
    );
    // Opening it yourself brings it back too.
    await ok(CLOSE, { c: dm }, ada.token);
    await openDm(ada, bob);
    expect(await myDms(ada)).toEqual([dm]);
  });

  it("refuses guild channels with BAD_USER_INPUT and others' DMs with NOT_FOUND", async () => {
    const [ada, bob, eve] = await Promise.all([server.signUp("ada"), server.signUp("bob"), server.signUp("eve")]);
    await befriend(server, ada, bob);
    const dm = await openDm(ada, bob);
    const { channelId } = await guildOf(server, ada);
    expectError(await server.gql(CLOSE, { c: channelId }, ada.token), "BAD_USER_INPUT", /Only DMs and group DMs can be closed/, "channelId");
    expectError(await server.gql(CLOSE, { c: dm }, eve.token), "NOT_FOUND", /not found/);
    expect(await myDms(bob)).toEqual([dm]);
  });
});

describe("group DMs after creation", () => {
  let small: TestServer;
  beforeAll(async () => {
    small = await startTestServer({ env: { MAX_GROUP_DM_MEMBERS: "4" } });
  }, 120_000);
  afterAll(() => small?.close());

  const CHANNEL_EVENTS = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageCreated { message { content } } } }`;
  const USER_EVENTS = `subscription { userEvents {
    __typename
    ... on DirectMessageOpened { channel { id } }
    ... on GroupRecipientAdded { channelId user { id } }
    ... on GroupRecipientRemoved { channelId user { id } reason }
    ... on DirectMessageUpdated { channel { id name } }
  } }`;
  const ADD = `mutation($c: ID!, $u: ID!) { addGroupRecipient(input: { channelId: $c, userId: $u }) { id recipients { id } } }`;
  const REMOVE = `mutation($c: ID!, $u: ID!) { removeGroupRecipient(input: { channelId: $c, userId: $u }) { id recipients { id } } }`;
  const LEAVE = `mutation($c: ID!) { leaveGroupDirectMessage(channelId: $c) }`;
  const RENAME = `mutation($c: ID!, $n: String) { renameGroupDirectMessage(input: { channelId: $c, name: $n }) { id name } }`;
  const sok = <T = any>(query: string, variables: Record<string, unknown>, token: string): Promise<T> => small.ok<T>(query, variables, token);
  const eventsOf = (sub: Subscription) => sub.received.map((r) => r.data?.userEvents).filter((e) => e?.__typename !== "RelationshipChanged" && e?.__typename !== "PresenceUpdated");

  async function groupOf(owner: User, members: User[]): Promise<string> {
    await befriend(small, owner, ...members);
    return (await sok(OPEN_DM, { u: members.map((m) => m.id) }, owner.token)).openDirectMessage.id;
  }

  it("the owner adds a friend: they hear DirectMessageOpened, the others GroupRecipientAdded; never past the cap", async () => {
    const [ada, bob, cy, dee, eve] = [await small.signUp("ada"), await small.signUp("bob"), await small.signUp("cy"), await small.signUp("dee"), await small.signUp("eve")];
    const group = await groupOf(ada, [bob, cy]);
    await befriend(small, ada, dee, eve);
    const [bobLive, deeLive] = [subscribe(small.ws(bob.token), USER_EVENTS), subscribe(small.ws(dee.token), USER_EVENTS)];
    await waitForSubscribers(small, `user:${bob.id}`);
    await waitForSubscribers(small, `user:${dee.id}`);
    const added = (await sok(ADD, { c: group, u: dee.id }, ada.token)).addGroupRecipient;
    expect(added.recipients).toHaveLength(4);
    await eventually(() => expect(eventsOf(bobLive)).toEqual([{ __typename: "GroupRecipientAdded", channelId: group, user: { id: dee.id } }]));
    await eventually(() => expect(eventsOf(deeLive)).toEqual([{ __typename: "DirectMessageOpened", channel: { id: group } }]));
    const full = await small.gql(ADD, { c: group, u: eve.id }, ada.token);
    expectError(full, "LIMIT_EXCEEDED", /at most 4 people/);
    expect(full.errors![0]!.extensions).toMatchObject({ resource: "groupDmMembers", limit: 4, setting: "MAX_GROUP_DM_MEMBERS" });
    expectError(await small.gql(ADD, { c: group, u: dee.id }, ada.token), "CONFLICT", /already in this group DM/);
    expectError(await small.gql(ADD, { c: group, u: eve.id }, bob.token), "FORBIDDEN", /Only the group DM's owner/);
  });

  it("only friends of the owner can be added, and only by the owner, to a group DM", async () => {
    const [ada, bob, cy, stranger] = [await small.signUp("ada"), await small.signUp("bob"), await small.signUp("cy"), await small.signUp("stranger")];
    const group = await groupOf(ada, [bob, cy]);
    expectError(await small.gql(ADD, { c: group, u: stranger.id }, ada.token), "FORBIDDEN", /Only your friends can be added/);
    expectError(await small.gql(ADD, { c: group, u: "123456789" }, ada.token), "NOT_FOUND", /User 123456789 not found/);
    expectError(await small.gql(ADD, { c: group, u: ada.id }, ada.token), "BAD_USER_INPUT", /someone other than you/, "userId");
    const { channelId } = await guildOf(small, ada);
    expectError(await small.gql(ADD, { c: channelId, u: bob.id }, ada.token), "BAD_USER_INPUT", /Only group DMs/, "channelId");
    expectError(await small.gql(ADD, { c: group, u: bob.id }, stranger.token), "NOT_FOUND", /not found/);
    expect((await small.ok(`query($c: ID!) { channel(id: $c) { recipients { id } } }`, { c: group }, ada.token)).channel.recipients).toHaveLength(3);
  });

  it("leaving ends your live channelEvents on it, tells the others, and passes ownership on", async () => {
    const [ada, bob, cy] = [await small.signUp("ada"), await small.signUp("bob"), await small.signUp("cy")];
    const group = await groupOf(ada, [bob, cy]);
    const adaStream = subscribe(small.ws(ada.token), CHANNEL_EVENTS, { c: group });
    const bobLive = subscribe(small.ws(bob.token), USER_EVENTS);
    await waitForSubscribers(small, `channel:${group}`);
    await waitForSubscribers(small, `user:${bob.id}`);
    expect((await sok(LEAVE, { c: group }, ada.token)).leaveGroupDirectMessage).toBe(true);
    expectError(await ending(adaStream), "FORBIDDEN", /You left this group DM/);
    await eventually(() => expect(eventsOf(bobLive).map((e) => e.__typename)).toEqual(["GroupRecipientRemoved", "DirectMessageUpdated"]));
    expect(eventsOf(bobLive)[0]).toEqual({ __typename: "GroupRecipientRemoved", channelId: group, user: { id: ada.id }, reason: "LEFT" });
    expectError(await small.gql(SEND, { c: group, t: "still here?" }, ada.token), "NOT_FOUND", /not found/);
    expectError(await small.gql(LEAVE, { c: group }, ada.token), "NOT_FOUND", /not found/);
    // The longest-standing recipient owns it now (the two joined together: the smaller id).
    const heir = [bob, cy].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))[0]!;
    const other = heir === bob ? cy : bob;
    expectError(await small.gql(RENAME, { c: group, n: "Mine now" }, other.token), "FORBIDDEN", /Only the group DM's owner can rename it/);
    expect((await sok(RENAME, { c: group, n: "Mine now" }, heir.token)).renameGroupDirectMessage).toEqual({ id: group, name: "Mine now" });
    await sok(SEND, { c: group, t: "the two of us" }, bob.token);
  });

  it("the owner removes someone: their stream ends, everyone hears it; the last one out deletes the group", async () => {
    const [ada, bob, cy] = [await small.signUp("ada"), await small.signUp("bob"), await small.signUp("cy")];
    const group = await groupOf(ada, [bob, cy]);
    const bobStream = subscribe(small.ws(bob.token), CHANNEL_EVENTS, { c: group });
    const cyLive = subscribe(small.ws(cy.token), USER_EVENTS);
    await waitForSubscribers(small, `channel:${group}`);
    await waitForSubscribers(small, `user:${cy.id}`);
    expectError(await small.gql(REMOVE, { c: group, u: cy.id }, bob.token), "FORBIDDEN", /Only the group DM's owner/);
    expectError(await small.gql(REMOVE, { c: group, u: ada.id }, ada.token), "BAD_USER_INPUT", /leave the group DM/, "userId");
    expect((await sok(REMOVE, { c: group, u: bob.id }, ada.token)).removeGroupRecipient.recipients).toHaveLength(2);
    expectError(await ending(bobStream), "FORBIDDEN", /You were removed from this group DM/);
    await eventually(() => expect(eventsOf(cyLive)).toEqual([{ __typename: "GroupRecipientRemoved", channelId: group, user: { id: bob.id }, reason: "REMOVED" }]));
    expectError(await small.gql(REMOVE, { c: group, u: bob.id }, ada.token), "NOT_FOUND", /in this group DM not found/);

    await sok(SEND, { c: group, t: "soon gone" }, ada.token);
    await sok(LEAVE, { c: group }, cy.token);
    await sok(LEAVE, { c: group }, ada.token);
    expect(await small.app.services.channels.getChannels([BigInt(group)])).toEqual([]);
    // Its history went with it.
    expect(await small.app.services.messages.page(BigInt(group), { limit: 10, from: "newest" })).toEqual([]);
  });

  it("renames: the owner names it (null clears it) and every recipient hears it; bad names are refused", async () => {
    const [ada, bob, cy] = [await small.signUp("ada"), await small.signUp("bob"), await small.signUp("cy")];
    const group = await groupOf(ada, [bob, cy]);
    const cyLive = subscribe(small.ws(cy.token), USER_EVENTS);
    await waitForSubscribers(small, `user:${cy.id}`);
    expect((await sok(RENAME, { c: group, n: "  Night owls 🦉 " }, ada.token)).renameGroupDirectMessage).toEqual({ id: group, name: "Night owls 🦉" });
    await eventually(() => expect(eventsOf(cyLive).map((e) => e.channel?.name)).toEqual(["Night owls 🦉"]));
    expectError(await small.gql(RENAME, { c: group, n: "two\nlines" }, ada.token), "BAD_USER_INPUT", /name/, "name");
    expectError(await small.gql(RENAME, { c: group, n: "x".repeat(101) }, ada.token), "BAD_USER_INPUT", /name must be 1 to 100/, "name");
    expect((await sok(RENAME, { c: group, n: null }, ada.token)).renameGroupDirectMessage.name).toBeNull();
    const dm = (await sok(OPEN_DM, { u: [bob.id] }, ada.token)).openDirectMessage.id;
    expectError(await small.gql(RENAME, { c: dm, n: "nope" }, ada.token), "BAD_USER_INPUT", /Only group DMs/, "channelId");
  });
});
