/**
 * S3 connections: what it costs Concord to hold N authenticated WebSocket connections with one
 * subscription each, and whether it holds them all.
 *
 *   npx tsx bench/connections.ts --connections 10000,50000 [--channels 100] [--server-dir DIR] [--label dev]
 *
 * Per N:
 *   1. Concord from --server-dir (child process, `node --import tsx src/main.ts`) on a scratch
 *      Postgres database (dropped at the end), one instance, no Redis; an owner registers and
 *      creates a guild and --channels − 1 more channels (createChannel) through the API; N bot
 *      users, sessions and memberships are inserted in SQL.
 *   2. Server RSS (VmRSS of the server process) before any socket.
 *   3. N graphql-ws sockets (bench/lib/ws-load.ts): connection_init with the user's token,
 *      connection_ack, one channelEvents subscription, socket i on channel i mod C. Timed until
 *      every socket has its ack ("connected") and until every socket has received a probe
 *      message of its own channel ("subscribed": subscriptions register asynchronously, so probe
 *      rounds of one message per channel are sent until every open socket got one).
 *   4. After --settle-ms, server RSS again: (after − before) / connections = RSS per connection.
 *      Before each reading, two full GCs are forced through the server's inspector (it runs with
 *      --inspect=127.0.0.1:0), and its live memory (heap used + external) is read with the RSS:
 *      (after − before) / connections = live memory per connection. --heap-snapshots DIR also
 *      writes a heap snapshot at both points (compare them in Chrome DevTools).
 *   5. Held check: one more message per channel; every open socket must receive exactly the one
 *      of its channel (a message of another channel counts as misrouted).
 * Writes bench/results/connections-<label>-<timestamp>.json and prints a Markdown row per N.
 * Each process (this client and the server) needs about N + 300 file descriptors: an N whose
 * need exceeds the open-file limit (`ulimit -n`) is skipped unless --ignore-fd-limit.
 * Exit code: 0 complete, 1 error, 2 stopped (timeout, Ctrl-C), skipped, or not all held.
 */
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pg from "pg";
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
  procFdCount,
  procStatusKb,
  round,
  seedGuild,
  sleep,
  startConcord,
  thousands,
  type ConcordProcess,
  type ScratchDatabase,
  commonOptions,
  runMain,
  writeReport,
  pgStats,
} from "./lib/harness.js";
import { INSPECT_ARG, InspectorSession, inspectorUrl, type LiveMemory } from "./lib/inspector.js";
import { defaultAddressCount, WsLoad, type ConnectReport, type WsLoadStats } from "./lib/ws-load.js";

const { values: argv } = parseArgs({
  options: {
    ...commonOptions(900),
    connections: { type: "string", default: "10000,50000" },
    channels: { type: "string", default: "100" },
    "settle-ms": { type: "string", default: "3000" },
    "heap-snapshots": { type: "string" },
    "cpu-profile": { type: "string" },
    concurrency: { type: "string", default: "200" },
    addresses: { type: "string", default: "auto" },
    "ignore-fd-limit": { type: "boolean", default: false },
  },
  strict: true,
});

if (argv.help) {
  console.log(`usage: npx tsx bench/connections.ts [--connections 10000,50000] [--channels 100] [--server-dir DIR] [--label dev]
  [--timeout-s 900 (whole run)] [--settle-ms 3000] [--concurrency 200 (handshakes in flight)] [--addresses auto|K]
  [--ignore-fd-limit] [--heap-snapshots DIR (a heap snapshot before and after, per N)]
  [--cpu-profile DIR (the server's CPU profile of the connect + subscribe phase, per N)] [--pg-url URL] [--out DIR]`);
  process.exit(0);
}

const CONNECTIONS = intListOption("connections", argv.connections, 1, 1_000_000);
const CHANNELS = intOption("channels", argv.channels, 1, 1_000);
const SERVER_DIR = path.resolve(argv["server-dir"]);
const LABEL = argv.label.replace(/[^\w.-]/g, "_");
const TIMEOUT_MS = intOption("timeout-s", argv["timeout-s"], 1, 86_400) * 1000;
const SETTLE_MS = intOption("settle-ms", argv["settle-ms"], 0, 600_000);
const CONCURRENCY = intOption("concurrency", argv.concurrency, 1, 10_000);
const ADDRESSES = argv.addresses === "auto" ? null : intOption("addresses", argv.addresses, 1, 100);
/** File descriptors a process needs beyond one per socket (Postgres pool, stdio, libuv, ...). */
const FD_MARGIN = 300;
const ROUND_TIMEOUT_MS = 30_000;

