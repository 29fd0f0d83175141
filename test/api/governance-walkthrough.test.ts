import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ending, expectError, type User } from "../support/assertions.js";
import { openTestPglite } from "../support/databases.js";
import { startTestServer, subscribe, waitForSubscribers, type TestServer } from "../support/server.js";

/**
 * Issue #10's "done when", as a new user would try it over HTTP and graphql-ws: an owner makes a
 * moderator role and a private channel only that role can see; a plain member cannot read,
 * subscribe to or find it, the moderator can; taking the role away ends the moderator's live
 * stream there within a second; a banned user cannot rejoin with any invite; a timed-out member
 * gets a coded error on send; every one of those actions is in the audit log with its actor and
 * reason; a stranger can neither DM nor see the presence of someone they share nothing with, and
 * a blocked user cannot DM at all.
 */

const ROLE = `mutation($g: ID!) { createRole(input: { guildId: $g, name: "Moderators", permissions: [KICK_MEMBERS, BAN_MEMBERS, MODERATE_MEMBERS, MANAGE_MESSAGES, VIEW_AUDIT_LOG] }) { id } }`;
const GIVE = `mutation($g: ID!, $u: ID!, $r: ID!) { addMemberRole(input: { guildId: $g, userId: $u, roleId: $r }) }`;
const TAKE = `mutation($g: ID!, $u: ID!, $r: ID!) { removeMemberRole(input: { guildId: $g, userId: $u, roleId: $r }) }`;
const PRIVATE = `mutation($g: ID!, $r: ID!) { createChannel(input: { guildId: $g, name: "mods-only", permissionOverwrites: [
  { targetKind: ROLE, targetId: $g, allow: [], deny: [VIEW_CHANNEL] },
  { targetKind: ROLE, targetId: $r, allow: [VIEW_CHANNEL], deny: [] } ] }) { id } }`;
