import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createContext } from "../../src/context.js";
import { readState } from "../../src/resolvers/read-states.js";
import type { Database } from "../../src/stores/prisma/database.js";
import { expectError, type User } from "../support/assertions.js";
import { openTestPglite } from "../support/databases.js";
import { befriend, guildOf } from "../support/people.js";
import { startTestServer, subscribe, waitForSubscribers, type TestServer } from "../support/server.js";

/**
 * Role mentions, @everyone and @here in unread mention counts, over real HTTP: who they count
 * for (readers of the channel, holders of the role, only with MENTION_EVERYONE where Discord
 * asks for it), that acking clears them, that edits and deletes follow, and that a message to a
 * guild of thousands is one row, not one per member.
 */

const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id mentionEveryone mentionRoles { id name } } }`;
const EDIT = `mutation($c: ID!, $m: ID!, $t: String!) { editMessage(input: { channelId: $c, messageId: $m, content: $t }) { id mentionEveryone mentionRoles { name } } }`;
const DELETE = `mutation($c: ID!, $m: ID!) { deleteMessage(input: { channelId: $c, messageId: $m }) }`;
const ACK = `mutation($c: ID!, $m: ID!) { ackMessage(input: { channelId: $c, messageId: $m }) { mentionCount } }`;
const READ_STATE = `query($c: ID!) { channel(id: $c) { readState { mentionCount } } }`;
const CREATE_ROLE = `mutation($g: ID!, $n: String!, $p: [Permission!]!, $m: Boolean) { createRole(input: { guildId: $g, name: $n, permissions: $p, mentionable: $m }) { id } }`;
const ADD_ROLE = `mutation($g: ID!, $u: ID!, $r: ID!) { addMemberRole(input: { guildId: $g, userId: $u, roleId: $r }) }`;
const EVERYONE_PERMISSIONS = `mutation($g: ID!, $p: [Permission!]!) { updateRole(input: { guildId: $g, roleId: $g, permissions: $p }) { id } }`;
const OVERWRITE = `mutation($c: ID!, $k: OverwriteTarget!, $t: ID!, $a: [Permission!]!, $d: [Permission!]!) {
  setPermissionOverwrite(input: { channelId: $c, targetKind: $k, targetId: $t, allow: $a, deny: $d }) { targetId }
}`;
const WITHOUT_MENTION_EVERYONE = ["CREATE_INSTANT_INVITE", "VIEW_CHANNEL", "SEND_MESSAGES", "READ_MESSAGE_HISTORY"];

let server: TestServer;
let database: Database;
let ada: User; // owns every guild here: has every permission
let bob: User;
let cy: User;
let dan: User;

const ok = <T = any>(query: string, variables: Record<string, unknown>, user: User): Promise<T> => server.ok<T>(query, variables, user.token);
const send = async (user: User, channelId: string, text: string) => (await ok(SEND, { c: channelId, t: text }, user)).sendMessage;
const count = async (user: User, channelId: string): Promise<number> => (await ok(READ_STATE, { c: channelId }, user)).channel.readState.mentionCount;
const counts = (users: User[], channelId: string) => Promise.all(users.map((u) => count(u, channelId)));
const role = async (guildId: string, name: string, options: { mentionable: boolean; holders: User[]; permissions?: string[] }): Promise<string> => {
  const id = (await ok(CREATE_ROLE, { g: guildId, n: name, p: options.permissions ?? [], m: options.mentionable }, ada)).createRole.id as string;
  for (const user of options.holders) await ok(ADD_ROLE, { g: guildId, u: user.id, r: id }, ada);
  return id;
};
/** Rows indexing broad mentions of these messages (ids as strings). */
const broadRows = (...messageIds: string[]) => database.prisma.broadMention.count({ where: { messageId: { in: messageIds.map(BigInt) } } });

beforeAll(async () => {
  // Acks are flushed by the tests themselves, so counts never depend on a timer.
  database = await openTestPglite();
  server = await startTestServer({ database, env: { ACK_FLUSH_MS: "60000" }, warmUp: true });
  [ada, bob, cy, dan] = await Promise.all([server.signUp("ada"), server.signUp("bob"), server.signUp("cy"), server.signUp("dan")]);
}, 120_000);

afterAll(() => server?.close());

describe("@everyone and @here", () => {
  it("by a member without MENTION_EVERYONE are plain text: no error, they count for nobody and write nothing", async () => {
    const { guildId, channelId } = await guildOf(server, ada, [bob, cy]);
    await ok(EVERYONE_PERMISSIONS, { g: guildId, p: WITHOUT_MENTION_EVERYONE }, ada);
    const sent = [await send(bob, channelId, "@everyone look"), await send(bob, channelId, "look @here")];
    expect(sent.map((m) => [m.mentionEveryone, m.mentionRoles])).toEqual([[false, []], [false, []]]);
    expect(await counts([ada, cy], channelId)).toEqual([0, 0]);
    expect(await broadRows(...sent.map((m) => m.id))).toBe(0);

    // The permission is the channel's: @everyone has it again, but an overwrite denies it to bob here.
    await ok(EVERYONE_PERMISSIONS, { g: guildId, p: [...WITHOUT_MENTION_EVERYONE, "MENTION_EVERYONE"] }, ada);
    await ok(OVERWRITE, { c: channelId, k: "MEMBER", t: bob.id, a: [], d: ["MENTION_EVERYONE"] }, ada);
    const denied = await send(bob, channelId, "@everyone still nothing");
    expect(denied.mentionEveryone).toBe(false);
    expect(await counts([ada, cy], channelId)).toEqual([0, 0]);
    const allowed = await send(cy, channelId, "@everyone from cy");
    expect(allowed.mentionEveryone).toBe(true);
    expect(await counts([ada, bob, cy], channelId)).toEqual([1, 1, 0]);
  });

  it("with MENTION_EVERYONE count for every reader of the channel, once per message whatever else it mentions", async () => {
    const { guildId, channelId } = await guildOf(server, ada, [bob, cy, dan]);
    const crew = await role(guildId, "Crew", { mentionable: true, holders: [bob] });
    const first = await send(ada, channelId, `@everyone <@${bob.id}> <@&${crew}> @here`);
    expect(first).toMatchObject({ mentionEveryone: true, mentionRoles: [{ id: crew, name: "Crew" }] });
    expect(await counts([ada, bob, cy, dan], channelId)).toEqual([0, 1, 1, 1]);
    // A member with the permission (@everyone has it by default): @here counts like @everyone.
    await send(cy, channelId, "@here anyone?");
    expect(await counts([ada, bob, cy, dan], channelId)).toEqual([1, 2, 0, 2]);
    expect(await broadRows(first.id)).toBe(1);
  });
});

describe("role mentions", () => {
  it("count for the role's members only; a role that is not mentionable only when the author has MENTION_EVERYONE", async () => {
    const { guildId, channelId } = await guildOf(server, ada, [bob, cy, dan]);
    await ok(EVERYONE_PERMISSIONS, { g: guildId, p: WITHOUT_MENTION_EVERYONE }, ada);
    const raiders = await role(guildId, "Raiders", { mentionable: true, holders: [cy] });
    const quiet = await role(guildId, "Quiet", { mentionable: false, holders: [dan] });
    const elsewhere = await guildOf(server, ada, [], "Elsewhere");
    const foreign = await role(elsewhere.guildId, "Foreign", { mentionable: true, holders: [] });

    // bob lacks MENTION_EVERYONE: only the mentionable role of this guild notifies; the @everyone
    // role (the guild's id), another guild's role and an unknown id are plain text.
    const byBob = await send(bob, channelId, `<@&${raiders}> <@&${quiet}> <@&${guildId}> <@&${foreign}> <@&123>`);
    expect(byBob).toMatchObject({ mentionEveryone: false, mentionRoles: [{ id: raiders, name: "Raiders" }] });
    expect(await counts([ada, bob, cy, dan], channelId)).toEqual([0, 0, 1, 0]);

    // The owner has every permission: the quiet role notifies, and <@&guildId> is @everyone.
    const byAda = await send(ada, channelId, `<@&${quiet}>`);
    expect(byAda.mentionRoles).toEqual([{ id: quiet, name: "Quiet" }]);
    expect(await counts([bob, cy, dan], channelId)).toEqual([0, 1, 1]);
    const everyoneRole = await send(ada, channelId, `<@&${guildId}>`);
    expect(everyoneRole).toMatchObject({ mentionEveryone: true, mentionRoles: [] });
    expect(await counts([bob, cy, dan], channelId)).toEqual([1, 2, 2]);

    // Who a role mention reaches is decided when the count is read: dan holds Raiders now.
    await ok(ADD_ROLE, { g: guildId, u: dan.id, r: raiders }, ada);
    expect(await count(dan, channelId)).toBe(3);
  });
});

describe("who can read the channel", () => {
  it("a member who cannot view a private channel gets nothing from it (evaluated when the count is read)", async () => {
    const { guildId } = await guildOf(server, ada, [bob, cy]);
    const crew = await role(guildId, "Crew", { mentionable: true, holders: [bob] });
    const created = await ok(`mutation($g: ID!) { createChannel(input: { guildId: $g, name: "crew-only" }) { id } }`, { g: guildId }, ada);
    const secret = created.createChannel.id as string;
    await ok(OVERWRITE, { c: secret, k: "ROLE", t: guildId, a: [], d: ["VIEW_CHANNEL"] }, ada);
    await ok(OVERWRITE, { c: secret, k: "ROLE", t: crew, a: ["VIEW_CHANNEL"], d: [] }, ada);
    await send(ada, secret, "@everyone crew meeting");
    await send(ada, secret, `<@${cy.id}> <@&${crew}> you too?`);

    expect(await count(bob, secret)).toBe(2);
    expectError(await server.gql(READ_STATE, { c: secret }, cy.token), "NOT_FOUND", /Channel/);
    // Below the API: the read state use case itself counts nothing for a non-reader.
    const [cyRecord] = await server.app.services.accounts.getUsers([BigInt(cy.id)]);
    const [channel] = await server.app.services.channels.getChannels([BigInt(secret)]);
    const ctx = createContext(server.app.services, { viewer: cyRecord!, tokenHash: null, authFailure: null });
    expect((await readState(ctx, channel!)).mentionCount).toBe(0);

    // Let in, cy counts what is there now (both messages: @everyone, and her name).
    await ok(OVERWRITE, { c: secret, k: "MEMBER", t: cy.id, a: ["VIEW_CHANNEL"], d: [] }, ada);
    expect(await count(cy, secret)).toBe(2);
  });

  it("new members are not notified of broad mentions from before they joined", async () => {
    const { guildId, channelId } = await guildOf(server, ada, [bob]);
    await send(ada, channelId, "@everyone old news");
    const invite = await ok(`mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: guildId }, ada);
    await ok(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: invite.createInvite.code }, dan);
    expect(await counts([bob, dan], channelId)).toEqual([1, 0]);
    await send(ada, channelId, "@everyone fresh news");
    expect(await counts([bob, dan], channelId)).toEqual([2, 1]);
  });

  it("in DMs @everyone, @here and role mentions are plain text", async () => {
    const { guildId } = await guildOf(server, ada, [bob]);
    await befriend(server, ada, bob);
    const dm = (await ok(`mutation($u: [ID!]!) { openDirectMessage(userIds: $u) { id } }`, { u: [bob.id] }, ada)).openDirectMessage.id as string;
    const sent = await send(ada, dm, `@everyone @here <@&${guildId}>`);
    expect(sent).toMatchObject({ mentionEveryone: false, mentionRoles: [] });
    expect(await count(bob, dm)).toBe(0);
    expect(await broadRows(sent.id)).toBe(0);
  });
});

