/**
 * S4 write path: `sendMessage` throughput and latency on each message store, closed loop.
 *
 *   npx tsx bench/write-path.ts --store postgres,cassandra --concurrency 1,16,64 --seconds 15 [--server-dir DIR] [--label dev] [--nonce]
 *
 * Per store (one after the other, never at the same time):
 *   1. A scratch Postgres database (CREATE DATABASE concord_bench_<rand>: metadata, and the
 *      messages too with --store postgres) and, for cassandra, a scratch keyspace
 *      concord_bench_<rand> (SimpleStrategy RF 1, created by Concord's own migrations); both
 *      dropped at the end.
 *   2. Concord from --server-dir (child process, `node --import tsx src/main.ts`), one instance,
 *      no Redis, MESSAGE_STORE=<store>; an owner registers and creates a guild and --channels − 1
 *      more channels through the API; --senders bot users (sessions, memberships) are inserted in
 *      SQL. One server per store, reused for every concurrency level.
 *   3. Per concurrency level C: C closed-loop workers over HTTP keep-alive (node:http Agent,
 *      maxSockets C), worker w sends as sender w mod S, to channel (w + i) mod K for its i-th
 *      message, content of --content-chars characters (with --nonce also a random nonce: on
 *      Cassandra the send then claims it with an LWT). --warmup-s, then --seconds measured: a
 *      request counts when its response arrives inside the window. Latency = request start to
 *      the last byte of the response; an error is any non-200, transport error, timeout or
 *      GraphQL error (counted apart, not in the latency). Server CPU (utime + stime of the Concord
 *      process) and database CPU (all `postgres` processes, or the Cassandra JVM) over the window.
 *   4. After the last level: the messages stored (SQL count / per-partition CQL counts) must be at
 *      least the sends acknowledged.
 * Writes bench/results/write-path-<label>-<timestamp>.json and prints a Markdown row per store ×
 * concurrency. Exit code: 0 complete, 1 error (or fewer messages stored than acknowledged), 2
 * stopped by --timeout-s or Ctrl-C, or some requests failed. See bench/README.md.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pg from "pg";
import {
  BENCH_REPO,
  ClientWindow,
  commonOptions,
  commonSettings,
  CpuWindow,
  createScratchDatabase,
  createScratchKeyspace,
  gitFacts,
  GroupCpuWindow,
  intListOption,
  intOption,
  loadavg,
  log,
  machineFacts,
  machineLine,
  round,
  RunBudget,
  runMain,
  seedGuild,
  sleep,
  startConcord,
  stopAndCollect,
  storeListOption,
  thousands,
  writeReport,
  type ConcordProcess,
  type ScratchDatabase,
  type ScratchKeyspace,
  type Store,
  pgStats,
  PG_STATS,
  type PgStats,
} from "./lib/harness.js";
import { LatencyHistogram, type LatencySummary } from "./lib/histogram.js";
import { postGraphql } from "./lib/http-post.js";

// ------------------------------------------------------------------ options

const { values: argv } = parseArgs({
  options: {
    store: { type: "string", default: "postgres,cassandra" },
    concurrency: { type: "string", default: "1,16,64" },
    seconds: { type: "string", default: "15" },
    "warmup-s": { type: "string", default: "2" },
    channels: { type: "string", default: "16" },
    senders: { type: "string", default: "16" },
    "content-chars": { type: "string", default: "100" },
    nonce: { type: "boolean", default: false },
    "request-timeout-s": { type: "string", default: "30" },
    cassandra: { type: "string", default: process.env.BENCH_CASSANDRA ?? "127.0.0.1:9042" },
    dc: { type: "string", default: process.env.BENCH_CASSANDRA_DC ?? "datacenter1" },
    ...commonOptions(600),
  },
  strict: true,
});

if (argv.help) {
  console.log(`usage: npx tsx bench/write-path.ts [--store postgres,cassandra] [--concurrency 1,16,64] [--seconds 15] [--warmup-s 2]
  [--channels 16] [--senders 16] [--content-chars 100] [--nonce] [--server-dir DIR] [--label dev] [--timeout-s 600 (whole run)]
  [--request-timeout-s 30] [--pg-url URL] [--cassandra host:port] [--dc datacenter1] [--out DIR]`);
  process.exit(0);
}

const STORES = storeListOption("store", argv.store);
const LEVELS = intListOption("concurrency", argv.concurrency, 1, 10_000);
const SECONDS = intOption("seconds", argv.seconds, 1, 3_600);
const WARMUP_MS = intOption("warmup-s", argv["warmup-s"], 0, 600) * 1000;
const CHANNELS = intOption("channels", argv.channels, 1, 1_000);
const SENDERS = intOption("senders", argv.senders, 1, 100_000);
const CONTENT_CHARS = intOption("content-chars", argv["content-chars"], 20, 2_000);
const NONCE = argv.nonce;
const { serverDir: SERVER_DIR, label: LABEL, timeoutMs: TIMEOUT_MS } = commonSettings(argv);
const REQUEST_TIMEOUT_MS = intOption("request-timeout-s", argv["request-timeout-s"], 1, 600) * 1000;

const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;
const SEND_WITH_NONCE = `mutation($c: ID!, $t: String!, $n: String) { sendMessage(input: { channelId: $c, content: $t, nonce: $n }) { id } }`;
const FILLER = " the quick brown fox jumps over the lazy dog and keeps on running past the barn into the field";
/** Concord variables of every run (plus DATABASE_URL, MESSAGE_STORE and, for Cassandra, the keyspace). */
const BASE_ENV = { LOG_LEVEL: "warn", PASSWORD_HASH_COST: "10" };

