import type { Database } from "../../src/stores/prisma/database.js";
import type { TestServer } from "../support/server.js";
import { WORLD_KEYS, WORLD_PASSWORD, type Ref } from "./fuzz-operations.js";
import { post, signUpFrom } from "./hostile-client.js";

/**
 * The seeded world the fuzzer plays in (fuzz.test.ts), and the database fingerprint that proves a
 * refused call wrote nothing.
 */

/** Who sends an operation: a seeded person, the bot, a stranger from another world, nobody, or a forged token. */
export type Actor = "ada" | "bob" | "cy" | "bot" | "stranger" | "anonymous" | "forged";

export interface World {
  /** World values by key (see WORLD_KEYS): ids, usernames, invite codes. */
  values: Map<string, string>;
  /** The bearer token of an actor; undefined for anonymous. */
  tokenOf(actor: Actor): string | undefined;
  resolve(ref: Ref): string;
}

/** A token that looks like one but is nobody's. */
export const FORGED_TOKEN = "cnc_forged0000000000000000000000000000000000";

/** A seeding request, which must succeed: fails the run with the answer otherwise. */
async function must<T = any>(server: TestServer, query: string, variables: Record<string, unknown>, as: { token: string; address: string }): Promise<T> {
  const res = await post(server, query, variables, as);
  if (!res.body.data || res.body.errors) throw new Error(`seeding failed (${res.status}): ${query}\n${JSON.stringify(res.body.errors)}`);
  return res.body.data as T;
}

/** Ids of the sessions of a user (`current` first), to give revokeSession real targets. */
async function sessionIds(server: TestServer, as: { token: string; address: string }): Promise<string[]> {
  const data = await must<{ sessions: { id: string; current: boolean }[] }>(server, `{ sessions { id current } }`, {}, as);
  return [...data.sessions].sort((a, b) => Number(b.current) - Number(a.current)).map((s) => s.id);
}

/**
 * A stranger's corner of a world: a guild, a channel with a message, an invite and a session the
 * other users do not belong to (their ids must be NOT_FOUND or FORBIDDEN to them, never readable
 * or writable), and a token that is neither a seeded user's nor forged.
 */
async function seedForeign(server: TestServer): Promise<{ values: Map<string, string>; token: string }> {
  const stranger = await signUpFrom(server, "stranger");
  const guild = await must(server, `mutation { createGuild(input: { name: "Elsewhere" }) { id channels { id } } }`, {}, stranger);
  const channelId = guild.createGuild.channels[0].id as string;
  const [message, invite, [session]] = await Promise.all([
    must(server, `mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "not for you" }) { id } }`, { c: channelId }, stranger),
    must(server, `mutation($g: ID!) { createInvite(input: { guildId: $g, maxUses: 1 }) { code } }`, { g: guild.createGuild.id }, stranger),
    sessionIds(server, stranger),
  ]);
  return {
    token: stranger.token,
    values: new Map([
      ["user.foreign", stranger.id],
      ["guild.foreign", guild.createGuild.id],
      ["role.foreign", guild.createGuild.id], // the stranger's guild's @everyone
      ["channel.foreign", channelId],
      ["message.foreign", message.sendMessage.id],
      ["invite.foreign", invite.createInvite.code],
      ["session.foreign", session!],
    ]),
  };
}

let bots = 0;

/**
 * A fresh world for one fuzz run, through the API as a client would build it (32 requests):
 * ada owns a guild with two channels and an invite, bob is a member, cy is not; bob holds the
 * Mods role, the only one (with ada) who can see #second; bob's message
 * mentions ada and ada replied to it, ada's in #second mentions @everyone; ada is friends with both, has a DM with cy, a group DM with both (where bob
 * mentioned cy), a bot (a member of the guild, timed out) and two sessions; bob has acked the channel; a
 * stranger has a guild of its own, and is banned from ada's.
 * Every user is new and signs up from an address of its own, so no rate-limit budget is spent
 * before the fuzzing starts, and no run depends on what an earlier run did (fast-check replays
 * and shrinks runs one by one).
 */
