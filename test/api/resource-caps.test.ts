import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError, type User } from "../support/assertions.js";
import { startTestServer, type GraphQLResponse, type TestServer } from "../support/server.js";
import { befriend } from "../support/people.js";

/**
 * Resource caps over real HTTP, on a server with small caps: the write past a cap is
 * LIMIT_EXCEEDED naming the cap and its setting, and writes nothing; freeing room lets it
 * through again; lists are costed at the configured caps; DM lists page and typing lists cap.
 */

const CAPS = { MAX_CHANNELS_PER_GUILD: "3", MAX_GUILDS_PER_USER: "2", MAX_BOTS_PER_USER: "2", MAX_GROUP_DM_MEMBERS: "4" };

const CREATE_GUILD = `mutation($n: String!) { createGuild(input: { name: $n }) { id channels { id } } }`;
const CREATE_INVITE = `mutation($g: ID!, $max: Int) { createInvite(input: { guildId: $g, maxUses: $max }) { code } }`;
const JOIN = `mutation($code: String!) { joinGuild(code: $code) { id } }`;
const LEAVE = `mutation($g: ID!) { leaveGuild(guildId: $g) }`;
const MY_GUILDS = `{ me { guilds { id } } }`;
const CREATE_CHANNEL = `mutation($g: ID!, $n: String!) { createChannel(input: { guildId: $g, name: $n }) { id } }`;
const CHANNEL_NAMES = `query($g: ID!) { guild(id: $g) { channels { name } } }`;
const CREATE_BOT = `mutation($u: String!) { createBot(input: { username: $u }) { user { id username } } }`;
const OPEN_DM = `mutation($u: [ID!]!) { openDirectMessage(userIds: $u) { id kind recipients { id } } }`;
const MY_DMS = `query($first: Int, $before: ID) { me { directMessages(first: $first, before: $before) { id } } }`;

let server: TestServer;
const ok = <T = any>(query: string, variables: Record<string, unknown>, token: string): Promise<T> => server.ok<T>(query, variables, token);

/** Asserts LIMIT_EXCEEDED for `resource` at `limit`, naming its setting. */
function expectCap(res: GraphQLResponse, resource: string, limit: number, setting: string, message: RegExp) {
  expectError(res, "LIMIT_EXCEEDED", message);
  expect(res.errors![0]!.extensions).toMatchObject({ resource, limit, setting });
}

beforeAll(async () => {
  server = await startTestServer({ env: CAPS });
}, 120_000);

afterAll(() => server?.close());

