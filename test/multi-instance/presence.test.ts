import { randomBytes } from "node:crypto";
import { createClient, type Client } from "graphql-ws";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { eventually } from "../support/assertions.js";
import { createScratchDatabase } from "../support/databases.js";
import { startConcord, type ConcordProcess } from "../support/processes.js";
import { dropClusterKeys } from "../support/redis-cluster.js";
import { requireRedisCluster, requireService, TEST_POSTGRES_URL, TEST_REDIS_CLUSTER_NODES } from "../support/services.js";

/**
 * Presence, typing and read states across instances: three Concord processes (A, B and a
 * victim V that gets SIGKILLed) on one Postgres and the shared Redis, under a key prefix of
 * their own. Users connect to different instances; what one instance learns, the others see.
 * The same again on the loopback Redis Cluster (presence keys in hash-tagged buckets spread over
 * the primaries, events through sharded pub/sub).
 */

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const HEARTBEAT_MS = 500;
const postgres = await requireService("Postgres", TEST_POSTGRES_URL);
/** Where the instances keep presence and send events: the Concord settings, and how to delete a run's keys. */
const backends: { title: string; enabled: boolean; env: Record<string, string>; deleteKeys(prefix: string): Promise<void> }[] = [
  {
    title: "the shared Redis",
    enabled: postgres && (await requireService("Redis", REDIS_URL)),
    env: { REDIS_URL },
    async deleteKeys(prefix: string) {
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.unlink(...keys);
      await redis.quit();
    },
  },
  {
    title: "the Redis Cluster",
    enabled: postgres && (await requireRedisCluster()),
    env: { REDIS_CLUSTER_NODES: TEST_REDIS_CLUSTER_NODES },
    deleteKeys: dropClusterKeys,
  },
];

