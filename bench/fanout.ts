/**
 * S1 fan-out: how fast one channel message reaches N subscribers, on Concord and on a bare `ws`
 * server that only writes the same bytes (the physical limit of this machine).
 *
 *   npx tsx bench/fanout.ts --subscribers 1000,10000 --messages 20 [--server-dir DIR] [--label before|after]
 *
 * Per N:
 *   1. Concord (a child process started from --server-dir, `node --import tsx src/main.ts`) on a
 *      scratch Postgres database (CREATE DATABASE concord_bench_<rand>, dropped at the end), one
 *      instance, no Redis. An owner registers and creates a guild through the API; N bot users,
 *      their sessions and memberships are inserted in SQL.
 *   2. N graphql-ws sockets (bench/lib/ws-load.ts), each subscribed to channelEvents of the
 *      guild's `general` channel. Warm-up messages (sendMessage over HTTP, owner token) are sent
 *      until every socket has received one (subscriptions register asynchronously), then one
 *      more that every socket must receive.
 *   3. K messages, one at a time: content "bench:<seq>:<padding>" (100 characters), sent with
 *      sendMessage over HTTP; the next one is sent when every subscribed socket received this one
 *      (or after --message-timeout-s: the sockets that did not get it count as lost).
 *      Per delivery: receipt time − time the sendMessage request started. Per message: the time
 *      until the LAST socket got it (broadcast time).
 *   4. The same N clients (new connections) against bench/lib/plain-broadcast-server.ts (its own
 *      process): K broadcasts of the exact text of a Concord `next` frame captured in step 3, with
 *      the marker changed (same size and shape), started by POST /broadcast.
 * Server CPU time (utime + stime from /proc/<pid>/stat) is sampled before and after the K
 * messages on both servers. Writes bench/results/fanout-<label>-<timestamp>.json and prints a
 * Markdown row per N. Exit code: 0 complete, 1 error, 2 stopped by --timeout-s or Ctrl-C, or
 * messages were lost. See bench/README.md.
 */
import path from "node:path";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import {
  BENCH_REPO,
  ClientWindow,
  CpuWindow,
  createScratchDatabase,
  fdLimits,
  gitFacts,
  interruption,
  intListOption,
  intOption,
  loadavg,
  log,
  machineFacts,
  machineLine,
  procStatusKb,
  round,
  seedGuild,
  sleep,
  startConcord,
  startPlainServer,
  thousands,
  type ConcordProcess,
  type PlainServer,
  type ScratchDatabase,
  commonOptions,
  runMain,
  writeReport,
} from "./lib/harness.js";
import { LatencyHistogram, type LatencySummary } from "./lib/histogram.js";
import { defaultAddressCount, ReceiptTable, WsLoad, type ConnectReport, type WsLoadStats } from "./lib/ws-load.js";

// ------------------------------------------------------------------ options

