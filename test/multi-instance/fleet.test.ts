import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { Client as CassandraClient } from "cassandra-driver";
import { createClient, type Client } from "graphql-ws";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  REPO_ROOT,
  requireRedisServer,
  startConcord,
  startPrivateRedis,
  type ConcordProcess,
  type GqlResponse,
  type PrivateRedis,
} from "../support/processes.js";
import { decodeCursor } from "../../src/pubsub/cursor.js";
import { eventually } from "../support/assertions.js";
import { createScratchDatabase } from "../support/databases.js";
import { dropClusterKeys } from "../support/redis-cluster.js";
import { requireRedisCluster, requireService, TEST_POSTGRES_URL, TEST_REDIS_CLUSTER_NODES } from "../support/services.js";

/**
 * The production shape on one machine: three Concord processes (A, B, C) on one Postgres, one
 * Cassandra keyspace and one Redis — a private redis-server this file can SIGKILL and restart
 * (the shared Redis at 6379 is only used for the gate). Everything goes through the public API:
 * HTTP for mutations and history, graphql-ws for live events.
 *
 * The same fleet runs again on the loopback Redis Cluster (scripts/redis-cluster.sh), with
 * REDIS_CLUSTER_NODES and the Postgres message store: delivery, order, revocations, permission
 * changes and the resume after an instance dies, through sharded pub/sub. The Redis outage
 * cases need a Redis this file may kill, so they run on the single Redis only.
 */

const TEST_CASSANDRA_URL = process.env.TEST_CASSANDRA_URL ?? "tcp://127.0.0.1:9042";
const TEST_CASSANDRA_DC = process.env.TEST_CASSANDRA_DC ?? "datacenter1";
const SHARED_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";


/** What the fleet runs on; the cases are the same, the known differences are stated here. */
interface FleetBackend {
  /** Completes the suite's title: "a fleet of three Concord processes on …". */
  title: string;
  enabled: boolean;
  /** A private redis-server (REDIS_URL) the outage cases kill and restart; otherwise the shared cluster. */
  privateRedis: boolean;
  messageStore: "cassandra" | "postgres";
}

const postgres = await requireService("Postgres", TEST_POSTGRES_URL);
const backends: FleetBackend[] = [
  {
    title: "one Postgres, Cassandra and Redis",
    enabled: postgres && (await requireService("Redis", SHARED_REDIS_URL)) && (await requireService("Cassandra", TEST_CASSANDRA_URL)) && requireRedisServer("the multi-instance suite"),
    privateRedis: true,
    messageStore: "cassandra",
  },
  { title: "one Postgres and a Redis Cluster (sharded pub/sub)", enabled: postgres && (await requireRedisCluster()), privateRedis: false, messageStore: "postgres" },
];

const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;
const CHANNEL_EVENTS = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on LiveEvent { cursor } ... on MessageCreated { message { id content } } ... on ResyncRequired { reason } } }`;
const HISTORY = `query($c: ID!, $before: ID) { channel(id: $c) { messages(last: 100, before: $before) {
  pageInfo { hasPreviousPage startCursor } edges { node { id content } } } } }`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (...parts: unknown[]) => console.log("[fleet]", ...parts);

interface User {
  username: string;
  id: string;
  token: string;
}
interface Sender {
  proc: ConcordProcess;
  user: User;
}
interface Live {
  id: bigint;
  content: string;
  /** The event's place in the channel's sequence (from its cursor). */
  seq: number;
}

/** The sequence number a cursor names (cursors are opaque to clients; the test reads them with the server's decoder). */
function seqOf(cursor: string | undefined): number {
  return (cursor === undefined ? null : decodeCursor(cursor))?.seq ?? Number.NaN;
}

/** One graphql-ws subscription to channelEvents, collecting MessageCreated in arrival order. */
class LiveSubscriber {
  readonly events: Live[] = [];
  /** Payloads that were not a MessageCreated (errors, other event types). */
  readonly other: unknown[] = [];
  state: "open" | "completed" | "errored" = "open";
  endReason: unknown;
  readonly client: Client;

  constructor(readonly name: string, readonly proc: ConcordProcess, token: string, channelId: string) {
    this.client = createClient({
      url: proc.wsUrl,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${token}` },
      // The subscription's error sink records why it ended; graphql-ws would also print it.
      onNonLazyError: () => {},
    });
    this.client.subscribe<{ channelEvents: { __typename: string; cursor?: string; message?: { id: string; content: string } } }>(
      { query: CHANNEL_EVENTS, variables: { c: channelId } },
      {
        next: (value) => {
          const event = value.data?.channelEvents;
          if (event?.__typename === "MessageCreated" && event.message) this.events.push({ id: BigInt(event.message.id), content: event.message.content, seq: seqOf(event.cursor) });
          else this.other.push(value);
        },
        error: (error) => {
          this.state = "errored";
          this.endReason = error;
        },
        complete: () => {
          this.state = "completed";
        },
      },
    );
  }

  /** Received messages whose content starts with `prefix`, in arrival order. */
  matching(prefix: string): Live[] {
    return this.events.filter((e) => e.content.startsWith(prefix));
  }

  describe(): string {
    const reason = this.endReason instanceof Error ? this.endReason.message : JSON.stringify(this.endReason ?? null);
    const last = this.events.slice(-3).map((e) => e.content);
    return `${this.name} (on ${this.proc.name}): ${this.state}${this.state === "open" ? "" : ` (${reason})`}, ${this.events.length} received, last ${JSON.stringify(last)}, other payloads ${JSON.stringify(this.other.slice(-2))}`;
  }
}