const SUBSCRIPTION = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageCreated { message { id content createdAt author { id username } } } } }`;
const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;

const deadline = performance.now() + TIMEOUT_MS;
let stoppedBy: "timeout" | "interrupted" | undefined;
const stop = () => {
  if (stoppedBy) return true;
  if (interruption.interrupted) stoppedBy = "interrupted";
  else if (performance.now() > deadline) stoppedBy = "timeout";
  return stoppedBy !== undefined;
};

interface RunResult {
  connections: number;
  channels: number;
  status: "complete" | "not all held" | "skipped" | "timeout" | "interrupted" | "failed";
  reason?: string;
  error?: string;
  startedAt: string;
  finishedAt?: string;
  database?: string;
  seedMs?: number;
  connect?: ConnectReport;
  /** From the first socket until every open socket received a probe of its channel. */
  subscribe?: { allMs: number; probeRounds: number; subscribed: number; notSubscribed: number };
  serverRssKb?: { before: number; connected: number; afterHeld: number; peak: number };
  /** The server's memory after two forced full GCs, before any socket and once all are subscribed (bytes). */
  serverLive?: { before: LiveMemory; connected: LiveMemory };
  /** SQL transactions (each statement outside one counts as one) of the scratch database during connect + subscribe, per connection. */
  sqlTransactionsPerConnection?: number;
  /** (connected − before) / ready sockets of heap used + external after a full GC, KiB. */
  livePerConnectionKb?: number;
  /** (connected − before) / ready sockets, KiB. */
  rssPerConnectionKb?: number;
  serverFds?: { before: number; connected: number };
  serverCpu?: { connectAndSubscribe: ReturnType<CpuWindow["take"]> };
  held?: { expected: number; received: number; misrouted: number; ms: number; outcome: string };
  client?: { rssKb: { before: number; connected: number }; rssPerConnectionKb: number; window: ReturnType<ClientWindow["take"]> };
  stats?: WsLoadStats;
  serverLogLevels?: Record<string, number>;
  serverLogTail?: string[];
  stopMs?: number;
  loadavg: { start: [number, number, number]; end?: [number, number, number] };
}

/** Sends one message per channel (4 in flight), content "bench:<channel index>:<tag>". */
/** Committed + rolled back transactions of the database so far (pg_stat_database). */
async function sqlTransactions(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const stats = await pgStats(client, client.database!);
    return stats.xact_commit + stats.xact_rollback;
  } finally {
    await client.end();
  }
}

async function messagePerChannel(concord: ConcordProcess, token: string, channelIds: string[], tag: string): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const c = next++;
      if (c >= channelIds.length) return;
      await concord.gql(SEND, { c: channelIds[c], t: `bench:${c}:${tag}` }, token);
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, channelIds.length) }, worker));
}

async function runN(n: number, addressOffset: number): Promise<RunResult> {
  const run: RunResult = { connections: n, channels: CHANNELS, status: "complete", startedAt: new Date().toISOString(), loadavg: { start: loadavg() } };
  const limits = fdLimits();
  if (n + FD_MARGIN > limits.soft && !argv["ignore-fd-limit"]) {
    run.status = "skipped";
    run.reason = `open-file limit ${limits.soft} (hard ${limits.hard}) < ${n} + ${FD_MARGIN}: this process and the server each need one descriptor per socket; raise \`ulimit -n\` (needs a hard limit that allows it) or pass --ignore-fd-limit to see where it breaks`;
    log(`N = ${n}: skipped: ${run.reason}`);
    run.finishedAt = run.startedAt;
    return run;
  }
  log(`=== N = ${n} connections over ${CHANNELS} channels (load average ${loadavg().join(" ")})`);
  let db: ScratchDatabase | undefined;
  let concord: ConcordProcess | undefined;
  let load: WsLoad | undefined;
  let inspector: InspectorSession | undefined;
  try {
    db = await createScratchDatabase(argv["pg-url"]);
    run.database = db.name;
    concord = await startConcord(SERVER_DIR, { DATABASE_URL: db.url, LOG_LEVEL: "warn", PASSWORD_HASH_COST: "10", SUBSCRIPTION_BUFFER_SIZE: "10000" }, undefined, [INSPECT_ARG]);
    const inspectAt = inspectorUrl(concord.output().tail);
    if (!inspectAt) throw new Error("the server printed no inspector URL (--inspect)");
    inspector = await InspectorSession.open(inspectAt);
    log(`concord: pid ${concord.pid}, port ${concord.port}; creating ${CHANNELS} channels, seeding ${n} users`);
    const fixture = await seedGuild(concord, db.url, n, CHANNELS - 1);
    run.seedMs = fixture.seedMs;
    const channelIds = fixture.channelIds.slice(0, CHANNELS);
    const c = concord;

    await sleep(1_000);
    const liveBefore = await inspector.liveMemory();
    if (argv["heap-snapshots"]) await inspector.heapSnapshot(path.join(argv["heap-snapshots"], `connections-${n}-before.heapsnapshot`));
    const rssBefore = procStatusKb(concord.pid, "VmRSS");
    const fdsBefore = procFdCount(concord.pid);
    const clientRssBefore = procStatusKb("self", "VmRSS");

    // Per socket: 0 nothing yet, 1 probed (subscription confirmed). Per round: received flag.
    const confirmed = new Uint8Array(n);
    let confirmedCount = 0;
    let lastConfirmAt = 0;
    let misrouted = 0;
    let round_ = "probe";
    const gotHeld = new Uint8Array(n);
    let heldCount = 0;
    load = new WsLoad({
      url: concord.wsUrl,
      count: n,
      mode: "graphql-ws",
      token: (i) => fixture.tokens[i]!,
      subscription: { query: SUBSCRIPTION, variables: (i) => ({ c: channelIds[i % CHANNELS] }) },
      addresses: ADDRESSES ?? defaultAddressCount(n),
      addressOffset,
      concurrency: CONCURRENCY,
      onReceipt: (i, seq, at) => {
        if (seq !== i % CHANNELS) {
          misrouted++;
          return;
        }
        if (confirmed[i] === 0) {
          confirmed[i] = 1;
          confirmedCount++;
          lastConfirmAt = at;
        }
        if (round_ === "held" && gotHeld[i] === 0) {
          gotHeld[i] = 1;
          heldCount++;
        }
      },
      // A subscription's first event is `Subscribed`: the server's word that it is live.
      onOtherNext: (i, text, at) => {
        if (confirmed[i] === 0 && text.includes('"Subscribed"')) {
          confirmed[i] = 1;
          confirmedCount++;
          lastConfirmAt = at;
        }
      },
      shouldStop: stop,
      onProgress: (p) => log(`  connecting: ${p.started}/${n} started, ${p.ready} ready, ${p.failed} failed`),
    });

    const sqlBefore = await sqlTransactions(db.url);
    if (argv["cpu-profile"]) await inspector.startCpuProfile();
    const cpu = new CpuWindow(concord.pid);
    const client = new ClientWindow();
    cpu.start();
    client.start();
    const t0 = performance.now();
    log(`concord: opening ${n} sockets (${CONCURRENCY} handshakes in flight, source addresses ${ADDRESSES ?? defaultAddressCount(n)})`);
    run.connect = await load.connectAll();
    log(`concord: ${run.connect.ready}/${n} connected in ${(run.connect.ms / 1000).toFixed(1)} s${run.connect.failed ? `, ${run.connect.failed} failed ${JSON.stringify(run.connect.failures)}` : ""}`);
    if (run.connect.ready === 0) throw new Error(`no socket connected: ${JSON.stringify(run.connect.failures)}`);

    const allConfirmed = () => {
      for (let i = 0; i < n; i++) if (load!.isOpen(i) && confirmed[i] === 0) return false;
      return true;
    };
    // Every subscription says `Subscribed` once live; a server too old for that gets probe rounds
    // (messages until every open socket received one of its channel).
    const subscribedWait = performance.now() + 10_000 + n;
    while (!stop() && !allConfirmed() && performance.now() < subscribedWait) await sleep(20);
    let rounds = 0;
    while (!stop() && rounds < 20 && !allConfirmed()) {
      rounds++;
      const sent = performance.now();
      await messagePerChannel(c, fixture.ownerToken, channelIds, `probe${rounds}`);
      const roundMs = 3_000 + n / 50;
      while (!allConfirmed() && performance.now() - sent < roundMs && !stop()) await sleep(50);
    }
    let subscribedNow = 0;
    for (let i = 0; i < n; i++) if (load.isOpen(i) && confirmed[i]) subscribedNow++;
    run.subscribe = { allMs: Math.round((allConfirmed() ? lastConfirmAt : performance.now()) - t0), probeRounds: rounds, subscribed: subscribedNow, notSubscribed: load.openNow - subscribedNow };
    if (argv["cpu-profile"]) await inspector.stopCpuProfile(path.join(argv["cpu-profile"], `connections-${n}-connect.cpuprofile`));
    run.serverCpu = { connectAndSubscribe: cpu.take() };
    // Backends flush their statistics to pg_stat_database at most once a second while busy, and
    // within 10 s of going idle (PGSTAT_IDLE_INTERVAL): wait for the last of them.
    await sleep(11_000);
    run.sqlTransactionsPerConnection = round(((await sqlTransactions(db.url)) - sqlBefore) / Math.max(1, run.connect.ready), 2);
    const clientWindow = client.take();
    log(`concord: ${subscribedNow}/${n} subscribed ${(run.subscribe.allMs / 1000).toFixed(1)} s after the first socket (${rounds} probe rounds)`);

    await sleep(SETTLE_MS);
    const liveConnected = await inspector.liveMemory();
    if (argv["heap-snapshots"]) await inspector.heapSnapshot(path.join(argv["heap-snapshots"], `connections-${n}-connected.heapsnapshot`));
    const rssConnected = procStatusKb(concord.pid, "VmRSS");
    run.serverLive = { before: liveBefore, connected: liveConnected };
    run.livePerConnectionKb = round((liveConnected.live - liveBefore.live) / 1024 / Math.max(1, run.connect.ready), 1);
    const fdsConnected = procFdCount(concord.pid);
    const clientRssConnected = procStatusKb("self", "VmRSS");

    // Held check: one more message per channel; every open socket must get its channel's.
    const expected: number[] = [];
    for (let i = 0; i < n; i++) if (load.isOpen(i)) expected.push(i);
    round_ = "held";
    const heldStart = performance.now();
    let outcome = "complete";
    if (!stop()) {
      await messagePerChannel(c, fixture.ownerToken, channelIds, "held");
      const target = () => expected.filter((i) => load!.isOpen(i) || gotHeld[i]).length;
      while (heldCount < target() && !stop()) {
        if (performance.now() - heldStart > ROUND_TIMEOUT_MS) {
          outcome = "timeout";
          break;
        }
        await sleep(50);
      }
      if (stop()) outcome = "stopped";
    } else outcome = "stopped";
    run.held = { expected: expected.length, received: heldCount, misrouted, ms: Math.round(performance.now() - heldStart), outcome };
    log(`concord: held ${heldCount}/${expected.length} (${outcome}), misrouted ${misrouted}`);

    run.serverRssKb = { before: rssBefore, connected: rssConnected, afterHeld: procStatusKb(concord.pid, "VmRSS"), peak: procStatusKb(concord.pid, "VmHWM") };
    run.rssPerConnectionKb = round((rssConnected - rssBefore) / Math.max(1, run.connect.ready), 1);
    run.serverFds = { before: fdsBefore, connected: fdsConnected };
    run.client = { rssKb: { before: clientRssBefore, connected: clientRssConnected }, rssPerConnectionKb: round((clientRssConnected - clientRssBefore) / Math.max(1, run.connect.ready), 1), window: clientWindow };
    if (stoppedBy) run.status = stoppedBy;
    else if (run.connect.ready < n || heldCount < n || misrouted > 0) run.status = "not all held";
  } catch (error) {
    run.status = stoppedBy ?? "failed";
    run.error = String((error as Error)?.stack ?? error);
    log(`N = ${n}: ${run.error}`);
  } finally {
    if (load) {
      run.stats = load.stats;
      load.expectClose();
    }
    inspector?.close();
    if (concord) {
      const stopped = await concord.stop(15_000);
      run.stopMs = stopped.ms;
      const out = concord.output();
      run.serverLogLevels = out.levels;
      run.serverLogTail = out.tail.filter((l) => !l.includes('"level":"info"')).slice(-10);
    }
    await load?.closeAll(5_000);
    if (db) await db.drop().catch((error: unknown) => log(`could not drop ${db!.name}: ${String(error)}`));
  }
  run.finishedAt = new Date().toISOString();
  run.loadavg.end = loadavg();
  return run;
}

