import { randomBytes } from "node:crypto";
import { Client as CassandraClient } from "cassandra-driver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { snowflakeAt } from "../../src/ids/snowflake.js";
import { banPurgesSettled, startBanPurge } from "../../src/resolvers/ban-message-purge.js";
import type { Database } from "../../src/stores/prisma/database.js";
import { expectError, type User } from "../support/assertions.js";
import { openTestPglite } from "../support/databases.js";
import { requireService } from "../support/services.js";
import { startTestServer, subscribe, waitForSubscribers, type TestServer } from "../support/server.js";

/**
 * `banMember(deleteMessageSeconds)` over real HTTP and graphql-ws: the banned user's recent
 * messages leave every channel's history, each announced live as MessageDeleted with the
 * same mention cleanup as deleteMessage; older messages and other people's stay; bad input
 * writes nothing, not even the ban. Run on both message stores: the embedded default (Postgres)
 * and Cassandra (a fresh keyspace, dropped after), whose author search scans time buckets.
 */

const TEST_CASSANDRA_URL = process.env.TEST_CASSANDRA_URL ?? "tcp://127.0.0.1:9042";
const TEST_CASSANDRA_DC = process.env.TEST_CASSANDRA_DC ?? "datacenter1";

const CREATE_GUILD = `mutation { createGuild(input: { name: "Purged" }) { id channels { id } } }`;
const INVITE = `mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`;
const JOIN = `mutation($c: String!) { joinGuild(code: $c) { id } }`;
const CREATE_ROLE = `mutation($g: ID!, $n: String!, $p: [Permission!]!) { createRole(input: { guildId: $g, name: $n, permissions: $p }) { id } }`;
const ADD_ROLE = `mutation($g: ID!, $u: ID!, $r: ID!) { addMemberRole(input: { guildId: $g, userId: $u, roleId: $r }) }`;
const CREATE_CHANNEL = `mutation($g: ID!, $n: String!, $k: GuildChannelKind) { createChannel(input: { guildId: $g, name: $n, kind: $k }) { id } }`;
const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;
const BAN = `mutation($g: ID!, $u: ID!, $s: Int) { banMember(input: { guildId: $g, userId: $u, deleteMessageSeconds: $s }) { user { id } } }`;
const HISTORY = `query($c: ID!) { channel(id: $c) { messages(last: 100) { edges { node { id content } } } readState { mentionCount } } }`;
const LIVE = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageDeleted { messageId } } }`;

/** A message store for the suite: the server's environment, and what to clean up after it. */
interface Backend {
  env(): Record<string, string>;
  cleanUp(): Promise<void>;
}

const postgres: Backend = { env: () => ({}), cleanUp: async () => {} };

function cassandra(): Backend {
  const keyspace = `concord_purge_${randomBytes(4).toString("hex")}`;
  const host = new URL(TEST_CASSANDRA_URL).host;
  return {
    env: () => ({ MESSAGE_STORE: "cassandra", CASSANDRA_CONTACT_POINTS: host, CASSANDRA_LOCAL_DC: TEST_CASSANDRA_DC, CASSANDRA_KEYSPACE: keyspace, CASSANDRA_REPLICATION: "SimpleStrategy:1" }),
    async cleanUp() {
      const client = new CassandraClient({ contactPoints: [host], localDataCenter: TEST_CASSANDRA_DC });
      try {
        await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
      } finally {
        await client.shutdown();
      }
    },
  };
}

banPurgeSuite("embedded Postgres message store", postgres);
// Locally a stopped node skips this suite with a warning; with CI=true requireService throws.
describe.runIf(await requireService("Cassandra", TEST_CASSANDRA_URL))("real Cassandra node", () => {
  banPurgeSuite("Cassandra message store", cassandra());
});

function banPurgeSuite(label: string, backend: Backend) {
  describe(`banMember with deleteMessageSeconds: ${label}`, () => {
    let server: TestServer;
    let database: Database;
    let ada: User; // owner
    let mo: User; // BAN_MEMBERS
    let bob: User; // bystander
    let guildId: string;
    let general: string;
    let second: string;

    const ok = <T = any>(query: string, variables: Record<string, unknown>, user: User): Promise<T> => server.ok<T>(query, variables, user.token);
    const send = async (user: User, channelId: string, text: string): Promise<string> => (await ok(SEND, { c: channelId, t: text }, user)).sendMessage.id;
    async function member(prefix: string): Promise<User> {
      const user = await server.signUp(prefix);
      await ok(JOIN, { c: (await ok(INVITE, { g: guildId }, ada)).createInvite.code }, user);
      return user;
    }
    const history = async (channelId: string, user: User) => (await ok(HISTORY, { c: channelId }, user)).channel;
    const idsIn = async (channelId: string, user: User): Promise<string[]> => (await history(channelId, user)).messages.edges.map((e: { node: { id: string } }) => e.node.id);
    const isMember = async (user: User) => (await database.prisma.member.count({ where: { guildId: BigInt(guildId), userId: BigInt(user.id) } })) === 1;

    beforeAll(async () => {
      database = await openTestPglite();
      server = await startTestServer({ database, warmUp: true, env: backend.env() });
      [ada, mo, bob] = await Promise.all([server.signUp("ada"), server.signUp("mo"), server.signUp("bob")]);
      const guild = await ok(CREATE_GUILD, {}, ada);
      guildId = guild.createGuild.id;
      general = guild.createGuild.channels[0].id;
      second = (await ok(CREATE_CHANNEL, { g: guildId, n: "second" }, ada)).createChannel.id;
      await ok(CREATE_CHANNEL, { g: guildId, n: "A category", k: "GUILD_CATEGORY" }, ada);
      for (const user of [mo, bob]) await ok(JOIN, { c: (await ok(INVITE, { g: guildId }, ada)).createInvite.code }, user);
      const role = (await ok(CREATE_ROLE, { g: guildId, n: "Moderators", p: ["BAN_MEMBERS"] }, ada)).createRole.id;
      await ok(ADD_ROLE, { g: guildId, u: mo.id, r: role }, ada);
    }, 60_000);
    afterAll(async () => {
      try {
        await server?.close();
      } finally {
        await backend.cleanUp();
      }
    });

    it("deletes the banned user's messages of the window in every channel, live and from history; older ones and others' stay", async () => {
      const pat = await member("pat");
      // Two hours old, outside a one-hour window: written straight to the store with an id of that time.
      const old = snowflakeAt(Date.now() - 2 * 3_600_000);
      await server.app.services.messages.create({ id: old, channelId: BigInt(general), authorId: BigInt(pat.id), content: "old news", editedAt: null, replyToId: null, mentionIds: [], nonce: null });
      // bob's own messages come first: sending marks his channel read up to them, which would clear the mention.
      const bobs = [await send(bob, general, "hello all"), await send(bob, general, "anyone?")];
      const inGeneral = [await send(pat, general, "spam 1"), await send(pat, general, `spam for <@${bob.id}>`), await send(pat, general, "spam 3")];
      const inSecond = [await send(pat, second, "spam 4"), await send(pat, second, "spam 5")];
      expect((await history(general, bob)).readState.mentionCount).toBe(1);

      const liveGeneral = subscribe(server.ws(bob.token), LIVE, { c: general });
      const liveSecond = subscribe(server.ws(bob.token), LIVE, { c: second });
      await waitForSubscribers(server, `channel:${general}`);
      await waitForSubscribers(server, `channel:${second}`);

      expect((await ok(BAN, { g: guildId, u: pat.id, s: 3_600 }, mo)).banMember.user.id).toBe(pat.id);
      // Deletions run a few at a time, so their events may come in any order.
      const deleted = (events: { data?: any }[]) => events.map((e) => [e.data!.channelEvents.__typename, e.data!.channelEvents.messageId]).sort();
      expect(deleted(await liveGeneral.waitFor(3))).toEqual(inGeneral.map((id) => ["MessageDeleted", id]).sort());
      expect(deleted(await liveSecond.waitFor(2))).toEqual(inSecond.map((id) => ["MessageDeleted", id]).sort());

      await banPurgesSettled(server.app.services);
      expect(await idsIn(general, bob)).toEqual([String(old), ...bobs]);
      expect(await idsIn(second, bob)).toEqual([]);
      expect((await history(general, bob)).readState.mentionCount).toBe(0);
      expect(await database.prisma.mention.count({ where: { channelId: BigInt(general) } })).toBe(0);
      expect(liveGeneral.received).toHaveLength(3);
    });

    it("refuses a negative, too long or fractional deleteMessageSeconds with BAD_USER_INPUT, writing nothing, not even the ban", async () => {
      const sam = await member("sam");
      const sams = [await send(sam, general, "still here"), await send(sam, second, "me too")];
      const bans = await database.prisma.ban.count();
      for (const s of [-1, 604_801, 2 ** 31 - 1]) {
        expectError(await server.gql(BAN, { g: guildId, u: sam.id, s }, mo.token), "BAD_USER_INPUT", /deleteMessageSeconds must be a whole number of seconds from 0 to 604800/, "deleteMessageSeconds");
      }
      const fractional = await server.gql(BAN, { g: guildId, u: sam.id, s: 1.5 }, mo.token);
      expect(fractional.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      expect(fractional.errors?.[0]?.message).toMatch(/deleteMessageSeconds|Int/);
      expect(await database.prisma.ban.count()).toBe(bans);
      expect(await isMember(sam)).toBe(true);
      await banPurgesSettled(server.app.services);
      expect((await idsIn(general, bob)).filter((id) => sams.includes(id))).toEqual([sams[0]]);

      // 604800 (7 days) is the largest window, and takes everything sam sent.
      await ok(BAN, { g: guildId, u: sam.id, s: 604_800 }, mo);
      await banPurgesSettled(server.app.services);
      expect(await isMember(sam)).toBe(false);
      expect((await idsIn(general, bob)).filter((id) => sams.includes(id))).toEqual([]);
      expect(await idsIn(second, bob)).toEqual([]);
    });

    it("without deleteMessageSeconds (or with 0) a ban deletes nothing", async () => {
      const [kim, lee] = [await member("kim"), await member("lee")];
      const kept = [await send(kim, general, "kim was here"), await send(lee, general, "lee was here")];
      await ok(BAN, { g: guildId, u: kim.id }, mo);
      await ok(BAN, { g: guildId, u: lee.id, s: 0 }, mo);
      await banPurgesSettled(server.app.services);
      expect((await idsIn(general, bob)).filter((id) => kept.includes(id))).toEqual(kept);
    });

    it("stops at the per-channel and per-ban limits, newest messages first", async () => {
      const ray = await member("ray");
      const inGeneral: string[] = [];
      for (let i = 0; i < 4; i++) inGeneral.push(await send(ray, general, `ray ${i}`));
      const inSecond: string[] = [];
      for (let i = 0; i < 3; i++) inSecond.push(await send(ray, second, `ray ${i}`));
      const outcome = await startBanPurge(server.app.services, {
        guildId: BigInt(guildId),
        userId: BigInt(ray.id),
        seconds: 3_600,
        limits: { pageSize: 1, perChannel: 2, perBan: 3 },
      });
      expect(outcome).toEqual({ deleted: 3, channels: 2, complete: false });
      // general comes first (position 0): its two newest; then one from second, its newest.
      expect((await idsIn(general, bob)).filter((id) => inGeneral.includes(id))).toEqual(inGeneral.slice(0, 2));
      expect((await idsIn(second, bob)).filter((id) => inSecond.includes(id))).toEqual(inSecond.slice(0, 2));
    });
  });
}