/** Polls `condition` every 20 ms; throws `what` with every subscriber's state after `timeoutMs`. */
async function waitUntil(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what()} (after ${timeoutMs} ms)`);
    await sleep(20);
  }
}

/** Adjacent pairs in `ids` where the later-arriving one has the smaller id. */
function inversions(ids: bigint[]): number {
  let count = 0;
  for (let i = 1; i < ids.length; i++) if (ids[i]! < ids[i - 1]!) count++;
  return count;
}

const text = (items: Pick<Live, "id" | "content">[]) => items.map((m) => `${m.id} ${m.content}`);

for (const backend of backends)
describe.runIf(backend.enabled)(`a fleet of three Concord processes on ${backend.title}`, () => {
  const suffix = randomBytes(5).toString("hex");
  /** On the cluster: this fleet's keys and channels, deleted afterwards. */
  const keyPrefix = `concord-fleet-${suffix}:`;
  const keyspace = `concord_fleet_${suffix}`;
  let databaseUrl = "";
  let database: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  let redis: PrivateRedis | undefined;
  let cassandra: CassandraClient | undefined;
  const procs: ConcordProcess[] = [];
  let A: ConcordProcess, B: ConcordProcess, C: ConcordProcess;
  const subscribers: LiveSubscriber[] = [];
  let ada: User, bob: User, cyd: User;
  let channelId = "";
  let viaB: Sender, viaC: Sender;
  /** Every send that returned an id: content -> id. */
  const sent = new Map<string, bigint>();
  /** Every content a send was attempted with (some may have failed). */
  const attempted = new Set<string>();
  /** Per process: how many log lines existed when Redis was killed / when it had recovered. */
  const logMarks = new Map<ConcordProcess, { killed: number; recovered: number }>();
  let startupMs = 0;
  let guildId = "";
  /** The environment of instance `workerId` (set in beforeAll). */
  let env: (workerId: number) => Record<string, string>;

  const withLogs = (message: string) => `${message}\n${procs.map((p) => `--- ${p.name} (pid ${p.pid}) log tail:\n${p.tail(15)}`).join("\n")}`;

  async function send(via: Sender, content: string): Promise<bigint> {
    attempted.add(content);
    const res = await via.proc.gql<{ sendMessage: { id: string } }>(SEND, { c: channelId, t: content }, via.user.token);
    if (!res.data?.sendMessage) throw new Error(withLogs(`sendMessage ${JSON.stringify(content)} through ${via.proc.name} failed: ${JSON.stringify(res.errors)}`));
    const id = BigInt(res.data.sendMessage.id);
    sent.set(content, id);
    return id;
  }

  /** Like send, but records failure instead of throwing, with how long the call took. */
  async function trySend(via: Sender, content: string): Promise<{ content: string; via: string; ms: number; id?: bigint; error?: string }> {
    const started = Date.now();
    attempted.add(content);
    try {
      const res = await via.proc.gql<{ sendMessage: { id: string } }>(SEND, { c: channelId, t: content }, via.user.token, 10_000);
      const ms = Date.now() - started;
      if (res.data?.sendMessage) {
        const id = BigInt(res.data.sendMessage.id);
        sent.set(content, id);
        return { content, via: via.proc.name, ms, id };
      }
      return { content, via: via.proc.name, ms, error: JSON.stringify(res.errors?.map((e) => ({ message: e.message, code: e.extensions?.code }))) };
    } catch (error) {
      return { content, via: via.proc.name, ms: Date.now() - started, error: `transport: ${(error as Error).message}` };
    }
  }

  /**
   * Live subscriptions have no cross-process "subscribed" signal: send probes (alternating over
   * `senders`, one every 200 ms) until every subscriber has received a probe of this round from
   * every sender. Probes that fail to send are tolerated (Redis may still be reconnecting).
   */
  async function awaitLive(round: string, senders: Sender[], timeoutMs: number): Promise<{ ms: number; probes: number; failed: number }> {
    const started = Date.now();
    let probes = 0;
    let failed = 0;
    const prefix = (s: Sender) => `probe:${round}:${s.proc.name}:`;
    const live = () => subscribers.every((sub) => senders.every((s) => sub.matching(prefix(s)).length > 0));
    while (!live()) {
      if (Date.now() - started > timeoutMs) {
        throw new Error(withLogs(`probes of round ${round} did not reach every subscriber within ${timeoutMs} ms (${probes} sent, ${failed} failed):\n${subscribers.map((s) => s.describe()).join("\n")}`));
      }
      const sender = senders[probes % senders.length]!;
      const result = await trySend(sender, `${prefix(sender)}${probes}`);
      probes++;
      if (result.error) failed++;
      const until = Date.now() + 200;
      await waitUntil(() => live() || Date.now() >= until, 1_000, () => "unreachable");
    }
    return { ms: Date.now() - started, probes, failed };
  }

  /** Walks the channel back page by page (last: 100, before: startCursor) through one instance. */
  async function history(proc: ConcordProcess): Promise<Pick<Live, "id" | "content">[]> {
    const pages: Pick<Live, "id" | "content">[][] = [];
    let before: string | null = null;
    for (let page = 0; page < 100; page++) {
      type Page = { channel: { messages: { pageInfo: { hasPreviousPage: boolean; startCursor: string | null }; edges: { node: { id: string; content: string } }[] } } };
      const res: GqlResponse<Page> = await proc.gql<Page>(HISTORY, { c: channelId, before }, ada.token);
      const connection = res.data?.channel.messages;
      if (!connection) throw new Error(withLogs(`history through ${proc.name} failed: ${JSON.stringify(res.errors)}`));
      pages.unshift(connection.edges.map((e) => ({ id: BigInt(e.node.id), content: e.node.content })));
      if (!connection.pageInfo.hasPreviousPage) return pages.flat();
      before = connection.pageInfo.startCursor;
    }
    throw new Error(`history through ${proc.name}: more than 100 pages`);
  }

  function expectInSendOrder(sub: LiveSubscriber, prefix: string, expected: string[]): void {
    const got = sub.matching(prefix).map((e) => e.content);
    expect(got, `${sub.name} on ${sub.proc.name}: ${prefix}* in send order, once each`).toEqual(expected);
    for (const e of sub.matching(prefix)) expect(e.id, `${sub.name}: id of ${e.content}`).toBe(sent.get(e.content));
  }

  beforeAll(async () => {
    database = await createScratchDatabase("concord_fleet");
    databaseUrl = database.url;

    if (backend.messageStore === "cassandra") {
      cassandra = new CassandraClient({ contactPoints: [new URL(TEST_CASSANDRA_URL).host], localDataCenter: TEST_CASSANDRA_DC });
      await cassandra.connect();
    }
    // With an fsynced append-only file: one test restarts it with its data (the event log kept),
    // another without (lost).
    if (backend.privateRedis) redis = await startPrivateRedis({ persistent: true });

    const stores: Record<string, string> =
      backend.messageStore === "cassandra"
        ? {
            MESSAGE_STORE: "cassandra",
            CASSANDRA_CONTACT_POINTS: new URL(TEST_CASSANDRA_URL).host,
            CASSANDRA_LOCAL_DC: TEST_CASSANDRA_DC,
            CASSANDRA_KEYSPACE: keyspace,
            CASSANDRA_REPLICATION: "SimpleStrategy:1",
          }
        : { MESSAGE_STORE: "postgres" };
    const bus: Record<string, string> = redis ? { REDIS_URL: redis.url } : { REDIS_CLUSTER_NODES: TEST_REDIS_CLUSTER_NODES, REDIS_KEY_PREFIX: keyPrefix };
    env = (workerId: number) => ({
      DATABASE_URL: databaseUrl,
      ...stores,
      ...bus,
      WORKER_ID: String(workerId),
      PASSWORD_HASH_COST: "10",
      LOG_LEVEL: "warn",
      GRAPHIQL: "false",
    });
    // All three at once on an empty database and keyspace: both migration runners must cope
    // with instances racing (Postgres advisory lock, Cassandra LWT ledger).
    const started = Date.now();
    const results = await Promise.allSettled(["A", "B", "C"].map((name, i) => startConcord({ name, env: env(i + 1), startTimeoutMs: 60_000 })));
    startupMs = Date.now() - started;
    for (const r of results) if (r.status === "fulfilled") procs.push(r.value);
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failures.length > 0) throw new Error(failures.map((f) => (f.reason as Error).message).join("\n\n"));
    [A, B, C] = procs as [ConcordProcess, ConcordProcess, ConcordProcess];
    log(`${backend.title}: three instances started together in ${startupMs} ms (ports ${procs.map((p) => p.port).join(", ")}; ${redis ? `private Redis on ${redis.port}` : `Redis Cluster ${TEST_REDIS_CLUSTER_NODES}`})`);
  }, 90_000);

  afterAll(async () => {
    await Promise.allSettled(subscribers.map((s) => s.client.dispose()));
    await Promise.allSettled(procs.map((p) => p.stop(5_000)));
    await redis?.stop().catch(() => {});
    if (!backend.privateRedis) await dropClusterKeys(keyPrefix);
    if (cassandra) {
      await cassandra.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch((error) => console.warn(`dropping keyspace ${keyspace}: ${(error as Error).message}`));
      await cassandra.shutdown().catch(() => {});
    }
    await database?.drop().catch((error) => console.warn(`dropping ${database?.name}: ${(error as Error).message}`));
  }, 60_000);

  it("instances started together applied every migration exactly once", async () => {
    const migrationDirs = (await readdir(path.join(REPO_ROOT, "prisma/migrations"), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const rows = await db.query<{ migration_name: string; finished: boolean; rolled_back: boolean }>(
        `SELECT migration_name, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back FROM _prisma_migrations ORDER BY migration_name`,
      );
      expect(rows.rows).toEqual(migrationDirs.map((migration_name) => ({ migration_name, finished: true, rolled_back: false })));
    } finally {
      await db.end();
    }
    if (cassandra) {
      const cqlFiles = (await readdir(path.join(REPO_ROOT, "src/stores/cassandra/migrations"))).filter((f) => f.endsWith(".cql")).map((f) => f.replace(/\.cql$/, "")).sort();
      const ledger = await cassandra.execute(`SELECT version, finished_at FROM ${keyspace}.schema_migrations`);
      expect(ledger.rows.map((r) => ({ version: r.get("version"), finished: r.get("finished_at") !== null })).sort((a, b) => String(a.version).localeCompare(String(b.version)))).toEqual(
        cqlFiles.map((version) => ({ version, finished: true })),
      );
    }
    for (const p of procs) expect(p.logsAt("error"), `${p.name} logged errors at start-up`).toEqual([]);
  });

  it("users register on A, a guild is created on B and joined on C; subscribers on A and B go live", async () => {
    const register = async (name: string): Promise<User> => {
      const username = `${name}_${suffix}`;
      const res = await A.gql(`mutation($u: String!) { register(input: { username: $u, password: "correct horse" }) { token user { id } } }`, { u: username });
      if (!res.data) throw new Error(withLogs(`register ${username} on A failed: ${JSON.stringify(res.errors)}`));
      return { username, id: res.data.register.user.id, token: res.data.register.token };
    };
    [ada, bob, cyd] = await Promise.all([register("ada"), register("bob"), register("cyd")]);

    const guild = await B.gql(`mutation { createGuild(input: { name: "Fleet" }) { id channels { id name } } }`, {}, ada.token);
    expect(guild.errors).toBeUndefined();
    guildId = guild.data.createGuild.id;
    channelId = guild.data.createGuild.channels[0].id;
    const invite = await B.gql(`mutation($g: ID!) { createInvite(input: { guildId: $g, maxUses: 5 }) { code } }`, { g: guildId }, ada.token);
    expect(invite.errors).toBeUndefined();
    for (const user of [bob, cyd]) {
      const joined = await C.gql(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: invite.data.createInvite.code }, user.token);
      expect(joined.errors).toBeUndefined();
    }
    const members = await A.gql(`query($g: ID!) { guild(id: $g) { memberCount } }`, { g: guildId }, cyd.token);
    expect(members.data).toEqual({ guild: { memberCount: 3 } });

    subscribers.push(
      new LiveSubscriber("ada", A, ada.token, channelId),
      new LiveSubscriber("bob", A, bob.token, channelId),
      new LiveSubscriber("cyd", B, cyd.token, channelId),
    );
    viaB = { proc: B, user: ada };
    viaC = { proc: C, user: bob };
    const live = await awaitLive("start", [viaB, viaC], 10_000);
    log(`subscriptions live after ${live.ms} ms (${live.probes} probes)`);
    for (const sub of subscribers) expect(sub.state, sub.describe()).toBe("open");
  }, 30_000);

  it("100 sequential messages through B and C reach every subscriber once, in id order; then 100 concurrent ones", async () => {
    // Sequential, alternating B and C: every send awaited, so send order is id order.
    const started = Date.now();
    const sequential: string[] = [];
    for (let i = 0; i < 100; i++) {
      const content = `seq:${String(i).padStart(3, "0")}`;
      await send(i % 2 === 0 ? viaB : viaC, content);
      sequential.push(content);
    }
    const sendMs = Date.now() - started;
    const ids = sequential.map((c) => sent.get(c)!);
    expect(inversions(ids), "sequential sends got increasing ids").toBe(0);
    await waitUntil(
      () => subscribers.every((s) => s.matching("seq:").length >= 100),
      10_000,
      () => withLogs(`not every subscriber received the 100 sequential messages:\n${subscribers.map((s) => s.describe()).join("\n")}`),
    );
    await sleep(200); // let any duplicate land before checking
    for (const sub of subscribers) expectInSendOrder(sub, "seq:", sequential);
    log(`sequential: 100 sends in ${sendMs} ms, delivered to all 3 subscribers in ${Date.now() - started} ms`);

    // Concurrent: two sequential streams in parallel, one through B and one through C.
    const streams: Record<string, string[]> = { B: [], C: [] };
    const concStarted = Date.now();
    await Promise.all(
      [viaB, viaC].map(async (via) => {
        for (let i = 0; i < 50; i++) {
          const content = `conc:${via.proc.name}:${String(i).padStart(2, "0")}`;
          await send(via, content);
          streams[via.proc.name]!.push(content);
        }
      }),
    );
    const concSendMs = Date.now() - concStarted;
    await waitUntil(
      () => subscribers.every((s) => s.matching("conc:").length >= 100),
      10_000,
      () => withLogs(`not every subscriber received the 100 concurrent messages:\n${subscribers.map((s) => s.describe()).join("\n")}`),
    );
    await sleep(200);
    const outOfOrder: string[] = [];
    for (const sub of subscribers) {
      const received = sub.matching("conc:");
      expect(new Set(received.map((e) => e.content)).size, `${sub.name}: no duplicates`).toBe(received.length);
      expect(received.length).toBe(100);
      for (const stream of ["B", "C"]) expectInSendOrder(sub, `conc:${stream}:`, streams[stream]!);
      const ids = received.map((e) => e.id);
      outOfOrder.push(`${sub.name}@${sub.proc.name}=${inversions(ids)}`);
    }
    // One order for everyone: the channel's sequence. Every subscriber, on A or on B, got the
    // concurrent sends in the very same order, with strictly increasing sequence numbers (ids
    // from two instances may interleave differently: reported, not asserted).
    const orders = subscribers.map((sub) => sub.matching("conc:").map((e) => e.content));
    for (const order of orders) expect(order, "every subscriber sees one order").toEqual(orders[0]);
    for (const sub of subscribers) {
      const seqs = sub.matching("conc:").map((e) => e.seq);
      expect(seqs.every((seq, i) => Number.isSafeInteger(seq) && (i === 0 || seq > seqs[i - 1]!)), `${sub.name}: sequence order ${seqs.join(",")}`).toBe(true);
    }
    log(`concurrent: 100 sends (2 streams of 50) in ${concSendMs} ms; 0 out of sequence order; adjacent pairs out of global id order per subscriber (of 99): ${outOfOrder.join(", ")}`);

    for (const sub of subscribers) expect(sub.state, sub.describe()).toBe("open");
    for (const p of procs) expect(p.logsAt("error"), `${p.name} logged errors`).toEqual([]);
  }, 45_000);

  it("history read through A, B and C is identical and equals what was sent", async () => {
    const [onA, onB, onC] = await Promise.all([history(A), history(B), history(C)]);
    const expected = [...sent.entries()].map(([content, id]) => ({ id, content })).sort((x, y) => (x.id < y.id ? -1 : 1));
    expect(onA.length).toBe(sent.size);
    expect(text(onA)).toEqual(text(expected));
    expect(text(onB)).toEqual(text(onA));
    expect(text(onC)).toEqual(text(onA));
    expect(inversions(onA.map((m) => m.id))).toBe(0);
  }, 20_000);

  it("a token logged out on A is refused by B and C, which had it cached", async () => {
    const username = `eve_${suffix}`;
    const res = await A.gql(`mutation($u: String!) { register(input: { username: $u, password: "correct horse" }) { token } }`, { u: username });
    const token: string = res.data.register.token;
    for (const p of [B, C]) expect((await p.gql(`{ me { username } }`, {}, token)).data, `${p.name} before logout`).toEqual({ me: { username } });
    // A socket on C opened with the token: C closes it when it hears of the logout.
    const socket = new WebSocket(C.wsUrl, "graphql-transport-ws");
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } })));
      socket.on("message", (data) => JSON.parse(String(data)).type === "connection_ack" && resolve());
      socket.once("error", reject);
    });
    const closeCode = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
    expect((await A.gql(`mutation { logout }`, {}, token)).data).toEqual({ logout: true });
    const loggedOutAt = Date.now();
    for (const p of [B, C]) {
      await eventually(async () => {
        const after = await p.gql(`{ me { username } }`, {}, token);
        expect(after.errors?.[0]?.extensions?.code, `${p.name} after logout`).toBe("UNAUTHENTICATED");
      }, 2_000);
    }
    expect(await closeCode, "C closes the token's socket").toBe(4401);
    log(`a logout on A reached the caches of B and C, and closed the socket on C, within ${Date.now() - loggedOutAt} ms`);
  }, 20_000);

  it("revokeOtherSessions on A closes the other session's socket on C, keeps the current one's on B, and every instance refuses the other token", async () => {
    const username = `gil_${suffix}`;
    const LOGIN = `mutation($u: String!, $p: String!) { login(input: { username: $u, password: $p }) { token } }`;
    const current = (await A.gql(`mutation($u: String!) { register(input: { username: $u, password: "correct horse" }) { token } }`, { u: username })).data.register.token as string;
    const other = (await B.gql(LOGIN, { u: username, p: "correct horse" })).data.login.token as string;
    /** A raw graphql-ws socket signed in with `token`, and its close code once closed. */
    const socketOn = async (proc: ConcordProcess, token: string) => {
      const socket = new WebSocket(proc.wsUrl, "graphql-transport-ws");
      await new Promise<void>((resolve, reject) => {
        socket.once("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } })));
        socket.on("message", (data) => JSON.parse(String(data)).type === "connection_ack" && resolve());
        socket.once("error", reject);
      });
      return { socket, closeCode: new Promise<number>((resolve) => socket.once("close", (code) => resolve(code))) };
    };
    const otherOnC = await socketOn(C, other);
    const currentOnB = await socketOn(B, current);
    for (const p of [B, C]) expect((await p.gql(`{ me { username } }`, {}, other)).data, `${p.name} caches the other session`).toEqual({ me: { username } });

    expect((await A.gql(`mutation { revokeOtherSessions }`, {}, current)).data).toEqual({ revokeOtherSessions: 1 });
    for (const p of [B, C]) {
      await eventually(async () => {
        expect((await p.gql(`{ me { username } }`, {}, other)).errors?.[0]?.extensions?.code, `${p.name} after revokeOtherSessions`).toBe("UNAUTHENTICATED");
      }, 2_000);
      expect((await p.gql(`{ me { username } }`, {}, current)).data, `${p.name}: the current session still works`).toEqual({ me: { username } });
    }
    expect(await otherOnC.closeCode, "C closes the other session's socket").toBe(4401);
    await sleep(300);
    expect(currentOnB.socket.readyState, "B keeps the current session's socket").toBe(WebSocket.OPEN);
    currentOnB.socket.close();
  }, 20_000);

  /** The data of an operation on `proc`, or an error with the instances' logs. */
  const ok = async (proc: ConcordProcess, query: string, variables: Record<string, unknown>, token: string) => {
    const res = await proc.gql(query, variables, token);
    if (!res.data || res.errors) throw new Error(withLogs(`${proc.name}: ${query.slice(0, 60)}… failed: ${JSON.stringify(res.errors)}`));
    return res.data;
  };

  it("a channel made on A takes messages on B and C at once; its rename and its deletion on A reach B and C within a second", async () => {
    const guild = await ok(A, `mutation { createGuild(input: { name: "Channels" }) { id } }`, {}, ada.token);
    const g: string = guild.createGuild.id;
    const invite = await ok(A, `mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g }, ada.token);
    await ok(B, `mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: invite.createInvite.code }, bob.token);
    // B and C cache the guild (and bob's place in it) before the channel exists.
    for (const p of [B, C]) await ok(p, `query($g: ID!) { guild(id: $g) { channels { id } } }`, { g }, bob.token);
    const made = await ok(A, `mutation($g: ID!) { createChannel(input: { guildId: $g, name: "fresh" }) { id } }`, { g }, ada.token);
    const fresh: string = made.createChannel.id;
    // No waiting for the announcement: the instance finds the channel in the store and reads the guild again.
    await ok(B, SEND, { c: fresh, t: "on B" }, bob.token);
    await ok(C, SEND, { c: fresh, t: "on C" }, bob.token);
    const history = await ok(C, `query($c: ID!) { channel(id: $c) { messages(last: 5) { edges { node { content } } } } }`, { c: fresh }, bob.token);
    expect(history.channel.messages.edges.map((e: { node: { content: string } }) => e.node.content)).toEqual(["on B", "on C"]);

    // A rename on A: B and C answer with the new name (their cached copy of the guild is dropped).
    await ok(A, `mutation($c: ID!) { updateChannel(input: { channelId: $c, name: "renamed", topic: "new topic" }) { id } }`, { c: fresh }, ada.token);
    for (const p of [B, C]) {
      await eventually(async () => {
        const read = await ok(p, `query($c: ID!) { channel(id: $c) { name topic } }`, { c: fresh }, bob.token);
        expect(read.channel, `${p.name} has the rename`).toEqual({ name: "renamed", topic: "new topic" });
      }, 1_000);
    }

    expect((await ok(A, `mutation($c: ID!) { deleteChannel(channelId: $c) }`, { c: fresh }, ada.token)).deleteChannel).toBe(true);
    for (const p of [B, C]) {
      await eventually(async () => expect((await p.gql(SEND, { c: fresh, t: "gone" }, bob.token)).errors?.[0]?.extensions?.code, `${p.name} refuses the deleted channel`).toBe("NOT_FOUND"), 1_000);
    }
  }, 30_000);

  it("a role taken on A ends the moderator's live stream on C within a second, and B refuses the private channel at once", async () => {
    const guild = await ok(A, `mutation { createGuild(input: { name: "Private" }) { id } }`, {}, ada.token);
    const guildId: string = guild.createGuild.id;
    const invite = await ok(A, `mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: guildId }, ada.token);
    await ok(B, `mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: invite.createInvite.code }, bob.token);
    const role = await ok(A, `mutation($g: ID!) { createRole(input: { guildId: $g, name: "Mods", permissions: [] }) { id } }`, { g: guildId }, ada.token);
    const roleId: string = role.createRole.id;
    await ok(A, `mutation($g: ID!, $u: ID!, $r: ID!) { addMemberRole(input: { guildId: $g, userId: $u, roleId: $r }) }`, { g: guildId, u: bob.id, r: roleId }, ada.token);
    const channel = await ok(
      A,
      `mutation($g: ID!, $r: ID!) { createChannel(input: { guildId: $g, name: "mods", permissionOverwrites: [
        { targetKind: ROLE, targetId: $g, allow: [], deny: [VIEW_CHANNEL] }, { targetKind: ROLE, targetId: $r, allow: [VIEW_CHANNEL], deny: [] }] }) { id } }`,
      { g: guildId, r: roleId },
      ada.token,
    );
    const privateId: string = channel.createChannel.id;
    // Every instance sees the private channel for bob (B and C may have cached him before the role).
    for (const p of [B, C]) await eventually(async () => expect((await p.gql(`query($c: ID!) { channel(id: $c) { id } }`, { c: privateId }, bob.token)).data, p.name).toEqual({ channel: { id: privateId } }), 2_000);

    const client = createClient({ url: C.wsUrl, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, connectionParams: { authorization: `Bearer ${bob.token}` } });
    const received: string[] = [];
    const ended = new Promise<unknown>((resolve) => {
      client.subscribe(
        { query: `subscription($c: ID!) { channelEvents(channelId: $c) { ... on MessageCreated { message { content } } } }`, variables: { c: privateId } },
        { next: (r: any) => received.push(r.errors ? `error:${r.errors[0].extensions.code}` : r.data.channelEvents.message?.content ?? r.data.channelEvents.__typename ?? "subscribed"), error: resolve, complete: () => resolve("complete") },
      );
    });
    try {
      // Live on C: a message sent through B arrives.
      await eventually(async () => {
        await ok(B, `mutation($c: ID!) { sendMessage(input: { channelId: $c, content: "probe" }) { id } }`, { c: privateId }, ada.token);
        await sleep(150);
        expect(received).toContain("probe");
      }, 10_000);
      const started = Date.now();
      await ok(A, `mutation($g: ID!, $u: ID!, $r: ID!) { removeMemberRole(input: { guildId: $g, userId: $u, roleId: $r }) }`, { g: guildId, u: bob.id, r: roleId }, ada.token);
      const outcome = await Promise.race([ended.then(() => "ended"), sleep(1_000).then(() => "still open")]);
      const tookMs = Date.now() - started;
      log(`role taken on A: bob's stream on C ended after ${tookMs} ms`);
      expect(outcome).toBe("ended");
      expect(received.at(-1)).toBe("error:FORBIDDEN");
      const refused = await B.gql(`query($c: ID!) { channel(id: $c) { id } }`, { c: privateId }, bob.token);
      expect(refused.errors?.[0]?.extensions?.code, "B refuses the private channel at once").toBe("NOT_FOUND");
    } finally {
      await client.dispose();
    }
  }, 30_000);

  it.runIf(backend.privateRedis)("Redis killed mid-stream and restarted: sends stay stored, instances recover, later messages flow in order", async () => {
    // The stream before the outage, delivered live as usual.
    const before: string[] = [];
    for (let i = 0; i < 5; i++) {
      const content = `pre:${i}`;
      await send(i % 2 === 0 ? viaB : viaC, content);
      before.push(content);
    }
    await waitUntil(
      () => subscribers.every((s) => s.matching("pre:").length >= 5),
      5_000,
      () => withLogs(`pre-outage messages not delivered:\n${subscribers.map((s) => s.describe()).join("\n")}`),
    );
    for (const sub of subscribers) expectInSendOrder(sub, "pre:", before);
    // A session B has cached, to be logged out on A while the bus is down.
    const fay = (await A.gql(`mutation($u: String!) { register(input: { username: $u, password: "correct horse" }) { token } }`, { u: `fay_${suffix}` })).data.register.token as string;
    expect((await B.gql(`{ me { id } }`, {}, fay)).errors).toBeUndefined();

    // SIGKILL Redis while the next send is in flight, then keep sending during the outage.
    for (const p of procs) logMarks.set(p, { killed: p.logs.length, recovered: 0 });
    const inFlight = trySend(viaB, "down:0");
    await redis!.kill();
    const killedAt = Date.now();
    const outage = [await inFlight];
    for (let i = 1; i < 6; i++) outage.push(await trySend(i % 2 === 0 ? viaB : viaC, `down:${i}`));
    const outageMs = Date.now() - killedAt;
    log(
      `sends during the Redis outage:\n${outage
        .map((r) => `  ${r.content} via ${r.via}: ${r.error ? `FAILED after ${r.ms} ms: ${r.error}` : `ok in ${r.ms} ms (id ${r.id})`}`)
        .join("\n")}`,
    );
    for (const r of outage) expect(r.ms, `${r.content} via ${r.via} must settle fast, not hang`).toBeLessThan(6_000);
    // The revocation is stored although it cannot be announced.
    expect((await A.gql(`mutation { logout }`, {}, fay)).data, "logout while Redis is down").toEqual({ logout: true });

    // Restarted empty: the event log is gone too.
    await redis!.restart(10_000, { wipe: true });
    const restartedAfter = Date.now() - killedAt;
    for (const sub of subscribers) expect(sub.state, `${sub.describe()} — a Redis outage must not end live subscriptions`).toBe("open");
    const recovery = await awaitLive("recovery", [viaB, viaC], 20_000);
    // B missed the revocation, and forgot its cached sessions when it reconnected.
    expect((await B.gql(`{ me { id } }`, {}, fay)).errors?.[0]?.extensions?.code, "a token logged out during the outage, after recovery").toBe("UNAUTHENTICATED");
    for (const p of procs) logMarks.get(p)!.recovered = p.logs.length;
    // Each subscriber was told that live delivery had a gap, so a client knows to catch up.
    await waitUntil(
      () => subscribers.every((sub) => sub.other.some((v) => (v as { data?: { channelEvents?: { __typename?: string } } }).data?.channelEvents?.__typename === "ResyncRequired")),
      10_000,
      () => `no ResyncRequired after recovery:\n${subscribers.map((s) => s.describe()).join("\n")}`,
    );
    log(`Redis down ${restartedAfter} ms (outage sends took ${outageMs} ms); recovered ${recovery.ms} ms after restart (${recovery.probes} probes, ${recovery.failed} failed)`);
    const deliveredDuringOutage = subscribers.map((s) => `${s.name}=${s.matching("down:").map((e) => e.content).join("|") || "none"}`);
    log(`outage messages delivered live anyway: ${deliveredDuringOutage.join(", ")}`);
    const outageLogs = procs.map((p) => {
      const lines = p.logs.slice(logMarks.get(p)!.killed, logMarks.get(p)!.recovered);
      const messages = [...new Set(lines.map((l) => { try { const j = JSON.parse(l); return `${j.level}: ${j.message}${j.error?.message ? ` (${j.error.message})` : typeof j.error === "string" ? ` (${j.error})` : ""}`; } catch { return l; } }))];
      return `  ${p.name}: ${lines.length} lines; distinct: ${messages.slice(0, 6).join(" / ")}`;
    });
    log(`logs during the outage:\n${outageLogs.join("\n")}`);

    // After recovery: 20 more, alternating B and C, reach everyone in order.
    const after: string[] = [];
    for (let i = 0; i < 20; i++) {
      const content = `post:${String(i).padStart(2, "0")}`;
      await send(i % 2 === 0 ? viaB : viaC, content);
      after.push(content);
    }
    await waitUntil(
      () => subscribers.every((s) => s.matching("post:").length >= 20),
      10_000,
      () => withLogs(`post-recovery messages not delivered:\n${subscribers.map((s) => s.describe()).join("\n")}`),
    );
    await sleep(200);
    for (const sub of subscribers) {
      expectInSendOrder(sub, "post:", after);
      // Nothing was ever delivered twice, and each live event carried the id the sender got.
      const ids = sub.events.map((e) => e.id);
      expect(new Set(ids).size, `${sub.name}: no duplicate deliveries over the whole run`).toBe(ids.length);
      for (const e of sub.events) if (sent.has(e.content)) expect(e.id).toBe(sent.get(e.content));
    }

    // History is the source of truth: every outage message is there, on every instance.
    const [onA, onB, onC] = await Promise.all([history(A), history(B), history(C)]);
    expect(text(onB)).toEqual(text(onA));
    expect(text(onC)).toEqual(text(onA));
    const stored = new Map(onA.map((m) => [m.content, m.id]));
    for (const r of outage) {
      expect(stored.has(r.content), `${r.content} (sent while Redis was down: ${r.error ?? "ok"}) is in history`).toBe(true);
      if (r.id !== undefined) expect(stored.get(r.content)).toBe(r.id);
    }
    for (const [content, id] of sent) expect(stored.get(content), `${content} in history`).toBe(id);
    for (const content of stored.keys()) expect(attempted.has(content), `${content} in history was sent by this test`).toBe(true);
    expect(stored.size, "no duplicates in history").toBe(onA.length);
  }, 75_000);

  it.runIf(backend.privateRedis)("Redis SIGKILLed and restarted with its data: instances repair from the event log, nothing published is reported missing", async () => {
    const mark = subscribers.map((s) => s.other.length);
    const before: string[] = [];
    for (let i = 0; i < 5; i++) before.push(`kept-pre:${i}`);
    for (const [i, content] of before.entries()) await send(i % 2 === 0 ? viaB : viaC, content);
    await waitUntil(() => subscribers.every((s) => s.matching("kept-pre:").length >= 5), 5_000, () => withLogs(`kept-pre not delivered:\n${subscribers.map((s) => s.describe()).join("\n")}`));

    await redis!.kill();
    await redis!.restart();
    await awaitLive("kept-recovery", [viaB, viaC], 20_000);
    // Errors logged by calls in flight at the kill are expected; after this recovery, none.
    for (const p of procs) logMarks.set(p, { killed: logMarks.get(p)?.killed ?? 0, recovered: p.logs.length });
    const after: string[] = [];
    for (let i = 0; i < 20; i++) {
      const content = `kept-post:${String(i).padStart(2, "0")}`;
      await send(i % 2 === 0 ? viaB : viaC, content);
      after.push(content);
    }
    await waitUntil(() => subscribers.every((s) => s.matching("kept-post:").length >= 20), 10_000, () => withLogs(`kept-post not delivered:\n${subscribers.map((s) => s.describe()).join("\n")}`));
    await sleep(200);
    for (const [i, sub] of subscribers.entries()) {
      expect(sub.state, sub.describe()).toBe("open");
      // The log survived: the instances' catch-up found nothing missing, so no ResyncRequired.
      const notices = sub.other.slice(mark[i]).filter((v) => (v as { data?: { channelEvents?: { __typename?: string } } }).data?.channelEvents?.__typename === "ResyncRequired");
      expect(notices, `${sub.name}: no ResyncRequired after a restart that kept the log`).toEqual([]);
      expectInSendOrder(sub, "kept-post:", after);
      const seqs = sub.events.filter((e) => e.content.startsWith("kept-")).map((e) => e.seq);
      expect(seqs.every((seq, k) => k === 0 || seq > seqs[k - 1]!), `${sub.name}: sequence order across the restart`).toBe(true);
    }
    log(`Redis restarted with its data: ${subscribers.map((s) => `${s.name} got ${s.matching("kept-").length}`).join(", ")} kept-* messages, no ResyncRequired`);
  }, 60_000);

  it("an instance SIGKILLed mid-stream: its client resumes on B with its cursors and gets every event of its three streams once, in order", async () => {
    // D: a fourth instance for the client to lose (A, B and C stay for the last test).
    const D = await startConcord({ name: "D", env: env(4), startTimeoutMs: 60_000 });
    const dee = await (async () => {
      const username = `dee_${suffix}`;
      const res = await B.gql(`mutation($u: String!) { register(input: { username: $u, password: "correct horse" }) { token user { id } } }`, { u: username });
      return { username, id: res.data.register.user.id as string, token: res.data.register.token as string };
    })();
    const invite = await B.gql(`mutation($g: ID!) { createInvite(input: { guildId: $g }) { code } }`, { g: guildId }, ada.token);
    expect((await C.gql(`mutation($c: String!) { joinGuild(code: $c) { id } }`, { c: invite.data.createInvite.code }, dee.token)).errors).toBeUndefined();
    const role = await B.gql(`mutation($g: ID!) { createRole(input: { guildId: $g, name: "failover-0", permissions: [] }) { id } }`, { g: guildId }, ada.token);
    const roleId: string = role.data.createRole.id;

    type Got = { stream: string; type: string; key: string; seq: number; at: number; on: string };
    const got: Got[] = [];
    const cursors: Record<string, string | undefined> = {};
    const streams = {
      channel: { query: `subscription($c: ID!, $after: String) { channelEvents(channelId: $c, after: $after) { __typename ... on LiveEvent { cursor } ... on MessageCreated { message { content } } } }`, variables: { c: channelId } },
      guild: { query: `subscription($g: ID!, $after: String) { guildEvents(guildId: $g, after: $after) { __typename ... on LiveEvent { cursor } ... on RoleUpdated { role { name } } } }`, variables: { g: guildId } },
      user: { query: `subscription($after: String) { userEvents(after: $after) { __typename ... on LiveEvent { cursor } ... on RelationshipChanged { relationship { type } } } }`, variables: {} },
    } as const;
    const subscribed = new Map<string, number>();
    let lost = 0;
    /** Opens the three subscriptions on `proc`, each resuming from the last cursor received. */
    const connect = (proc: ConcordProcess) => {
      const client = createClient({ url: proc.wsUrl, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, connectionParams: { authorization: `Bearer ${dee.token}` }, onNonLazyError: () => {} });
      for (const [stream, { query, variables }] of Object.entries(streams)) {
        client.subscribe<Record<string, { __typename: string; cursor?: string; message?: { content: string }; role?: { name: string }; relationship?: { type: string } | null }>>(
          { query, variables: { ...variables, after: cursors[stream] } },
          {
            next: (value) => {
              const event = Object.values(value.data ?? {})[0];
              if (!event) return;
              cursors[stream] = event.cursor ?? cursors[stream];
              if (event.__typename === "Subscribed") return void subscribed.set(`${proc.name}:${stream}`, Date.now());
              const key = event.message?.content ?? event.role?.name ?? (event.__typename === "RelationshipChanged" ? `rel:${event.relationship?.type ?? "NONE"}` : event.__typename);
              got.push({ stream, type: event.__typename, key, seq: seqOf(event.cursor), at: Date.now(), on: proc.name });
            },
            error: () => void lost++,
            complete: () => {},
          },
        );
      }
      return client;
    };
    const onD = connect(D);
    await waitUntil(() => ["channel", "guild", "user"].every((s) => subscribed.has(`D:${s}`)), 10_000, () => "D's three subscriptions did not start");

    // A steady stream through B and C: messages, role renames, friend requests to dee.
    const expected = { channel: [] as string[], guild: [] as string[], user: [] as string[] };
    let stop = false;
    let friends = false;
    const load = (async () => {
      for (let i = 0; !stop; i++) {
        const via = i % 2 === 0 ? viaB : viaC;
        const content = `failover:${String(i).padStart(3, "0")}`;
        await send(via, content);
        expected.channel.push(content);
        if (i % 4 === 0) {
          const name = `failover-${i}`;
          const res = await (i % 8 === 0 ? B : C).gql(`mutation($g: ID!, $r: ID!, $n: String) { updateRole(input: { guildId: $g, roleId: $r, name: $n }) { id } }`, { g: guildId, r: roleId, n: name }, ada.token);
          expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
          expected.guild.push(name);
        }
        if (i % 6 === 0) {
          const mutation = friends ? `mutation($u: ID!) { declineFriendRequest(userId: $u) }` : `mutation($u: ID!) { sendFriendRequest(userId: $u) { type } }`;
          const res = await C.gql(mutation, { u: dee.id }, cyd.token);
          expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
          expected.user.push(friends ? "rel:NONE" : "rel:INCOMING");
          friends = !friends;
        }
        await sleep(15);
      }
    })();

    await waitUntil(() => got.filter((g) => g.stream === "channel").length >= 20, 10_000, () => `D delivered ${got.length} events`);
    // SIGKILL D mid-stream; the client notices its sockets close and resumes on B.
    D.child.kill("SIGKILL");
    const killedAt = Date.now();
    await waitUntil(() => lost >= 3, 10_000, () => `the client did not notice D die (${lost} subscriptions ended)`);
    await Promise.resolve(onD.dispose()).catch(() => {});
    const onB = connect(B);
    await sleep(1_500);
    stop = true;
    await load;
    await waitUntil(
      () => (["channel", "guild", "user"] as const).every((s) => got.filter((g) => g.stream === s && expected[s].includes(g.key)).length >= expected[s].length),
      15_000,
      () => `not everything arrived: missing ${JSON.stringify(Object.fromEntries((["channel", "guild", "user"] as const).map((s) => [s, expected[s].filter((k) => !got.some((g) => g.stream === s && g.key === k))])))}`,
    );
    await sleep(300);
    const firstOnB = got.find((g) => g.on === "B");
    const report: string[] = [];
    for (const stream of ["channel", "guild", "user"] as const) {
      const mine = got.filter((g) => g.stream === stream && expected[stream].includes(g.key));
      // Count each key's occurrences: a friend request comes and goes several times.
      const counts = new Map<string, number>();
      for (const k of expected[stream]) counts.set(k, (counts.get(k) ?? 0) - 1);
      for (const g of mine) counts.set(g.key, (counts.get(g.key) ?? 0) + 1);
      const missing = [...counts.values()].filter((n) => n < 0).reduce((sum, n) => sum - n, 0);
      const duplicates = [...counts.values()].filter((n) => n > 0).reduce((sum, n) => sum + n, 0);
      const seqs = got.filter((g) => g.stream === stream).map((g) => g.seq);
      const ordered = seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!);
      report.push(`${stream}: ${expected[stream].length} sent, ${missing} lost, ${duplicates} duplicated, sequence order ${ordered ? "kept" : "BROKEN"}, ${mine.filter((g) => g.on === "B").length} after the failover`);
      expect({ stream, missing, duplicates, ordered }).toEqual({ stream, missing: 0, duplicates: 0, ordered: true });
      // Guild and user events here come from one caller awaiting each change: their order is the call order.
      if (stream !== "channel") expect(mine.map((g) => g.key), stream).toEqual(expected[stream]);
    }
    // The channel carries only these messages: its sequence numbers are consecutive across the failover.
    const channelSeqs = got.filter((g) => g.stream === "channel").map((g) => g.seq);
    expect(channelSeqs.every((seq, i) => i === 0 || seq === channelSeqs[i - 1]! + 1), `consecutive: ${channelSeqs.join(",")}`).toBe(true);
    log(`failover: D SIGKILLed after ${got.filter((g) => g.on === "D").length} events; first replayed event on B ${firstOnB ? firstOnB.at - killedAt : "?"} ms after the kill; ${report.join("; ")}`);
    await onB.dispose();
  }, 60_000);

  it("SIGTERM stops every instance gracefully (exit 0 within 10 s), live sockets open", async () => {
    const results = await Promise.all(procs.map((p) => p.stop(10_000)));
    log(`SIGTERM: ${procs.map((p, i) => `${p.name} exit ${results[i]!.code ?? results[i]!.signal} in ${results[i]!.ms} ms`).join(", ")}`);
    procs.forEach((p, i) => {
      expect({ name: p.name, code: results[i]!.code, killed: results[i]!.killed }, withLogs(`${p.name} did not shut down cleanly`)).toEqual({ name: p.name, code: 0, killed: false });
      expect(results[i]!.ms).toBeLessThan(10_000);
      // Errors are expected while Redis was down; after recovery (and during shutdown) none.
      expect(p.logs.slice(logMarks.get(p)?.recovered ?? 0).filter((l) => l.includes('"level":"error"')), `${p.name} logged errors after recovery`).toEqual([]);
    });
  }, 30_000);
});