const budget = new RunBudget(TIMEOUT_MS);
const stop = budget.stop;

// ------------------------------------------------------------------ one request

type Outcome = { error: null } | { error: string; detail: string };

/** One sendMessage over the agent's keep-alive sockets; never throws. */
async function post(agent: http.Agent, port: number, payload: string, token: string, opened: { count: number }): Promise<Outcome> {
  const res = await postGraphql(agent, port, payload, token, REQUEST_TIMEOUT_MS, opened);
  if ("error" in res) return res;
  if (res.status !== 200) return { error: `http ${res.status}`, detail: res.text.slice(0, 300) };
  try {
    const body = JSON.parse(res.text) as { data?: { sendMessage?: { id?: string } | null } | null; errors?: { message: string; extensions?: { code?: string } }[] };
    const first = body.errors?.[0];
    if (first) return { error: `graphql ${first.extensions?.code ?? "error"}`, detail: first.message.slice(0, 300) };
    if (!body.data?.sendMessage?.id) return { error: "no id", detail: res.text.slice(0, 300) };
    return { error: null };
  } catch {
    return { error: "not json", detail: res.text.slice(0, 300) };
  }
}

const content = (w: number, i: number) => {
  const head = `bench:${w}:${i}:`;
  return (head + FILLER.repeat(Math.ceil(CONTENT_CHARS / FILLER.length))).slice(0, CONTENT_CHARS);
};

// ------------------------------------------------------------------ one concurrency level


interface Counts {
  ok: number;
  errors: number;
}

interface LevelResult {
  concurrency: number;
  status: "complete" | "errors" | "timeout" | "interrupted";
  /** The measured window (from the end of the warm-up until the workers were told to stop). */
  windowMs: number;
  ok: number;
  errors: number;
  /** Errors by kind (`http 500`, `graphql INTERNAL_SERVER_ERROR`, `timeout`, `transport ECONNRESET`, ...), whole level. */
  errorKinds: Record<string, number>;
  errorSamples: string[];
  msgPerS: number;
  latencyMs: LatencySummary;
  /** Time until a failed request failed (in the window). */
  errorLatencyMs?: LatencySummary;
  serverCpu: ReturnType<CpuWindow["take"]>;
  serverCpuMsPerMessage: number;
  dbCpu: ReturnType<GroupCpuWindow["take"]>;
  dbCpuMsPerMessage: number;
  client: ReturnType<ClientWindow["take"]>;
  warmup: Counts;
  /** Requests in flight when the window closed, answered afterwards (not measured). */
  drain: Counts & { ms: number };
  /** TCP connections the client opened (keep-alive: C is expected). */
  connectionsOpened: number;
  /**
   * Counters of the scratch database (pg_stat_database, which backends flush about once a second)
   * over the window, and per message measured: with --store postgres every statement Concord ran;
   * with cassandra, its metadata statements only.
   */
  pgStats: { total: PgStats; perMessage: PgStats };
  loadavg: { start: [number, number, number]; end: [number, number, number] };
}

