import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/stores/prisma/database.js";
import { ending, expectError, type User } from "../support/assertions.js";
import { openTestPglite } from "../support/databases.js";
import { startTestServer, subscribe, waitForSubscribers, type TestServer } from "../support/server.js";

/**
 * Roles, permissions and private channels over real HTTP and graphql-ws: an owner makes a
 * moderator role and a channel only that role can see; a plain member cannot read, subscribe to
 * or find it; the moderator can, until the role is taken away, which ends their live stream.
 */

const CREATE_GUILD = `mutation { createGuild(input: { name: "Governed" }) { id channels { id } } }`;
const INVITE = `mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`;
const JOIN = `mutation($c: String!) { joinGuild(code: $c) { id } }`;
const CREATE_ROLE = `mutation($g: ID!, $n: String!, $p: [Permission!]!) { createRole(input: { guildId: $g, name: $n, permissions: $p }) { id name position permissions everyone } }`;
const ADD_ROLE = `mutation($g: ID!, $u: ID!, $r: ID!) { addMemberRole(input: { guildId: $g, userId: $u, roleId: $r }) }`;
const REMOVE_ROLE = `mutation($g: ID!, $u: ID!, $r: ID!) { removeMemberRole(input: { guildId: $g, userId: $u, roleId: $r }) }`;
const CREATE_PRIVATE = `mutation($g: ID!, $n: String!, $o: [PermissionOverwriteInput!]) {
  createChannel(input: { guildId: $g, name: $n, permissionOverwrites: $o }) { id name permissionOverwrites { targetKind targetId allow deny } }
}`;
const CHANNEL = `query($c: ID!) { channel(id: $c) { id name myPermissions } }`;
const GUILD_CHANNELS = `query($g: ID!) { guild(id: $g) { channels { id name } myPermissions roles { id name position everyone } } }`;
const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;
const HISTORY = `query($c: ID!) { channel(id: $c) { messages(last: 10) { edges { node { content } } } } }`;
const LIVE = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageCreated { message { content } } } }`;
const GUILD_LIVE = `subscription($g: ID!) { guildEvents(guildId: $g) { __typename ... on ChannelCreated { channel { id name } } ... on MemberRolesUpdated { userId roleIds } } }`;

describe("roles, permissions and private channels", () => {
  let server: TestServer;
  let database: Database;
  let ada: User; // owner
  let mo: User; // moderator
  let pat: User; // plain member
  let sam: User; // stranger
  let guildId: string;
  let general: string;
  let modRole: string;

  const ok = <T = any>(query: string, variables: Record<string, unknown>, user: User): Promise<T> => server.ok<T>(query, variables, user.token);

  beforeAll(async () => {
    database = await openTestPglite();
    server = await startTestServer({ database, warmUp: true });
    [ada, mo, pat, sam] = await Promise.all([server.signUp("ada"), server.signUp("mo"), server.signUp("pat"), server.signUp("sam")]);
    const guild = await ok(CREATE_GUILD, {}, ada);
    guildId = guild.createGuild.id;
    general = guild.createGuild.channels[0].id;
    for (const user of [mo, pat]) {
      const invite = await ok(INVITE, { g: guildId }, ada);
      await ok(JOIN, { c: invite.createInvite.code }, user);
    }
    const role = await ok(CREATE_ROLE, { g: guildId, n: "Moderators", p: ["KICK_MEMBERS", "MANAGE_MESSAGES", "MANAGE_ROLES", "MANAGE_CHANNELS"] }, ada);
    modRole = role.createRole.id;
    await ok(ADD_ROLE, { g: guildId, u: mo.id, r: modRole }, ada);
  }, 60_000);
  afterAll(() => server?.close());

  it("gives a new guild @everyone (id = the guild's) with the default permissions, and roles rank above it", async () => {
    const data = await ok(GUILD_CHANNELS, { g: guildId }, pat);
    expect(data.guild.roles).toEqual([
      { id: modRole, name: "Moderators", position: 1, everyone: false },
      { id: guildId, name: "@everyone", position: 0, everyone: true },
    ]);
    expect(data.guild.myPermissions).toEqual(["CREATE_INSTANT_INVITE", "VIEW_CHANNEL", "SEND_MESSAGES", "READ_MESSAGE_HISTORY", "MENTION_EVERYONE"]);
    const mine = await ok(GUILD_CHANNELS, { g: guildId }, ada);
    expect(mine.guild.myPermissions).toContain("ADMINISTRATOR");
  });

  it("a private channel: only the role can see it; members cannot read, send, subscribe or find it; a stranger neither", async () => {
    const patsGuildStream = subscribe(server.ws(pat.token), GUILD_LIVE, { g: guildId });
    const mosGuildStream = subscribe(server.ws(mo.token), GUILD_LIVE, { g: guildId });
    await waitForSubscribers(server, `guild:${guildId}`, 2);
    const created = await ok(
      CREATE_PRIVATE,
      {
        g: guildId,
        n: "mods-only",
        o: [
          { targetKind: "ROLE", targetId: guildId, allow: [], deny: ["VIEW_CHANNEL"] },
          { targetKind: "ROLE", targetId: modRole, allow: ["VIEW_CHANNEL"], deny: [] },
        ],
      },
      ada,
    );
    const secret: string = created.createChannel.id;
    expect(created.createChannel.permissionOverwrites).toEqual([
      { targetKind: "ROLE", targetId: guildId, allow: [], deny: ["VIEW_CHANNEL"] },
      { targetKind: "ROLE", targetId: modRole, allow: ["VIEW_CHANNEL"], deny: [] },
    ]);

    // The moderator hears of it live; the member does not (their next event is the marker below).
    const marker = await ok(`mutation($g: ID!) { createChannel(input: { guildId: $g, name: "public-marker" }) { id } }`, { g: guildId }, ada);
    await mosGuildStream.waitFor(2);
    await patsGuildStream.waitFor(1);
    expect(mosGuildStream.received.map((r) => r.data!.guildEvents.channel?.name)).toEqual(["mods-only", "public-marker"]);
    expect(patsGuildStream.received.map((r) => r.data!.guildEvents.channel?.name)).toEqual(["public-marker"]);
    expect(marker.createChannel.id).toBeDefined();

    for (const outsider of [pat, sam]) {
      expectError(await server.gql(CHANNEL, { c: secret }, outsider.token), "NOT_FOUND", /Channel .* not found/);
      expectError(await server.gql(SEND, { c: secret, t: "let me in" }, outsider.token), "NOT_FOUND", /not found/);
      const live = subscribe(server.ws(outsider.token), LIVE, { c: secret });
      expect((await ending(live)).errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    }
    const listed = await ok(GUILD_CHANNELS, { g: guildId }, pat);
    expect(listed.guild.channels.map((c: { id: string }) => c.id)).not.toContain(secret);
    expect(listed.guild.channels.map((c: { id: string }) => c.id)).toContain(general);
    expect(await database.prisma.message.count({ where: { channelId: BigInt(secret) } })).toBe(0);

    const seen = await ok(CHANNEL, { c: secret }, mo);
    expect(seen.channel.myPermissions).toEqual(expect.arrayContaining(["VIEW_CHANNEL", "SEND_MESSAGES", "MANAGE_MESSAGES"]));
    const modsList = await ok(GUILD_CHANNELS, { g: guildId }, mo);
    expect(modsList.guild.channels.map((c: { id: string }) => c.id)).toContain(secret);

    // Taking the role away ends the moderator's live stream within a second.
    const live = subscribe(server.ws(mo.token), LIVE, { c: secret });
    await waitForSubscribers(server, `channel:${secret}`);
    await ok(SEND, { c: secret, t: "for mods" }, mo);
    await live.waitFor(1);
    const started = Date.now();
    await ok(REMOVE_ROLE, { g: guildId, u: mo.id, r: modRole }, ada);
    const ended = await ending(live, 1_000);
    expect(ended.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(ended.errors?.[0]?.message).toMatch(/can no longer see this channel/);
    expect(Date.now() - started).toBeLessThan(1_000);
    expectError(await server.gql(CHANNEL, { c: secret }, mo.token), "NOT_FOUND", /not found/);
    await ok(ADD_ROLE, { g: guildId, u: mo.id, r: modRole }, ada);
    expect((await ok(CHANNEL, { c: secret }, mo)).channel.id).toBe(secret);
  });

  it("management needs its permission, and the role hierarchy bounds who manages whom", async () => {
    // A plain member manages nothing.
    expectError(await server.gql(CREATE_ROLE, { g: guildId, n: "Mine", p: [] }, pat.token), "FORBIDDEN", /MANAGE_ROLES/);
    expectError(await server.gql(`mutation($g: ID!) { createChannel(input: { guildId: $g, name: "nope" }) { id } }`, { g: guildId }, pat.token), "FORBIDDEN", /MANAGE_CHANNELS/);
    expectError(await server.gql(`mutation($g: ID!, $u: ID!) { kickMember(input: { guildId: $g, userId: $u }) }`, { g: guildId, u: mo.id }, pat.token), "FORBIDDEN", /KICK_MEMBERS/);
    // The moderator cannot grant what they lack, nor touch their own role (not below their highest).
    expectError(await server.gql(CREATE_ROLE, { g: guildId, n: "Admins", p: ["ADMINISTRATOR"] }, mo.token), "FORBIDDEN", /only grant permissions you have/);
    expectError(await server.gql(ADD_ROLE, { g: guildId, u: pat.id, r: modRole }, mo.token), "FORBIDDEN", /below your highest role/);
    // ...but can make and give a lesser role, and kick a member ranked below them, never the owner.
    const helper = await ok(CREATE_ROLE, { g: guildId, n: "Helpers", p: ["MANAGE_MESSAGES"] }, mo);
    expect(helper.createRole.position).toBe(1);
    expect(await ok(ADD_ROLE, { g: guildId, u: pat.id, r: helper.createRole.id }, mo)).toEqual({ addMemberRole: true });
    expectError(await server.gql(`mutation($g: ID!, $u: ID!) { kickMember(input: { guildId: $g, userId: $u }) }`, { g: guildId, u: ada.id }, mo.token), "FORBIDDEN", /ranked below you/);
    const before = await database.prisma.role.count({ where: { guildId: BigInt(guildId) } });
    expect(before).toBe(3);
  });

  it("READ_MESSAGE_HISTORY: denied by an overwrite, history is FORBIDDEN while live messages still arrive", async () => {
    const set = `mutation($c: ID!, $u: ID!) { setPermissionOverwrite(input: { channelId: $c, targetKind: MEMBER, targetId: $u, allow: [], deny: [READ_MESSAGE_HISTORY] }) { targetKind } }`;
    await ok(set, { c: general, u: pat.id }, ada);
    await ok(SEND, { c: general, t: "before" }, ada);
    expectError(await server.gql(HISTORY, { c: general }, pat.token), "FORBIDDEN", /READ_MESSAGE_HISTORY/);
    const live = subscribe(server.ws(pat.token), LIVE, { c: general });
    await waitForSubscribers(server, `channel:${general}`);
    await ok(SEND, { c: general, t: "live one" }, ada);
    const got = await live.waitFor(1);
    expect(got[0]!.data!.channelEvents.message.content).toBe("live one");
    await ok(`mutation($c: ID!, $u: ID!) { deletePermissionOverwrite(input: { channelId: $c, targetKind: MEMBER, targetId: $u }) }`, { c: general, u: pat.id }, ada);
    expect((await ok(HISTORY, { c: general }, pat)).channel.messages.edges.length).toBeGreaterThan(0);
  });

  it("an overwrite that hides or reveals a channel reads as ChannelDeleted / ChannelCreated to whom it hides or reveals it", async () => {
    const LIVE_CHANNELS = `subscription($g: ID!) { guildEvents(guildId: $g) { __typename ... on ChannelCreated { channel { id } } ... on ChannelUpdated { channel { id } } ... on ChannelDeleted { channelId } } }`;
    const pats = subscribe(server.ws(pat.token), LIVE_CHANNELS, { g: guildId });
    const adas = subscribe(server.ws(ada.token), LIVE_CHANNELS, { g: guildId });
    await waitForSubscribers(server, `guild:${guildId}`, 4); // with the two of the private-channel test
    const hide = `mutation($c: ID!, $u: ID!) { setPermissionOverwrite(input: { channelId: $c, targetKind: MEMBER, targetId: $u, allow: [], deny: [VIEW_CHANNEL] }) { targetKind } }`;
    await ok(hide, { c: general, u: pat.id }, ada);
    await ok(`mutation($c: ID!, $u: ID!) { deletePermissionOverwrite(input: { channelId: $c, targetKind: MEMBER, targetId: $u }) }`, { c: general, u: pat.id }, ada);
    const seen = (s: typeof pats) => s.received.map((r) => [r.data!.guildEvents.__typename, r.data!.guildEvents.channel?.id ?? r.data!.guildEvents.channelId]);
    expect(seen(await pats.waitFor(2) && pats)).toEqual([["ChannelDeleted", general], ["ChannelCreated", general]]);
    expect(seen(await adas.waitFor(2) && adas)).toEqual([["ChannelUpdated", general], ["ChannelUpdated", general]]);
  });

  it("refuses overwrites that grant guild-wide flags, contradict themselves, or target strangers, writing nothing", async () => {
    const set = `mutation($c: ID!, $k: OverwriteTarget!, $t: ID!, $a: [Permission!]!, $d: [Permission!]!) {
      setPermissionOverwrite(input: { channelId: $c, targetKind: $k, targetId: $t, allow: $a, deny: $d }) { targetKind } }`;
    expectError(await server.gql(set, { c: general, k: "ROLE", t: guildId, a: ["BAN_MEMBERS"], d: [] }, ada.token), "BAD_USER_INPUT", /guild-wide/, "input");
    expectError(await server.gql(set, { c: general, k: "ROLE", t: guildId, a: ["SEND_MESSAGES"], d: ["SEND_MESSAGES"] }, ada.token), "BAD_USER_INPUT", /both allowed and denied/, "input");
    expectError(await server.gql(set, { c: general, k: "MEMBER", t: sam.id, a: [], d: ["SEND_MESSAGES"] }, ada.token), "BAD_USER_INPUT", /member of this guild/, "input");
    expect(await database.prisma.permissionOverwrite.count({ where: { channelId: BigInt(general) } })).toBe(0);
  });
});

describe("slowmode", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { RATE_LIMITS: "on" } });
  }, 60_000);
  afterAll(() => server?.close());

  it("lets a member send once per rateLimitPerUser seconds, with a RATE_LIMITED slowmode refusal, and exempts MANAGE_MESSAGES", async () => {
    const owner = await server.signUp("owner");
    const member = await server.signUp("member");
    const guild = await server.ok(CREATE_GUILD, {}, owner.token);
    const channelId = guild.createGuild.channels[0].id;
    const invite = await server.ok(INVITE, { g: guild.createGuild.id }, owner.token);
    await server.ok(JOIN, { c: invite.createInvite.code }, member.token);
    await server.ok(`mutation($c: ID!) { updateChannel(input: { channelId: $c, rateLimitPerUser: 2 }) { rateLimitPerUser } }`, { c: channelId }, owner.token);
    expect((await server.gql(SEND, { c: channelId, t: "one" }, member.token)).errors).toBeUndefined();
    const refused = await server.gql(SEND, { c: channelId, t: "two" }, member.token);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", bucket: "slowmode", scope: "USER" });
    expect(refused.errors?.[0]?.message).toMatch(/slowmode/);
    expect(refused.errors?.[0]?.extensions?.retryAfterMs as number).toBeLessThanOrEqual(2_000);
    // The owner holds MANAGE_MESSAGES (everything): not slowed.
    for (const t of ["a", "b", "c"]) expect((await server.gql(SEND, { c: channelId, t }, owner.token)).errors).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await server.gql(SEND, { c: channelId, t: "three" }, member.token)).errors).toBeUndefined();
  });
});
