/**
 * S2 end-to-end latency across instances: two Concord instances behind one Redis, an open-loop
 * stream of channel messages sent to both, and the time until each subscriber has each message.
 *
 *   npx tsx bench/end-to-end.ts --rates 50,100,200,400 --channels 50 --subscribers-per-channel 4 --seconds 15
 *     [--store postgres|cassandra] [--server-dir DIR] [--label dev] [--cpu-prof]
 *
 * 1. Instances A and B (child processes from --server-dir, WORKER_ID 1 and 2) share one scratch
 *    Postgres database and the Redis at --redis under a fresh REDIS_KEY_PREFIX (the event bus and
 *    presence). MESSAGE_STORE=postgres, or cassandra with a scratch keyspace (Cassandra must run).
 * 2. An owner creates a guild and --channels − 1 more channels through the API (on A);
 *    channels × subscribers-per-channel bot users are seeded in SQL.
 * 3. Each channel gets its subscribers' sockets, alternately on A and B, each subscribed to
 *    channelEvents of its channel; probe rounds (one message per channel) until every socket
 *    received one of its own channel.
 * 4. Per rate R (messages/s, over all channels): an open-loop generator sends message i at
 *    t0 + i/R whatever the responses (sendMessage over HTTP keep-alive; A and B alternate,
 *    channels round-robin; content "bench:<k>:..."). At most --max-in-flight requests: a message
 *    due while that many are in flight is not sent ("dropped by the generator"). The first
 *    --warmup-s seconds are not measured, then --seconds are. Per delivery: receipt time at the
 *    subscriber − the message's SCHEDULED send time (no coordinated omission). After the window,
 *    up to --drain-s for the remaining deliveries; what is still missing is lost.
 * 5. Escalation stops once p99 > 1 s or more than 1 % of deliveries are lost.
 * Server CPU of A and B, this client's CPU, Redis's CPU and the machine's busy share are taken
 * over each measurement window. With --cpu-prof, A runs under `node --cpu-prof` and its
 * main-thread profile is summarised over the measurement windows (top self-time functions).
 * Writes bench/results/e2e-<label>-<timestamp>.json and prints a Markdown row per rate.
 * Exit code: 0 complete, 1 error, 2 stopped by --timeout-s or Ctrl-C. See bench/README.md.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
// The harness: the servers and their data; measurement and machine facts; options, budget and output.
import { createScratchDatabase, createScratchKeyspace, seedGuild, startConcord, stopAndCollect, type ConcordProcess, type ScratchDatabase, type ScratchKeyspace } from "./lib/harness.js";
import { ClientWindow, CpuWindow, gitFacts, GroupCpuWindow, loadavg, machineFacts, machineLine } from "./lib/harness.js";
import { BENCH_REPO, commonOptions, commonSettings, interruption, intListOption, intOption, log, round, RunBudget, runMain, sleep, thousands, writeReport } from "./lib/harness.js";
import { LatencyHistogram, type LatencySummary } from "./lib/histogram.js";
import { findMainThreadProfile, formatProfileSummary, hrtimeUs, summarizeProfile, type ProfileSummary } from "./lib/cpuprofile.js";
import { WsLoad, type ConnectReport, type WsLoadStats } from "./lib/ws-load.js";

// ------------------------------------------------------------------ options

/** Options that take a value, with their defaults (numbers are checked below). */
const DEFAULTS = {
  rates: "50,100,200,400",
  channels: "50",
  "subscribers-per-channel": "4",
  seconds: "15",
  "warmup-s": "2",
  "drain-s": "10",
  store: "postgres",
  "max-in-flight": "1000",
  "http-connections": "64",
  "http-timeout-s": "30",
  "bound-ms": "200",
  "content-chars": "100",
  redis: process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379",
  cassandra: "127.0.0.1:9042",
  "cassandra-dc": "datacenter1",
};
type ValueOption = keyof typeof DEFAULTS;
const { values: argv } = parseArgs({
  options: {
    ...commonOptions(900),
    ...(Object.fromEntries(Object.entries(DEFAULTS).map(([name, value]) => [name, { type: "string", default: value }])) as Record<ValueOption, { type: "string"; default: string }>),
    "order-window-ms": { type: "string" },
    "cpu-prof": { type: "boolean", default: false },
    "cpu-prof-dir": { type: "string" },
  },
  strict: true,
});
const opt = (name: ValueOption) => String(argv[name]);
const int = (name: ValueOption, min: number, max: number) => intOption(name, opt(name), min, max);

if (argv.help) {
  console.log(`usage: npx tsx bench/end-to-end.ts [--rates 50,100,200,400] [--channels 50] [--subscribers-per-channel 4] [--seconds 15]
  [--warmup-s 2] [--drain-s 10] [--store postgres|cassandra] [--server-dir DIR] [--label dev] [--timeout-s 900]
  [--max-in-flight 1000] [--http-connections 64 (keep-alive sockets per instance)] [--http-timeout-s 30] [--bound-ms 200]
  [--content-chars 100] [--order-window-ms N (CHANNEL_ORDER_WINDOW_MS, for servers before the sequenced bus; default: the server's)] [--cpu-prof] [--cpu-prof-dir DIR]
  [--pg-url URL] [--redis URL] [--cassandra host:port] [--cassandra-dc datacenter1] [--out DIR]`);
  process.exit(0);
}