async function runLevel(concord: ConcordProcess, c: number, tokens: string[], channelIds: string[], dbCpu: GroupCpuWindow, stats: { client: pg.Client; database: string }): Promise<LevelResult> {
  const start = loadavg();
  const agent = new http.Agent({ keepAlive: true, maxSockets: c, maxFreeSockets: c });
  const opened = { count: 0 };
  const histogram = new LatencyHistogram();
  const errorHistogram = new LatencyHistogram();
  const warmup: Counts = { ok: 0, errors: 0 };
  const drain: Counts = { ok: 0, errors: 0 };
  const measured: Counts = { ok: 0, errors: 0 };
  const errorKinds: Record<string, number> = {};
  const errorSamples: string[] = [];
  const phase = { windowStart: Infinity, windowEnd: Infinity, stopping: false };
  const query = NONCE ? SEND_WITH_NONCE : SEND;

  const worker = async (w: number) => {
    const token = tokens[w % tokens.length]!;
    for (let i = 0; !phase.stopping; i++) {
      const variables: Record<string, string> = { c: channelIds[(w + i) % channelIds.length]!, t: content(w, i) };
      if (NONCE) variables.n = randomBytes(12).toString("base64url");
      const payload = JSON.stringify({ query, variables });
      const t0 = process.hrtime.bigint();
      const outcome = await post(agent, concord.port, payload, token, opened);
      const ns = process.hrtime.bigint() - t0;
      const now = performance.now();
      const counts = now < phase.windowStart ? warmup : now <= phase.windowEnd ? measured : drain;
      if (outcome.error === null) {
        counts.ok++;
        if (counts === measured) histogram.recordNs(ns);
      } else {
        counts.errors++;
        if (counts === measured) errorHistogram.recordNs(ns);
        errorKinds[outcome.error] = (errorKinds[outcome.error] ?? 0) + 1;
        if (errorSamples.length < 10) errorSamples.push(`${outcome.error}: ${outcome.detail}`);
        // A server that refuses connections outright would otherwise spin this loop.
        if (outcome.error.startsWith("transport")) await sleep(10);
      }
    }
  };

  const serverCpu = new CpuWindow(concord.pid);
  const client = new ClientWindow();
  const workers = Array.from({ length: c }, (_, w) => worker(w));
  const began = performance.now();
  let complete = await budget.waitUntil(began + WARMUP_MS);
  const statsBefore = await pgStats(stats.client, stats.database);
  phase.windowStart = performance.now();
  serverCpu.start();
  dbCpu.start();
  client.start();
  if (complete) complete = await budget.waitUntil(phase.windowStart + SECONDS * 1000);
  phase.windowEnd = performance.now();
  const server = serverCpu.take();
  const db = dbCpu.take();
  const clientWindow = client.take();
  phase.stopping = true;
  const statsAfter = await pgStats(stats.client, stats.database);
  await Promise.all(workers);
  const drainMs = Math.round(performance.now() - phase.windowEnd);
  agent.destroy();

  const windowMs = phase.windowEnd - phase.windowStart;
  const perMessage = (ms: number) => (measured.ok > 0 ? round(ms / measured.ok, 3) : NaN);
  const errorsTotal = warmup.errors + measured.errors + drain.errors;
  return {
    concurrency: c,
    status: !complete ? (budget.stoppedBy ?? "interrupted") : errorsTotal > 0 ? "errors" : "complete",
    windowMs: Math.round(windowMs),
    ok: measured.ok,
    errors: measured.errors,
    errorKinds,
    errorSamples,
    msgPerS: windowMs > 0 ? round((measured.ok * 1000) / windowMs, 1) : 0,
    latencyMs: histogram.summary(),
    ...(errorHistogram.count > 0 ? { errorLatencyMs: errorHistogram.summary() } : {}),
    serverCpu: server,
    serverCpuMsPerMessage: perMessage(server.cpuMs),
    dbCpu: db,
    dbCpuMsPerMessage: perMessage(db.cpuMs),
    client: clientWindow,
    warmup,
    drain: { ...drain, ms: drainMs },
    connectionsOpened: opened.count,
    pgStats: {
      total: Object.fromEntries(PG_STATS.map((k) => [k, statsAfter[k] - statsBefore[k]])) as PgStats,
      perMessage: Object.fromEntries(PG_STATS.map((k) => [k, perMessage(statsAfter[k] - statsBefore[k])])) as PgStats,
    },
    loadavg: { start, end: loadavg() },
  };
}

