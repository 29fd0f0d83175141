/**
 * Reconnect storm: the clients of an instance that dies all reconnect to a surviving one.
 *
 *   npx tsx bench/reconnect-storm.ts --clients 5000 [--channels 100] [--storm-concurrency 1000] [--server-dir DIR] [--label dev]
 *
 * 1. Instances A and B (child processes from --server-dir, WORKER_ID 1 and 2) on one scratch
 *    Postgres database and the Redis at --redis under a fresh REDIS_KEY_PREFIX; N bot users
 *    seeded in SQL, --channels channels (bench/lib/harness.ts seedGuild).
 * 2. N graphql-ws clients connect to A, each with one channelEvents subscription (client i on
 *    channel i mod C), --concurrency handshakes in flight; every client waits for its
 *    subscription's first event, `Subscribed` (the server saying the stream is live).
 * 3. A is SIGKILLed. Every client sees its socket drop and reconnects at once to B (no backoff:
 *    the worst case), --storm-concurrency handshakes in flight (what the clients' own timing
 *    spreads; every client is waiting), with the same token and subscription. A client whose
 *    connect fails (reset, handshake timeout, closed unread) retries a second later, up to 5 times.
 * 4. Measured: from the kill until every client has `Subscribed` again on B (**all live**), and
 *    per client kill → `Subscribed` (p50 / p99 / max); B's CPU over the storm and per reconnect.
 * 5. Held check: one message per channel through B; every client must receive its channel's.
 * Writes bench/results/reconnect-storm-<label>-<timestamp>.json and prints a Markdown row.
 * Exit code: 0 complete, 1 error, 2 stopped (timeout, Ctrl-C) or not every client came back.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import {
  CpuWindow,
  commonOptions,
  createScratchDatabase,
  gitFacts,
  interruption,
  intOption,
  loadavg,
  log,
  machineFacts,
  machineLine,
  round,
  runMain,
  seedGuild,
  sleep,
  startConcord,
  thousands,
  unlinkRedisPrefix,
  writeReport,
  type ConcordProcess,
  type ScratchDatabase,
} from "./lib/harness.js";
import { LatencyHistogram, type LatencySummary } from "./lib/histogram.js";
import { WsLoad, type ConnectReport } from "./lib/ws-load.js";

const { values: argv } = parseArgs({
  options: {
    ...commonOptions(900),
    clients: { type: "string", default: "5000" },
    members: { type: "string", default: "0" },
    channels: { type: "string", default: "100" },
    concurrency: { type: "string", default: "200" },
    "storm-concurrency": { type: "string", default: "1000" },
    redis: { type: "string", default: process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379" },
  },
  strict: true,
});
if (argv.help) {
  console.log(`usage: npx tsx bench/reconnect-storm.ts [--clients 5000] [--members M (guild size, >= clients)] [--channels 100] [--concurrency 200] [--storm-concurrency 1000]
  [--redis redis://127.0.0.1:6379] [--server-dir DIR] [--label dev] [--timeout-s 900] [--pg-url URL] [--out DIR]`);
  process.exit(0);
}

const N = intOption("clients", argv.clients, 1, 19_000);
/** Members of the guild (at least N): the clients are the first N of a guild this big. */
const MEMBERS = Math.max(N, intOption("members", argv.members, 0, 2_000_000));
const CHANNELS = intOption("channels", argv.channels, 1, 1_000);
const CONCURRENCY = intOption("concurrency", argv.concurrency, 1, 10_000);
const STORM_CONCURRENCY = intOption("storm-concurrency", argv["storm-concurrency"], 1, 20_000);
const SERVER_DIR = path.resolve(argv["server-dir"]);
const LABEL = argv.label.replace(/[^\w.-]/g, "_");
const TIMEOUT_MS = intOption("timeout-s", argv["timeout-s"], 1, 86_400) * 1000;
const deadline = performance.now() + TIMEOUT_MS;
const stop = () => interruption.interrupted || performance.now() > deadline;