const RATES = intListOption("rates", opt("rates"), 1, 100_000);
const CHANNELS = int("channels", 1, 10_000);
const PER_CHANNEL = int("subscribers-per-channel", 1, 200);
const SECONDS = int("seconds", 1, 3_600);
const WARMUP_S = int("warmup-s", 0, 600);
const DRAIN_MS = int("drain-s", 1, 600) * 1000;
const MAX_IN_FLIGHT = int("max-in-flight", 1, 100_000);
const HTTP_CONNECTIONS = int("http-connections", 1, 10_000);
const HTTP_TIMEOUT_MS = int("http-timeout-s", 1, 600) * 1000;
const BOUND_MS = int("bound-ms", 1, 60_000);
const CONTENT_CHARS = int("content-chars", 20, 2_000);
const ORDER_WINDOW_MS = argv["order-window-ms"] === undefined ? undefined : intOption("order-window-ms", argv["order-window-ms"], 0, 1_000);
const { serverDir: SERVER_DIR, label: LABEL, timeoutMs: TIMEOUT_MS } = commonSettings(argv);
const STORE = opt("store");
if (STORE !== "postgres" && STORE !== "cassandra") {
  console.error(`--store: expected postgres or cassandra, got ${JSON.stringify(STORE)}`);
  process.exit(1);
}
const SOCKETS = CHANNELS * PER_CHANNEL;
/** Escalation stops past these. */
const STOP_P99_MS = 1_000;
const STOP_LOSS = 0.01;

const budget = new RunBudget(TIMEOUT_MS);
const stop = budget.stop;