describe("acks, edits and deletes", () => {
  it("acking clears broad mentions up to the pointer; newer ones still count; the shared row stays", async () => {
    const { channelId } = await guildOf(server, ada, [bob, cy]);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await send(ada, channelId, `@everyone ${i}`)).id);
    expect((await ok(ACK, { c: channelId, m: ids[1] }, bob)).ackMessage.mentionCount).toBe(1);
    await server.app.services.acks.flush();
    expect(await counts([bob, cy], channelId)).toEqual([1, 3]);
    expect((await ok(ACK, { c: channelId, m: ids[2] }, bob)).ackMessage.mentionCount).toBe(0);
    await server.app.services.acks.flush();
    expect(await counts([bob, cy], channelId)).toEqual([0, 3]);
    expect(await broadRows(...ids)).toBe(3);
  });

  it("an edit re-evaluates the mentions (with the author's permissions now); a delete removes them", async () => {
    const { guildId, channelId } = await guildOf(server, ada, [bob, cy]);
    const crew = await role(guildId, "Crew", { mentionable: true, holders: [cy] });
    const edit = async (user: User, id: string, text: string) => (await ok(EDIT, { c: channelId, m: id, t: text }, user)).editMessage;
    const { id } = await send(ada, channelId, "@everyone");
    expect(await counts([bob, cy], channelId)).toEqual([1, 1]);
    expect(await edit(ada, id, "never mind")).toMatchObject({ mentionEveryone: false, mentionRoles: [] });
    expect(await counts([bob, cy], channelId)).toEqual([0, 0]);
    expect(await broadRows(id)).toBe(0);
    expect(await edit(ada, id, `<@&${crew}> only`)).toMatchObject({ mentionEveryone: false, mentionRoles: [{ name: "Crew" }] });
    expect(await counts([bob, cy], channelId)).toEqual([0, 1]);
    expect(await ok(DELETE, { c: channelId, m: id }, ada)).toEqual({ deleteMessage: true });
    expect(await counts([bob, cy], channelId)).toEqual([0, 0]);
    expect(await broadRows(id)).toBe(0);

    // bob may mention @everyone (the default) until that is taken away; his edit then is plain text.
    const byBob = await send(bob, channelId, "@everyone party");
    expect(await count(cy, channelId)).toBe(1);
    await ok(EVERYONE_PERMISSIONS, { g: guildId, p: WITHOUT_MENTION_EVERYONE }, ada);
    expect((await ok(EDIT, { c: channelId, m: byBob.id, t: "@everyone party!" }, bob)).editMessage.mentionEveryone).toBe(false);
    expect(await count(cy, channelId)).toBe(0);
  });
});

