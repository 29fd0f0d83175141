import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/stores/prisma/database.js";
import { ending, expectError, type User } from "../support/assertions.js";
import { openTestPglite } from "../support/databases.js";
import { startTestServer, subscribe, waitForSubscribers, type TestServer } from "../support/server.js";

/**
 * Bans and ownership transfer over real HTTP and graphql-ws: a moderator with BAN_MEMBERS bans a
 * member, whose live streams end at once and whom no invite lets back in until the ban is
 * lifted; the owner hands the guild to another member.
 */

const CREATE_GUILD = `mutation { createGuild(input: { name: "Moderated" }) { id channels { id } } }`;
const INVITE = `mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`;
const JOIN = `mutation($c: String!) { joinGuild(code: $c) { id memberCount } }`;
const CREATE_ROLE = `mutation($g: ID!, $n: String!, $p: [Permission!]!) { createRole(input: { guildId: $g, name: $n, permissions: $p }) { id } }`;
const ADD_ROLE = `mutation($g: ID!, $u: ID!, $r: ID!) { addMemberRole(input: { guildId: $g, userId: $u, roleId: $r }) }`;
const BAN = `mutation($g: ID!, $u: ID!, $r: String) { banMember(input: { guildId: $g, userId: $u, reason: $r }) { user { id } moderator { id } reason createdAt } }`;
const UNBAN = `mutation($g: ID!, $u: ID!) { unbanMember(input: { guildId: $g, userId: $u }) }`;
const BANS = `query($g: ID!, $after: ID) { guild(id: $g) { bans(first: 2, after: $after) { edges { node { user { id } reason } } pageInfo { hasNextPage endCursor } } } }`;
const TRANSFER = `mutation($g: ID!, $u: ID!) { transferGuildOwnership(input: { guildId: $g, userId: $u }) { id owner { id } } }`;
const LIVE = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename } }`;
const GUILD_LIVE = `subscription($g: ID!) { guildEvents(guildId: $g) { __typename ... on MemberLeft { userId reason } ... on GuildUpdated { guild { owner { id } } } } }`;

describe("bans and ownership transfer", () => {
  let server: TestServer;
  let database: Database;
  let ada: User; // owner
  let mo: User; // moderator (BAN_MEMBERS)
  let pat: User; // member, banned below
  let sam: User; // never a member, banned ahead
  let guildId: string;
  let general: string;

  const ok = <T = any>(query: string, variables: Record<string, unknown>, user: User): Promise<T> => server.ok<T>(query, variables, user.token);
  const invite = async () => (await ok(INVITE, { g: guildId }, ada)).createInvite.code as string;

  beforeAll(async () => {
    database = await openTestPglite();
    server = await startTestServer({ database, warmUp: true });
    [ada, mo, pat, sam] = await Promise.all([server.signUp("ada"), server.signUp("mo"), server.signUp("pat"), server.signUp("sam")]);
    const guild = await ok(CREATE_GUILD, {}, ada);
    guildId = guild.createGuild.id;
    general = guild.createGuild.channels[0].id;
    for (const user of [mo, pat]) await ok(JOIN, { c: await invite() }, user);
    const role = await ok(CREATE_ROLE, { g: guildId, n: "Moderators", p: ["BAN_MEMBERS"] }, ada);
    await ok(ADD_ROLE, { g: guildId, u: mo.id, r: role.createRole.id }, ada);
  }, 60_000);
  afterAll(() => server?.close());

  it("a ban removes the member at once, ends their streams, and keeps them out until lifted", async () => {
    const patsChannel = subscribe(server.ws(pat.token), LIVE, { c: general });
    const patsGuild = subscribe(server.ws(pat.token), GUILD_LIVE, { g: guildId });
    const adasGuild = subscribe(server.ws(ada.token), GUILD_LIVE, { g: guildId });
    await waitForSubscribers(server, `channel:${general}`);
    await waitForSubscribers(server, `guild:${guildId}`, 2);

    const banned = await ok(BAN, { g: guildId, u: pat.id, r: "spam links" }, mo);
    expect(banned.banMember).toMatchObject({ user: { id: pat.id }, moderator: { id: mo.id }, reason: "spam links" });
    for (const stream of [patsChannel, patsGuild]) {
      const ended = await ending(stream, 1_000);
      expect(ended.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      expect(ended.errors?.[0]?.message).toMatch(/banned from this/);
    }
    const left = await adasGuild.waitFor(1);
    expect(left[0]!.data!.guildEvents).toEqual({ __typename: "MemberLeft", userId: pat.id, reason: "BANNED" });
    expectError(await server.gql(`query($g: ID!) { guild(id: $g) { id } }`, { g: guildId }, pat.token), "NOT_FOUND", /not found/);

    const code = await invite();
    expectError(await server.gql(JOIN, { c: code }, pat.token), "FORBIDDEN", /banned from this guild/);
    expect(await database.prisma.member.count({ where: { guildId: BigInt(guildId), userId: BigInt(pat.id) } })).toBe(0);
    expect((await database.prisma.invite.findUnique({ where: { code } }))!.uses).toBe(0);

    expect(await ok(UNBAN, { g: guildId, u: pat.id }, mo)).toEqual({ unbanMember: true });
    expect(await ok(UNBAN, { g: guildId, u: pat.id }, mo)).toEqual({ unbanMember: false });
    expect((await ok(JOIN, { c: code }, pat)).joinGuild.id).toBe(guildId);
  });

  it("bans a user before they ever join; the ban list is for BAN_MEMBERS only", async () => {
    await ok(BAN, { g: guildId, u: sam.id, r: null }, ada);
    expectError(await server.gql(JOIN, { c: await invite() }, sam.token), "FORBIDDEN", /banned/);
    const page = await ok(BANS, { g: guildId }, mo);
    expect(page.guild.bans.edges).toEqual([{ node: { user: { id: sam.id }, reason: null } }]);
    expect(page.guild.bans.pageInfo.hasNextPage).toBe(false);
    const refused = await server.gql(BANS, { g: guildId }, pat.token);
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(refused.errors?.[0]?.message).toMatch(/BAN_MEMBERS/);
  });

  it("refuses banning yourself, the owner, someone ranked as high, or an unknown user, writing nothing", async () => {
    const before = await database.prisma.ban.count();
    expectError(await server.gql(BAN, { g: guildId, u: mo.id }, mo.token), "BAD_USER_INPUT", /yourself/, "userId");
    expectError(await server.gql(BAN, { g: guildId, u: ada.id }, mo.token), "FORBIDDEN", /ranked below you/);
    expectError(await server.gql(BAN, { g: guildId, u: mo.id }, pat.token), "FORBIDDEN", /BAN_MEMBERS/);
    expectError(await server.gql(BAN, { g: guildId, u: "4242424242" }, ada.token), "NOT_FOUND", /User 4242424242 not found/);
    expectError(await server.gql(BAN, { g: guildId, u: pat.id, r: "x".repeat(513) }, ada.token), "BAD_USER_INPUT", /512/, "reason");
    expect(await database.prisma.ban.count()).toBe(before);
  });

  it("transfers ownership to a member: powers move with it, everyone hears GuildUpdated", async () => {
    const bot = await server.ok(`mutation { createBot(input: { username: "ada_helper" }) { user { id } token } }`, {}, ada.token);
    expectError(await server.gql(TRANSFER, { g: guildId, u: sam.id }, ada.token), "BAD_USER_INPUT", /must be a member/, "userId");
    expectError(await server.gql(TRANSFER, { g: guildId, u: bot.createBot.user.id }, ada.token), "BAD_USER_INPUT", /bot cannot own/, "userId");
    expectError(await server.gql(TRANSFER, { g: guildId, u: pat.id }, mo.token), "FORBIDDEN", /Only the guild's owner/);

    const patsGuild = subscribe(server.ws(pat.token), GUILD_LIVE, { g: guildId });
    await waitForSubscribers(server, `guild:${guildId}`, 2);
    const moved = await ok(TRANSFER, { g: guildId, u: mo.id }, ada);
    expect(moved.transferGuildOwnership).toEqual({ id: guildId, owner: { id: mo.id } });
    const heard = await patsGuild.waitFor(1);
    expect(heard[0]!.data!.guildEvents).toEqual({ __typename: "GuildUpdated", guild: { owner: { id: mo.id } } });
    // The new owner outranks the old one now: mo may ban ada; ada may no longer delete the guild.
    expectError(await server.gql(`mutation($g: ID!) { deleteGuild(guildId: $g) }`, { g: guildId }, ada.token), "FORBIDDEN", /Only the guild's owner/);
    await ok(BAN, { g: guildId, u: ada.id, r: "handed over" }, mo);
    expect(await database.prisma.member.count({ where: { guildId: BigInt(guildId), userId: BigInt(ada.id) } })).toBe(0);
  });
});
