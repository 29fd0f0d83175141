import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/stores/prisma/database.js";
import { expectError, type User } from "../support/assertions.js";
import { openTestPglite } from "../support/databases.js";
import { settle, startTestServer, subscribe, waitForSubscribers, type TestServer } from "../support/server.js";

/**
 * Timeouts over real HTTP and graphql-ws: a moderator with MODERATE_MEMBERS times a member out;
 * until then the member can read and listen, but not send or type, even after leaving and
 * rejoining; the timeout ends on its own, or when lifted.
 */

const CREATE_GUILD = `mutation { createGuild(input: { name: "Quiet Please" }) { id channels { id } } }`;
const INVITE = `mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`;
const JOIN = `mutation($c: String!) { joinGuild(code: $c) { id } }`;
const LEAVE = `mutation($g: ID!) { leaveGuild(guildId: $g) }`;
const CREATE_ROLE = `mutation($g: ID!, $n: String!, $p: [Permission!]!) { createRole(input: { guildId: $g, name: $n, permissions: $p }) { id } }`;
const ADD_ROLE = `mutation($g: ID!, $u: ID!, $r: ID!) { addMemberRole(input: { guildId: $g, userId: $u, roleId: $r }) }`;
const TIMEOUT = `mutation($g: ID!, $u: ID!, $until: DateTime, $r: String) { timeoutMember(input: { guildId: $g, userId: $u, until: $until, reason: $r }) { user { id } timedOutUntil } }`;
const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;
const TYPING = `mutation($c: ID!) { startTyping(channelId: $c) }`;
const HISTORY = `query($c: ID!) { channel(id: $c) { messages(last: 5) { edges { node { content } } } myPermissions } }`;
const MEMBERS = `query($g: ID!) { guild(id: $g) { members(first: 10) { edges { node { user { id } timedOutUntil } } } myPermissions } }`;
const LIVE = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageCreated { message { content } } } }`;
const GUILD_LIVE = `subscription($g: ID!) { guildEvents(guildId: $g) { __typename ... on MemberTimeoutUpdated { userId until } } }`;
const USER_LIVE = `subscription { userEvents { __typename ... on MemberTimeoutUpdated { guildId until } } }`;

const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

describe("timeouts", () => {
  let server: TestServer;
  let database: Database;
  let ada: User; // owner
  let mo: User; // moderator (MODERATE_MEMBERS)
  let pat: User; // member, timed out below
  let adm: User; // administrator: cannot be timed out
  let guildId: string;
  let general: string;

  const ok = <T = any>(query: string, variables: Record<string, unknown>, user: User): Promise<T> => server.ok<T>(query, variables, user.token);
  const invite = async () => (await ok(INVITE, { g: guildId }, ada)).createInvite.code as string;
  const timeoutRows = () => database.prisma.memberTimeout.count({ where: { guildId: BigInt(guildId) } });

  beforeAll(async () => {
    database = await openTestPglite();
    server = await startTestServer({ database, warmUp: true });
    [ada, mo, pat, adm] = await Promise.all([server.signUp("ada"), server.signUp("mo"), server.signUp("pat"), server.signUp("adm")]);
    const guild = await ok(CREATE_GUILD, {}, ada);
    guildId = guild.createGuild.id;
    general = guild.createGuild.channels[0].id;
    for (const user of [mo, pat, adm]) await ok(JOIN, { c: await invite() }, user);
    const mods = await ok(CREATE_ROLE, { g: guildId, n: "Moderators", p: ["MODERATE_MEMBERS"] }, ada);
    await ok(ADD_ROLE, { g: guildId, u: mo.id, r: mods.createRole.id }, ada);
    const admins = await ok(CREATE_ROLE, { g: guildId, n: "Admins", p: ["ADMINISTRATOR"] }, ada);
    await ok(ADD_ROLE, { g: guildId, u: adm.id, r: admins.createRole.id }, ada);
  }, 60_000);
  afterAll(() => server?.close());

  it("a timed-out member reads and listens but cannot send or type, with a coded error saying until when", async () => {
    await ok(SEND, { c: general, t: "before the timeout" }, pat);
    const patsChannel = subscribe(server.ws(pat.token), LIVE, { c: general });
    const adasGuild = subscribe(server.ws(ada.token), GUILD_LIVE, { g: guildId });
    const patsUser = subscribe(server.ws(pat.token), USER_LIVE);
    await waitForSubscribers(server, `channel:${general}`);
    await waitForSubscribers(server, `guild:${guildId}`);
    await waitForSubscribers(server, `user:${pat.id}`);

    const until = inMinutes(60);
    const done = await ok(TIMEOUT, { g: guildId, u: pat.id, until, r: "cool off" }, mo);
    expect(done.timeoutMember).toEqual({ user: { id: pat.id }, timedOutUntil: until });
    expect((await adasGuild.waitFor(1))[0]!.data!.guildEvents).toEqual({ __typename: "MemberTimeoutUpdated", userId: pat.id, until });
    expect((await patsUser.waitFor(1))[0]!.data!.userEvents).toEqual({ __typename: "MemberTimeoutUpdated", guildId, until });

    expectError(await server.gql(SEND, { c: general, t: "let me talk" }, pat.token), "FORBIDDEN", new RegExp(`timed out in this guild until ${until.replace(/[.]/g, "\\.")}`));
    expectError(await server.gql(TYPING, { c: general }, pat.token), "FORBIDDEN", /timed out/);
    const view = await ok(HISTORY, { c: general }, pat);
    expect(view.channel.messages.edges.map((e: any) => e.node.content)).toContain("before the timeout");
    expect(view.channel.myPermissions.sort()).toEqual(["READ_MESSAGE_HISTORY", "VIEW_CHANNEL"]);

    // Their live stream stays open and keeps delivering.
    await ok(SEND, { c: general, t: "others still talk" }, ada);
    const seen = await patsChannel.waitFor(1);
    expect(seen.at(-1)!.data!.channelEvents).toEqual({ __typename: "MessageCreated", message: { content: "others still talk" } });
    const members = await ok(MEMBERS, { g: guildId }, ada);
    expect(members.guild.members.edges.find((e: any) => e.node.user.id === pat.id).node.timedOutUntil).toBe(until);
    expect(members.guild.members.edges.find((e: any) => e.node.user.id === mo.id).node.timedOutUntil).toBeNull();
  });

  it("survives leaving and rejoining; lifting it (until: null) restores sending at once", async () => {
    await ok(LEAVE, { g: guildId }, pat);
    await ok(JOIN, { c: await invite() }, pat);
    expectError(await server.gql(SEND, { c: general, t: "fresh start?" }, pat.token), "FORBIDDEN", /timed out/);

    const lifted = await ok(TIMEOUT, { g: guildId, u: pat.id, until: null }, mo);
    expect(lifted.timeoutMember.timedOutUntil).toBeNull();
    expect(await timeoutRows()).toBe(0);
    await ok(SEND, { c: general, t: "thanks" }, pat);
  });

  it("ends on its own when `until` passes, with no one lifting it", async () => {
    const until = new Date(Date.now() + 1_500).toISOString();
    await ok(TIMEOUT, { g: guildId, u: pat.id, until }, mo);
    expectError(await server.gql(SEND, { c: general, t: "now?" }, pat.token), "FORBIDDEN", /timed out/);
    await settle(Math.max(0, Date.parse(until) - Date.now()) + 100);
    await ok(SEND, { c: general, t: "and now" }, pat);
  });

  it("refuses bad times, the wrong people and the unranked, writing nothing", async () => {
    await ok(TIMEOUT, { g: guildId, u: pat.id, until: null }, mo);
    const before = await timeoutRows();
    expectError(await server.gql(TIMEOUT, { g: guildId, u: pat.id, until: new Date(Date.now() - 1_000).toISOString() }, mo.token), "BAD_USER_INPUT", /future/, "until");
    expectError(await server.gql(TIMEOUT, { g: guildId, u: pat.id, until: inMinutes(29 * 24 * 60) }, mo.token), "BAD_USER_INPUT", /28 days/, "until");
    expectError(await server.gql(TIMEOUT, { g: guildId, u: pat.id, until: inMinutes(5), r: "x".repeat(513) }, mo.token), "BAD_USER_INPUT", /reason/, "reason");
    expectError(await server.gql(TIMEOUT, { g: guildId, u: mo.id, until: inMinutes(5) }, pat.token), "FORBIDDEN", /MODERATE_MEMBERS/);
    expectError(await server.gql(TIMEOUT, { g: guildId, u: ada.id, until: inMinutes(5) }, mo.token), "FORBIDDEN", /ranked below you/);
    expectError(await server.gql(TIMEOUT, { g: guildId, u: adm.id, until: inMinutes(5) }, ada.token), "FORBIDDEN", /Administrators cannot/);
    expectError(await server.gql(TIMEOUT, { g: guildId, u: mo.id, until: inMinutes(5) }, mo.token), "BAD_USER_INPUT", /yourself/, "userId");
    const stranger = await server.signUp("stranger");
    expectError(await server.gql(TIMEOUT, { g: guildId, u: stranger.id, until: inMinutes(5) }, mo.token), "NOT_FOUND", /Member/);
    expectError(await server.gql(TIMEOUT, { g: guildId, u: pat.id, until: inMinutes(5) }, stranger.token), "NOT_FOUND", /Guild/);
    expect(await timeoutRows()).toBe(before);
    expect(await database.prisma.auditLogEntry.count({ where: { guildId: BigInt(guildId), action: "MEMBER_UPDATE" } })).toBe(3); // set, lifted, set (lifting an expired one changes nothing)
  });
});