describe("what it costs and shows", () => {
  it("an @everyone message in a guild of 5,000 members writes one row, and no row per member", async () => {
    const { guildId, channelId } = await guildOf(server, ada, [bob]);
    const base = 1_000_000_000 + process.pid * 10_000;
    await database.prisma.$executeRawUnsafe(
      `INSERT INTO users (id, username_key, username) SELECT ${base}::bigint + g, 'bulk_${base}_' || g, 'bulk_${base}_' || g FROM generate_series(1, 5000) g`,
    );
    await database.prisma.$executeRawUnsafe(`INSERT INTO members (guild_id, user_id) SELECT ${guildId}, ${base}::bigint + g FROM generate_series(1, 5000) g`);
    await database.prisma.$executeRawUnsafe(`UPDATE guilds SET member_count = member_count + 5000 WHERE id = ${guildId}`);

    const [broadBefore, mentionsBefore] = await Promise.all([database.prisma.broadMention.count(), database.prisma.mention.count()]);
    const { id } = await send(ada, channelId, "@everyone all 5,002 of you");
    const [broadAfter, mentionsAfter] = await Promise.all([database.prisma.broadMention.count(), database.prisma.mention.count()]);
    expect([broadAfter - broadBefore, mentionsAfter - mentionsBefore]).toEqual([1, 0]);
    expect(await broadRows(id)).toBe(1);
    expect(await count(bob, channelId)).toBe(1);
  });

  it("MessageCreated and history carry mentionEveryone and mentionRoles", async () => {
    const { guildId, channelId } = await guildOf(server, ada, [bob]);
    const crew = await role(guildId, "Crew", { mentionable: true, holders: [bob] });
    const live = subscribe(server.ws(bob.token), `subscription($c: ID!) { channelEvents(channelId: $c) { ... on MessageCreated { message { content mentionEveryone mentionRoles { name } } } } }`, { c: channelId });
    await waitForSubscribers(server, `channel:${channelId}`);
    await send(ada, channelId, `@here <@&${crew}>`);
    await send(ada, channelId, "plain");
    const events = await live.waitFor(2);
    expect(events.map((e) => e.data!.channelEvents.message)).toEqual([
      { content: `@here <@&${crew}>`, mentionEveryone: true, mentionRoles: [{ name: "Crew" }] },
      { content: "plain", mentionEveryone: false, mentionRoles: [] },
    ]);
    const history = await ok(`query($c: ID!) { channel(id: $c) { messages(last: 2) { edges { node { mentionEveryone mentionRoles { name } } } } } }`, { c: channelId }, bob);
    expect(history.channel.messages.edges.map((e: any) => e.node)).toEqual([
      { mentionEveryone: true, mentionRoles: [{ name: "Crew" }] },
      { mentionEveryone: false, mentionRoles: [] },
    ]);
  });
});
