import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/stores/prisma/database.js";
import { expectError, type User } from "../support/assertions.js";
import { openTestPglite } from "../support/databases.js";
import { startTestServer, type TestServer } from "../support/server.js";

/**
 * The audit log over real HTTP: every governance and moderation action appears with its actor,
 * target, changes and reason (the operation's `reason`, or Discord's X-Audit-Log-Reason
 * header); refused and no-op actions record nothing; only VIEW_AUDIT_LOG may read it; invites
 * can be listed and revoked.
 */

const CREATE_GUILD = `mutation { createGuild(input: { name: "Audited" }) { id channels { id } } }`;
const INVITE = `mutation($g: ID!) { createInvite(input: { guildId: $g, maxUses: 5 }) { code } }`;
const JOIN = `mutation($c: String!) { joinGuild(code: $c) { id } }`;
const CREATE_ROLE = `mutation($g: ID!, $n: String!, $p: [Permission!]!) { createRole(input: { guildId: $g, name: $n, permissions: $p }) { id } }`;
const UPDATE_ROLE = `mutation($g: ID!, $r: ID!, $n: String) { updateRole(input: { guildId: $g, roleId: $r, name: $n }) { id } }`;
const ADD_ROLE = `mutation($g: ID!, $u: ID!, $r: ID!) { addMemberRole(input: { guildId: $g, userId: $u, roleId: $r }) }`;
const OVERWRITE = `mutation($c: ID!, $t: ID!) { setPermissionOverwrite(input: { channelId: $c, targetKind: ROLE, targetId: $t, allow: [], deny: [VIEW_CHANNEL] }) { targetId } }`;
const KICK = `mutation($g: ID!, $u: ID!, $r: String) { kickMember(input: { guildId: $g, userId: $u, reason: $r }) }`;
const BAN = `mutation($g: ID!, $u: ID!, $r: String) { banMember(input: { guildId: $g, userId: $u, reason: $r }) { reason } }`;
const UNBAN = `mutation($g: ID!, $u: ID!) { unbanMember(input: { guildId: $g, userId: $u }) }`;
const TIMEOUT = `mutation($g: ID!, $u: ID!, $until: DateTime, $r: String) { timeoutMember(input: { guildId: $g, userId: $u, until: $until, reason: $r }) { timedOutUntil } }`;
const RENAME = `mutation($g: ID!, $n: String!) { updateGuild(input: { guildId: $g, name: $n }) { name } }`;
const REVOKE = `mutation($c: String!) { revokeInvite(code: $c) { code uses } }`;
const INVITES = `query($g: ID!, $after: ID) { guild(id: $g) { invites(first: 2, after: $after) { edges { node { code uses maxUses inviter { id } } } pageInfo { hasNextPage endCursor } } } }`;
const LOG = `query($g: ID!, $action: AuditLogAction, $actor: ID, $first: Int, $after: ID) {
  guild(id: $g) { auditLog(first: $first, after: $after, action: $action, actorId: $actor) {
    edges { node { id action actor { id } targetKind targetId reason changes { key before after } createdAt } }
    pageInfo { hasNextPage endCursor } } } }`;