const { values: argv } = parseArgs({
  options: {
    ...commonOptions(600),
    subscribers: { type: "string", default: "1000,10000" },
    messages: { type: "string", default: "20" },
    "message-timeout-s": { type: "string", default: "30" },
    "gap-ms": { type: "string", default: "100" },
    concurrency: { type: "string", default: "200" },
    addresses: { type: "string", default: "auto" },
    "content-chars": { type: "string", default: "100" },
    "skip-plain": { type: "boolean", default: false },
    fault: { type: "string", default: "none" },
    "ignore-fd-limit": { type: "boolean", default: false },
    governed: { type: "string", default: "0" },
    members: { type: "string", default: "0" },
    instances: { type: "string", default: "1" },
    redis: { type: "string", default: process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379" },
  },
  strict: true,
});

if (argv.help) {
  console.log(`usage: npx tsx bench/fanout.ts [--subscribers 1000,10000] [--messages 20] [--server-dir DIR] [--label dev]
  [--timeout-s 600 (whole run)] [--message-timeout-s 30] [--gap-ms 100] [--concurrency 200 (handshakes in flight)]
  [--addresses auto|K (source addresses 127.0.0.x per phase)] [--content-chars 100] [--skip-plain] [--fault none|lost] [--ignore-fd-limit]
  [--governed R (R roles, every subscriber holds them all, the channel private to one of them)]
  [--members M (guild members, M >= N; the first N connect)] [--instances 1|2 (2: A and B on --redis, sockets alternate)] [--redis URL]
  [--pg-url URL] [--out DIR]`);
  process.exit(0);
}

const SUBSCRIBERS = intListOption("subscribers", argv.subscribers, 1, 1_000_000);
const K = intOption("messages", argv.messages, 1, 10_000);
const SERVER_DIR = path.resolve(argv["server-dir"]);
const LABEL = argv.label.replace(/[^\w.-]/g, "_");
const TIMEOUT_MS = intOption("timeout-s", argv["timeout-s"], 1, 86_400) * 1000;
const MESSAGE_TIMEOUT_MS = intOption("message-timeout-s", argv["message-timeout-s"], 1, 3_600) * 1000;
const GAP_MS = intOption("gap-ms", argv["gap-ms"], 0, 60_000);
const CONCURRENCY = intOption("concurrency", argv.concurrency, 1, 10_000);
const ADDRESSES = argv.addresses === "auto" ? null : intOption("addresses", argv.addresses, 1, 100);
const CONTENT_CHARS = intOption("content-chars", argv["content-chars"], 20, 2_000);
/** Roles in the guild (0: none): every subscriber holds them all, and the channel is private to one of them. */
const GOVERNED_ROLES = intOption("governed", argv.governed, 0, 250);
/** Members of the guild (0: as many as subscribers): a big guild of which only N are connected. */
const MEMBERS = intOption("members", argv.members, 0, 2_000_000);
/** Concord instances: 2 puts A and B on one Redis, socket i on instance i mod 2, messages sent through A. */
const INSTANCES = intOption("instances", argv.instances, 1, 2);
/** Checks the checker: with "lost", the client ignores socket 0's receipt of the 2nd measured message, which must then be reported lost (after --message-timeout-s). */
const FAULT = argv.fault;
if (FAULT !== "none" && FAULT !== "lost") {
  console.error(`--fault: expected none or lost, got ${JSON.stringify(FAULT)}`);
  process.exit(1);
}

/** Seq numbers 0 .. WARMUP_SLOTS-1 are warm-up messages; measured message k (0-based) is WARMUP_SLOTS + k. */
const WARMUP_SLOTS = 40;
/** File descriptors a process needs beyond one per socket (Postgres pool, stdio, libuv, ...). */
const FD_MARGIN = 300;
const SLOTS = WARMUP_SLOTS + K;
const FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore ";
/** Message content: "bench:<seq>:" then filler, exactly CONTENT_CHARS characters. */
const contentOf = (seq: number) => {
  let s = `bench:${seq}:`;
  while (s.length < CONTENT_CHARS) s += FILLER;
  s = s.slice(0, CONTENT_CHARS);
  // Concord trims content: never end with a space, or the stored text would be shorter.
  return s.endsWith(" ") ? `${s.slice(0, -1)}.` : s;
};

const SUBSCRIPTION = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageCreated { message { id content createdAt author { id username } } } } }`;
const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;

const runStarted = performance.now();
const deadline = runStarted + TIMEOUT_MS;
let stoppedBy: "timeout" | "interrupted" | undefined;
const stop = () => {
  if (stoppedBy) return true;
  if (interruption.interrupted) stoppedBy = "interrupted";
  else if (performance.now() > deadline) stoppedBy = "timeout";
  return stoppedBy !== undefined;
};

// ------------------------------------------------------------------ one phase (Concord or plain)

interface MessageRow {
  seq: number;
  /** Sockets expected to get it (subscribed and open when it was sent). */
  expected: number;
  received: number;
  /** Last receipt − send start (ms); of the sockets that got it. */
  broadcastMs: number;
  /** First receipt − send start (ms). */
  firstMs: number;
  /** Concord: sendMessage response time; plain: the server's send loop duration. */
  serverMs: number;
  outcome: "complete" | "timeout" | "stopped" | "send failed";
  error?: string;
}

interface PhaseResult {
  server: "concord" | "plain";
  connect?: ConnectReport;
  /** Server CPU while the N sockets connected and subscribed (warm-up included). */
  connectServerCpu?: ReturnType<CpuWindow["take"]>;
  subscribe?: { warmups: number; ms: number; subscribed: number; notSubscribed: number };
  messages: MessageRow[];
  /** Per delivery: receipt − send start, over all measured messages. */
  latencyMs?: LatencySummary;
  broadcastMs?: { median: number; p99: number; max: number; mean: number };
  /** N*K / sum of broadcast times (deliveries actually made / seconds). */
  deliveriesPerSecond?: number;
  lostDeliveries: number;
  lostMessages: number;
  frameBytes?: number;
  serverCpu?: { cpuMs: number; wallMs: number; cores: number; usPerDelivery: number };
  serverRssKb?: { idle: number; connected: number; afterMessages: number };
  client?: ReturnType<ClientWindow["take"]>;
  clientRssKb?: number;
  stats?: WsLoadStats;
  receiptDuplicates?: number;
  serverLogLevels?: Record<string, number>;
  serverLogTail?: string[];
  stopMs?: number;
}

interface RunResult {
  subscribers: number;
  messages: number;
  status: "complete" | "lost" | "skipped" | "timeout" | "interrupted" | "failed";
  reason?: string;
  error?: string;
  startedAt: string;
  finishedAt?: string;
  database?: string;
  seedMs?: number;
  /** What `--governed` made (roles, overwrites), or why it made nothing. */
  governed?: Record<string, unknown>;
  concord?: PhaseResult;
  plain?: PhaseResult;
  /** Concord / plain: median broadcast time, p99 broadcast time, throughput. */
  ratios?: { broadcastMedian: number; broadcastP99: number; throughput: number };
  loadavg: { start: [number, number, number]; end?: [number, number, number] };
}

/** Nearest-rank percentile of a small sample. */
function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Sends the K measured messages one at a time through `send` (which starts the send and resolves
 * with the server-side time when done) and measures deliveries into `table`.
 */
async function measure(
  phase: PhaseResult,
  n: number,
  load: WsLoad,
  table: ReceiptTable,
  subscribed: Uint8Array,
  send: (seq: number) => Promise<number>,
): Promise<void> {
  const hist = new LatencyHistogram();
  const broadcastTimes: number[] = [];
  let deliveries = 0;
  let sumBroadcastMs = 0;
  for (let k = 0; k < K && !stop(); k++) {
    const seq = WARMUP_SLOTS + k;
    const audience: number[] = [];
    for (let i = 0; i < n; i++) if (subscribed[i] && load.isOpen(i)) audience.push(i);
    const target = () => {
      let t = 0;
      for (const i of audience) if (load.isOpen(i) || table.time(i, seq) === table.time(i, seq)) t++;
      return t;
    };
    const t0 = performance.now();
    let sendError: string | undefined;
    const sending = send(seq).catch((error: unknown) => {
      sendError = String((error as Error)?.message ?? error).slice(0, 300);
      return NaN;
    });
    let outcome: MessageRow["outcome"] = await table.waitFor(seq, target, MESSAGE_TIMEOUT_MS, () => stop() || sendError !== undefined);
    const serverMs = await sending;
    if (sendError !== undefined) outcome = "send failed";
    let received = 0;
    let last = -Infinity;
    let first = Infinity;
    for (const i of audience) {
      const at = table.time(i, seq);
      if (at !== at) continue;
      received++;
      const ms = at - t0;
      hist.recordMs(Math.max(0, ms));
      if (ms > last) last = ms;
      if (ms < first) first = ms;
    }
    const row: MessageRow = {
      seq,
      expected: audience.length,
      received,
      broadcastMs: received > 0 ? round(last, 3) : NaN,
      firstMs: received > 0 ? round(first, 3) : NaN,
      serverMs: round(serverMs, 3),
      outcome,
      ...(sendError ? { error: sendError } : {}),
    };
    phase.messages.push(row);
    phase.lostDeliveries += audience.length - received;
    if (received < audience.length) phase.lostMessages++;
    if (received > 0) {
      broadcastTimes.push(last);
      sumBroadcastMs += last;
      deliveries += received;
    }
    if (outcome !== "complete") log(`${phase.server}: message ${k + 1}/${K}: ${outcome}, ${received}/${audience.length} sockets${sendError ? ` (${sendError})` : ""}`);
    if (outcome === "stopped") break;
    if (GAP_MS > 0) await sleep(GAP_MS);
  }
  phase.latencyMs = hist.summary();
  hist.destroy();
  if (broadcastTimes.length > 0) {
    phase.broadcastMs = {
      median: round(percentile(broadcastTimes, 50), 3),
      p99: round(percentile(broadcastTimes, 99), 3),
      max: round(Math.max(...broadcastTimes), 3),
      mean: round(sumBroadcastMs / broadcastTimes.length, 3),
    };
    phase.deliveriesPerSecond = Math.round(deliveries / (sumBroadcastMs / 1000));
  }
}

/** CPU of several processes together (the instances of one run). */
class GroupWindow {
  private readonly windows: CpuWindow[];
  constructor(pids: number[]) {
    this.windows = pids.map((pid) => new CpuWindow(pid));
  }
  start(): void {
    for (const w of this.windows) w.start();
  }
  take(): { cpuMs: number; wallMs: number; cores: number } {
    const all = this.windows.map((w) => w.take());
    const cpuMs = all.reduce((a, w) => a + w.cpuMs, 0);
    const wallMs = Math.max(...all.map((w) => w.wallMs));
    return { cpuMs, wallMs, cores: round(cpuMs / Math.max(1, wallMs), 2) };
  }
}

function newPhase(server: "concord" | "plain"): PhaseResult {
  return { server, messages: [], lostDeliveries: 0, lostMessages: 0 };
}

/** Opens the N sockets of one phase; `subscribed[i]` is set by the caller's receipt hook. */
function makeLoad(url: string, n: number, mode: "graphql-ws" | "raw", table: ReceiptTable, subscribed: Uint8Array, addressOffset: number, tokens?: string[], channelId?: string, urlOf?: (i: number) => string) {
  let subscribedCount = 0;
  const load = new WsLoad({
    url,
    ...(urlOf ? { urlOf } : {}),
    count: n,
    mode,
    ...(mode === "graphql-ws" ? { token: (i: number) => tokens![i]!, subscription: { query: SUBSCRIPTION, variables: () => ({ c: channelId }) } } : {}),
    addresses: ADDRESSES ?? defaultAddressCount(n),
    addressOffset,
    concurrency: CONCURRENCY,
    onReceipt: (i, seq, at) => {
      if (seq < WARMUP_SLOTS && subscribed[i] === 0) {
        subscribed[i] = 1;
        subscribedCount++;
      }
      if (FAULT === "lost" && i === 0 && seq === WARMUP_SLOTS + Math.min(1, K - 1)) return;
      table.record(i, seq, at);
    },
    shouldStop: stop,
    onProgress: (p) => log(`  connecting: ${p.started}/${n} started, ${p.ready} ready, ${p.failed} failed`),
  });
  return { load, subscribedCount: () => subscribedCount };
}

/**
 * Warm-up: sends warm-up messages (seq 0, 1, ...) until every open socket received one, then one
 * last warm-up every subscribed socket must get (a clean start for the measured messages).
 */
async function warmUp(phase: PhaseResult, n: number, load: WsLoad, table: ReceiptTable, subscribed: Uint8Array, subscribedCount: () => number, send: (seq: number) => Promise<unknown>): Promise<void> {
  const started = performance.now();
  let seq = 0;
  const allSubscribed = () => subscribedCount() >= load.openNow && load.openNow > 0;
  const limitMs = Math.max(30_000, Math.min(300_000, n * 5));
  while (seq < WARMUP_SLOTS - 1 && !stop()) {
    const sent = performance.now();
    await send(seq++);
    // A round: wait up to 2 s (+1 ms per 100 sockets) for everybody, then send another.
    const roundMs = 2_000 + n / 100;
    while (!allSubscribed() && performance.now() - sent < roundMs && !stop()) await sleep(25);
    if (allSubscribed() || performance.now() - started > limitMs) break;
  }
  if (!stop()) {
    // Every subscribed socket must receive this one.
    const last = seq++;
    const audience: number[] = [];
    for (let i = 0; i < n; i++) if (subscribed[i]) audience.push(i);
    await send(last);
    await table.waitFor(last, () => audience.filter((i) => load.isOpen(i)).length, MESSAGE_TIMEOUT_MS, stop);
  }
  let ok = 0;
  for (let i = 0; i < n; i++) if (subscribed[i] && load.isOpen(i)) ok++;
  phase.subscribe = { warmups: seq, ms: Math.round(performance.now() - started), subscribed: ok, notSubscribed: load.openNow - ok };
  log(`${phase.server}: ${ok}/${n} sockets subscribed after ${seq} warm-up messages (${(phase.subscribe.ms / 1000).toFixed(1)} s)`);
}

// ------------------------------------------------------------------ one N

let addressOffset = 0;
/** Each phase gets its own source addresses, so a port left in TIME_WAIT by one phase never collides with the next. */
function nextAddressOffset(n: number): number {
  const offset = addressOffset;
  addressOffset += ADDRESSES ?? defaultAddressCount(n);
  return offset;
}

/** A synthesized Concord-shaped frame (only if no real one could be captured). */
function synthesizedFrame(seq: number): string {
  return JSON.stringify({
    id: "1",
    type: "next",
    payload: { data: { channelEvents: { __typename: "MessageCreated", message: { id: "123456789012345678", content: contentOf(seq), createdAt: new Date().toISOString(), author: { id: "123456789012345678", username: "bench_owner" } } } } },
  });
}

/**
 * Makes the guild governed (issue #10's S1 condition): `roles` roles, all held by every seeded
 * member, a channel overwrite per role, and the channel private (@everyone denied VIEW_CHANNEL,
 * the first role allowed): every subscriber's access then goes through roles and overwrites.
 * Roles and overwrites through the API (so every instance hears the change, as in production);
 * the n × roles member grants in one SQL statement per role. Returns what was made, or a note
 * on a checkout that has no roles.
 */
async function governGuild(concord: ConcordProcess, databaseUrl: string, fixture: { guildId: string; ownerToken: string }, channelId: string, roles: number): Promise<Record<string, unknown>> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const hasRoles = (await db.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'member_roles'`)).rowCount === 1;
    if (!hasRoles) return { roles: 0, note: "this checkout has no roles: the guild stays ungoverned" };
    const { guildId, ownerToken } = fixture;
    const roleIds: string[] = [];
    for (let i = 0; i < roles; i++) {
      // VIEW_AUDIT_LOG is not in @everyone's defaults: a member who has it got it from these roles.
      const made = await concord.gql<{ createRole: { id: string } }>(`mutation($g: ID!, $n: String!) { createRole(input: { guildId: $g, name: $n, permissions: [VIEW_AUDIT_LOG] }) { id } }`, { g: guildId, n: `role-${i}` }, ownerToken);
      roleIds.push(made.createRole.id);
    }
    for (const id of roleIds) {
      await db.query(`INSERT INTO member_roles (guild_id, user_id, role_id) SELECT guild_id, user_id, $2 FROM members WHERE guild_id = $1 AND user_id <> (SELECT owner_id FROM guilds WHERE id = $1)`, [guildId, id]);
    }
    const overwrite = `mutation($c: ID!, $t: ID!, $a: [Permission!]!, $d: [Permission!]!) { setPermissionOverwrite(input: { channelId: $c, targetKind: ROLE, targetId: $t, allow: $a, deny: $d }) { targetId } }`;
    for (const [i, id] of roleIds.entries()) await concord.gql(overwrite, { c: channelId, t: id, a: i === 0 ? ["VIEW_CHANNEL"] : ["SEND_MESSAGES"], d: [] }, ownerToken);
    await concord.gql(overwrite, { c: channelId, t: guildId, a: [], d: ["VIEW_CHANNEL"] }, ownerToken);
    return { roles, memberRoles: roles, overwrites: roles + 1, privateChannel: true };
  } finally {
    await db.end();
  }
}

