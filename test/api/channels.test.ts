import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/stores/prisma/database.js";
import { openTestPglite } from "../support/databases.js";
import { startTestServer, subscribe, waitForSubscribers, type TestServer } from "../support/server.js";
import { ending, expectError, type User } from "../support/assertions.js";
import { befriend } from "../support/people.js";

/**
 * Guild text channels and direct messages over real HTTP and graphql-ws: creation, renaming,
 * ordering, deletion (with live subscribers), visibility, and DMs / group DMs. Every rejected
 * call is followed by a read showing nothing changed.
 */

const CREATE_GUILD = `mutation($n: String!) { createGuild(input: { name: $n }) { id channels { id } } }`;
const CREATE_INVITE = `mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`;
const JOIN = `mutation($code: String!) { joinGuild(code: $code) { id } }`;
const CHANNELS = `query($g: ID!) { guild(id: $g) { channels { id name position kind } } }`;
const CREATE_CHANNEL = `mutation($g: ID!, $n: String!) { createChannel(input: { guildId: $g, name: $n }) { id name position kind guild { id } } }`;
const UPDATE_CHANNEL = `mutation($c: ID!, $n: String, $p: Int) { updateChannel(input: { channelId: $c, name: $n, position: $p }) { id name position } }`;
const DELETE_CHANNEL = `mutation($c: ID!) { deleteChannel(channelId: $c) }`;
const CHANNEL = `query($c: ID!) { channel(id: $c) { id kind name guild { id } recipients { id } } }`;
const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;
const HISTORY = `query($c: ID!) { channel(id: $c) { messages { edges { node { content author { id } } } } } }`;
const OPEN_DM = `mutation($u: [ID!]!) { openDirectMessage(userIds: $u) { id kind name guild { id } recipients { id } } }`;
const CHANNEL_EVENTS = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageCreated { message { content } } } }`;
const GUILD_EVENTS = `subscription($g: ID!) { guildEvents(guildId: $g) { __typename ... on ChannelDeleted { channelId guildId } } }`;
const USER_EVENTS = `subscription { userEvents { __typename ... on DirectMessageOpened { channel { id kind } } } }`;

const sortIds = (ids: string[]) => [...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));

describe("channels and direct messages", () => {
  let server: TestServer;
  let database: Database;
  beforeAll(async () => {
    database = await openTestPglite();
    server = await startTestServer({ database, warmUp: true });
  });
  afterAll(() => server?.close());

  const ok = <T = any>(query: string, variables: Record<string, unknown>, token: string): Promise<T> => server.ok<T>(query, variables, token);

  /** A guild owned by `owner` with `members` joined; `general` is its first channel. */
  async function guildWith(owner: User, members: User[] = []) {
    const created = (await ok(CREATE_GUILD, { n: "Channel Tests" }, owner.token)).createGuild;
    if (members.length > 0) {
      const code = (await ok(CREATE_INVITE, { g: created.id }, owner.token)).createInvite.code;
      for (const member of members) await ok(JOIN, { code }, member.token);
    }
    return { id: created.id as string, general: created.channels[0].id as string };
  }

  async function channelsOf(guildId: string, token: string): Promise<{ id: string; name: string; position: number }[]> {
    return (await ok(CHANNELS, { g: guildId }, token)).guild.channels.map(({ id, name, position }: any) => ({ id, name, position }));
  }

  async function addChannel(guildId: string, name: string, token: string): Promise<string> {
    return (await ok(CREATE_CHANNEL, { g: guildId, n: name }, token)).createChannel.id;
  }

  describe("createChannel", () => {
    it("normalises the name, appends the channel and lists it in order", async () => {
      const ada = await server.signUp("ada");
      const guild = await guildWith(ada);
      const offTopic = (await ok(CREATE_CHANNEL, { g: guild.id, n: "Off Topic" }, ada.token)).createChannel;
      expect(offTopic).toMatchObject({ name: "off-topic", position: 1, kind: "GUILD_TEXT", guild: { id: guild.id } });
      const spaced = (await ok(CREATE_CHANNEL, { g: guild.id, n: "  Release   Notes\u00a0 2026 " }, ada.token)).createChannel;
      expect(spaced).toMatchObject({ name: "release-notes-2026", position: 2 });
      const unicode = (await ok(CREATE_CHANNEL, { g: guild.id, n: "Café_Ünïcode" }, ada.token)).createChannel;
      expect(unicode.name).toBe("café_ünïcode");
      expect(await channelsOf(guild.id, ada.token)).toEqual([
        { id: guild.general, name: "general", position: 0 },
        { id: offTopic.id, name: "off-topic", position: 1 },
        { id: spaced.id, name: "release-notes-2026", position: 2 },
        { id: unicode.id, name: "café_ünïcode", position: 3 },
      ]);
    });

    it.each([
      ["a #", "off#topic", /only letters, digits/],
      ["a slash", "a/b", /only letters, digits/],
      ["an emoji", "party🎉", /only letters, digits/],
      ["a dot", "v1.2", /only letters, digits/],
      ["101 characters", "c".repeat(101), /1 to 100/],
      ["nothing but spaces", "    ", /1 to 100/],
      ["an empty string", "", /1 to 100/],
      ["a line break", "two\nlines", /line breaks|only letters/],
    ])("rejects a name with %s with BAD_USER_INPUT name and creates nothing", async (_label, name, message) => {
      const ada = await server.signUp("ada");
      const guild = await guildWith(ada);
      expectError(await server.gql(CREATE_CHANNEL, { g: guild.id, n: name }, ada.token), "BAD_USER_INPUT", message, "name");
      expect(await channelsOf(guild.id, ada.token)).toEqual([{ id: guild.general, name: "general", position: 0 }]);
    });

    it("answers FORBIDDEN to a member who is not the owner, NOT_FOUND to a non-member, BAD_USER_INPUT to a malformed guildId", async () => {
      const ada = await server.signUp("ada");
      const bob = await server.signUp("bob");
      const eve = await server.signUp("eve");
      const guild = await guildWith(ada, [bob]);
      expectError(await server.gql(CREATE_CHANNEL, { g: guild.id, n: "bobs" }, bob.token), "FORBIDDEN", /MANAGE_CHANNELS permission to create channels/);
      expectError(await server.gql(CREATE_CHANNEL, { g: guild.id, n: "eves" }, eve.token), "NOT_FOUND", new RegExp(`Guild ${guild.id} not found`));
      expectError(await server.gql(CREATE_CHANNEL, { g: "#general", n: "x" }, ada.token), "BAD_USER_INPUT", /must be an id/, "guildId");
      expect(await channelsOf(guild.id, ada.token)).toEqual([{ id: guild.general, name: "general", position: 0 }]);
    });
  });

  describe("updateChannel", () => {
    it("renames with the same normalisation", async () => {
      const ada = await server.signUp("ada");
      const guild = await guildWith(ada);
      const updated = (await ok(UPDATE_CHANNEL, { c: guild.general, n: "Main Hall" }, ada.token)).updateChannel;
      expect(updated).toEqual({ id: guild.general, name: "main-hall", position: 0 });
      expect(await channelsOf(guild.id, ada.token)).toEqual([{ id: guild.general, name: "main-hall", position: 0 }]);
    });

    it("moves a channel: the others shift, positions stay dense 0..n-1 and the list follows them", async () => {
      const ada = await server.signUp("ada");
      const guild = await guildWith(ada);
      const a = await addChannel(guild.id, "a", ada.token);
      const b = await addChannel(guild.id, "b", ada.token);
      const c = await addChannel(guild.id, "c", ada.token);
      const order = async () => (await channelsOf(guild.id, ada.token)).map(({ id, position }) => [id, position]);

      expect((await ok(UPDATE_CHANNEL, { c, p: 0 }, ada.token)).updateChannel).toEqual({ id: c, name: "c", position: 0 });
      expect(await order()).toEqual([[c, 0], [guild.general, 1], [a, 2], [b, 3]]);

      // Beyond the end: the channel goes last.
      expect((await ok(UPDATE_CHANNEL, { c: guild.general, p: 99 }, ada.token)).updateChannel.position).toBe(3);
      expect(await order()).toEqual([[c, 0], [a, 1], [b, 2], [guild.general, 3]]);

      // Rename and move in one call; moving to its own place changes nothing else.
      expect((await ok(UPDATE_CHANNEL, { c: b, n: "Bee", p: 1 }, ada.token)).updateChannel).toEqual({ id: b, name: "bee", position: 1 });
      expect(await order()).toEqual([[c, 0], [b, 1], [a, 2], [guild.general, 3]]);
      expect((await ok(UPDATE_CHANNEL, { c: a, p: 2 }, ada.token)).updateChannel.position).toBe(2);
      expect(await order()).toEqual([[c, 0], [b, 1], [a, 2], [guild.general, 3]]);
    });

    it("rejects a call without name or position, a bad name and a negative position with BAD_USER_INPUT, changing nothing", async () => {
      const ada = await server.signUp("ada");
      const guild = await guildWith(ada);
      const second = await addChannel(guild.id, "second", ada.token);
      const before = await channelsOf(guild.id, ada.token);
      expectError(await server.gql(UPDATE_CHANNEL, { c: second }, ada.token), "BAD_USER_INPUT", /Give something to change/, "name");
      expectError(await server.gql(UPDATE_CHANNEL, { c: second, n: null, p: null }, ada.token), "BAD_USER_INPUT", /Give something to change/, "name");
      expectError(await server.gql(UPDATE_CHANNEL, { c: second, n: "bad name!" }, ada.token), "BAD_USER_INPUT", /only letters, digits/, "name");
      expectError(await server.gql(UPDATE_CHANNEL, { c: second, n: "" }, ada.token), "BAD_USER_INPUT", /1 to 100/, "name");
      expectError(await server.gql(UPDATE_CHANNEL, { c: second, p: -1 }, ada.token), "BAD_USER_INPUT", /position must be an integer/, "position");
      expectError(await server.gql(UPDATE_CHANNEL, { c: second, n: "fine", p: -1 }, ada.token), "BAD_USER_INPUT", /position/, "position");
      expectError(await server.gql(UPDATE_CHANNEL, { c: "general", n: "fine" }, ada.token), "BAD_USER_INPUT", /must be an id/, "channelId");
      expect(await channelsOf(guild.id, ada.token)).toEqual(before);
    });

    it("answers FORBIDDEN to a member who is not the owner and NOT_FOUND to a non-member, changing nothing", async () => {
      const ada = await server.signUp("ada");
      const bob = await server.signUp("bob");
      const eve = await server.signUp("eve");
      const guild = await guildWith(ada, [bob]);
      const second = await addChannel(guild.id, "second", ada.token);
      const before = await channelsOf(guild.id, ada.token);
      expectError(await server.gql(UPDATE_CHANNEL, { c: second, n: "bobs", p: 0 }, bob.token), "FORBIDDEN", /MANAGE_CHANNELS permission in this channel to edit it/);
      expectError(await server.gql(UPDATE_CHANNEL, { c: second, n: "eves" }, eve.token), "NOT_FOUND", new RegExp(`Channel ${second} not found`));
      expect(await channelsOf(guild.id, ada.token)).toEqual(before);
    });
  });

  describe("deleteChannel", () => {
    it("answers FORBIDDEN to a member who is not the owner and NOT_FOUND to a non-member; the channel and its messages stay", async () => {
      const ada = await server.signUp("ada");
      const bob = await server.signUp("bob");
      const eve = await server.signUp("eve");
      const guild = await guildWith(ada, [bob]);
      await ok(SEND, { c: guild.general, t: "still here" }, bob.token);
      expectError(await server.gql(DELETE_CHANNEL, { c: guild.general }, bob.token), "FORBIDDEN", /MANAGE_CHANNELS permission in this channel to delete it/);
      expectError(await server.gql(DELETE_CHANNEL, { c: guild.general }, eve.token), "NOT_FOUND", /not found/);
      expectError(await server.gql(DELETE_CHANNEL, { c: "x1" }, ada.token), "BAD_USER_INPUT", /must be an id/, "channelId");
      expect((await ok(HISTORY, { c: guild.general }, bob.token)).channel.messages.edges).toEqual([{ node: { content: "still here", author: { id: bob.id } } }]);
      expect(await channelsOf(guild.id, bob.token)).toEqual([{ id: guild.general, name: "general", position: 0 }]);
    });

    it("keeps positions dense after a channel is deleted, and appends new channels right after the last", async () => {
      const ada = await server.signUp("ada");
      const guild = await guildWith(ada);
      const a = await addChannel(guild.id, "a", ada.token);
      const b = await addChannel(guild.id, "b", ada.token);
      await ok(DELETE_CHANNEL, { c: a }, ada.token);
      const d = (await ok(CREATE_CHANNEL, { g: guild.id, n: "d" }, ada.token)).createChannel;
      const list = await channelsOf(guild.id, ada.token);
      expect(list.map((ch) => ch.id)).toEqual([guild.general, b, d.id]);
      expect(list.map((ch) => ch.position)).toEqual([0, 1, 2]);
      expect(d.position).toBe(2);
    });

    it("by the owner ends channelEvents with NOT_FOUND, tells guildEvents ChannelDeleted and removes the history", async () => {
      const ada = await server.signUp("ada");
      const bob = await server.signUp("bob");
      const guild = await guildWith(ada, [bob]);
      const doomed = await addChannel(guild.id, "doomed", ada.token);
      await ok(SEND, { c: doomed, t: "last words" }, bob.token);

      const channelSub = subscribe(server.ws(bob.token), CHANNEL_EVENTS, { c: doomed });
      const guildSub = subscribe(server.ws(bob.token), GUILD_EVENTS, { g: guild.id });
      await waitForSubscribers(server, `channel:${doomed}`, 1);
      await waitForSubscribers(server, `guild:${guild.id}`, 1);

      expect(await ok(DELETE_CHANNEL, { c: doomed }, ada.token)).toEqual({ deleteChannel: true });
      expectError(await ending(channelSub), "NOT_FOUND", new RegExp(`Channel ${doomed} not found`));
      await expect(channelSub.completed).resolves.toBeUndefined();
      const [event] = await guildSub.waitFor(1);
      expect(event!.data).toEqual({ guildEvents: { __typename: "ChannelDeleted", channelId: doomed, guildId: guild.id } });

      for (const user of [ada, bob]) expectError(await server.gql(CHANNEL, { c: doomed }, user.token), "NOT_FOUND", /not found/);
      expectError(await server.gql(SEND, { c: doomed, t: "hello?" }, bob.token), "NOT_FOUND", /not found/);
      expectError(await server.gql(DELETE_CHANNEL, { c: doomed }, ada.token), "NOT_FOUND", /not found/);
      expect((await channelsOf(guild.id, ada.token)).map((c) => c.id)).toEqual([guild.general]);
      expect(await database.prisma.message.count({ where: { channelId: BigInt(doomed) } })).toBe(0);
      // The guild's other subscription is still live.
      expect(guildSub.received).toHaveLength(1);
    });
  });

  describe("channel(id)", () => {
    it("answers NOT_FOUND to a non-member, as for an unknown id, and BAD_USER_INPUT id to a malformed one", async () => {
      const ada = await server.signUp("ada");
      const eve = await server.signUp("eve");
      const guild = await guildWith(ada);
      expectError(await server.gql(CHANNEL, { c: guild.general }, eve.token), "NOT_FOUND", new RegExp(`^Channel ${guild.general} not found\\.$`));
      expectError(await server.gql(CHANNEL, { c: "42" }, eve.token), "NOT_FOUND", /^Channel 42 not found\.$/);
      expectError(await server.gql(CHANNEL, { c: "general" }, ada.token), "BAD_USER_INPUT", /must be an id/, "id");
      expectError(await ending(subscribe(server.ws(eve.token), CHANNEL_EVENTS, { c: guild.general })), "NOT_FOUND", /not found/);
      expectError(await ending(subscribe(server.ws(ada.token), CHANNEL_EVENTS, { c: "general" })), "BAD_USER_INPUT", /must be an id/, "channelId");
      expect((await ok(CHANNEL, { c: guild.general }, ada.token)).channel).toEqual({ id: guild.general, kind: "GUILD_TEXT", name: "general", guild: { id: guild.id }, recipients: [] });
    });
  });

  describe("direct messages", () => {
    const dmRowsOf = (userId: string) => database.prisma.channelRecipient.count({ where: { userId: BigInt(userId) } });

    it("opens one DM per pair: the same channel twice and from the other side, both told once", async () => {
      const ada = await server.signUp("ada");
      const bob = await server.signUp("bob");
      await befriend(server, ada, bob);
      const adaEvents = subscribe(server.ws(ada.token), USER_EVENTS);
      const bobEvents = subscribe(server.ws(bob.token), USER_EVENTS);
      await waitForSubscribers(server, `user:${ada.id}`, 1);
      await waitForSubscribers(server, `user:${bob.id}`, 1);

      const first = (await ok(OPEN_DM, { u: [bob.id] }, ada.token)).openDirectMessage;
      expect(first).toMatchObject({ kind: "DM", name: null, guild: null });
      expect(sortIds(first.recipients.map((r: { id: string }) => r.id))).toEqual(sortIds([ada.id, bob.id]));
      const again = (await ok(OPEN_DM, { u: [bob.id] }, ada.token)).openDirectMessage;
      const reverse = (await ok(OPEN_DM, { u: [ada.id] }, bob.token)).openDirectMessage;
      const withSelf = (await ok(OPEN_DM, { u: [bob.id, ada.id, bob.id] }, ada.token)).openDirectMessage;
      for (const channel of [again, reverse, withSelf]) expect(channel.id).toBe(first.id);

      for (const events of [adaEvents, bobEvents]) {
        const [event] = await events.waitFor(1);
        expect(event!.data).toEqual({ userEvents: { __typename: "DirectMessageOpened", channel: { id: first.id, kind: "DM" } } });
      }
      // Re-opening announces nothing new.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(adaEvents.received).toHaveLength(1);
      expect(bobEvents.received).toHaveLength(1);
      expect(await dmRowsOf(ada.id)).toBe(1);
    });

    it("lists your DMs and group DMs on me.directMessages, newest first, and nobody else's", async () => {
      const ada = await server.signUp("ada");
      const bob = await server.signUp("bob");
      const cy = await server.signUp("cy");
      await befriend(server, ada, bob, cy);
      const dm = (await ok(OPEN_DM, { u: [bob.id] }, ada.token)).openDirectMessage;
      const group = (await ok(OPEN_DM, { u: [bob.id, cy.id] }, ada.token)).openDirectMessage;
      const mine = await ok(`{ me { directMessages { id kind } } }`, {}, ada.token);
      expect(mine.me.directMessages).toEqual([{ id: group.id, kind: "GROUP_DM" }, { id: dm.id, kind: "DM" }]);
      const cys = await ok(`{ me { directMessages { id } } }`, {}, cy.token);
      expect(cys.me.directMessages).toEqual([{ id: group.id }]);
      const others = await server.gql(`query($u: [ID!]!) { users(ids: $u) { directMessages { id } } }`, { u: [bob.id] }, ada.token);
      expectError(others, "FORBIDDEN", /only list your own direct messages/);
    });

    it("rejects a DM with only yourself, an empty list, an unknown user and a malformed id with BAD_USER_INPUT, creating nothing", async () => {
      const ada = await server.signUp("ada");
      const bob = await server.signUp("bob");
      expectError(await server.gql(OPEN_DM, { u: [ada.id] }, ada.token), "BAD_USER_INPUT", /other than you/, "userIds");
      expectError(await server.gql(OPEN_DM, { u: [ada.id, ada.id] }, ada.token), "BAD_USER_INPUT", /other than you/, "userIds");
      expectError(await server.gql(OPEN_DM, { u: [] }, ada.token), "BAD_USER_INPUT", /other than you/, "userIds");
      expectError(await server.gql(OPEN_DM, { u: ["1234567"] }, ada.token), "BAD_USER_INPUT", /No user with id 1234567/, "userIds");
      expectError(await server.gql(OPEN_DM, { u: [bob.id, "7654321"] }, ada.token), "BAD_USER_INPUT", /No user with id 7654321/, "userIds");
      expectError(await server.gql(OPEN_DM, { u: [bob.id, "bob"] }, ada.token), "BAD_USER_INPUT", /must be an id/, "userIds[1]");
      expect(await dmRowsOf(ada.id)).toBe(0);
      expect(await dmRowsOf(bob.id)).toBe(0);
    });

    it("creates a group DM with 2 to 9 others (a new one each time), and rejects 10 others", async () => {
      const ada = await server.signUp("ada");
      const others: User[] = [];
      for (let i = 0; i < 10; i++) others.push(await server.signUp("friend"));
      await befriend(server, ada, ...others);
      const events = subscribe(server.ws(others[0]!.token), USER_EVENTS);
      await waitForSubscribers(server, `user:${others[0]!.id}`, 1);

      const small = (await ok(OPEN_DM, { u: [others[0]!.id, others[1]!.id] }, ada.token)).openDirectMessage;
      expect(small.kind).toBe("GROUP_DM");
      expect(sortIds(small.recipients.map((r: { id: string }) => r.id))).toEqual(sortIds([ada.id, others[0]!.id, others[1]!.id]));
      const [event] = await events.waitFor(1);
      expect(event!.data).toEqual({ userEvents: { __typename: "DirectMessageOpened", channel: { id: small.id, kind: "GROUP_DM" } } });

      const nine = others.slice(0, 9).map((u) => u.id);
      const large = (await ok(OPEN_DM, { u: nine }, ada.token)).openDirectMessage;
      expect(large.kind).toBe("GROUP_DM");
      expect(large.id).not.toBe(small.id);
      expect(sortIds(large.recipients.map((r: { id: string }) => r.id))).toEqual(sortIds([ada.id, ...nine]));

      const ten = others.map((u) => u.id);
      const tooMany = await server.gql(OPEN_DM, { u: ten }, ada.token);
      expectError(tooMany, "LIMIT_EXCEEDED", /at most 10 people/);
      expect(tooMany.errors![0]!.extensions).toMatchObject({ resource: "groupDmMembers", limit: 10, setting: "MAX_GROUP_DM_MEMBERS" });
      // Nothing new for anyone: the tenth friend is in no DM, ada is in the two groups only.
      expect(await dmRowsOf(others[9]!.id)).toBe(0);
      expect(await dmRowsOf(ada.id)).toBe(2);
    });

    it("hides a DM from a third user: channel, sendMessage and channelEvents answer NOT_FOUND, nothing is posted", async () => {
      const ada = await server.signUp("ada");
      const bob = await server.signUp("bob");
      const eve = await server.signUp("eve");
      const carol = await server.signUp("carol");
      await befriend(server, ada, bob, carol);
      const dm = (await ok(OPEN_DM, { u: [bob.id] }, ada.token)).openDirectMessage.id as string;
      const group = (await ok(OPEN_DM, { u: [bob.id, carol.id] }, ada.token)).openDirectMessage.id as string;
      await ok(SEND, { c: dm, t: "just us" }, ada.token);

      for (const channelId of [dm, group]) {
        expectError(await server.gql(CHANNEL, { c: channelId }, eve.token), "NOT_FOUND", new RegExp(`Channel ${channelId} not found`));
        expectError(await server.gql(SEND, { c: channelId, t: "let me in" }, eve.token), "NOT_FOUND", /not found/);
        expectError(await server.gql(HISTORY, { c: channelId }, eve.token), "NOT_FOUND", /not found/);
        expectError(await server.gql(DELETE_CHANNEL, { c: channelId }, eve.token), "NOT_FOUND", /not found/);
        const sub = subscribe(server.ws(eve.token), CHANNEL_EVENTS, { c: channelId });
        expectError(await ending(sub), "NOT_FOUND", /not found/);
      }
      expect((await ok(HISTORY, { c: dm }, bob.token)).channel.messages.edges).toEqual([{ node: { content: "just us", author: { id: ada.id } } }]);
      expect((await ok(HISTORY, { c: group }, bob.token)).channel.messages.edges).toEqual([]);
    });

    it("lets participants post and subscribe, but answers FORBIDDEN to deleting or editing a DM", async () => {
      const ada = await server.signUp("ada");
      const bob = await server.signUp("bob");
      const carol = await server.signUp("carol");
      await befriend(server, ada, bob, carol);
      const dm = (await ok(OPEN_DM, { u: [bob.id] }, ada.token)).openDirectMessage.id as string;
      const group = (await ok(OPEN_DM, { u: [bob.id, carol.id] }, ada.token)).openDirectMessage.id as string;

      const live = subscribe(server.ws(bob.token), CHANNEL_EVENTS, { c: dm });
      await waitForSubscribers(server, `channel:${dm}`, 1);
      await ok(SEND, { c: dm, t: "hi bob" }, ada.token);
      expect((await live.waitFor(1))[0]!.data).toEqual({ channelEvents: { __typename: "MessageCreated", message: { content: "hi bob" } } });

      for (const channelId of [dm, group]) {
        for (const user of [ada, bob]) {
          expectError(await server.gql(DELETE_CHANNEL, { c: channelId }, user.token), "FORBIDDEN", /Direct message channels cannot be deleted/);
          expectError(await server.gql(UPDATE_CHANNEL, { c: channelId, n: "renamed" }, user.token), "FORBIDDEN", /Direct message channels cannot be edited/);
        }
        expect((await ok(CHANNEL, { c: channelId }, bob.token)).channel.id).toBe(channelId);
      }
      expect((await ok(HISTORY, { c: dm }, bob.token)).channel.messages.edges).toHaveLength(1);
      expect((await ok(CHANNEL, { c: group }, ada.token)).channel.name).toBeNull();
    });
  });
});