describe("audit log and invites", () => {
  let server: TestServer;
  let database: Database;
  let ada: User; // owner
  let mo: User; // moderator: KICK, BAN, MODERATE, VIEW_AUDIT_LOG
  let pat: User;
  let kim: User;
  let guildId: string;
  let general: string;
  let roleId: string;

  const ok = <T = any>(query: string, variables: Record<string, unknown>, user: User): Promise<T> => server.ok<T>(query, variables, user.token);
  const entries = async (variables: Record<string, unknown> = {}, user: User = ada) =>
    (await ok(LOG, { g: guildId, first: 100, ...variables }, user)).guild.auditLog.edges.map((e: any) => e.node);
  const entryCount = () => database.prisma.auditLogEntry.count({ where: { guildId: BigInt(guildId) } });

  beforeAll(async () => {
    database = await openTestPglite();
    server = await startTestServer({ database, warmUp: true });
    [ada, mo, pat, kim] = await Promise.all([server.signUp("ada"), server.signUp("mo"), server.signUp("pat"), server.signUp("kim")]);
    const guild = await ok(CREATE_GUILD, {}, ada);
    guildId = guild.createGuild.id;
    general = guild.createGuild.channels[0].id;
    const code = (await ok(INVITE, { g: guildId }, ada)).createInvite.code;
    for (const user of [mo, pat, kim]) await ok(JOIN, { c: code }, user);
  }, 60_000);
  afterAll(() => server?.close());

  it("records each action with actor, target, changes and reason, newest first", async () => {
    // A reason in Discord's header, URL-encoded.
    const res = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ada.token}`, "x-audit-log-reason": encodeURIComponent("staff: mods & helpers") },
      body: JSON.stringify({ query: CREATE_ROLE, variables: { g: guildId, n: "Mods", p: ["KICK_MEMBERS", "BAN_MEMBERS", "MODERATE_MEMBERS", "VIEW_AUDIT_LOG"] } }),
    });
    roleId = ((await res.json()) as any).data.createRole.id;
    await ok(UPDATE_ROLE, { g: guildId, r: roleId, n: "Moderators" }, ada);
    await ok(ADD_ROLE, { g: guildId, u: mo.id, r: roleId }, ada);
    await ok(OVERWRITE, { c: general, t: roleId }, ada);
    await ok(TIMEOUT, { g: guildId, u: pat.id, until: new Date(Date.now() + 60_000).toISOString(), r: "slow down" }, mo);
    await ok(KICK, { g: guildId, u: kim.id, r: "off-topic" }, mo);
    await ok(BAN, { g: guildId, u: pat.id, r: "spam" }, mo);
    await ok(UNBAN, { g: guildId, u: pat.id }, mo);
    await ok(RENAME, { g: guildId, n: "Audited Too" }, ada);

    const log = await entries();
    expect(log.map((e: any) => e.action)).toEqual([
      "GUILD_UPDATE",
      "MEMBER_BAN_REMOVE",
      "MEMBER_BAN_ADD",
      "MEMBER_KICK",
      "MEMBER_UPDATE",
      "CHANNEL_OVERWRITE_CREATE",
      "MEMBER_ROLE_UPDATE",
      "ROLE_UPDATE",
      "ROLE_CREATE",
      "INVITE_CREATE",
    ]);
    const byAction = Object.fromEntries(log.map((e: any) => [e.action, e]));
    expect(byAction.ROLE_CREATE).toMatchObject({ actor: { id: ada.id }, targetKind: "ROLE", targetId: roleId, reason: "staff: mods & helpers" });
    expect(byAction.ROLE_CREATE.changes).toContainEqual({ key: "name", before: null, after: JSON.stringify("Mods") });
    expect(byAction.ROLE_UPDATE.changes).toEqual([{ key: "name", before: JSON.stringify("Mods"), after: JSON.stringify("Moderators") }]);
    expect(byAction.MEMBER_ROLE_UPDATE).toMatchObject({ targetKind: "USER", targetId: mo.id, changes: [{ key: "$add", before: null, after: JSON.stringify([roleId]) }] });
    expect(byAction.CHANNEL_OVERWRITE_CREATE).toMatchObject({ targetKind: "CHANNEL", targetId: general });
    expect(byAction.CHANNEL_OVERWRITE_CREATE.changes).toContainEqual({ key: "deny", before: null, after: JSON.stringify("1024") });
    expect(byAction.MEMBER_UPDATE).toMatchObject({ actor: { id: mo.id }, targetId: pat.id, reason: "slow down" });
    expect(byAction.MEMBER_UPDATE.changes[0]).toMatchObject({ key: "communication_disabled_until", before: null });
    expect(byAction.MEMBER_KICK).toMatchObject({ actor: { id: mo.id }, targetKind: "USER", targetId: kim.id, reason: "off-topic", changes: [] });
    expect(byAction.MEMBER_BAN_ADD).toMatchObject({ targetId: pat.id, reason: "spam" });
    expect(byAction.GUILD_UPDATE.changes).toEqual([{ key: "name", before: JSON.stringify("Audited"), after: JSON.stringify("Audited Too") }]);
    for (const entry of log) expect(Math.abs(Date.parse(entry.createdAt) - Date.now())).toBeLessThan(60_000);
  });

  it("records channels: created (with their overwrites), changed (only what changed) and deleted", async () => {
    const create = `mutation($g: ID!) { createChannel(input: { guildId: $g, name: "mods", permissionOverwrites: [{ targetKind: ROLE, targetId: $g, allow: [], deny: [VIEW_CHANNEL] }] }) { id } }`;
    const channelId = (await ok(create, { g: guildId }, ada)).createChannel.id;
    await ok(`mutation($c: ID!) { updateChannel(input: { channelId: $c, topic: "staff only" }) { id } }`, { c: channelId }, ada);
    await ok(`mutation($c: ID!) { deleteChannel(channelId: $c) }`, { c: channelId }, ada);
    const [deleted, updated, created] = await entries();
    expect(created).toMatchObject({ action: "CHANNEL_CREATE", targetKind: "CHANNEL", targetId: channelId, actor: { id: ada.id } });
    expect(created.changes).toContainEqual({ key: "name", before: null, after: JSON.stringify("mods") });
    expect(JSON.parse(created.changes.find((c: any) => c.key === "permission_overwrites").after)).toEqual([{ id: guildId, type: 0, allow: "0", deny: "1024" }]);
    expect(updated).toMatchObject({ action: "CHANNEL_UPDATE", targetId: channelId, changes: [{ key: "topic", before: null, after: JSON.stringify("staff only") }] });
    expect(deleted).toMatchObject({ action: "CHANNEL_DELETE", targetId: channelId });
    expect(deleted.changes).toContainEqual({ key: "name", before: JSON.stringify("mods"), after: null });
  });

  it("filters by action and actor, and pages by entry id", async () => {
    expect((await entries({ action: "MEMBER_KICK" })).map((e: any) => e.targetId)).toEqual([kim.id]);
    const mine = await entries({ actor: mo.id });
    expect(mine.map((e: any) => e.action)).toEqual(["MEMBER_BAN_REMOVE", "MEMBER_BAN_ADD", "MEMBER_KICK", "MEMBER_UPDATE"]);
    const first = (await ok(LOG, { g: guildId, first: 3 }, ada)).guild.auditLog;
    expect(first.pageInfo.hasNextPage).toBe(true);
    const next = (await ok(LOG, { g: guildId, first: 100, after: first.pageInfo.endCursor }, ada)).guild.auditLog;
    const all = await entries();
    expect([...first.edges, ...next.edges].map((e: any) => e.node.id)).toEqual(all.map((e: any) => e.id));
  });

  it("is for VIEW_AUDIT_LOG only", async () => {
    expect((await entries({}, mo)).length).toBeGreaterThan(0);
    const code = (await ok(INVITE, { g: guildId }, ada)).createInvite.code;
    await ok(JOIN, { c: code }, kim);
    expectError(await server.gql(LOG, { g: guildId }, kim.token), "FORBIDDEN", /VIEW_AUDIT_LOG/);
    const stranger = await server.signUp("stranger");
    expectError(await server.gql(LOG, { g: guildId }, stranger.token), "NOT_FOUND", /Guild/);
  });

  it("refused and no-op actions record nothing", async () => {
    const before = await entryCount();
    expectError(await server.gql(KICK, { g: guildId, u: ada.id, r: "coup" }, mo.token), "FORBIDDEN", /ranked below you/);
    expectError(await server.gql(KICK, { g: guildId, u: kim.id, r: "x".repeat(513) }, mo.token), "BAD_USER_INPUT", /reason/, "reason");
    expect(await ok(UNBAN, { g: guildId, u: kim.id }, mo)).toEqual({ unbanMember: false });
    expect(await ok(ADD_ROLE, { g: guildId, u: mo.id, r: roleId }, ada)).toEqual({ addMemberRole: false });
    const bad = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ada.token}`, "x-audit-log-reason": "y".repeat(600) },
      body: JSON.stringify({ query: RENAME, variables: { g: guildId, n: "Never" } }),
    });
    expectError((await bad.json()) as any, "BAD_USER_INPUT", /reason/, "reason");
    expect((await database.prisma.guild.findUniqueOrThrow({ where: { id: BigInt(guildId) } })).name).toBe("Audited Too");
    expect(await entryCount()).toBe(before);
  });

  it("lists invites (MANAGE_GUILD) with uses and inviter, and revokes them (creator or MANAGE_GUILD)", async () => {
    const mine = (await ok(INVITE, { g: guildId }, kim)).createInvite.code;
    const page1 = (await ok(INVITES, { g: guildId }, ada)).guild.invites;
    expect(page1.edges[0].node).toEqual({ code: mine, uses: 0, maxUses: 5, inviter: { id: kim.id } });
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await ok(INVITES, { g: guildId, after: page1.pageInfo.endCursor }, ada)).guild.invites;
    const codes = [...page1.edges, ...page2.edges].map((e: any) => e.node.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect(await database.prisma.invite.count({ where: { guildId: BigInt(guildId) } })).toBe(codes.length);
    expectError(await server.gql(INVITES, { g: guildId }, kim.token), "FORBIDDEN", /MANAGE_GUILD/);

    // Kim may revoke her own invite; Pat (not a member now) cannot see it; Mo (no MANAGE_GUILD) cannot revoke Ada's.
    const adas = codes.find((c: string) => c !== mine)!;
    expectError(await server.gql(REVOKE, { c: adas }, mo.token), "FORBIDDEN", /MANAGE_GUILD/);
    expectError(await server.gql(REVOKE, { c: mine }, pat.token), "NOT_FOUND", /Invite/);
    expect((await ok(REVOKE, { c: mine }, kim)).revokeInvite).toEqual({ code: mine, uses: 0 });
    expectError(await server.gql(REVOKE, { c: mine }, kim.token), "NOT_FOUND", /Invite/);
    expectError(await server.gql(JOIN, { c: mine }, pat.token), "NOT_FOUND", /Invite/);
    const revoked = await entries({ action: "INVITE_DELETE" });
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({ actor: { id: kim.id }, targetKind: "INVITE", targetId: mine });
  });
});
