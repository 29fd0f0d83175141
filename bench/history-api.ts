/**
 * History through the API (issue #14): 50-message scroll-back pages with their authors over HTTP,
 * closed loop; latency end to end and Concord's CPU per page, next to the same pages read from
 * the stores alone.
 *
 *   npx tsx bench/history-api.ts [--store postgres,cassandra] [--concurrency 1,8] [--seconds 15] [--rounds 2]
 *     [--server-dir DIR] [--label after] [--baseline-dir DIR --baseline-label before] [--cpu-prof]
 *
 * Per store (one after the other):
 *   1. Per server (--server-dir, and --baseline-dir when given): a scratch Postgres database (and
 *      keyspace for cassandra), Concord as a child process, an owner, a guild and --authors bot
 *      members through the API and SQL (seedGuild), then --messages messages in the guild's
 *      `general` channel written straight into the server's message store (SQL, or the
 *      Cassandra adapter), identical for every server (same seed).
 *   2. The store reference (this checkout's adapters, in this process): the same pages and their
 *      authors from the stores alone, one at a time.
 *   3. --rounds times, per concurrency level C, per server in turn: C closed-loop workers over
 *      HTTP keep-alive, each walking the channel back page by page from its own starting place
 *      (from the newest page again after the oldest), as bot member w mod --authors. Every
 *      response is checked against the expected page (ids, content, times, authors, page info).
 *      --warmup-s, then --seconds measured: latency = request start to the last byte, server CPU
 *      (utime + stime) over the window / pages answered in it.
 * Writes bench/results/history-api-<label>-<timestamp>.json and prints a Markdown row per store ×
 * server × round × C. Exit code: 0 complete, 1 error or a wrong page, 2 stopped by --timeout-s or
 * Ctrl-C. See bench/README.md.
 */
import http from "node:http";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { probeCpu, type CpuProbe } from "./lib/cpu-probe.js";
import { findMainThreadProfile, formatProfileSummary, hrtimeUs, summarizeProfile, type ProfileSummary } from "./lib/cpuprofile.js";
import {
  BENCH_REPO,
  ClientWindow,
  commonOptions,
  commonSettings,
  CpuWindow,
  createScratchDatabase,
  createScratchKeyspace,
  gitFacts,
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
} from "./lib/harness.js";
import { LatencyHistogram, type LatencySummary } from "./lib/histogram.js";
import { checkPage, insertMessagesSql, makeMessages, type SeededMessage } from "./lib/history-fixture.js";
import { insertMessagesCassandra, measureStoreReference, type StoreLocation, type StoreReference } from "./lib/history-store.js";
import { postGraphql } from "./lib/http-post.js";

// ------------------------------------------------------------------ options

const { values: argv } = parseArgs({
  options: {
    store: { type: "string", default: "postgres" },
    messages: { type: "string", default: "10000" },
    authors: { type: "string", default: "20" },
    page: { type: "string", default: "50" },
    concurrency: { type: "string", default: "1,8" },
    seconds: { type: "string", default: "15" },
    "warmup-s": { type: "string", default: "3" },
    rounds: { type: "string", default: "1" },
    "store-seconds": { type: "string", default: "5" },
    "baseline-dir": { type: "string" },
    "baseline-label": { type: "string", default: "before" },
    "cpu-prof": { type: "boolean", default: false },
    "cpu-prof-dir": { type: "string" },
    seed: { type: "string", default: "1" },
    "node-env": { type: "string", default: "production" },
    "request-timeout-s": { type: "string", default: "30" },
    cassandra: { type: "string", default: process.env.BENCH_CASSANDRA ?? "127.0.0.1:9042" },
    dc: { type: "string", default: process.env.BENCH_CASSANDRA_DC ?? "datacenter1" },
    ...commonOptions(900),
  },
  strict: true,
});

if (argv.help) {
  console.log(`usage: npx tsx bench/history-api.ts [--store postgres,cassandra] [--messages 10000] [--authors 20] [--page 50]
  [--concurrency 1,8] [--seconds 15] [--warmup-s 3] [--rounds 1] [--store-seconds 5 (0: no store reference)]
  [--server-dir DIR] [--label dev] [--baseline-dir DIR] [--baseline-label before] [--cpu-prof] [--cpu-prof-dir DIR]
  [--seed 1] [--node-env production ("": NODE_ENV as inherited)] [--timeout-s 900 (whole run)] [--request-timeout-s 30] [--pg-url URL] [--cassandra host:port] [--dc datacenter1] [--out DIR]`);
  process.exit(0);
}