// ------------------------------------------------------------------ one store

interface StoreResult {
  store: Store;
  status: "complete" | "errors" | "lost" | "timeout" | "interrupted" | "failed";
  error?: string;
  startedAt: string;
  finishedAt?: string;
  database?: string;
  keyspace?: string;
  concordStartMs?: number;
  seedMs?: number;
  /** How the database CPU was measured. */
  dbCpuOf: string;
  levels: LevelResult[];
  /** Sends acknowledged (all levels, warm-up and drain included) and messages found in the store afterwards. */
  stored?: { acknowledged: number; found: number };
  serverLogLevels?: Record<string, number>;
  serverLogTail?: string[];
  stopMs?: number;
}

/** Messages in the store: one SQL count, or one CQL count per (channel, bucket) partition. */
async function countStored(store: Store, db: ScratchDatabase, ks: ScratchKeyspace | undefined, channelIds: string[]): Promise<number> {
  if (store === "postgres") {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      return Number((await client.query<{ n: string }>("SELECT count(*) AS n FROM messages")).rows[0]!.n);
    } finally {
      await client.end();
    }
  }
  let found = 0;
  for (const id of channelIds) {
    if (!/^\d+$/.test(id)) throw new Error(`unexpected channel id ${JSON.stringify(id)}`);
    const buckets = await ks!.client.execute(`SELECT bucket FROM ${ks!.name}.channel_buckets WHERE channel_id = ${id}`);
    for (const row of buckets.rows) {
      const rs = await ks!.client.execute(`SELECT COUNT(*) AS n FROM ${ks!.name}.messages WHERE channel_id = ${id} AND bucket = ${Number(row.get("bucket"))}`);
      found += Number(rs.first()!.get("n"));
    }
  }
  return found;
}

async function runStore(store: Store, ks: ScratchKeyspace | undefined): Promise<StoreResult> {
  const dbCpuOf = store === "postgres" ? "every process named postgres (the whole server: also other databases' backends)" : "the Cassandra JVM (CassandraDaemon)";
  const result: StoreResult = { store, status: "complete", startedAt: new Date().toISOString(), dbCpuOf, levels: [] };
  const dbCpu = new GroupCpuWindow(store === "postgres" ? (comm) => comm === "postgres" : (_comm, cmdline) => cmdline.includes("org.apache.cassandra.service.CassandraDaemon"));
  log(`=== ${store}${NONCE ? " (with nonces)" : ""} (load average ${loadavg().join(" ")})`);
  let db: ScratchDatabase | undefined;
  let concord: ConcordProcess | undefined;
  let statsClient: pg.Client | undefined;
  try {
    db = await createScratchDatabase(argv["pg-url"]);
    result.database = db.name;
    const env: Record<string, string> = { ...BASE_ENV, DATABASE_URL: db.url, MESSAGE_STORE: store };
    if (ks) {
      result.keyspace = ks.name;
      Object.assign(env, { CASSANDRA_CONTACT_POINTS: argv.cassandra, CASSANDRA_LOCAL_DC: argv.dc, CASSANDRA_KEYSPACE: ks.name, CASSANDRA_REPLICATION: "SimpleStrategy:1" });
    }
    const t0 = performance.now();
    concord = await startConcord(SERVER_DIR, env);
    result.concordStartMs = Math.round(performance.now() - t0);
    log(`concord: pid ${concord.pid}, port ${concord.port}, ready in ${result.concordStartMs} ms; creating ${CHANNELS} channels, seeding ${SENDERS} senders`);
    const fixture = await seedGuild(concord, db.url, SENDERS, CHANNELS - 1);
    result.seedMs = fixture.seedMs;
    if (dbCpu.pids().length === 0) log(`warning: no ${store} process found for the database CPU reading`);
    statsClient = new pg.Client({ connectionString: db.url });
    await statsClient.connect();

    for (const c of LEVELS) {
      if (stop()) break;
      log(`${store}: C = ${c}: ${WARMUP_MS / 1000} s warm-up, ${SECONDS} s measured`);
      const level = await runLevel(concord, c, fixture.tokens, fixture.channelIds, dbCpu, { client: statsClient, database: db.name });
      result.levels.push(level);
      const l = level.latencyMs;
      log(`${store}: C = ${c}: ${thousands(level.msgPerS)} msg/s, p50 ${l.p50} / p99 ${l.p99} / p99.9 ${l.p999} / max ${l.max} ms, ${level.errors} errors${Object.keys(level.errorKinds).length ? ` ${JSON.stringify(level.errorKinds)}` : ""}, server ${level.serverCpuMsPerMessage} ms CPU/msg (${level.serverCpu.cores} cores), db ${level.dbCpuMsPerMessage} ms CPU/msg, SQL transactions/msg ${level.pgStats.perMessage.xact_commit}, client ${level.client.cores} cores`);
      if (!concord.running) throw new Error("Concord exited during the run");
      await sleep(1_000);
    }

    const acknowledged = result.levels.reduce((n, l) => n + l.warmup.ok + l.ok + l.drain.ok, 0);
    // Sends still being written when their request failed (timeouts) may appear: found ≥ acknowledged is the check.
    result.stored = { acknowledged, found: await countStored(store, db, ks, fixture.channelIds) };
    log(`${store}: ${thousands(result.stored.found)} messages stored, ${thousands(acknowledged)} sends acknowledged`);
    if (budget.stoppedBy) result.status = budget.stoppedBy;
    else if (result.stored.found < acknowledged) result.status = "lost";
    else if (result.levels.some((l) => l.status === "errors")) result.status = "errors";
  } catch (error) {
    result.status = budget.stoppedBy ?? "failed";
    result.error = String((error as Error)?.stack ?? error);
    log(`${store}: ${result.error}`);
  } finally {
    await statsClient?.end().catch(() => {});
    if (concord) Object.assign(result, await stopAndCollect(concord));
    if (ks) await ks.drop().catch((error: unknown) => log(`could not drop keyspace ${ks.name}: ${String(error)}`));
    if (db) await db.drop().catch((error: unknown) => log(`could not drop ${db!.name}: ${String(error)}`));
  }
  result.finishedAt = new Date().toISOString();
  return result;
}