const CHANNELS = `query($g: ID!) { guild(id: $g) { channels { id } } }`;
const HISTORY = `query($c: ID!) { channel(id: $c) { messages(last: 5) { edges { node { content } } } } }`;
const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;
const LIVE = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename } }`;
const INVITE = `mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`;
const JOIN = `mutation($c: String!) { joinGuild(code: $c) { id } }`;
const BAN = `mutation($g: ID!, $u: ID!, $r: String) { banMember(input: { guildId: $g, userId: $u, reason: $r }) { reason } }`;
const TIMEOUT = `mutation($g: ID!, $u: ID!, $t: DateTime, $r: String) { timeoutMember(input: { guildId: $g, userId: $u, until: $t, reason: $r }) { timedOutUntil } }`;
const LOG = `query($g: ID!) { guild(id: $g) { auditLog(first: 50) { edges { node { action actor { id } targetId reason } } } } }`;
const OPEN_DM = `mutation($u: [ID!]!) { openDirectMessage(userIds: $u) { id } }`;
const PRESENCE = `query($u: [ID!]!) { users(ids: $u) { presence } }`;
const BLOCK = `mutation($u: ID!) { blockUser(userId: $u) { type } }`;
const SET_PRESENCE = `mutation { setPresence(status: ONLINE) }`;

describe("issue #10, done when", () => {
  let server: TestServer;
  let owner: User, mod: User, member: User, troll: User, chatty: User, stranger: User;
  let guildId: string, general: string, roleId: string, hidden: string;

  const ok = <T = any>(query: string, variables: Record<string, unknown>, user: User): Promise<T> => server.ok<T>(query, variables, user.token);
  /** As `ok`, with Discord's X-Audit-Log-Reason header. */
  const withReason = async (query: string, variables: Record<string, unknown>, user: User, reason: string) => {
    const res = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${user.token}`, "x-audit-log-reason": encodeURIComponent(reason) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: any; errors?: unknown };
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    return body.data;
  };

  beforeAll(async () => {
    server = await startTestServer({ database: await openTestPglite(), warmUp: true });
    const users = await Promise.all(["owner", "mod", "member", "troll", "chatty", "stranger"].map((n) => server.signUp(n)));
    [owner, mod, member, troll, chatty, stranger] = users as [User, User, User, User, User, User];
    const guild = await ok(`mutation { createGuild(input: { name: "Governed" }) { id channels { id } } }`, {}, owner);
    guildId = guild.createGuild.id;
    general = guild.createGuild.channels[0].id;
    const code = (await ok(INVITE, { g: guildId }, owner)).createInvite.code;
    for (const user of [mod, member, troll, chatty]) await ok(JOIN, { c: code }, user);
  }, 60_000);
  afterAll(() => server?.close());

  it("a private channel only the moderator role sees; taking the role ends the moderator's stream within a second", async () => {
    roleId = (await withReason(ROLE, { g: guildId }, owner, "we need moderators")).createRole.id;
    await withReason(GIVE, { g: guildId, u: mod.id, r: roleId }, owner, "mod trial");
    hidden = (await withReason(PRIVATE, { g: guildId, r: roleId }, owner, "a room for the mods")).createChannel.id;
    await ok(SEND, { c: hidden, t: "mods only" }, mod);

    // The plain member cannot find, read or subscribe to it.
    expect((await ok(CHANNELS, { g: guildId }, member)).guild.channels.map((c: any) => c.id)).not.toContain(hidden);
    expectError(await server.gql(HISTORY, { c: hidden }, member.token), "NOT_FOUND", /Channel/);
    expect((await ending(subscribe(server.ws(member.token), LIVE, { c: hidden }), 2_000)).errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    // The moderator can.
    expect((await ok(CHANNELS, { g: guildId }, mod)).guild.channels.map((c: any) => c.id)).toContain(hidden);
    expect((await ok(HISTORY, { c: hidden }, mod)).channel.messages.edges.map((e: any) => e.node.content)).toEqual(["mods only"]);

    const stream = subscribe(server.ws(mod.token), LIVE, { c: hidden });
    await waitForSubscribers(server, `channel:${hidden}`);
    const started = performance.now();
    await withReason(TAKE, { g: guildId, u: mod.id, r: roleId }, owner, "trial over");
    const ended = await ending(stream, 1_000);
    expect(ended.errors?.[0]?.extensions?.code).toMatch(/FORBIDDEN|NOT_FOUND/);
    expect(performance.now() - started).toBeLessThan(1_000);
    await withReason(GIVE, { g: guildId, u: mod.id, r: roleId }, owner, "back on the team");
  });

  it("a banned user cannot rejoin with any invite; a timed-out member gets a coded error on send", async () => {
    await ok(BAN, { g: guildId, u: troll.id, r: "raiding" }, mod);
    for (const inviter of [owner, mod, member]) {
      const code = (await ok(INVITE, { g: guildId }, inviter)).createInvite.code;
      expectError(await server.gql(JOIN, { c: code }, troll.token), "FORBIDDEN", /banned/);
    }
    await ok(TIMEOUT, { g: guildId, u: chatty.id, t: new Date(Date.now() + 600_000).toISOString(), r: "flooding" }, mod);
    expectError(await server.gql(SEND, { c: general, t: "but wait" }, chatty.token), "FORBIDDEN", /timed out/);
  });

  it("every one of those actions is in the audit log with its actor and reason", async () => {
    const log = (await ok(LOG, { g: guildId }, mod)).guild.auditLog.edges.map((e: any) => e.node);
    const find = (action: string, targetId: string) => log.filter((e: any) => e.action === action && e.targetId === targetId);
    expect(find("ROLE_CREATE", roleId)).toEqual([{ action: "ROLE_CREATE", actor: { id: owner.id }, targetId: roleId, reason: "we need moderators" }]);
    expect(find("CHANNEL_CREATE", hidden)).toEqual([{ action: "CHANNEL_CREATE", actor: { id: owner.id }, targetId: hidden, reason: "a room for the mods" }]);
    expect(find("MEMBER_ROLE_UPDATE", mod.id).map((e: any) => e.reason)).toEqual(["back on the team", "trial over", "mod trial"]);
    expect(find("MEMBER_BAN_ADD", troll.id)).toEqual([{ action: "MEMBER_BAN_ADD", actor: { id: mod.id }, targetId: troll.id, reason: "raiding" }]);
    expect(find("MEMBER_UPDATE", chatty.id)).toEqual([{ action: "MEMBER_UPDATE", actor: { id: mod.id }, targetId: chatty.id, reason: "flooding" }]);
  });

  it("a stranger can neither DM nor see the presence of someone they share nothing with; a blocked user cannot DM at all", async () => {
    await ok(SET_PRESENCE, {}, member);
    expectError(await server.gql(OPEN_DM, { u: [member.id] }, stranger.token), "FORBIDDEN", /./);
    expect((await ok(PRESENCE, { u: [member.id] }, stranger)).users).toEqual([{ presence: "OFFLINE" }]);
    expect((await ok(PRESENCE, { u: [member.id] }, mod)).users).toEqual([{ presence: "ONLINE" }]);

    // Guildmates may DM by default, until a block.
    await ok(OPEN_DM, { u: [member.id] }, chatty);
    await ok(BLOCK, { u: chatty.id }, member);
    expectError(await server.gql(OPEN_DM, { u: [member.id] }, chatty.token), "FORBIDDEN", /./);
    expect((await ok(PRESENCE, { u: [member.id] }, chatty)).users).toEqual([{ presence: "OFFLINE" }]);
  });
});