async function runConcordPhase(run: RunResult, n: number): Promise<string | undefined> {
  const phase = (run.concord = newPhase("concord"));
  let db: ScratchDatabase | undefined;
  let concord: ConcordProcess | undefined;
  let second: ConcordProcess | undefined;
  const prefix = `concord_bench_${randomBytes(5).toString("hex")}:`;
  let load: WsLoad | undefined;
  let sample: string | undefined;
  try {
    db = await createScratchDatabase(argv["pg-url"]);
    run.database = db.name;
    log(`concord: database ${db.name}; starting Concord from ${SERVER_DIR}${INSTANCES === 2 ? ` twice (A and B, Redis prefix ${prefix})` : ""}`);
    const env = { DATABASE_URL: db.url, LOG_LEVEL: "warn", PASSWORD_HASH_COST: "10", SUBSCRIPTION_BUFFER_SIZE: "10000", ...(INSTANCES === 2 ? { REDIS_URL: argv.redis, REDIS_KEY_PREFIX: prefix } : {}) };
    concord = await startConcord(SERVER_DIR, INSTANCES === 2 ? { ...env, WORKER_ID: "1" } : env);
    if (INSTANCES === 2) second = await startConcord(SERVER_DIR, { ...env, WORKER_ID: "2" });
    const members = Math.max(n, MEMBERS);
    log(`concord: pid ${concord.pid}, port ${concord.port}${second ? `; B pid ${second.pid}` : ""}; seeding ${members} users`);
    const fixture = await seedGuild(concord, db.url, members);
    run.seedMs = fixture.seedMs;
    const channelId = fixture.channelIds[0]!;
    if (GOVERNED_ROLES > 0) {
      run.governed = await governGuild(concord, db.url, fixture, channelId, GOVERNED_ROLES);
      // The server must see the roles (no access cached from before the SQL): ask as a member.
      if (run.governed.roles === 0) log(`concord: ${String(run.governed.note)}`);
      const seen = run.governed.roles === 0 ? undefined : await concord.gql<{ channel: { myPermissions: string[] } | null }>(`query($c: ID!) { channel(id: $c) { myPermissions } }`, { c: channelId }, fixture.tokens[0]!);
      if (seen && !seen.channel?.myPermissions.includes("VIEW_AUDIT_LOG")) throw new Error(`governed guild not in effect: ${JSON.stringify(seen)}`);
    }
    const c = concord;
    const sendMessage = async (seq: number) => {
      const t0 = performance.now();
      await c.gql(SEND, { c: channelId, t: contentOf(seq) }, fixture.ownerToken);
      return performance.now() - t0;
    };
    const rssIdle = procStatusKb(concord.pid, "VmRSS");

    const table = new ReceiptTable(n, SLOTS);
    const subscribed = new Uint8Array(n);
    const b = second;
    const made = makeLoad(concord.wsUrl, n, "graphql-ws", table, subscribed, nextAddressOffset(n), fixture.tokens, channelId, b ? (i) => (i % 2 === 0 ? c.wsUrl : b.wsUrl) : undefined);
    load = made.load;
    log(`concord: opening ${n} sockets (${CONCURRENCY} handshakes in flight)`);
    const connectCpu = new GroupWindow([concord.pid, ...(b ? [b.pid] : [])]);
    connectCpu.start();
    phase.connect = await load.connectAll();
    log(`concord: ${phase.connect.ready}/${n} ready in ${(phase.connect.ms / 1000).toFixed(1)} s${phase.connect.failed ? `, ${phase.connect.failed} failed ${JSON.stringify(phase.connect.failures)}` : ""}`);
    if (phase.connect.ready === 0) throw new Error(`no socket connected: ${JSON.stringify(phase.connect.failures)}`);
    await warmUp(phase, n, load, table, subscribed, made.subscribedCount, sendMessage);
    phase.connectServerCpu = connectCpu.take();
    const rssConnected = procStatusKb(concord.pid, "VmRSS");

    await sleep(500);
    const cpu = new GroupWindow([concord.pid, ...(b ? [b.pid] : [])]);
    const client = new ClientWindow();
    cpu.start();
    client.start();
    if (!stop()) log(`concord: ${K} messages`);
    await measure(phase, n, load, table, subscribed, sendMessage);
    const used = cpu.take();
    phase.client = client.take();
    const delivered = phase.messages.reduce((a, m) => a + m.received, 0);
    phase.serverCpu = { ...used, usPerDelivery: delivered > 0 ? round((used.cpuMs * 1000) / delivered, 2) : NaN };
    phase.serverRssKb = { idle: rssIdle, connected: rssConnected, afterMessages: procStatusKb(concord.pid, "VmRSS") };
    phase.clientRssKb = procStatusKb("self", "VmRSS");
    phase.receiptDuplicates = table.duplicates;
    sample = load.sample();
    phase.frameBytes = sample === undefined ? undefined : Buffer.byteLength(sample);
  } finally {
    if (load) {
      phase.stats = load.stats;
      load.expectClose();
    }
    if (second) await second.stop(15_000);
    if (concord) {
      const stopped = await concord.stop(15_000);
      phase.stopMs = stopped.ms;
      const out = concord.output();
      phase.serverLogLevels = out.levels;
      phase.serverLogTail = out.tail.filter((l) => !l.includes('"level":"info"')).slice(-10);
    }
    await load?.closeAll(5_000);
    if (db) await db.drop().catch((error: unknown) => log(`concord: could not drop ${db!.name}: ${String(error)}`));
    if (INSTANCES === 2) spawnSync("sh", ["-c", `redis-cli -u "$1" --scan --pattern "$2*" | xargs -r redis-cli -u "$1" unlink`, "sh", argv.redis, prefix], { stdio: "ignore", timeout: 10_000 });
  }
  return sample;
}