const mb = (kb: number | undefined) => (kb === undefined || Number.isNaN(kb) ? "–" : (kb / 1024).toFixed(0));
const TABLE_HEADER =
  "| label | N | channels | connected | connect s (conn/s) | handshake p50 / p99 ms | all subscribed s | server RSS before → after MB | RSS KB / connection | live KB / connection | connect + subscribe CPU ms each | SQL per connect | held | client RSS KB / conn | errors | machine | status |\n" +
  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";

function tableRow(r: RunResult, machine: string): string {
  const c = r.connect;
  const errors = c ? c.failed + Object.values(r.stats?.closes ?? {}).reduce((a, b) => a + b, 0) + Object.values(r.stats?.errors ?? {}).reduce((a, b) => a + b, 0) + (r.stats?.errorFrames ?? 0) : 0;
  const connect = c ? `${(c.ms / 1000).toFixed(1)} (${thousands(c.ready / (c.ms / 1000))})` : "–";
  const hs = c && c.handshakeMs.count > 0 ? `${c.handshakeMs.p50.toFixed(1)} / ${c.handshakeMs.p99.toFixed(1)}` : "–";
  const held = r.held ? `${thousands(r.held.received)} / ${thousands(r.held.expected)}${r.held.misrouted ? ` (${r.held.misrouted} misrouted)` : ""}` : "–";
  const status = r.status === "skipped" ? `skipped (fd limit)` : r.status;
  const cpuMs = r.serverCpu?.connectAndSubscribe.cpuMs;
  const cpuEach = cpuMs !== undefined && c && c.ready > 0 ? (cpuMs / c.ready).toFixed(2) : "–";
  return `| ${LABEL} | ${thousands(r.connections)} | ${r.channels} | ${c ? thousands(c.ready) : "–"} | ${connect} | ${hs} | ${r.subscribe ? (r.subscribe.allMs / 1000).toFixed(1) : "–"} | ${mb(r.serverRssKb?.before)} → ${mb(r.serverRssKb?.connected)} | ${r.rssPerConnectionKb ?? "–"} | ${r.livePerConnectionKb ?? "–"} | ${cpuEach} | ${r.sqlTransactionsPerConnection ?? "–"} | ${held} | ${r.client?.rssPerConnectionKb ?? "–"} | ${c ? errors : "–"} | ${machine} | ${status} |`;
}