const STORES = storeListOption("store", argv.store);
const MESSAGES = intOption("messages", argv.messages.replace(/_/g, ""), 1, 1_000_000);
const AUTHORS = intOption("authors", argv.authors, 1, 10_000);
const PAGE = intOption("page", argv.page, 1, 100);
const LEVELS = intListOption("concurrency", argv.concurrency, 1, 1_000);
const SECONDS = intOption("seconds", argv.seconds, 1, 3_600);
const WARMUP_MS = intOption("warmup-s", argv["warmup-s"], 0, 600) * 1000;
const ROUNDS = intOption("rounds", argv.rounds, 1, 100);
const STORE_SECONDS = intOption("store-seconds", argv["store-seconds"], 0, 600);
const SEED = intOption("seed", argv.seed, 0, 2 ** 31);
const REQUEST_TIMEOUT_MS = intOption("request-timeout-s", argv["request-timeout-s"], 1, 600) * 1000;
const { serverDir: SERVER_DIR, label: LABEL, timeoutMs: TIMEOUT_MS } = commonSettings(argv);
const BASELINE = argv["baseline-dir"] ? commonSettings({ "server-dir": argv["baseline-dir"], label: argv["baseline-label"], "timeout-s": argv["timeout-s"] }) : undefined;

/** The scroll-back page of the README and GraphiQL examples, with the author's id and name and both times. */
const QUERY = `query History($c: ID!, $before: ID) { channel(id: $c) { messages(last: ${PAGE}, before: $before) { edges { node { id content createdAt editedAt author { id username } } } pageInfo { hasPreviousPage startCursor } } } }`;
/** NODE_ENV=production as in the Dockerfile: graphql-js and yoga skip development checks (graphql's instanceOf guard, error details). */
const BASE_ENV: Record<string, string> = { LOG_LEVEL: "warn", PASSWORD_HASH_COST: "10", ...(argv["node-env"] ? { NODE_ENV: argv["node-env"] } : {}) };

const budget = new RunBudget(TIMEOUT_MS);
const stop = budget.stop;

// ------------------------------------------------------------------ one server

interface Server {
  label: string;
  dir: string;
  commit?: string;
  dirtySrc?: boolean;
  concord: ConcordProcess;
  db: ScratchDatabase;
  keyspace?: ScratchKeyspace;
  channelId: string;
  tokens: string[];
  /** Only the --server-dir server runs under --cpu-prof. */
  profiled: boolean;
  spawnUs: number;
  readyUs: number;
}