describe("resource caps", () => {
  it("channels per guild: the general channel counts; one more is refused until one is deleted", async () => {
    const ada = await server.signUp("ada");
    const guild = (await ok(CREATE_GUILD, { n: "Small" }, ada.token)).createGuild;
    await ok(CREATE_CHANNEL, { g: guild.id, n: "two" }, ada.token);
    const three = (await ok(CREATE_CHANNEL, { g: guild.id, n: "three" }, ada.token)).createChannel.id;
    expectCap(await server.gql(CREATE_CHANNEL, { g: guild.id, n: "four" }, ada.token), "channelsPerGuild", 3, "MAX_CHANNELS_PER_GUILD", /at most 3 channels/);
    expect((await ok(CHANNEL_NAMES, { g: guild.id }, ada.token)).guild.channels).toEqual([{ name: "general" }, { name: "two" }, { name: "three" }]);
    await ok(`mutation($c: ID!) { deleteChannel(channelId: $c) }`, { c: three }, ada.token);
    await ok(CREATE_CHANNEL, { g: guild.id, n: "four" }, ada.token);
    expect((await ok(CHANNEL_NAMES, { g: guild.id }, ada.token)).guild.channels.map((c: { name: string }) => c.name)).toEqual(["general", "two", "four"]);
  });

  it("guilds per user: owned and joined count; createGuild and joinGuild are refused at the cap, and the invite is not used up", async () => {
    const [ada, bob, eve] = [await server.signUp("ada"), await server.signUp("bob"), await server.signUp("eve")];
    const own = (await ok(CREATE_GUILD, { n: "Own" }, ada.token)).createGuild.id;
    const bobs = (await ok(CREATE_GUILD, { n: "Bobs" }, bob.token)).createGuild.id;
    await ok(JOIN, { code: (await ok(CREATE_INVITE, { g: bobs }, bob.token)).createInvite.code }, ada.token);

    expectCap(await server.gql(CREATE_GUILD, { n: "Third" }, ada.token), "guildsPerUser", 2, "MAX_GUILDS_PER_USER", /at most 2 guilds/);
    const eves = (await ok(CREATE_GUILD, { n: "Eves" }, eve.token)).createGuild.id;
    const single = (await ok(CREATE_INVITE, { g: eves, max: 1 }, eve.token)).createInvite.code;
    expectCap(await server.gql(JOIN, { code: single }, ada.token), "guildsPerUser", 2, "MAX_GUILDS_PER_USER", /leave one/);
    expect((await ok(MY_GUILDS, {}, ada.token)).me.guilds.map((g: { id: string }) => g.id)).toEqual([own, bobs]);

    // The single-use invite was not spent on the refusal: someone else can still use it.
    const carol = await server.signUp("carol");
    expect((await ok(JOIN, { code: single }, carol.token)).joinGuild.id).toBe(eves);
    // Leaving makes room again.
    await ok(LEAVE, { g: bobs }, ada.token);
    expect((await ok(CREATE_GUILD, { n: "Third" }, ada.token)).createGuild.id).toBeDefined();
  });

  it("bots per person: the third is refused and its username stays free", async () => {
    const ada = await server.signUp("ada");
    const name = (n: number) => `capbot_${process.pid}_${n}`;
    await ok(CREATE_BOT, { u: name(1) }, ada.token);
    await ok(CREATE_BOT, { u: name(2) }, ada.token);
    expectCap(await server.gql(CREATE_BOT, { u: name(3) }, ada.token), "botsPerUser", 2, "MAX_BOTS_PER_USER", /at most 2 bots/);
    expect((await ok(`{ me { bots { username } } }`, {}, ada.token)).me.bots).toEqual([{ username: name(1) }, { username: name(2) }]);
    const bob = await server.signUp("bob");
    expect((await ok(CREATE_BOT, { u: name(3) }, bob.token)).createBot.user.username).toBe(name(3));
  });

  it("people per group DM: you and 3 others fit, you and 4 others are refused with nothing opened", async () => {
    const ada = await server.signUp("ada");
    const others = [await server.signUp("o"), await server.signUp("o"), await server.signUp("o"), await server.signUp("o")];
    await befriend(server, ada, ...others);
    const group = (await ok(OPEN_DM, { u: others.slice(0, 3).map((u) => u.id) }, ada.token)).openDirectMessage;
    expect(group.recipients).toHaveLength(4);
    expectCap(await server.gql(OPEN_DM, { u: others.map((u) => u.id) }, ada.token), "groupDmMembers", 4, "MAX_GROUP_DM_MEMBERS", /at most 4 people/);
    expect((await ok(MY_DMS, {}, ada.token)).me.directMessages).toEqual([{ id: group.id }]);
  });

  it("counts lists at the configured caps: a read-state sweep of every guild fits with 2 guilds × 3 channels", async () => {
    const ada = await server.signUp("ada");
    await ok(CREATE_GUILD, { n: "Sweep" }, ada.token);
    const res = await ok(`{ me { guilds { channels { name readState { unreadCount } } } } }`, {}, ada.token);
    expect(res.me.guilds).toEqual([{ channels: [{ name: "general", readState: { unreadCount: 0 } }] }]);
  });
});

describe("lists that page or cap", () => {
  it("User.directMessages pages newest first with first and before, and checks first", async () => {
    const ada = await server.signUp("ada");
    const dms: string[] = [];
    for (let i = 0; i < 3; i++) {
      const other = await server.signUp("dm");
      await befriend(server, ada, other);
      dms.push((await ok(OPEN_DM, { u: [other.id] }, ada.token)).openDirectMessage.id);
    }
    const ids = async (variables: Record<string, unknown>) => (await ok(MY_DMS, variables, ada.token)).me.directMessages.map((c: { id: string }) => c.id);
    expect(await ids({})).toEqual([...dms].reverse());
    expect(await ids({ first: 2 })).toEqual([dms[2], dms[1]]);
    expect(await ids({ first: 2, before: dms[1] })).toEqual([dms[0]]);
    expectError(await server.gql(MY_DMS, { first: 0 }, ada.token), "BAD_USER_INPUT", /first must be an integer from 1 to 100/, "first");
    expectError(await server.gql(MY_DMS, { first: 101 }, ada.token), "BAD_USER_INPUT", /first must be an integer from 1 to 100/, "first");
  });

  it("Channel.typing lists the 20 latest of 21 people typing", async () => {
    const owner = await server.signUp("owner");
    const guild = (await ok(CREATE_GUILD, { n: "Busy" }, owner.token)).createGuild;
    const code = (await ok(CREATE_INVITE, { g: guild.id }, owner.token)).createInvite.code;
    const typists: User[] = [];
    for (let i = 0; i < 21; i++) {
      const user = await server.signUp("typist");
      await ok(JOIN, { code }, user.token);
      await ok(`mutation($c: ID!) { startTyping(channelId: $c) }`, { c: guild.channels[0].id }, user.token);
      typists.push(user);
      // Distinct expiry times, so "latest" is well defined.
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const typing = (await ok(`query($c: ID!) { channel(id: $c) { typing { user { id } } } }`, { c: guild.channels[0].id }, owner.token)).channel.typing;
    expect(typing.map((t: { user: { id: string } }) => t.user.id)).toEqual(typists.slice(1).map((u) => u.id));
  });
});