const SUBSCRIPTION = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageCreated { message { id content createdAt author { id username } } } } }`;
const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;
const FILLER = " the quick brown fox jumps over the lazy dog".repeat(50);
/** "bench:<k>:" and filler, CONTENT_CHARS long, never ending in a space (Concord trims). */
const contentOf = (k: number) => `bench:${k}:${FILLER}`.slice(0, CONTENT_CHARS).replace(/ $/, ".");

// ------------------------------------------------------------------ messages and receipts

/** Socket g: channel g / PER_CHANNEL, slot g % PER_CHANNEL; even slots on A, odd slots on B. */
const channelOfSocket = (g: number) => Math.floor(g / PER_CHANNEL);
const instanceOfSocket = (g: number) => (g % PER_CHANNEL) % 2;

/** What message k is for, and what became of its request (Messages.phase / .state). */
const Phase = { probe: 0, warmup: 1, measured: 2 } as const;
const State = { inFlight: 0, sent: 1, failed: 2, dropped: 3 } as const;

/** Message k (every message this run sends, probes included), in flat typed arrays. */
class Messages {
  count = 0;
  scheduled: Float64Array;
  channel: Int32Array;
  instance: Uint8Array;
  phase: Uint8Array;
  step: Int16Array;
  state: Uint8Array;
  received: Uint16Array;
  /** k * PER_CHANNEL + slot: 1 once that subscriber has message k. */
  got: Uint8Array;

  constructor(capacity: number) {
    this.scheduled = new Float64Array(capacity);
    this.channel = new Int32Array(capacity);
    this.instance = new Uint8Array(capacity);
    this.phase = new Uint8Array(capacity);
    this.step = new Int16Array(capacity);
    this.state = new Uint8Array(capacity);
    this.received = new Uint16Array(capacity);
    this.got = new Uint8Array(capacity * PER_CHANNEL);
  }

  add(scheduled: number, channel: number, instance: number, phase: number, step: number): number {
    const k = this.count++;
    if (k >= this.scheduled.length) throw new Error(`more than ${this.scheduled.length} messages`);
    this.scheduled[k] = scheduled;
    this.channel[k] = channel;
    this.instance[k] = instance;
    this.phase[k] = phase;
    this.step[k] = step;
    return k;
  }
}

/** What one rate step records while it runs. */
class StepRecorder {
  open = true;
  readonly all = new LatencyHistogram();
  readonly sameInstance = new LatencyHistogram();
  readonly crossInstance = new LatencyHistogram();
  /** Every measured delivery's latency, for the percentile that counts lost deliveries as never arriving. */
  readonly values: number[] = [];
  lateAfterDrain = 0;

  record(ms: number, cross: boolean): void {
    const v = Math.max(0, ms);
    this.all.recordMs(v);
    (cross ? this.crossInstance : this.sameInstance).recordMs(v);
    this.values.push(v);
  }

  destroy(): void {
    for (const h of [this.all, this.sameInstance, this.crossInstance]) h.destroy();
  }
}

const receipts = { unknown: 0, misrouted: 0, duplicates: 0, reordered: 0 };
const confirmed = new Uint8Array(SOCKETS);
let confirmedCount = 0;
const lastSeqOfSocket = new Float64Array(SOCKETS).fill(-1);
const recorders: StepRecorder[] = [];
let messages: Messages;

function onReceipt(g: number, k: number, at: number): void {
  const m = messages;
  if (k >= m.count) {
    receipts.unknown++;
    return;
  }
  if (m.channel[k] !== channelOfSocket(g)) {
    receipts.misrouted++;
    return;
  }
  const slot = k * PER_CHANNEL + (g % PER_CHANNEL);
  if (m.got[slot]) {
    receipts.duplicates++;
    return;
  }
  m.got[slot] = 1;
  m.received[k] = m.received[k]! + 1;
  if (k < lastSeqOfSocket[g]!) receipts.reordered++;
  else lastSeqOfSocket[g] = k;
  if (m.phase[k] === Phase.probe) {
    if (!confirmed[g]) {
      confirmed[g] = 1;
      confirmedCount++;
    }
  } else if (m.phase[k] === Phase.measured) {
    const recorder = recorders[m.step[k]!]!;
    if (recorder.open) recorder.record(at - m.scheduled[k]!, m.instance[k] !== instanceOfSocket(g));
    else recorder.lateAfterDrain++;
  }
}

// ------------------------------------------------------------------ sending over HTTP keep-alive

interface SendOutcome {
  ok: boolean;
  /** Request start → response end (or failure). */
  ms: number;
  /** "http 500", "graphql BAD_USER_INPUT", "timeout", "ECONNRESET", ... */
  error?: string;
  sample?: string;
}

/** sendMessage over one keep-alive agent per instance (node:http: less client CPU than fetch). */
class Sender {
  private readonly agent: http.Agent;
  constructor(readonly server: ConcordProcess) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: HTTP_CONNECTIONS });
  }

  send(channelId: string, content: string, token: string): Promise<SendOutcome> {
    const body = JSON.stringify({ query: SEND, variables: { c: channelId, t: content } });
    const started = performance.now();
    return new Promise((settle) => {
      const resolve = (o: Omit<SendOutcome, "ms">) => settle({ ...o, ms: performance.now() - started });
      const req = http.request(
        {
          host: "127.0.0.1",
          port: this.server.port,
          path: "/graphql",
          method: "POST",
          agent: this.agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization: `Bearer ${token}` },
          timeout: HTTP_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            if (res.statusCode !== 200) resolve({ ok: false, error: `http ${res.statusCode}`, sample: text.slice(0, 300) });
            else if (text.includes('"errors"')) resolve({ ok: false, error: `graphql ${/"code":"(\w+)"/.exec(text)?.[1] ?? "error"}`, sample: text.slice(0, 300) });
            else resolve({ ok: true });
          });
          res.on("error", (e: NodeJS.ErrnoException) => resolve({ ok: false, error: e.code ?? e.message.slice(0, 60) }));
        },
      );
      req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "timeout" })));
      req.on("error", (e: NodeJS.ErrnoException) => resolve({ ok: false, error: e.code ?? e.message.slice(0, 60) }));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

// ------------------------------------------------------------------ CPU of other parties

/** Busy and total jiffies of the whole machine (/proc/stat). */
function machineJiffies(): { busy: number; total: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
}

async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info("cpu");
  const get = (key: string) => Number(new RegExp(`^${key}:([\\d.]+)`, "m").exec(info)?.[1] ?? NaN);
  return (get("used_cpu_user") + get("used_cpu_sys")) * 1000;
}

// ------------------------------------------------------------------ one rate

interface CpuShare {
  cpuMs: number;
  /** Cores used on average over the window (1 = one core fully busy). */
  cores: number;
}

interface StepResult {
  rate: number;
  status: "complete" | "stopped" | "timeout" | "interrupted";
  /** Why escalation stopped after this rate, if it did. */
  stopReason?: string;
  /** Measured window, messages due. */
  scheduled: number;
  sent: number;
  droppedByGenerator: number;
  httpErrors: number;
  httpErrorKinds: Record<string, number>;
  httpErrorSamples: string[];
  warmupMessages: number;
  /** Measured deliveries: scheduled × subscribers per channel. */
  expected: number;
  received: number;
  lost: number;
  lostFraction: number;
  /** Lost deliveries by cause: messages never sent (generator), sends that failed, sent messages that did not arrive. */
  lostBy: { generator: number; httpError: number; notDelivered: number };
  lateAfterDrain: number;
  drainMs: number;
  /** Per delivery: receipt − scheduled send time. */
  latencyMs: LatencySummary;
  /** Percentiles over every expected delivery, a lost one counting as never arriving (Infinity when more than 1 − p are lost). */
  withLostMs: { p50: number; p99: number; p999: number };
  /** Subscriber on the instance that took the sendMessage / on the other one (through Redis). */
  sameInstanceMs: LatencySummary;
  crossInstanceMs: LatencySummary;
  /** sendMessage: request start → response end, measured messages. */
  sendResponseMs: LatencySummary;
  /** Generator: actual request start − scheduled time (how late this client sent). */
  generatorLagMs: LatencySummary;
  maxInFlight: number;
  withinBound: boolean;
  cpu: {
    wallMs: number;
    a: CpuShare;
    b: CpuShare;
    client: ReturnType<ClientWindow["take"]>;
    redis: CpuShare;
    /** Every `postgres` process of the host (other users' backends included). */
    postgres: CpuShare & { processes: number };
    /** The Cassandra JVM (--store cassandra). */
    cassandra?: CpuShare;
    /** The whole machine: busy share of all CPUs (1 = every core busy), and busy cores. */
    machineBusy: number;
    machineBusyCores: number;
  };
  loadavg: { start: [number, number, number]; end: [number, number, number] };
}

/** Nearest-rank percentile over `expected` deliveries of which `values` arrived (the rest count as infinite). */
function percentileWithLost(values: number[], expected: number, p: number): number {
  if (expected === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * expected));
  if (rank > values.length) return Infinity;
  return round(values[rank - 1]!, 3);
}

interface Rig {
  a: ConcordProcess;
  b: ConcordProcess;
  senders: [Sender, Sender];
  channelIds: string[];
  tokens: string[];
  redis: Redis;
  profileWindows: [number, number][];
}

/** Socket (and so user) whose token sends message i of a step: rotates over the channel's subscribers. */
const authorOf = (channel: number, i: number) => channel * PER_CHANNEL + (Math.floor(i / CHANNELS) % PER_CHANNEL);

async function runRate(rig: Rig, stepIndex: number, rate: number): Promise<StepResult> {
  const recorder = new StepRecorder();
  recorders[stepIndex] = recorder;
  const lag = new LatencyHistogram();
  const response = new LatencyHistogram();
  const intervalMs = 1000 / rate;
  const warmupCount = Math.round(rate * WARMUP_S);
  const total = warmupCount + Math.round(rate * SECONDS);
  const errorKinds: Record<string, number> = {};
  const errorSamples: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const firstK = messages.count;

  const cpuA = new CpuWindow(rig.a.pid);
  const cpuB = new CpuWindow(rig.b.pid);
  const cpuPostgres = new GroupCpuWindow((comm) => comm === "postgres");
  const cpuCassandra = STORE === "cassandra" ? new GroupCpuWindow((comm, cmdline) => comm === "java" && cmdline.includes("cassandra")) : undefined;
  const client = new ClientWindow();
  let redisStart = NaN;
  let machineStart = machineJiffies();
  let windowStartUs = 0;
  const loadStart = loadavg();
  const startWindows = () => {
    cpuA.start();
    cpuB.start();
    cpuPostgres.start();
    cpuCassandra?.start();
    client.start();
    machineStart = machineJiffies();
    windowStartUs = hrtimeUs();
    void redisCpuMs(rig.redis).then((v) => (redisStart = v), () => {});
  };

  const fire = (i: number, scheduled: number) => {
    const channel = i % CHANNELS;
    // Alternate instances, shifted by one every pass over the channels, so each channel gets both.
    const instance = (i + Math.floor(i / CHANNELS)) % 2;
    const k = messages.add(scheduled, channel, instance, i < warmupCount ? Phase.warmup : Phase.measured, stepIndex);
    if (inFlight >= MAX_IN_FLIGHT) {
      messages.state[k] = State.dropped;
      return;
    }
    inFlight++;
    if (inFlight > maxInFlight) maxInFlight = inFlight;
    lag.recordMs(Math.max(0, performance.now() - scheduled));
    void rig.senders[instance]!.send(rig.channelIds[channel]!, contentOf(k), rig.tokens[authorOf(channel, i)]!).then((outcome) => {
      inFlight--;
      if (i >= warmupCount) response.recordMs(outcome.ms);
      messages.state[k] = outcome.ok ? State.sent : State.failed;
      if (!outcome.ok) {
        errorKinds[outcome.error!] = (errorKinds[outcome.error!] ?? 0) + 1;
        if (errorSamples.length < 5) errorSamples.push(`${outcome.error}: ${outcome.sample ?? ""}`);
      }
    });
  };

  // The open-loop schedule: message i is due at t0 + i / rate, sent then whatever came back.
  const t0 = performance.now() + 20;
  const windowEnd = t0 + total * intervalMs;
  let i = 0;
  while (i < total && !stop()) {
    const now = performance.now();
    while (i < total) {
      const due = t0 + i * intervalMs;
      if (due > now) break;
      if (i === warmupCount) startWindows();
      fire(i, due);
      i++;
    }
    if (i < total) await sleep(Math.max(1, Math.floor(t0 + i * intervalMs - performance.now())));
  }
  if (windowStartUs === 0) startWindows();
  while (performance.now() < windowEnd && !stop()) await sleep(Math.min(50, windowEnd - performance.now()));
  const a = cpuA.take();
  const b = cpuB.take();
  const postgres = cpuPostgres.take();
  const cassandra = cpuCassandra?.take();
  const clientTaken = client.take();
  const machineEnd = machineJiffies();
  const redisEnd = await redisCpuMs(rig.redis).catch(() => NaN);
  rig.profileWindows.push([windowStartUs, hrtimeUs()]);

  // Drain: in-flight requests and the deliveries of every message sent.
  const drainStart = performance.now();
  const outstanding = () => {
    if (inFlight > 0) return true;
    for (let k = firstK; k < messages.count; k++) if (messages.state[k] === State.sent && messages.received[k]! < PER_CHANNEL) return true;
    return false;
  };
  while (outstanding() && performance.now() - drainStart < DRAIN_MS && !interruption.interrupted) await sleep(25);
  recorder.open = false;
  const drainMs = Math.round(performance.now() - drainStart);

  // Measured messages: due, sent (not dropped), deliveries received, and missing deliveries of
  // messages whose send did not fail (answered, or still in flight after the drain).
  const n = { scheduled: 0, sent: 0, dropped: 0, received: 0, notDelivered: 0 };
  for (let k = firstK; k < messages.count; k++) {
    if (messages.phase[k] !== Phase.measured) continue;
    n.scheduled++;
    n.received += messages.received[k]!;
    if (messages.state[k] === State.dropped) n.dropped++;
    else n.sent++;
    if (messages.state[k] === State.sent || messages.state[k] === State.inFlight) n.notDelivered += PER_CHANNEL - messages.received[k]!;
  }
  const { scheduled, sent, dropped, received, notDelivered } = n;
  const expected = scheduled * PER_CHANNEL;
  const lost = expected - received;
  recorder.values.sort((x, y) => x - y);
  const wallMs = a.wallMs;
  const share = (cpuMs: number): CpuShare => ({ cpuMs: round(cpuMs, 0), cores: round(cpuMs / Math.max(1, wallMs), 2) });
  const busy = (machineEnd.busy - machineStart.busy) / Math.max(1, machineEnd.total - machineStart.total);
  const result: StepResult = {
    rate,
    status: budget.stoppedBy ?? "complete",
    scheduled,
    sent,
    droppedByGenerator: dropped,
    httpErrors: Object.values(errorKinds).reduce((x, y) => x + y, 0),
    httpErrorKinds: errorKinds,
    httpErrorSamples: errorSamples,
    warmupMessages: warmupCount,
    expected,
    received,
    lost,
    lostFraction: expected > 0 ? round(lost / expected, 5) : 0,
    lostBy: { generator: dropped * PER_CHANNEL, httpError: lost - dropped * PER_CHANNEL - notDelivered, notDelivered },
    lateAfterDrain: 0,
    drainMs,
    latencyMs: recorder.all.summary(),
    withLostMs: { p50: percentileWithLost(recorder.values, expected, 50), p99: percentileWithLost(recorder.values, expected, 99), p999: percentileWithLost(recorder.values, expected, 99.9) },
    sameInstanceMs: recorder.sameInstance.summary(),
    crossInstanceMs: recorder.crossInstance.summary(),
    sendResponseMs: response.summary(),
    generatorLagMs: lag.summary(),
    maxInFlight,
    withinBound: false,
    cpu: {
      wallMs,
      a: share(a.cpuMs),
      b: share(b.cpuMs),
      client: clientTaken,
      redis: share(redisEnd - redisStart),
      postgres: { ...share(postgres.cpuMs), processes: postgres.processes },
      ...(cassandra ? { cassandra: share(cassandra.cpuMs) } : {}),
      machineBusy: round(busy, 3),
      machineBusyCores: round(busy * os.cpus().length, 2),
    },
    loadavg: { start: loadStart, end: loadavg() },
  };
  result.withinBound = result.status === "complete" && result.withLostMs.p99 < BOUND_MS;
  lag.destroy();
  response.destroy();
  return result;
}

// ------------------------------------------------------------------ set-up and probes

/** Probe rounds: one message per channel (8 in flight, A and B alternating) until every open socket got one of its channel. */
async function probe(rig: Rig, loads: WsLoad[]): Promise<{ rounds: number; ms: number; subscribed: number }> {
  const started = performance.now();
  const openSockets = () => loads.reduce((n, l) => n + l.openNow, 0);
  let rounds = 0;
  while (confirmedCount < openSockets() && rounds < 20 && !stop()) {
    rounds++;
    let next = 0;
    const worker = async () => {
      for (let c = next++; c < CHANNELS; c = next++) {
        const instance = (c + rounds) % 2;
        const k = messages.add(performance.now(), c, instance, Phase.probe, -1);
        const outcome = await rig.senders[instance]!.send(rig.channelIds[c]!, contentOf(k), rig.tokens[authorOf(c, rounds)]!);
        messages.state[k] = outcome.ok ? State.sent : State.failed;
        if (!outcome.ok) log(`probe to channel ${c} failed: ${outcome.error} ${outcome.sample ?? ""}`);
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, CHANNELS) }, worker));
    const sent = performance.now();
    while (confirmedCount < openSockets() && performance.now() - sent < 3_000 && !stop()) await sleep(25);
  }
  return { rounds, ms: Math.round(performance.now() - started), subscribed: confirmedCount };
}

// ------------------------------------------------------------------ report

const ms = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? "–" : v === Infinity ? "∞" : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const pct = (cores: number) => (Number.isNaN(cores) ? "–" : `${Math.round(cores * 100)}`);

const TABLE_HEADER =
  "| label | rate msg/s | sent / dropped / HTTP errors | deliveries received / expected (lost) | delivery p50 / p99 / p99.9 / max ms | p99 same / cross instance ms | sendMessage p50 / p99 ms | CPU % A / B / Redis / Postgres / client | machine busy % | p99 < bound | status |\n" +
  "|---|---|---|---|---|---|---|---|---|---|---|";

function tableRow(s: StepResult): string {
  const l = s.latencyMs;
  const lost = s.lost > 0 ? `${thousands(s.lost)}, ${round(s.lostFraction * 100, 2)} %` : "0";
  return (
    `| ${LABEL} | ${thousands(s.rate)} | ${thousands(s.sent)} / ${s.droppedByGenerator} / ${s.httpErrors} | ${thousands(s.received)} / ${thousands(s.expected)} (${lost}) | ` +
    `${ms(l.p50)} / ${ms(s.withLostMs.p99)} / ${ms(s.withLostMs.p999)} / ${ms(l.max)} | ${ms(s.sameInstanceMs.p99)} / ${ms(s.crossInstanceMs.p99)} | ${ms(s.sendResponseMs.p50)} / ${ms(s.sendResponseMs.p99)} | ` +
    `${pct(s.cpu.a.cores)} / ${pct(s.cpu.b.cores)} / ${pct(s.cpu.redis.cores)} / ${pct(s.cpu.postgres.cores)} / ${pct(s.cpu.client.cores)} | ${Math.round(s.cpu.machineBusy * 100)} | ${s.withinBound ? "yes" : "no"} | ${s.stopReason ? `${s.status}, ${s.stopReason}` : s.status} |`
  );
}

// ------------------------------------------------------------------ main

async function main(): Promise<number> {
  const machine = machineFacts();
  const server = gitFacts(SERVER_DIR);
  const started = new Date();
  const stamp = started.toISOString().replace(/[:.]/g, "-");
  const prefix = `concord_bench_${randomBytes(5).toString("hex")}:`;
  const profDir = argv["cpu-prof"] ? path.resolve(argv["cpu-prof-dir"] ?? path.join(os.tmpdir(), `concord-e2e-cpuprof-${stamp}`)) : undefined;
  log(
    `end-to-end S2: rates ${RATES.join(", ")} msg/s, ${CHANNELS} channels × ${PER_CHANNEL} subscribers, ${WARMUP_S} s warm-up + ${SECONDS} s per rate, store ${STORE}, ` +
      `server ${SERVER_DIR} (${server.commit ?? "not git"}${server.dirtySrc ? ", src modified" : ""}), label ${LABEL}, timeout ${TIMEOUT_MS / 1000} s`,
  );
  const maxMessages = CHANNELS * 21 + RATES.reduce((n, r) => n + Math.round(r * WARMUP_S) + Math.round(r * SECONDS), 0) + 16;
  messages = new Messages(maxMessages);

  const steps: StepResult[] = [];
  const report: Record<string, unknown> = {
    scenario: "S2 end-to-end",
    label: LABEL,
    startedAt: started.toISOString(),
    settings: {
      rates: RATES,
      channels: CHANNELS,
      subscribersPerChannel: PER_CHANNEL,
      sockets: SOCKETS,
      seconds: SECONDS,
      warmupS: WARMUP_S,
      drainS: DRAIN_MS / 1000,
      store: STORE,
      maxInFlight: MAX_IN_FLIGHT,
      httpConnectionsPerInstance: HTTP_CONNECTIONS,
      httpTimeoutS: HTTP_TIMEOUT_MS / 1000,
      boundMs: BOUND_MS,
      contentChars: CONTENT_CHARS,
      cpuProf: profDir ?? false,
      subscription: SUBSCRIPTION,
      mutation: SEND,
    },
    server: { dir: SERVER_DIR, ...server },
    bench: gitFacts(BENCH_REPO),
    machine,
  };

  let db: ScratchDatabase | undefined;
  let keyspace: ScratchKeyspace | undefined;
  let a: ConcordProcess | undefined;
  let b: ConcordProcess | undefined;
  const loads: WsLoad[] = [];
  const redis = new Redis(opt("redis"), { lazyConnect: true, maxRetriesPerRequest: 2 });
  let redisClean = false;
  /** Every key under the run's prefix: counted, or unlinked. */
  const prefixKeys = async (unlink: boolean) => {
    let n = 0;
    for (let cursor = "0"; ; ) {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      n += keys.length > 0 && unlink ? await redis.unlink(...keys) : keys.length;
      cursor = next;
      if (cursor === "0") break;
    }
    if (unlink) redisClean = true;
    return n;
  };
  // Last resort (crash, second Ctrl-C): synchronous, like the harness's database drop.
  process.once("exit", () => {
    if (redisClean) return;
    spawnSync("sh", ["-c", `redis-cli -u "$1" --scan --pattern "$2*" | xargs -r redis-cli -u "$1" unlink`, "sh", opt("redis"), prefix], { stdio: "ignore", timeout: 10_000 });
  });
  let senders: [Sender, Sender] | undefined;
  let exitCode = 0;
  const rig: Partial<Rig> = { profileWindows: [] };
  let profileWindowOk: { profileStartUs?: number; aSpawnUs: number; aReadyUs: number } | undefined;
  try {
    await redis.connect();
    if (STORE === "cassandra") {
      keyspace = await createScratchKeyspace(opt("cassandra"), opt("cassandra-dc"));
      report.keyspace = { name: keyspace.name, releaseVersion: keyspace.releaseVersion };
    }
    db = await createScratchDatabase(argv["pg-url"]);
    report.database = db.name;
    report.redisKeyPrefix = prefix;
    const env: Record<string, string> = {
      LOG_LEVEL: "warn",
      PASSWORD_HASH_COST: "10",
      DATABASE_URL: db.url,
      REDIS_URL: opt("redis"),
      REDIS_KEY_PREFIX: prefix,
      MESSAGE_STORE: STORE,
      ...(ORDER_WINDOW_MS !== undefined ? { CHANNEL_ORDER_WINDOW_MS: String(ORDER_WINDOW_MS) } : {}),
      ...(keyspace ? { CASSANDRA_CONTACT_POINTS: opt("cassandra"), CASSANDRA_LOCAL_DC: opt("cassandra-dc"), CASSANDRA_KEYSPACE: keyspace.name, CASSANDRA_REPLICATION: "SimpleStrategy:1" } : {}),
    };
    report.concordEnv = { ...env, WORKER_ID: "1 (A) / 2 (B)", CHANNEL_ORDER_WINDOW_MS: env.CHANNEL_ORDER_WINDOW_MS ?? "(server default)" };
    log(`database ${db.name}, Redis prefix ${prefix}${keyspace ? `, keyspace ${keyspace.name}` : ""}; starting A${profDir ? ` (--cpu-prof into ${profDir})` : ""}`);
    const previousNodeArgs = process.env.BENCH_SERVER_NODE_ARGS;
    const aSpawnUs = hrtimeUs();
    if (profDir) process.env.BENCH_SERVER_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${profDir}`;
    try {
      // A first: it runs the migrations (Postgres, and the keyspace) before B starts.
      a = await startConcord(SERVER_DIR, { ...env, WORKER_ID: "1" });
    } finally {
      if (previousNodeArgs === undefined) delete process.env.BENCH_SERVER_NODE_ARGS;
      else process.env.BENCH_SERVER_NODE_ARGS = previousNodeArgs;
    }
    profileWindowOk = { aSpawnUs, aReadyUs: hrtimeUs() };
    b = await startConcord(SERVER_DIR, { ...env, WORKER_ID: "2" });
    log(`A pid ${a.pid} port ${a.port}, B pid ${b.pid} port ${b.port}; creating ${CHANNELS} channels, seeding ${SOCKETS} users`);
    const fixture = await seedGuild(a, db.url, SOCKETS, CHANNELS - 1);
    report.seedMs = fixture.seedMs;
    senders = [new Sender(a), new Sender(b)];
    Object.assign(rig, { a, b, senders, channelIds: fixture.channelIds.slice(0, CHANNELS), tokens: fixture.tokens, redis });
    const full = rig as Rig;

    // Sockets: even slots of each channel on A, odd slots on B.
    const connects: Record<string, ConnectReport> = {};
    for (const [instance, server_] of [a, b].entries()) {
      const globals: number[] = [];
      for (let g = 0; g < SOCKETS; g++) if (instanceOfSocket(g) === instance) globals.push(g);
      if (globals.length === 0) continue;
      loads.push(
        new WsLoad({
          url: server_.wsUrl,
          count: globals.length,
          mode: "graphql-ws",
          token: (i) => fixture.tokens[globals[i]!]!,
          subscription: { query: SUBSCRIPTION, variables: (i) => ({ c: full.channelIds[channelOfSocket(globals[i]!)] }) },
          addressOffset: instance,
          onReceipt: (i, k, at) => onReceipt(globals[i]!, k, at),
          shouldStop: stop,
        }),
      );
    }
    const reports = await Promise.all(loads.map((l) => l.connectAll()));
    reports.forEach((r, i) => (connects[i === 0 ? "a" : "b"] = r));
    report.connect = connects;
    log(`sockets: ${reports.map((r, i) => `${i === 0 ? "A" : "B"} ${r.ready}/${r.requested}${r.failed ? ` (${JSON.stringify(r.failures)})` : ""}`).join(", ")}`);
    if (reports.some((r) => r.ready === 0)) throw new Error(`sockets did not connect: ${JSON.stringify(reports.map((r) => r.failures))}`);

    const probed = await probe(full, loads);
    report.subscribe = { ...probed, redisKeysUnderPrefix: await prefixKeys(false) };
    log(`${probed.subscribed}/${SOCKETS} sockets subscribed after ${probed.rounds} probe rounds (${(probed.ms / 1000).toFixed(1)} s)`);
    if (probed.subscribed < SOCKETS) log(`warning: ${SOCKETS - probed.subscribed} sockets never got a probe: their deliveries will count as lost`);
    await sleep(500);

    for (const [index, rate] of RATES.entries()) {
      if (stop()) break;
      log(`rate ${rate} msg/s: ${WARMUP_S} s warm-up + ${SECONDS} s measured (load average ${loadavg().join(" ")})`);
      const step = await runRate(full, index, rate);
      steps.push(step);
      log(
        `rate ${rate}: p50 ${ms(step.latencyMs.p50)} / p99 ${ms(step.withLostMs.p99)} / max ${ms(step.latencyMs.max)} ms, ${step.received}/${step.expected} delivered, ` +
          `${step.droppedByGenerator} dropped, ${step.httpErrors} HTTP errors, CPU A ${pct(step.cpu.a.cores)} % B ${pct(step.cpu.b.cores)} %, machine ${Math.round(step.cpu.machineBusy * 100)} %`,
      );
      if (step.latencyMs.p99 > STOP_P99_MS || step.withLostMs.p99 > STOP_P99_MS) step.stopReason = `p99 > ${STOP_P99_MS} ms`;
      else if (step.lostFraction > STOP_LOSS) step.stopReason = `lost > ${STOP_LOSS * 100} %`;
      if (step.stopReason) {
        step.status = "stopped";
        log(`stopping the escalation: ${step.stopReason}`);
        break;
      }
      await sleep(1_000);
    }
    for (const [index, step] of steps.entries()) step.lateAfterDrain = recorders[index]?.lateAfterDrain ?? 0;
  } catch (error) {
    exitCode = 1;
    report.error = String((error as Error)?.stack ?? error);
    log(`error: ${report.error}`);
  } finally {
    for (const l of loads) l.expectClose();
    const logs: Record<string, unknown> = {};
    for (const [name, proc] of [["a", a], ["b", b]] as const) {
      if (!proc) continue;
      // A writes its profile as it exits (within the 15 s before SIGKILL).
      logs[name] = await stopAndCollect(proc);
    }
    report.serverLogs = logs;
    await Promise.all(loads.map((l) => l.closeAll(5_000)));
    report.wsStats = loads.map((l): WsLoadStats => l.stats);
    report.receipts = receipts;
    senders?.forEach((s) => s.close());
    const cleanup: Record<string, unknown> = {};
    if (db) await db.drop().then(() => (cleanup.database = "dropped"), (e: unknown) => (cleanup.database = `not dropped: ${String(e)}`));
    await prefixKeys(true).then((n) => (cleanup.redisKeysRemoved = n), (e: unknown) => (cleanup.redis = `not cleaned: ${String(e)}`));
    redis.disconnect();
    if (keyspace) await keyspace.drop().then(() => (cleanup.keyspace = "dropped"), (e: unknown) => (cleanup.keyspace = `not dropped: ${String(e)}`));
    report.cleanup = cleanup;
    for (const r of recorders) r?.destroy();
  }

  // Where A's CPU went (and how much A used in the windows, all threads, for scale).
  const aCpuMsInWindows = () => steps.reduce((sum, step) => sum + step.cpu.a.cpuMs, 0);
  let profile: ProfileSummary | undefined;
  if (profDir && a) {
    const file = findMainThreadProfile(profDir, a.pid);
    if (!file) report.profile = { error: `no .cpuprofile in ${profDir}` };
    else {
      try {
        const startTime = (JSON.parse(readFileSync(file, "utf8")) as { startTime: number }).startTime;
        const w = profileWindowOk!;
        // The profile's clock must be this process's monotonic clock: its start lies between A's spawn and A's readiness.
        const sameClock = startTime >= w.aSpawnUs - 1e6 && startTime <= w.aReadyUs;
        const windows = sameClock && rig.profileWindows!.length > 0 ? rig.profileWindows : undefined;
        profile = summarizeProfile(file, { root: SERVER_DIR, windows, note: windows ? undefined : "profile clock not comparable, or no window: whole profile" });
        report.profile = { ...profile, windowsUs: rig.profileWindows, aCpuMsInWindows: aCpuMsInWindows() };
      } catch (error) {
        report.profile = { error: String(error) };
      }
    }
  }

  report.finishedAt = new Date().toISOString();
  report.stoppedBy = budget.stoppedBy;
  report.machine = { ...machine, loadavgAtEnd: loadavg() };
  const best = steps.filter((s) => s.withinBound).reduce<number | undefined>((m, s) => (m === undefined || s.rate > m ? s.rate : m), undefined);
  report.highestRateWithinBound = best ?? null;
  report.steps = steps;
  // JSON has no Infinity (a percentile beyond the deliveries that arrived): written as "Infinity".
  await writeReport(argv.out, "e2e", LABEL, started, JSON.parse(JSON.stringify(report, (_k, v: unknown) => (v === Infinity ? "Infinity" : v))));

  console.log(
    `\nS2 end-to-end, label ${LABEL}, server ${server.commit ?? SERVER_DIR}${server.dirtySrc ? " (src modified)" : ""}, ${machineLine(machine)}; ` +
      `2 instances (A, B) + Redis, store ${STORE}; ${CHANNELS} channels × ${PER_CHANNEL} subscribers (${SOCKETS} sockets, alternately on A and B); ` +
      `open loop, ${WARMUP_S} s warm-up + ${SECONDS} s per rate, ${CONTENT_CHARS}-char messages, A/B alternating; latency = receipt − scheduled send; ` +
      `p99 / p99.9 count lost deliveries as never arriving; CPU % of one core${profDir ? "; A ran under --cpu-prof" : ""}`,
  );
  console.log(TABLE_HEADER);
  for (const s of steps) console.log(tableRow(s));
  console.log(`\nhighest rate with p99 < ${BOUND_MS} ms: ${best === undefined ? "none of the rates run" : `${thousands(best)} msg/s`}`);
  if (profile) {
    console.log(`\nWhere A's CPU goes:\n\n${formatProfileSummary(profile)}`);
    console.log(`\nA's process (all threads: main, GC helpers, JIT compilers, libuv pool, the profiler) used ${thousands(aCpuMsInWindows())} ms of CPU in the measurement windows (/proc).`);
  }
  if (exitCode !== 0) return exitCode;
  return budget.stoppedBy ? 2 : 0;
}

runMain(main);