async function runPlainPhase(run: RunResult, n: number, sample: string | undefined): Promise<void> {
  const phase = (run.plain = newPhase("plain"));
  const lastSeq = WARMUP_SLOTS + K - 1;
  let template: (seq: number) => string;
  if (sample !== undefined && sample.includes(contentOf(lastSeq))) {
    template = (seq) => sample.replace(contentOf(lastSeq), contentOf(seq));
  } else {
    log(`plain: no Concord frame captured; using a synthesized frame of the same shape`);
    template = synthesizedFrame;
  }
  phase.frameBytes = Buffer.byteLength(template(lastSeq));
  let server: PlainServer | undefined;
  let load: WsLoad | undefined;
  try {
    server = await startPlainServer();
    const s = server;
    log(`plain: pid ${server.pid}, port ${server.port}`);
    const rssIdle = procStatusKb(server.pid, "VmRSS");
    const table = new ReceiptTable(n, SLOTS);
    const subscribed = new Uint8Array(n);
    const made = makeLoad(server.wsUrl, n, "raw", table, subscribed, nextAddressOffset(n));
    load = made.load;
    const connectCpu = new CpuWindow(server.pid);
    connectCpu.start();
    phase.connect = await load.connectAll();
    log(`plain: ${phase.connect.ready}/${n} ready in ${(phase.connect.ms / 1000).toFixed(1)} s${phase.connect.failed ? `, ${phase.connect.failed} failed ${JSON.stringify(phase.connect.failures)}` : ""}`);
    if (phase.connect.ready === 0) throw new Error(`no socket connected: ${JSON.stringify(phase.connect.failures)}`);
    const broadcast = async (seq: number) => (await s.broadcast(template(seq))).loopMs;
    await warmUp(phase, n, load, table, subscribed, made.subscribedCount, broadcast);
    phase.connectServerCpu = connectCpu.take();
    const rssConnected = procStatusKb(server.pid, "VmRSS");
    await sleep(500);
    const cpu = new CpuWindow(server.pid);
    const client = new ClientWindow();
    cpu.start();
    client.start();
    if (!stop()) log(`plain: ${K} broadcasts`);
    await measure(phase, n, load, table, subscribed, broadcast);
    const used = cpu.take();
    phase.client = client.take();
    const delivered = phase.messages.reduce((a, m) => a + m.received, 0);
    phase.serverCpu = { ...used, usPerDelivery: delivered > 0 ? round((used.cpuMs * 1000) / delivered, 2) : NaN };
    phase.serverRssKb = { idle: rssIdle, connected: rssConnected, afterMessages: procStatusKb(server.pid, "VmRSS") };
    phase.clientRssKb = procStatusKb("self", "VmRSS");
    phase.receiptDuplicates = table.duplicates;
  } finally {
    if (load) {
      phase.stats = load.stats;
      load.expectClose();
    }
    if (server) phase.stopMs = (await server.stop(5_000)).ms;
    await load?.closeAll(5_000);
  }
}