interface User {
  id: string;
  token: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (...parts: unknown[]) => console.log("[presence fleet]", ...parts);

/** A graphql-ws client on one instance: its socket is a presence session; it records what its subscriptions get. */
class Session {
  readonly client: Client;
  readonly received: { at: number; op: string; payload: any }[] = [];
  constructor(proc: ConcordProcess, user: User) {
    this.client = createClient({ url: proc.wsUrl, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, connectionParams: { authorization: `Bearer ${user.token}` }, onNonLazyError: () => {} });
  }
  subscribe(op: string, query: string, variables: Record<string, unknown> = {}): void {
    this.client.subscribe({ query, variables }, { next: (payload) => this.received.push({ at: Date.now(), op, payload }), error: () => {}, complete: () => {} });
  }
  events(op: string, typename: string): any[] {
    return this.received.filter((r) => r.op === op).map((r) => Object.values(r.payload.data ?? {})[0] as any).filter((e) => e?.__typename === typename);
  }
}


const GUILD_EVENTS = `subscription($g: ID!) { guildEvents(guildId: $g) { __typename ... on PresenceUpdated { user { id } status } ... on OnlineCountUpdated { onlineCount } } }`;
const CHANNEL_EVENTS = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on TypingStarted { user { id } expiresAt } ... on MessageCreated { message { id } } } }`;
const USER_EVENTS = `subscription { userEvents { __typename ... on ReadStateUpdated { channelId lastReadMessageId } ... on PresenceUpdated { user { id } status } } }`;

for (const backend of backends)
describe.runIf(backend.enabled)(`presence, typing and read states across instances on ${backend.title}`, () => {
  const suffix = randomBytes(5).toString("hex");
  const prefix = `concord-presence-${suffix}:`;
  let database: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  const procs: ConcordProcess[] = [];
  const sessions: Session[] = [];
  let A: ConcordProcess, B: ConcordProcess, V: ConcordProcess;
  let owner: User;
  let guildId = "", channelId = "", inviteCode = "";

  const ok = async (proc: ConcordProcess, query: string, variables: Record<string, unknown>, token?: string) => {
    const res = await proc.gql(query, variables, token);
    if (res.errors) throw new Error(`${proc.name}: ${JSON.stringify(res.errors)}`);
    return res.data;
  };
  const signUp = async (proc: ConcordProcess, name: string): Promise<User> => {
    const data = await ok(proc, `mutation($u: String!) { register(input: { username: $u, password: "correct horse" }) { token user { id } } }`, { u: `${name}_${suffix}` });
    return { id: data.register.user.id, token: data.register.token };
  };
  const member = async (proc: ConcordProcess, name: string): Promise<User> => {
    const user = await signUp(proc, name);
    await ok(proc, `mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: inviteCode }, user.token);
    return user;
  };
  const session = (proc: ConcordProcess, user: User) => {
    const s = new Session(proc, user);
    sessions.push(s);
    return s;
  };
  const presenceOn = async (proc: ConcordProcess, viewer: User, id: string) => (await ok(proc, `query($u: [ID!]!) { presence(userIds: $u) { status } }`, { u: [id] }, viewer.token)).presence[0]?.status;

  beforeAll(async () => {
    database = await createScratchDatabase("concord_presence");
    const env = (workerId: number) => ({
      DATABASE_URL: database!.url,
      ...backend.env,
      REDIS_KEY_PREFIX: prefix,
      WORKER_ID: String(workerId),
      PASSWORD_HASH_COST: "10",
      LOG_LEVEL: "warn",
      GRAPHIQL: "false",
      PRESENCE_HEARTBEAT_MS: String(HEARTBEAT_MS),
      LARGE_GUILD_THRESHOLD: "6",
      ONLINE_COUNT_REFRESH_MS: "200",
      ACK_FLUSH_MS: "100",
    });
    // One first, so the others do not race on migrations (the fleet test covers that).
    procs.push(await startConcord({ name: "A", env: env(11) }));
    procs.push(...(await Promise.all([startConcord({ name: "B", env: env(12) }), startConcord({ name: "V", env: env(13) })])));
    [A, B, V] = procs as [ConcordProcess, ConcordProcess, ConcordProcess];
    owner = await signUp(A, "owner");
    const guild = await ok(A, `mutation { createGuild(input: { name: "Across" }) { id channels { id } } }`, {}, owner.token);
    guildId = guild.createGuild.id;
    channelId = guild.createGuild.channels[0].id;
    inviteCode = (await ok(A, `mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: guildId }, owner.token)).createInvite.code;
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(sessions.map((s) => s.client.dispose()));
    await Promise.allSettled(procs.map((p) => p.stop(5_000)));
    await backend.deleteKeys(prefix);
    await database?.drop().catch(() => {});
    for (const p of procs) {
      const errors = p.logsAt("error");
      if (errors.length > 0) console.warn(`${p.name} logged errors:\n${errors.join("\n")}`);
    }
  }, 60_000);

  it("shows a user connected to one instance as online on another, and offline when they leave", async () => {
    const bob = await member(A, "bob");
    const watcher = session(A, owner);
    watcher.subscribe("guild", GUILD_EVENTS, { g: guildId });
    await sleep(300);
    const bobOnB = session(B, bob);
    await eventually(() => expect(watcher.events("guild", "PresenceUpdated").filter((e) => e.user.id === bob.id).map((e) => e.status)).toEqual(["ONLINE"]));
    expect(await presenceOn(A, owner, bob.id)).toBe("ONLINE");
    expect(await presenceOn(B, owner, bob.id)).toBe("ONLINE");
    await bobOnB.client.dispose();
    await eventually(() => expect(watcher.events("guild", "PresenceUpdated").filter((e) => e.user.id === bob.id).map((e) => e.status)).toEqual(["ONLINE", "OFFLINE"]));
    expect(await presenceOn(A, owner, bob.id)).toBe("OFFLINE");
  });

  it("takes the users of a SIGKILLed instance offline within 2x the heartbeat, once", async () => {
    const cara = await member(A, "cara");
    const watcher = session(B, owner);
    watcher.subscribe("guild", GUILD_EVENTS, { g: guildId });
    await sleep(300);
    session(V, cara);
    await eventually(async () => expect(await presenceOn(A, owner, cara.id)).toBe("ONLINE"));
    // Let at least one heartbeat refresh the session, as in a long-lived connection.
    await sleep(HEARTBEAT_MS + 100);
    const killedAt = Date.now();
    V.child.kill("SIGKILL");
    await V.exited;
    await eventually(() => expect(watcher.events("guild", "PresenceUpdated").filter((e) => e.user.id === cara.id).map((e) => e.status)).toEqual(["ONLINE", "OFFLINE"]), 10 * HEARTBEAT_MS);
    const offlineEvent = watcher.received.find((r) => r.payload.data?.guildEvents?.user?.id === cara.id && r.payload.data.guildEvents.status === "OFFLINE")!;
    const detectedMs = offlineEvent.at - killedAt;
    log(`offline ${detectedMs} ms after SIGKILL (heartbeat ${HEARTBEAT_MS} ms, bound ${2 * HEARTBEAT_MS} ms)`);
    // The bound plus event delivery and the test's polling.
    expect(detectedMs).toBeLessThanOrEqual(2 * HEARTBEAT_MS + 150);
    expect(await presenceOn(A, owner, cara.id)).toBe("OFFLINE");
    // Both survivors sweep; the store's atomic sweep lets only one announce it.
    await sleep(1_500);
    expect(watcher.events("guild", "PresenceUpdated").filter((e) => e.user.id === cara.id && e.status === "OFFLINE")).toHaveLength(1);
  });

  it("shares typing state: announced once across instances, listed everywhere, ended by a message", async () => {
    const dan = await member(A, "dan");
    const watcher = session(A, owner);
    watcher.subscribe("channel", CHANNEL_EVENTS, { c: channelId });
    await sleep(300);
    await ok(B, `mutation($c: ID!) { startTyping(channelId: $c) }`, { c: channelId }, dan.token);
    // The same user typing through the other instance a moment later is absorbed.
    await ok(A, `mutation($c: ID!) { startTyping(channelId: $c) }`, { c: channelId }, dan.token);
    await eventually(() => expect(watcher.events("channel", "TypingStarted").map((e) => e.user.id)).toEqual([dan.id]));
    const typing = async (proc: ConcordProcess) => (await ok(proc, `query($c: ID!) { channel(id: $c) { typing { user { id } } } }`, { c: channelId }, owner.token)).channel.typing;
    expect(await typing(A)).toEqual([{ user: { id: dan.id } }]);
    expect(await typing(B)).toEqual([{ user: { id: dan.id } }]);
    await ok(A, `mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "typed" }) { id } }`, { c: channelId }, dan.token);
    expect(await typing(B)).toEqual([]);
    await sleep(300);
    expect(watcher.events("channel", "TypingStarted")).toHaveLength(1);
  });

  it("syncs read states between sessions on different instances, with counts that match the history", async () => {
    const erin = await member(A, "erin");
    const other = session(B, erin);
    other.subscribe("user", USER_EVENTS);
    await sleep(300);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const text = i % 4 === 0 ? `hi <@${erin.id}> ${i}` : `msg ${i}`;
      ids.push((await ok(i % 2 ? A : B, `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`, { c: channelId, t: text }, owner.token)).sendMessage.id);
    }
    const readState = async (proc: ConcordProcess) => (await ok(proc, `query($c: ID!) { channel(id: $c) { readState { lastReadMessageId unreadCount mentionCount } } }`, { c: channelId }, erin.token)).channel.readState;
    const before = await readState(B);
    expect(before.unreadCount).toBeGreaterThanOrEqual(12); // the channel had earlier messages too
    // Erin reads up to the 6th on A (and a stale device acks the 2nd afterwards).
    await ok(A, `mutation($c: ID!, $m: ID!) { ackMessage(input: { channelId: $c, messageId: $m }) { unreadCount } }`, { c: channelId, m: ids[5] }, erin.token);
    await ok(B, `mutation($c: ID!, $m: ID!) { ackMessage(input: { channelId: $c, messageId: $m }) { unreadCount } }`, { c: channelId, m: ids[1] }, erin.token);
    await eventually(() => expect(other.events("user", "ReadStateUpdated").map((e) => e.lastReadMessageId)).toContain(ids[5]));
    await sleep(300);
    // Brute force: 6 messages after the pointer, of which #8 mentions erin.
    expect(await readState(B)).toEqual({ lastReadMessageId: ids[5], unreadCount: 6, mentionCount: 1 });
    expect(await readState(A)).toEqual({ lastReadMessageId: ids[5], unreadCount: 6, mentionCount: 1 });
  });

  it("tells friends on other instances in userEvents, and keeps a blocked guildmate's presence from them across instances", async () => {
    // A guild of its own: the shared one must stay small until the large-guild test below.
    const guild = await ok(A, `mutation { createGuild(input: { name: "Friends" }) { id } }`, {}, owner.token);
    const code = (await ok(A, `mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: guild.createGuild.id }, owner.token)).createInvite.code;
    const [gil, hal, ivy] = [await signUp(A, "gil"), await signUp(A, "hal"), await signUp(A, "ivy")];
    for (const user of [gil, ivy]) await ok(A, `mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: code }, user.token);
    // hal is gil's friend and shares no guild with him; ivy shares the guild and blocked him.
    await ok(A, `mutation($u: ID!) { sendFriendRequest(userId: $u) { type } }`, { u: hal.id }, gil.token);
    await ok(B, `mutation($u: ID!) { acceptFriendRequest(userId: $u) { type } }`, { u: gil.id }, hal.token);
    await ok(B, `mutation($u: ID!) { blockUser(userId: $u) { type } }`, { u: gil.id }, ivy.token);
    const friend = session(B, hal);
    friend.subscribe("user", USER_EVENTS);
    const blocker = session(B, ivy);
    blocker.subscribe("guild", GUILD_EVENTS, { g: guild.createGuild.id });
    const watcher = session(B, owner);
    watcher.subscribe("guild", GUILD_EVENTS, { g: guild.createGuild.id });
    await sleep(300);
    const statuses = (s: Session, op: string) => s.events(op, "PresenceUpdated").filter((e) => e.user.id === gil.id).map((e) => e.status);

    const gilOnA = session(A, gil);
    await eventually(() => expect(statuses(friend, "user")).toEqual(["ONLINE"]));
    await eventually(() => expect(statuses(watcher, "guild")).toEqual(["ONLINE"]));
    expect(await presenceOn(B, hal, gil.id)).toBe("ONLINE");
    expect(await presenceOn(B, ivy, gil.id)).toBe("OFFLINE");
    await gilOnA.client.dispose();
    await eventually(() => expect(statuses(friend, "user")).toEqual(["ONLINE", "OFFLINE"]));
    await eventually(() => expect(statuses(watcher, "guild")).toEqual(["ONLINE", "OFFLINE"]));
    expect(statuses(blocker, "guild")).toEqual([]);
  });

  it("gives a large guild a right online count across instances and no per-member presence", async () => {
    // The guild now has the owner and 5 members: one more makes it large (threshold 6).
    const crowd = [await member(A, "crowd1"), await member(A, "crowd2")];
    const info = await ok(A, `query($g: ID!) { guild(id: $g) { memberCount large } }`, { g: guildId }, owner.token);
    expect(info.guild).toEqual({ memberCount: 7, large: true });
    const watcher = session(A, owner);
    watcher.subscribe("guild", GUILD_EVENTS, { g: guildId });
    await sleep(300);
    const count = async (proc: ConcordProcess) => (await ok(proc, `query($g: ID!) { guild(id: $g) { onlineCount } }`, { g: guildId }, owner.token)).guild.onlineCount;
    const base = await count(A);
    const presenceBefore = watcher.events("guild", "PresenceUpdated").length;
    const crowdSessions = [session(A, crowd[0]!), session(B, crowd[1]!)];
    await eventually(async () => expect(await count(B)).toBe(base + 2));
    await eventually(() => expect(watcher.events("guild", "OnlineCountUpdated").at(-1)?.onlineCount).toBe(base + 2));
    await Promise.all(crowdSessions.map((s) => s.client.dispose()));
    await eventually(async () => expect(await count(A)).toBe(base));
    await eventually(() => expect(watcher.events("guild", "OnlineCountUpdated").at(-1)?.onlineCount).toBe(base));
    expect(watcher.events("guild", "PresenceUpdated").length).toBe(presenceBefore);
  });
});