async function startServer(store: Store, label: string, dir: string, messages: SeededMessage[], profDir: string | undefined): Promise<{ server: Server; location: StoreLocation }> {
  const keyspace = store === "cassandra" ? await createScratchKeyspace(argv.cassandra, argv.dc) : undefined;
  let db: ScratchDatabase | undefined;
  let concord: ConcordProcess | undefined;
  try {
    db = await createScratchDatabase(argv["pg-url"]);
    const env: Record<string, string> = { ...BASE_ENV, DATABASE_URL: db.url, MESSAGE_STORE: store };
    if (keyspace) Object.assign(env, { CASSANDRA_CONTACT_POINTS: argv.cassandra, CASSANDRA_LOCAL_DC: argv.dc, CASSANDRA_KEYSPACE: keyspace.name, CASSANDRA_REPLICATION: "SimpleStrategy:1" });
    const previousNodeArgs = process.env.BENCH_SERVER_NODE_ARGS;
    if (profDir) process.env.BENCH_SERVER_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${profDir}`;
    const spawnUs = hrtimeUs();
    try {
      concord = await startConcord(dir, env);
    } finally {
      if (previousNodeArgs === undefined) delete process.env.BENCH_SERVER_NODE_ARGS;
      else process.env.BENCH_SERVER_NODE_ARGS = previousNodeArgs;
    }
    const readyUs = hrtimeUs();
    const fixture = await seedGuild(concord, db.url, AUTHORS);
    const channelId = fixture.channelIds[0]!;
    const location: StoreLocation = { databaseUrl: db.url, ...(keyspace ? { cassandra: { contactPoint: argv.cassandra, dc: argv.dc, keyspace: keyspace.name } } : {}) };
    const t0 = performance.now();
    if (keyspace) await insertMessagesCassandra(location, BigInt(channelId), messages);
    else await insertMessagesSql(db.url, channelId, messages);
    log(`${label}: pid ${concord.pid}, ${thousands(messages.length)} messages by ${AUTHORS} authors in channel ${channelId} (${Math.round(performance.now() - t0)} ms)`);
    const facts = gitFacts(dir);
    return { server: { label, dir, ...facts, concord, db, keyspace, channelId, tokens: fixture.tokens, profiled: profDir !== undefined, spawnUs, readyUs }, location };
  } catch (error) {
    if (concord) await concord.stop(5_000);
    await db?.drop().catch(() => {});
    await keyspace?.drop().catch(() => {});
    throw error;
  }
}

// ------------------------------------------------------------------ one level

interface LevelResult {
  server: string;
  round: number;
  concurrency: number;
  status: "complete" | "errors" | "timeout" | "interrupted";
  windowMs: number;
  pages: number;
  pagesPerS: number;
  latencyMs: LatencySummary;
  serverCpu: ReturnType<CpuWindow["take"]>;
  serverCpuMsPerPage: number;
  client: ReturnType<ClientWindow["take"]>;
  errors: number;
  errorSamples: string[];
  /** Mean response body size. */
  responseBytes: number;
  connectionsOpened: number;
  loadavg: { start: [number, number, number]; end: [number, number, number] };
  /** The window on the host's monotonic clock (for the CPU profile). */
  windowUs: [number, number];
}

async function runLevel(server: Server, messages: SeededMessage[], c: number, roundNo: number): Promise<LevelResult> {
  const start = loadavg();
  const agent = new http.Agent({ keepAlive: true, maxSockets: c, maxFreeSockets: c });
  const opened = { count: 0 };
  const histogram = new LatencyHistogram();
  const errorSamples: string[] = [];
  const phase = { windowStart: Infinity, windowEnd: Infinity, stopping: false };
  const counts = { pages: 0, errors: 0, bytes: 0 };

  const worker = async (w: number) => {
    const token = server.tokens[w % server.tokens.length]!;
    // Worker w starts at its own place in the channel, then walks back page by page.
    let end = messages.length - Math.floor((w * messages.length) / c);
    while (!phase.stopping) {
      const before = end === messages.length ? null : messages[end]!.idText;
      const payload = JSON.stringify({ query: QUERY, variables: { c: server.channelId, before } });
      const t0 = process.hrtime.bigint();
      const res = await postGraphql(agent, server.concord.port, payload, token, REQUEST_TIMEOUT_MS, opened);
      const ns = process.hrtime.bigint() - t0;
      const now = performance.now();
      const problem = "error" in res ? `${res.error}: ${res.detail}` : res.status !== 200 ? `http ${res.status}: ${res.text.slice(0, 200)}` : checkPage(res.text, messages, end, PAGE);
      const measured = now >= phase.windowStart && now <= phase.windowEnd;
      if (problem === null) {
        if (measured) {
          counts.pages++;
          counts.bytes += (res as { text: string }).text.length;
          histogram.recordNs(ns);
        }
        const first = Math.max(0, end - PAGE);
        end = first === 0 ? messages.length : first;
      } else {
        counts.errors++;
        if (errorSamples.length < 10) errorSamples.push(problem);
        if ("error" in res) await sleep(10);
      }
    }
  };

  const serverCpu = new CpuWindow(server.concord.pid);
  const client = new ClientWindow();
  const workers = Array.from({ length: c }, (_, w) => worker(w));
  let complete = await budget.waitUntil(performance.now() + WARMUP_MS);
  phase.windowStart = performance.now();
  const windowStartUs = hrtimeUs();
  serverCpu.start();
  client.start();
  if (complete) complete = await budget.waitUntil(phase.windowStart + SECONDS * 1000);
  phase.windowEnd = performance.now();
  const windowUs: [number, number] = [windowStartUs, hrtimeUs()];
  const cpu = serverCpu.take();
  const clientWindow = client.take();
  phase.stopping = true;
  await Promise.all(workers);
  agent.destroy();
  const windowMs = phase.windowEnd - phase.windowStart;
  return {
    server: server.label,
    round: roundNo,
    concurrency: c,
    status: !complete ? (budget.stoppedBy ?? "interrupted") : counts.errors > 0 ? "errors" : "complete",
    windowMs: Math.round(windowMs),
    pages: counts.pages,
    pagesPerS: round((counts.pages * 1000) / windowMs, 1),
    latencyMs: histogram.summary(),
    serverCpu: cpu,
    serverCpuMsPerPage: counts.pages > 0 ? round(cpu.cpuMs / counts.pages, 3) : NaN,
    client: clientWindow,
    errors: counts.errors,
    errorSamples,
    responseBytes: counts.pages > 0 ? Math.round(counts.bytes / counts.pages) : 0,
    connectionsOpened: opened.count,
    loadavg: { start, end: loadavg() },
    windowUs,
  };
}

// ------------------------------------------------------------------ one store

interface StoreResult {
  store: Store;
  status: "complete" | "errors" | "timeout" | "interrupted" | "failed";
  error?: string;
  servers: { label: string; dir: string; commit?: string; dirtySrc?: boolean; database: string; keyspace?: string; log?: Awaited<ReturnType<typeof stopAndCollect>> }[];
  storeReference?: StoreReference;
  /** The machine's CPU speed before the servers started and after the last level (see lib/cpu-probe.ts). */
  cpuProbe: { start?: CpuProbe; end?: CpuProbe };
  levels: LevelResult[];
  profile?: (ProfileSummary & { serverCpuMsInWindows: number; pagesInWindows: number }) | { error: string };
}

async function runStore(store: Store, profDir: string | undefined): Promise<StoreResult> {
  const result: StoreResult = { store, status: "complete", servers: [], cpuProbe: {}, levels: [] };
  const messages = makeMessages(MESSAGES, AUTHORS, SEED, Date.now() - 60_000);
  const servers: Server[] = [];
  log(`=== ${store} (load average ${loadavg().join(" ")})`);
  try {
    result.cpuProbe.start = await probeCpu();
    const plan = [...(BASELINE ? [{ label: BASELINE.label, dir: BASELINE.serverDir, prof: undefined }] : []), { label: LABEL, dir: SERVER_DIR, prof: profDir }];
    let location: StoreLocation | undefined;
    for (const p of plan) {
      const started = await startServer(store, p.label, p.dir, messages, p.prof);
      servers.push(started.server);
      location = started.location;
    }
    if (STORE_SECONDS > 0 && location && !stop()) {
      const last = servers[servers.length - 1]!;
      result.storeReference = await measureStoreReference(location, BigInt(last.channelId), messages, PAGE, STORE_SECONDS, stop);
      const r = result.storeReference;
      log(`${store}: store alone: ${thousands(r.pages)} pages, p50 ${r.latencyMs.p50} / p99 ${r.latencyMs.p99} ms, ${r.cpuMsPerPage} ms CPU per page (this process)`);
    }
    for (let roundNo = 1; roundNo <= ROUNDS && !stop(); roundNo++) {
      for (const c of LEVELS) {
        for (const server of servers) {
          if (stop()) break;
          const level = await runLevel(server, messages, c, roundNo);
          result.levels.push(level);
          const l = level.latencyMs;
          log(`${store} ${server.label} round ${roundNo} C=${c}: ${thousands(level.pagesPerS)} pages/s, p50 ${l.p50} / p99 ${l.p99} / max ${l.max} ms, server ${level.serverCpuMsPerPage} ms CPU/page (${level.serverCpu.cores} cores), ${level.errors} errors, load ${level.loadavg.end[0]}`);
          if (level.errors > 0) log(`errors: ${level.errorSamples.slice(0, 3).join(" | ")}`);
          if (!server.concord.running) throw new Error(`Concord ${server.label} exited during the run`);
          await sleep(500);
        }
      }
    }
    result.cpuProbe.end = await probeCpu();
    if (budget.stoppedBy) result.status = budget.stoppedBy;
    else if (result.levels.some((l) => l.status === "errors")) result.status = "errors";
  } catch (error) {
    result.status = budget.stoppedBy ?? "failed";
    result.error = String((error as Error)?.stack ?? error);
    log(`${store}: ${result.error}`);
  } finally {
    for (const s of servers) {
      result.servers.push({ label: s.label, dir: s.dir, commit: s.commit, dirtySrc: s.dirtySrc, database: s.db.name, keyspace: s.keyspace?.name, log: await stopAndCollect(s.concord) });
      if (s.profiled && profDir) result.profile = profileOf(s, profDir, result.levels.filter((l) => l.server === s.label));
      await s.keyspace?.drop().catch((error: unknown) => log(`could not drop keyspace ${s.keyspace!.name}: ${String(error)}`));
      await s.db.drop().catch((error: unknown) => log(`could not drop ${s.db.name}: ${String(error)}`));
    }
  }
  return result;
}

/** Where the profiled server's CPU went during its measurement windows. */
function profileOf(server: Server, profDir: string, levels: LevelResult[]): StoreResult["profile"] {
  const file = findMainThreadProfile(profDir, server.concord.pid);
  if (!file) return { error: `no .cpuprofile in ${profDir}` };
  try {
    const startTime = (JSON.parse(readFileSync(file, "utf8")) as { startTime: number }).startTime;
    // The profile's clock is this process's monotonic clock when it started between spawn and readiness.
    const sameClock = startTime >= server.spawnUs - 1e6 && startTime <= server.readyUs;
    const windows = sameClock && levels.length > 0 ? levels.map((l) => l.windowUs) : undefined;
    const summary = summarizeProfile(file, { root: server.dir, windows, top: 30, note: windows ? undefined : "profile clock not comparable: whole profile" });
    return { ...summary, serverCpuMsInWindows: levels.reduce((n, l) => n + l.serverCpu.cpuMs, 0), pagesInWindows: levels.reduce((n, l) => n + l.pages, 0) };
  } catch (error) {
    return { error: String(error) };
  }
}

// ------------------------------------------------------------------ report

const ms = (v: number) => (Number.isNaN(v) ? "–" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const TABLE_HEADER =
  "| server | commit | store | round | C | pages/s | p50 ms | p99 ms | p99.9 ms | max ms | server CPU ms/page (cores) | client cores | load avg 1m | errors | status |\n" +
  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";

function tableRows(r: StoreResult): string[] {
  const commitOf = (label: string) => {
    const s = r.servers.find((x) => x.label === label);
    return s?.commit ? `${s.commit}${s.dirtySrc ? "+" : ""}` : "–";
  };
  const rows = r.levels.map((l) => {
    const lat = l.latencyMs;
    return `| ${l.server} | ${commitOf(l.server)} | ${r.store} | ${l.round} | ${l.concurrency} | ${thousands(l.pagesPerS)} | ${ms(lat.p50)} | ${ms(lat.p99)} | ${ms(lat.p999)} | ${ms(lat.max)} | ${ms(l.serverCpuMsPerPage)} (${l.serverCpu.cores.toFixed(2)}) | ${l.client.cores.toFixed(2)} | ${l.loadavg.end[0]} | ${l.errors} | ${l.status} |`;
  });
  const ref = r.storeReference;
  if (ref) rows.push(`| store alone | this checkout | ${r.store} | – | 1 | ${thousands((ref.pages * 1000) / ref.windowMs)} | ${ms(ref.latencyMs.p50)} | ${ms(ref.latencyMs.p99)} | ${ms(ref.latencyMs.p999)} | ${ms(ref.latencyMs.max)} | ${ms(ref.cpuMsPerPage)} (bench process) | – | – | 0 | – |`);
  if (r.status === "failed") rows.push(`| – | – | ${r.store} | – | – | – | – | – | – | – | – | – | – | – | failed |`);
  return rows;
}

const median = (values: number[]) => {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** One row per server × C: the median over the rounds (the rounds alternate servers, so both saw the same machine). */
function summaryRows(r: StoreResult): string[] {
  const rows: string[] = [];
  for (const c of LEVELS) {
    for (const server of r.servers) {
      const levels = r.levels.filter((l) => l.server === server.label && l.concurrency === c && l.pages > 0);
      if (levels.length === 0) continue;
      const loads = levels.map((l) => l.loadavg.end[0]);
      rows.push(
        `| ${server.label} | ${server.commit ? `${server.commit}${server.dirtySrc ? "+" : ""}` : "–"} | ${r.store} | ${c} | ${levels.length} | ${ms(median(levels.map((l) => l.serverCpuMsPerPage)))} | ` +
          `${ms(median(levels.map((l) => l.latencyMs.p50)))} | ${ms(median(levels.map((l) => l.latencyMs.p99)))} | ${thousands(median(levels.map((l) => l.pagesPerS)))} | ${Math.min(...loads)}–${Math.max(...loads)} |`,
      );
    }
  }
  return rows;
}

async function main(): Promise<number> {
  const machine = machineFacts();
  const started = new Date();
  const profDir = argv["cpu-prof"] ? path.resolve(argv["cpu-prof-dir"] ?? path.join(os.tmpdir(), `concord-history-cpuprof-${started.toISOString().replace(/[:.]/g, "-")}`)) : undefined;
  const main_ = gitFacts(SERVER_DIR);
  log(
    `history through the API: stores ${STORES.join(", ")}, ${thousands(MESSAGES)} messages by ${AUTHORS} authors, pages of ${PAGE}, concurrency ${LEVELS.join(", ")}, ` +
      `${WARMUP_MS / 1000} s warm-up + ${SECONDS} s per level, ${ROUNDS} round(s); server ${SERVER_DIR} (${main_.commit ?? "not git"}${main_.dirtySrc ? ", src modified" : ""}) as ${LABEL}` +
      `${BASELINE ? `, baseline ${BASELINE.serverDir} as ${BASELINE.label}` : ""}${profDir ? `; --cpu-prof into ${profDir}` : ""}`,
  );
  const results: StoreResult[] = [];
  for (const store of STORES) {
    if (stop()) break;
    results.push(await runStore(store, profDir));
  }
  const report = {
    scenario: "history through the API",
    label: LABEL,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    settings: {
      stores: STORES, messages: MESSAGES, authors: AUTHORS, page: PAGE, concurrency: LEVELS, seconds: SECONDS, warmupS: WARMUP_MS / 1000, rounds: ROUNDS,
      storeSeconds: STORE_SECONDS, seed: SEED, query: QUERY, cpuProf: profDir ?? false,
      client: "node:http Agent, keepAlive, maxSockets = C; closed loop, one request per worker at a time; every response checked",
      concordEnv: { ...BASE_ENV, REDIS_URL: "(none)", RATE_LIMITS: "off (harness default)" },
    },
    server: { dir: SERVER_DIR, ...main_ },
    baseline: BASELINE ? { dir: BASELINE.serverDir, label: BASELINE.label, ...gitFacts(BASELINE.serverDir) } : undefined,
    bench: gitFacts(BENCH_REPO),
    machine: { ...machine, loadavgAtEnd: loadavg() },
    stoppedBy: budget.stoppedBy,
    stores: results,
  };
  await writeReport(argv.out, "history-api", LABEL, started, report);

  console.log(
    `\nHistory through the API, ${machineLine(machine)} (${String(machine.cpuModel ?? "").trim()}); ${thousands(MESSAGES)} messages by ${AUTHORS} authors, pages of ${PAGE} with authors, ` +
      `${SECONDS} s per level after ${WARMUP_MS / 1000} s warm-up, single instance, load average at start ${(machine.loadavgAtStart as number[]).join(" ")}`,
  );
  console.log(TABLE_HEADER);
  for (const r of results) for (const row of tableRows(r)) console.log(row);
  console.log(`\nMedians over the rounds:\n\n| server | commit | store | C | rounds | server CPU ms/page | p50 ms | p99 ms | pages/s | load avg 1m |\n|---|---|---|---|---|---|---|---|---|---|`);
  for (const r of results) for (const row of summaryRows(r)) console.log(row);
  for (const r of results) {
    const p = (x?: CpuProbe) => (x ? `${x.backToBackUs} µs back to back, ${x.withIdleGapsUs} µs with 2 ms idle gaps` : "–");
    console.log(`\nCPU probe (${r.store}; a fixed piece of work, lib/cpu-probe.ts): before the servers ${p(r.cpuProbe.start)}; after the last level ${p(r.cpuProbe.end)}.`);
  }
  for (const r of results) {
    if (!r.profile) continue;
    if ("error" in r.profile) console.log(`\nprofile (${r.store}): ${r.profile.error}`);
    else {
      console.log(`\nWhere ${LABEL}'s CPU goes (${r.store}):\n\n${formatProfileSummary(r.profile)}`);
      console.log(`\n${thousands(r.profile.serverCpuMsInWindows)} ms of server CPU (all threads, /proc) for ${thousands(r.profile.pagesInWindows)} pages in the windows.`);
    }
  }
  if (results.some((r) => r.status === "failed" || r.status === "errors")) return 1;
  if (budget.stoppedBy || results.length < STORES.length) return 2;
  return 0;
}

runMain(main);