async function runN(n: number): Promise<RunResult> {
  const run: RunResult = { subscribers: n, messages: K, status: "complete", startedAt: new Date().toISOString(), loadavg: { start: loadavg() } };
  const limits = fdLimits();
  if (n + FD_MARGIN > limits.soft && !argv["ignore-fd-limit"]) {
    run.status = "skipped";
    run.reason = `open-file limit ${limits.soft} (hard ${limits.hard}) < ${n} + ${FD_MARGIN}: this process and each server need one descriptor per socket; raise \`ulimit -n\` (needs a hard limit that allows it) or pass --ignore-fd-limit to see where it breaks`;
    log(`N = ${n}: skipped: ${run.reason}`);
    run.finishedAt = run.startedAt;
    return run;
  }
  log(`=== N = ${n} subscribers, ${K} messages (load average ${loadavg().join(" ")})`);
  try {
    const sample = await runConcordPhase(run, n);
    if (!argv["skip-plain"] && !stop()) await runPlainPhase(run, n, sample);
    const c = run.concord?.broadcastMs;
    const p = run.plain?.broadcastMs;
    if (c && p && run.concord?.deliveriesPerSecond && run.plain?.deliveriesPerSecond) {
      run.ratios = {
        broadcastMedian: round(c.median / p.median, 2),
        broadcastP99: round(c.p99 / p.p99, 2),
        throughput: round(run.concord.deliveriesPerSecond / run.plain.deliveriesPerSecond, 3),
      };
    }
    if (stoppedBy) run.status = stoppedBy;
    else if ((run.concord?.messages.length ?? 0) < K || (!argv["skip-plain"] && (run.plain?.messages.length ?? 0) < K)) run.status = "failed";
    else if ((run.concord?.lostDeliveries ?? 0) + (run.plain?.lostDeliveries ?? 0) > 0) run.status = "lost";
  } catch (error) {
    run.status = stoppedBy ?? "failed";
    run.error = String((error as Error)?.stack ?? error);
    log(`N = ${n}: ${run.error}`);
  }
  run.finishedAt = new Date().toISOString();
  run.loadavg.end = loadavg();
  return run;
}