// ------------------------------------------------------------------ report

async function postgresFacts(): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: argv["pg-url"] });
  await client.connect();
  try {
    const facts: Record<string, string> = {};
    for (const setting of ["server_version", "fsync", "synchronous_commit", "wal_sync_method", "shared_buffers", "max_connections"]) {
      facts[setting] = String((await client.query(`SHOW ${setting}`)).rows[0]?.[setting]);
    }
    return facts;
  } finally {
    await client.end();
  }
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const TABLE_HEADER =
  "| label | store | nonce | C | msg/s | p50 ms | p99 ms | p99.9 ms | max ms | errors | server CPU ms/msg (cores) | DB CPU ms/msg (cores) | client cores | load avg 1m | machine | status |\n" +
  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";

function tableRows(r: StoreResult, machine: string): string[] {
  if (r.levels.length === 0) return [`| ${LABEL} | ${r.store} | ${NONCE ? "yes" : "no"} | – | – | – | – | – | – | – | – | – | – | – | ${machine} | ${r.status} |`];
  return r.levels.map((l) => {
    const lat = l.latencyMs;
    const cpu = (perMsg: number, cores: number) => (Number.isNaN(perMsg) ? "–" : `${perMsg.toFixed(2)} (${cores.toFixed(2)})`);
    const status = r.status === "failed" || r.status === "lost" ? r.status : l.status;
    return `| ${LABEL} | ${r.store} | ${NONCE ? "yes" : "no"} | ${l.concurrency} | ${thousands(l.msgPerS)} | ${ms(lat.p50)} | ${ms(lat.p99)} | ${ms(lat.p999)} | ${ms(lat.max)} | ${l.errors} | ${cpu(l.serverCpuMsPerMessage, l.serverCpu.cores)} | ${cpu(l.dbCpuMsPerMessage, l.dbCpu.cores)} | ${l.client.cores.toFixed(2)} | ${l.loadavg.end[0]} | ${machine} | ${status} |`;
  });
}