/** Selects `__typename`, so the first event's frame says `"Subscribed"` (the marker below). */
const SUBSCRIPTION = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageCreated { message { id content } } } }`;
const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;

interface Phase {
  connect: ConnectReport;
  /** From the phase's start (A: first socket; B: the kill) until every client had `Subscribed`. */
  allLiveMs: number;
  live: number;
  /** Per client, phase start → `Subscribed`. */
  liveMs: LatencySummary;
  serverCpuMs: number;
  serverCpuMsPerClient: number;
  /** Connects retried (a client retrying twice counts twice). */
  retried: number;
}

/** Rounds of retries for clients whose connect failed (as a client library retries), 1 s apart. */
const RETRY_ROUNDS = 5;

/**
 * Opens N clients to `url` and waits (at most 120 s) until each has `Subscribed`, timed from
 * `t0`. A client whose connect fails (reset, handshake timeout, closed before its init was read)
 * tries again, as client libraries do: up to RETRY_ROUNDS more rounds, one second apart.
 */
async function phase(url: string, tokens: string[], channelIds: string[], concurrency: number, addressOffset: number, concord: ConcordProcess, t0: number, onMessage?: (i: number, at: number) => void): Promise<{ result: Phase; loads: WsLoad[] }> {
  const liveAt = new Float64Array(N).fill(NaN);
  let live = 0;
  const cpu = new CpuWindow(concord.pid);
  cpu.start();
  const loads: WsLoad[] = [];
  const failures: Record<string, number> = {};
  let first: ConnectReport | undefined;
  let retried = 0;
  let clients = Array.from({ length: N }, (_, i) => i);
  for (let round_ = 0; round_ <= RETRY_ROUNDS && clients.length > 0 && !stop(); round_++) {
    if (round_ > 0) {
      await sleep(1_000);
      retried += clients.length;
    }
    const these = clients;
    const load = new WsLoad({
      url,
      count: these.length,
      mode: "graphql-ws",
      token: (j) => tokens[these[j]!]!,
      subscription: { query: SUBSCRIPTION, variables: (j) => ({ c: channelIds[these[j]! % channelIds.length] }) },
      concurrency,
      addresses: 1,
      addressOffset: addressOffset + round_,
      marker: '"Subscribed',
      onReceipt: (j, _seq, at) => {
        const i = these[j]!;
        if (liveAt[i] === liveAt[i]) return onMessage?.(i, at);
        liveAt[i] = at;
        live++;
      },
      shouldStop: stop,
    });
    loads.push(load);
    const report = await load.connectAll();
    first ??= report;
    for (const [cause, count] of Object.entries(report.failures)) failures[cause] = (failures[cause] ?? 0) + count;
    const waitUntil = performance.now() + 30_000;
    const expected = () => these.filter((i, j) => load.isOpen(j) || liveAt[i] === liveAt[i]).length;
    while (these.filter((i) => liveAt[i] === liveAt[i]).length < expected() && performance.now() < waitUntil && !stop()) await sleep(20);
    clients = these.filter((i) => liveAt[i] !== liveAt[i]);
  }
  const used = cpu.take();
  const hist = new LatencyHistogram();
  let last = 0;
  for (let i = 0; i < N; i++) {
    const at = liveAt[i]!;
    if (at !== at) continue;
    hist.recordMs(at - t0);
    last = Math.max(last, at - t0);
  }
  const result: Phase = { connect: { ...first!, failures }, allLiveMs: round(last, 1), live, liveMs: hist.summary(), serverCpuMs: used.cpuMs, serverCpuMsPerClient: round(used.cpuMs / Math.max(1, live), 2), retried };
  hist.destroy();
  return { result, loads };
}

async function main(): Promise<number> {
  const machine = machineFacts();
  const server = gitFacts(SERVER_DIR);
  const started = new Date();
  const report: Record<string, unknown> = { scenario: "reconnect storm", label: LABEL, startedAt: started.toISOString(), settings: { clients: N, members: MEMBERS, channels: CHANNELS, concurrency: CONCURRENCY, stormConcurrency: STORM_CONCURRENCY }, server: { dir: SERVER_DIR, ...server }, machine, loadavg: { start: loadavg() } };
  const prefix = `concord_bench_${randomBytes(5).toString("hex")}:`;
  let db: ScratchDatabase | undefined;
  let a: ConcordProcess | undefined;
  let b: ConcordProcess | undefined;
  const loads: WsLoad[] = [];
  let status = "complete";
  try {
    db = await createScratchDatabase(argv["pg-url"]);
    const env = { DATABASE_URL: db.url, REDIS_URL: argv.redis, REDIS_KEY_PREFIX: prefix, LOG_LEVEL: "warn", PASSWORD_HASH_COST: "10", SUBSCRIPTION_BUFFER_SIZE: "10000" };
    a = await startConcord(SERVER_DIR, { ...env, WORKER_ID: "1" });
    b = await startConcord(SERVER_DIR, { ...env, WORKER_ID: "2" });
    log(`A pid ${a.pid}, B pid ${b.pid}, Redis prefix ${prefix}; seeding ${MEMBERS} users, ${CHANNELS} channels`);
    const fixture = await seedGuild(a, db.url, MEMBERS, CHANNELS - 1);
    const channelIds = fixture.channelIds.slice(0, CHANNELS);

    log(`${N} clients to A (${CONCURRENCY} handshakes in flight)`);
    const onA = await phase(a.wsUrl, fixture.tokens, channelIds, CONCURRENCY, 0, a, performance.now());
    loads.push(...onA.loads);
    report.onA = onA.result;
    log(`A: ${onA.result.live}/${N} live in ${(onA.result.allLiveMs / 1000).toFixed(1)} s, ${onA.result.serverCpuMsPerClient} ms CPU each`);
    if (onA.result.live < N) throw new Error(`only ${onA.result.live}/${N} clients live on A`);
    await sleep(2_000);

    log(`SIGKILL A; every client reconnects to B (${STORM_CONCURRENCY} handshakes in flight)`);
    for (const load of onA.loads) load.expectClose();
    const killedAt = performance.now();
    a.child.kill("SIGKILL");
    // Each client reconnects when it sees its socket drop; the load generator opens them in that order.
    let dropped = 0;
    const dropWait = performance.now() + 10_000;
    const openOnA = () => onA.loads.reduce((a, l) => a + l.openNow, 0);
    while (openOnA() > 0 && performance.now() < dropWait) await sleep(5);
    dropped = N - openOnA();
    report.dropDetectedMs = round(performance.now() - killedAt, 1);
    const received = new Uint8Array(N);
    let heldCount = 0;
    const onB = await phase(b.wsUrl, fixture.tokens, channelIds, STORM_CONCURRENCY, 1, b, killedAt, (i) => {
      if (received[i] === 0) {
        received[i] = 1;
        heldCount++;
      }
    });
    loads.push(...onB.loads);
    report.storm = { ...onB.result, dropped };
    log(`B: ${onB.result.live}/${N} live ${(onB.result.allLiveMs / 1000).toFixed(1)} s after the kill; per client p50 ${onB.result.liveMs.p50.toFixed(0)} / p99 ${onB.result.liveMs.p99.toFixed(0)} ms; ${onB.result.serverCpuMsPerClient} ms CPU each`);

    // Held: one message per channel through B; every client must get its channel's. Its content
    // carries the marker too (escaped in JSON: \"Subscribed-held), so it counts as a receipt
    // after the client's Subscribed.
    const heldStart = performance.now();
    for (const c of channelIds) await b.gql(SEND, { c, t: `"Subscribed-held` }, fixture.ownerToken);
    while (heldCount < onB.result.live && performance.now() - heldStart < 30_000 && !stop()) await sleep(50);
    report.held = { expected: onB.result.live, received: heldCount, ms: Math.round(performance.now() - heldStart) };
    log(`held: ${heldCount}/${onB.result.live}`);
    if (onB.result.live < N || heldCount < onB.result.live) status = "not all back";
  } catch (error) {
    status = stop() ? "stopped" : "failed";
    report.error = String((error as Error)?.stack ?? error);
    log(String(report.error));
  } finally {
    for (const load of loads) load.expectClose();
    if (a?.running) await a.stop(5_000);
    if (b) await b.stop(15_000);
    for (const load of loads) await load.closeAll(2_000);
    if (db) await db.drop().catch(() => {});
    await unlinkRedisPrefix(argv.redis, prefix);
  }
  report.status = status;
  report.loadavg = { ...(report.loadavg as object), end: loadavg() };
  await writeReport(argv.out, "reconnect-storm", LABEL, started, report);
  const storm = report.storm as (Phase & { dropped: number }) | undefined;
  const onA = report.onA as Phase | undefined;
  console.log(`\nReconnect storm, label ${LABEL}, server ${server.commit ?? SERVER_DIR}${server.dirtySrc ? " (src modified)" : ""}, ${machineLine(machine)}, ${N} clients over ${CHANNELS} channels (a guild of ${thousands(MEMBERS)} members), A SIGKILLed, all reconnect to B`);
  console.log("| label | clients | first connect to A: all live s (clients/s), CPU ms each | storm on B: all live after kill s | per client kill → live p50 / p99 / max ms | B CPU ms per reconnect | reconnects/s | connects retried | held | load avg start → end | status |");
  console.log("|---|---|---|---|---|---|---|---|---|---|---|");
  const rate = (p?: Phase, from = 0) => (p && p.allLiveMs > 0 ? thousands(p.live / ((p.allLiveMs - from) / 1000)) : "–");
  const held = report.held as { expected: number; received: number } | undefined;
  const la = report.loadavg as { start: number[]; end: number[] };
  console.log(
    `| ${LABEL} | ${thousands(N)} | ${onA ? `${(onA.allLiveMs / 1000).toFixed(1)} (${rate(onA)}), ${onA.serverCpuMsPerClient}` : "–"} | ${storm ? (storm.allLiveMs / 1000).toFixed(2) : "–"} | ${storm ? `${storm.liveMs.p50.toFixed(0)} / ${storm.liveMs.p99.toFixed(0)} / ${storm.liveMs.max.toFixed(0)}` : "–"} | ${storm?.serverCpuMsPerClient ?? "–"} | ${rate(storm)} | ${storm?.retried ?? "–"} | ${held ? `${thousands(held.received)} / ${thousands(held.expected)}` : "–"} | ${la.start[0]} → ${la.end[0]} | ${status} |`,
  );
  return status === "complete" ? 0 : status === "failed" ? 1 : 2;
}

runMain(main);