// ------------------------------------------------------------------ report

const f = (v: number | undefined, digits = 1) => (v === undefined || Number.isNaN(v) ? "–" : v >= 100 ? v.toFixed(0) : v.toFixed(digits));
const TABLE_HEADER =
  "| label | N | K | Concord delivery p50 / p99 / max ms | Concord broadcast median / p99 ms | Concord deliveries/s | sendMessage answer p50 / max ms | plain delivery p50 / p99 / max ms | plain broadcast median / p99 ms | plain deliveries/s | Concord/plain broadcast (median) | Concord/plain throughput | server CPU µs/delivery (Concord / plain) | lost deliveries (Concord / plain) | machine | status |\n" +
  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";

function tableRow(r: RunResult, machine: string): string {
  const c = r.concord;
  const p = r.plain;
  const lat = (x?: PhaseResult) => (x?.latencyMs && x.latencyMs.count > 0 ? `${f(x.latencyMs.p50)} / ${f(x.latencyMs.p99)} / ${f(x.latencyMs.max)}` : "–");
  const bc = (x?: PhaseResult) => (x?.broadcastMs ? `${f(x.broadcastMs.median)} / ${f(x.broadcastMs.p99)}` : "–");
  const tp = (x?: PhaseResult) => (x?.deliveriesPerSecond ? thousands(x.deliveriesPerSecond) : "–");
  const ratio = r.ratios ? `${r.ratios.broadcastMedian.toFixed(2)}x` : "–";
  const tratio = r.ratios ? `${r.ratios.throughput.toFixed(3)}` : "–";
  const cpu = `${f(c?.serverCpu?.usPerDelivery, 2)} / ${f(p?.serverCpu?.usPerDelivery, 2)}`;
  // How long the author waited for their own sendMessage answer: flat in N when the answer does not wait for the fan-out.
  const answers = (c?.messages ?? []).map((m) => m.serverMs).filter((v) => v === v);
  const answer = answers.length > 0 ? `${f(percentile(answers, 50))} / ${f(Math.max(...answers))}` : "–";
  if (r.status === "skipped") return `| ${LABEL} | ${thousands(r.subscribers)} | ${r.messages} | – | – | – | – | – | – | – | – | – | – | – | ${machine} | skipped (fd limit) |`;
  return `| ${LABEL} | ${thousands(r.subscribers)} | ${r.messages} | ${lat(c)} | ${bc(c)} | ${tp(c)} | ${answer} | ${lat(p)} | ${bc(p)} | ${tp(p)} | ${ratio} | ${tratio} | ${cpu} | ${c?.lostDeliveries ?? "–"} / ${p?.lostDeliveries ?? "–"} | ${machine} | ${r.status} |`;
}