async function main(): Promise<number> {
  const machine = machineFacts();
  const server = gitFacts(SERVER_DIR);
  log(`connections S3: ${CONNECTIONS.join(", ")} over ${CHANNELS} channels, server ${SERVER_DIR} (${server.commit ?? "not git"}${server.dirtySrc ? ", src modified" : ""}), label ${LABEL}, open-file limit ${JSON.stringify(machine.fdLimit)}, timeout ${TIMEOUT_MS / 1000} s`);
  const started = new Date();
  const results: RunResult[] = [];
  let offset = 0;
  for (const n of CONNECTIONS) {
    if (stop()) break;
    results.push(await runN(n, offset));
    offset += ADDRESSES ?? defaultAddressCount(n);
    await sleep(1_000);
  }
  const report = {
    scenario: "S3 connections",
    label: LABEL,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    settings: {
      connections: CONNECTIONS,
      channels: CHANNELS,
      settleMs: SETTLE_MS,
      timeoutS: TIMEOUT_MS / 1000,
      handshakeConcurrency: CONCURRENCY,
      addresses: ADDRESSES ?? "auto (ceil(N/20000))",
      concordEnv: { LOG_LEVEL: "warn", PASSWORD_HASH_COST: "10", SUBSCRIPTION_BUFFER_SIZE: "10000", REDIS_URL: "(none: single instance, memory bus)" },
      subscription: SUBSCRIPTION,
    },
    server: { dir: SERVER_DIR, ...server },
    bench: gitFacts(BENCH_REPO),
    machine: { ...machine, loadavgAtEnd: loadavg() },
    stoppedBy,
    runs: results,
  };
  await writeReport(argv.out, "connections", LABEL, started, report);
  const m = machineLine(machine);
  console.log(`\nS3 connections, label ${LABEL}, server ${server.commit ?? SERVER_DIR}${server.dirtySrc ? " (src modified)" : ""}, ${m}, ${CHANNELS} channels, single instance, no Redis, open-file limit ${(machine.fdLimit as { soft: number }).soft}`);
  console.log(TABLE_HEADER);
  for (const r of results) console.log(tableRow(r, m));
  if (results.some((r) => r.status === "failed")) return 1;
  if (stoppedBy || results.some((r) => r.status !== "complete")) return 2;
  return 0;
}

runMain(main);