async function main(): Promise<number> {
  const machine = machineFacts();
  const server = gitFacts(SERVER_DIR);
  const perLevelS = WARMUP_MS / 1000 + SECONDS + 1;
  const plannedS = STORES.length * (LEVELS.length * perLevelS + 15);
  log(`write path S4: stores ${STORES.join(", ")}, concurrency ${LEVELS.join(", ")}, ${SECONDS} s each after ${WARMUP_MS / 1000} s warm-up, ${CHANNELS} channels, ${SENDERS} senders, ${CONTENT_CHARS}-character messages${NONCE ? ", nonces" : ""}; server ${SERVER_DIR} (${server.commit ?? "not git"}${server.dirtySrc ? ", src modified" : ""}), label ${LABEL}, about ${Math.round(plannedS)} s, timeout ${TIMEOUT_MS / 1000} s`);
  if (plannedS > TIMEOUT_MS / 1000) log(`warning: the plan needs about ${Math.round(plannedS)} s, more than --timeout-s ${TIMEOUT_MS / 1000}: the last levels will be cut`);
  const pgFacts = await postgresFacts();

  // Cassandra first, so that a node that is not running fails the run now, not after the Postgres part.
  let ks: ScratchKeyspace | undefined;
  if (STORES.includes("cassandra")) ks = await createScratchKeyspace(argv.cassandra, argv.dc);

  const started = new Date();
  const results: StoreResult[] = [];
  for (const store of STORES) {
    if (stop()) break;
    results.push(await runStore(store, store === "cassandra" ? ks : undefined));
  }
  if (ks && !results.some((r) => r.store === "cassandra")) await ks.drop().catch(() => {});

  const report = {
    scenario: "S4 write path",
    label: LABEL,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    settings: {
      stores: STORES,
      concurrency: LEVELS,
      seconds: SECONDS,
      warmupS: WARMUP_MS / 1000,
      channels: CHANNELS,
      senders: SENDERS,
      contentChars: CONTENT_CHARS,
      nonce: NONCE,
      timeoutS: TIMEOUT_MS / 1000,
      requestTimeoutS: REQUEST_TIMEOUT_MS / 1000,
      mutation: NONCE ? SEND_WITH_NONCE : SEND,
      client: "node:http Agent, keepAlive, maxSockets = C; closed loop, one request per worker at a time",
      concordEnv: {
        ...BASE_ENV,
        REDIS_URL: "(none: single instance, memory bus)",
        DATABASE_POOL_SIZE: "(Concord's default)",
        cassandra: { CASSANDRA_CONTACT_POINTS: argv.cassandra, CASSANDRA_LOCAL_DC: argv.dc, CASSANDRA_REPLICATION: "SimpleStrategy:1", CASSANDRA_CONSISTENCY: "(Concord's default, LOCAL_QUORUM)" },
      },
    },
    server: { dir: SERVER_DIR, ...server },
    bench: gitFacts(BENCH_REPO),
    machine: { ...machine, loadavgAtEnd: loadavg() },
    postgres: pgFacts,
    ...(ks ? { cassandra: { releaseVersion: ks.releaseVersion, contactPoint: argv.cassandra } } : {}),
    stoppedBy: budget.stoppedBy,
    stores: results,
  };
  await writeReport(argv.out, "write-path", LABEL, started, report);

  const m = machineLine(machine);
  const versions = [`Postgres ${pgFacts.server_version} (fsync ${pgFacts.fsync}, synchronous_commit ${pgFacts.synchronous_commit})`, ...(ks ? [`Cassandra ${ks.releaseVersion}`] : [])].join(", ");
  console.log(`\nS4 write path, label ${LABEL}, server ${server.commit ?? SERVER_DIR}${server.dirtySrc ? " (src modified)" : ""}, ${m} (${String(machine.cpuModel ?? "").trim()}), ${versions}; ${CHANNELS} channels, ${SENDERS} senders, ${CONTENT_CHARS}-character messages, ${SECONDS} s per level after ${WARMUP_MS / 1000} s warm-up, single instance, no Redis, load average at start ${(machine.loadavgAtStart as number[]).join(" ")}`);
  console.log(TABLE_HEADER);
  for (const r of results) for (const row of tableRows(r, m)) console.log(row);
  if (results.some((r) => r.status === "failed" || r.status === "lost")) return 1;
  if (budget.stoppedBy || results.length < STORES.length || results.some((r) => r.status !== "complete")) return 2;
  return 0;
}

runMain(main);