async function main(): Promise<number> {
  const machine = machineFacts();
  const server = gitFacts(SERVER_DIR);
  log(`fan-out S1: subscribers ${SUBSCRIBERS.join(", ")}, ${K} messages, open-file limit ${JSON.stringify(machine.fdLimit)}, server ${SERVER_DIR} (${server.commit ?? "not git"}${server.dirtySrc ? ", src modified" : ""}), label ${LABEL}, timeout ${TIMEOUT_MS / 1000} s`);
  const results: RunResult[] = [];
  const started = new Date();
  for (const n of SUBSCRIBERS) {
    if (stop()) break;
    results.push(await runN(n));
    await sleep(1_000);
  }
  const report = {
    scenario: "S1 fan-out",
    label: LABEL,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    settings: {
      subscribers: SUBSCRIBERS,
      messages: K,
      contentChars: CONTENT_CHARS,
      fault: FAULT,
      gapMs: GAP_MS,
      messageTimeoutS: MESSAGE_TIMEOUT_MS / 1000,
      timeoutS: TIMEOUT_MS / 1000,
      handshakeConcurrency: CONCURRENCY,
      addresses: ADDRESSES ?? "auto (ceil(N/20000) per phase)",
      members: MEMBERS || "(= subscribers)",
      instances: INSTANCES,
      concordEnv: { LOG_LEVEL: "warn", PASSWORD_HASH_COST: "10", SUBSCRIPTION_BUFFER_SIZE: "10000", REDIS_URL: INSTANCES === 2 ? `${argv.redis} (A and B, WORKER_ID 1 and 2, a fresh prefix)` : "(none: single instance, memory bus)" },
      subscription: SUBSCRIPTION,
    },
    server: { dir: SERVER_DIR, ...server },
    bench: gitFacts(BENCH_REPO),
    machine: { ...machine, loadavgAtEnd: loadavg() },
    stoppedBy,
    runs: results,
  };
  await writeReport(argv.out, "fanout", LABEL, started, report);
  const m = machineLine(machine);
  console.log(`\nS1 fan-out, label ${LABEL}, server ${server.commit ?? SERVER_DIR}${server.dirtySrc ? " (src modified)" : ""}, ${m}, ${K} messages of ${CONTENT_CHARS} chars, one at a time (gap ${GAP_MS} ms), ${INSTANCES === 2 ? "two instances on Redis (sockets alternate, sent through A; CPU of both)" : "single instance, no Redis"}${MEMBERS > 0 ? `, guild of ${thousands(MEMBERS)} members` : ""}`);
  console.log(TABLE_HEADER);
  for (const r of results) console.log(tableRow(r, m));
  if (results.some((r) => r.status === "failed")) return 1;
  if (stoppedBy || results.some((r) => r.status !== "complete")) return 2;
  return 0;
}

runMain(main);