export async function seedWorld(server: TestServer): Promise<World> {
  const [foreign, own] = await Promise.all([seedForeign(server), seedOwn(server)]);
  const values = new Map([...own.values, ...foreign.values]);
  for (const key of Object.values(WORLD_KEYS).flat()) if (!values.has(key)) throw new Error(`the seeded world has no ${key}`);
  // The stranger is banned from ada's guild ahead of ever joining it.
  await must(server, `mutation($g: ID!, $u: ID!) { banMember(input: { guildId: $g, userId: $u, reason: "fuzz" }) { createdAt } }`, { g: values.get("guild.main"), u: values.get("user.foreign") }, own.ada);
  const tokens: Record<Actor, string | undefined> = { ...own.tokens, stranger: foreign.token, anonymous: undefined, forged: FORGED_TOKEN };
  return {
    values,
    tokenOf: (actor) => tokens[actor],
    resolve: (ref) => values.get(ref.key) ?? "0",
  };
}

async function seedOwn(server: TestServer): Promise<{ values: Map<string, string>; tokens: Record<"ada" | "bob" | "cy" | "bot", string>; ada: { token: string; address: string } }> {
  // Independent requests go in parallel: a world costs 8 round trips, not 32.
  const [ada, bob, cy] = await Promise.all([signUpFrom(server, "ada"), signUpFrom(server, "bob"), signUpFrom(server, "cy")]);
  const botName = `fuzzbot_${process.pid}_${++bots}`;
  const [login, guild, bot] = await Promise.all([
    post(server, `mutation($u: String!, $p: String!) { login(input: { username: $u, password: $p }) { token } }`, { u: ada.username, p: WORLD_PASSWORD }, { address: ada.address }),
    must(server, `mutation { createGuild(input: { name: "Fuzz" }) { id channels { id } } }`, {}, ada),
    must(server, `mutation($u: String!) { createBot(input: { username: $u }) { token user { id } } }`, { u: botName }, ada).then((d) => d.createBot),
  ]);
  if (!login.body.data) throw new Error(`seeding failed: second login ${JSON.stringify(login.body.errors)}`);
  const guildId = guild.createGuild.id as string;
  const general = guild.createGuild.channels[0].id as string;
  // DMs need a friendship (or a shared guild): ada befriends both before opening them.
  const ask = `mutation($u: ID!) { sendFriendRequest(userId: $u) { type } }`;
  const accept = `mutation($u: ID!) { acceptFriendRequest(userId: $u) { type } }`;
  await Promise.all([must(server, ask, { u: cy.id }, ada), must(server, ask, { u: bob.id }, ada)]);
  await Promise.all([
    must(server, accept, { u: ada.id }, cy),
    must(server, accept, { u: ada.id }, bob),
    must(server, `mutation { updateSettings(input: { allowDirectMessagesFrom: FRIENDS }) { allowDirectMessagesFrom } }`, {}, cy),
  ]);
  const open = `mutation($u: [ID!]!) { openDirectMessage(userIds: $u) { id } }`;
  const [second, code, dm, group] = await Promise.all([
    must(server, `mutation($g: ID!) { createChannel(input: { guildId: $g, name: "second" }) { id } }`, { g: guildId }, ada).then((d) => d.createChannel.id as string),
    must(server, `mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: guildId }, ada).then((d) => d.createInvite.code as string),
    must(server, open, { u: [cy.id] }, ada).then((d) => d.openDirectMessage.id as string),
    must(server, open, { u: [bob.id, cy.id] }, ada).then((d) => d.openDirectMessage.id as string),
  ]);
  const join = `mutation($c: String!) { joinGuild(code: $c) { id } }`;
  const send = `mutation($c: ID!, $t: String!, $r: ID) { sendMessage(input: { channelId: $c, content: $t, replyToId: $r }) { id } }`;
  const sent = (d: any) => d.sendMessage.id as string;
  const [, , inSecond, inDm] = await Promise.all([
    must(server, join, { c: code }, bob),
    must(server, join, { c: code }, { token: bot.token, address: ada.address }),
    // The owner may mention @everyone: the one broad-mention row (channel_broad_mentions).
    must(server, send, { c: second, t: "@everyone second channel" }, ada).then(sent),
    must(server, send, { c: dm, t: "psst" }, ada).then(sent),
    // cy never reads it: a mention row that stays (ada's own mention goes once she replies).
    must(server, send, { c: group, t: `hey <@${cy.id}>` }, bob),
  ]);
  const mention = sent(await must(server, send, { c: general, t: `hello <@${ada.id}>` }, bob));
  const [reply, , adaSessions, bobSessions] = await Promise.all([
    must(server, send, { c: general, t: "hi bob", r: mention }, ada).then(sent),
    must(server, `mutation($c: ID!, $m: ID!) { ackMessage(input: { channelId: $c, messageId: $m }) { unreadCount } }`, { c: general, m: mention }, bob),
    sessionIds(server, ada),
    sessionIds(server, bob),
  ]);
  // Governance: a role bob holds, and #second private to it (with an overwrite for cy too).
  const role = (await must(server, `mutation($g: ID!) { createRole(input: { guildId: $g, name: "Mods", permissions: [MANAGE_MESSAGES] }) { id } }`, { g: guildId }, ada)).createRole.id as string;
  await must(server, `mutation($g: ID!, $u: ID!, $r: ID!) { addMemberRole(input: { guildId: $g, userId: $u, roleId: $r }) }`, { g: guildId, u: bob.id, r: role }, ada);
  const overwrite = `mutation($c: ID!, $k: OverwriteTarget!, $t: ID!, $a: [Permission!]!, $d: [Permission!]!) { setPermissionOverwrite(input: { channelId: $c, targetKind: $k, targetId: $t, allow: $a, deny: $d }) { targetId } }`;
  await must(server, overwrite, { c: second, k: "ROLE", t: guildId, a: [], d: ["VIEW_CHANNEL"] }, ada);
  await must(server, overwrite, { c: second, k: "ROLE", t: role, a: ["VIEW_CHANNEL"], d: [] }, ada);
  // The bot is timed out for a day (member_timeouts): it may read the guild, not send there.
  // Every governance call above wrote its audit log entry (audit_log_entries).
  await must(server, `mutation($g: ID!, $u: ID!, $t: DateTime) { timeoutMember(input: { guildId: $g, userId: $u, until: $t, reason: "fuzz" }) { timedOutUntil } }`, { g: guildId, u: bot.user.id, t: new Date(Date.now() + 86_400_000).toISOString() }, ada);
  const [adaSession, adaOther] = adaSessions;
  const [bobSession] = bobSessions;

  const values = new Map<string, string>([
    ["user.ada", ada.id],
    ["user.bob", bob.id],
    ["user.cy", cy.id],
    ["user.bot", bot.user.id],
    ["guild.main", guildId],
    ["role.mods", role],
    ["role.everyone", guildId],
    ["channel.general", general],
    ["channel.second", second],
    ["channel.dm", dm],
    ["channel.group", group],
    ["message.mention", mention],
    ["message.reply", reply],
    ["message.second", inSecond],
    ["message.dm", inDm],
    ["session.ada", adaSession!],
    ["session.ada2", adaOther!],
    ["session.bob", bobSession!],
    ["invite.main", code],
    ["username.ada", ada.username],
    ["username.bob", bob.username],
    ["username.cy", cy.username],
    ["username.bot", botName],
  ]);
  return { values, tokens: { ada: ada.token, bob: bob.token, cy: cy.token, bot: bot.token }, ada };
}

/**
 * What a fingerprint covers, per table: every column a call can change, except
 * `sessions.last_used_at`, which authenticating a request may refresh by design (at most about
 * once an hour per session: bookkeeping of a use, not a write by the operation; no session in
 * this test is old enough, but the check must not depend on that).
 *
 * Kept although written after the call that caused them:
 * - read states and mention rows: acknowledgements (ackMessage, and sendMessage for its author)
 *   are written in batches every ACK_FLUSH_MS. The test flushes the batch before both
 *   fingerprints (fuzz.test.ts), so earlier calls' acks land before the first one, and an ack a
 *   refused call left behind shows in the second.
 * - `users.password_hash`: a sign-in re-hashes in the background a hash made at a lower cost
 *   than PASSWORD_HASH_COST; every hash here is made at the test server's cost, so none is.
 * Expired sessions are deleted on sign-in and on use, but none expires during the test
 * (SESSION_IDLE_DAYS is 30).
 */
const TABLES: Record<string, string> = {
  users: "id, username_key, username, password_hash, bot, bot_owner_id, created_at",
  sessions: "token_hash, id, user_id, created_at, client_hint",
  guilds: "id, name, owner_id, member_count, created_at",
  members: "guild_id, user_id, joined_at",
  channels: "id, kind, guild_id, name, position, dm_key, owner_id, parent_id, topic, rate_limit_per_user, created_at",
  roles: "id, guild_id, name, permissions, position, color, hoist, mentionable, created_at",
  member_roles: "guild_id, user_id, role_id",
  permission_overwrites: "channel_id, target_kind, target_id, allow, deny",
  channel_recipients: "channel_id, user_id, hidden, added_at",
  relationships: "user_id, other_id, kind, since",
  user_settings: "user_id, allow_direct_messages_from",
  invites: "code, guild_id, inviter_id, max_uses, uses, expires_at, created_at",
  bans: "guild_id, user_id, moderator_id, reason, created_at",
  member_timeouts: "guild_id, user_id, until, moderator_id, reason, created_at",
  audit_log_entries: "id, guild_id, actor_id, action, target_kind, target_id, changes, reason",
  messages: "channel_id, id, author_id, content, edited_at, reply_to_id, mention_ids, nonce",
  read_states: "user_id, channel_id, last_read_message_id, updated_at",
  mentions: "user_id, channel_id, message_id",
  channel_broad_mentions: "channel_id, message_id, everyone, here, role_ids",
};

/** Tables a fingerprint leaves out: the migration runner's bookkeeping. */
const NOT_FINGERPRINTED = new Set(["_prisma_migrations"]);

/** Fails if the database has a table the fingerprint does not cover (a new table must be added to TABLES). */
export async function checkFingerprintCoversEveryTable(database: Database): Promise<void> {
  const rows = await database.prisma.$queryRawUnsafe<{ table_name: string }[]>(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`);
  const missing = rows.map((r) => r.table_name).filter((t) => !(t in TABLES) && !NOT_FINGERPRINTED.has(t));
  if (missing.length > 0) throw new Error(`the fuzz fingerprint does not cover table(s) ${missing.join(", ")}: add them to TABLES in test/abuse/fuzz-world.ts`);
}

const FINGERPRINT_SQL = `SELECT json_build_object(${Object.entries(TABLES)
  .map(([table, columns]) => `'${table}', (SELECT count(*) || ' rows, md5 ' || md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM (SELECT ${columns} FROM "${table}") t)`)
  .join(", ")})::text AS fingerprint`;

/** Row counts and a checksum of every mutable column of every table, in one query: equal fingerprints, nothing written. */
export async function fingerprint(database: Database): Promise<Record<string, string>> {
  const [row] = await database.prisma.$queryRawUnsafe<{ fingerprint: string }[]>(FINGERPRINT_SQL);
  return JSON.parse(row!.fingerprint) as Record<string, string>;
}
