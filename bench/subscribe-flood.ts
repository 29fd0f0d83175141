/**
 * S6 subscribe flood (the issue's D1 scenario): while one user sends messages at a steady rate,
 * another opens one WebSocket and asks for N `channelEvents` subscriptions at once. Does the
 * bystander notice?
 *
 *   npx tsx bench/subscribe-flood.ts [--database embedded,postgres] [--subscriptions 3000] [--rate 10]
 *     [--baseline-s 15] [--flood-s 20] [--server-dir DIR] [--label dev]
 *
 * Per database (one after the other): Concord from --server-dir with its default limits on (only
 * the bystander's send budgets raised, so its own rate is never what is refused), on the
 * embedded PGlite (`DATA_DIR=memory://`, what `npm start` runs) or a scratch Postgres database.
 * Through the API: a bystander with a guild of its own, an attacker with another.
 *   1. Baseline: the bystander sends `--rate` messages per second, open loop (each send starts
 *      on schedule whether or not the previous one answered), for --baseline-s; latency = request
 *      start to the end of its response, over HTTP keep-alive.
 *   2. Flood: the attacker connects (graphql-transport-ws by hand), then writes N subscribe
 *      messages at once; the bystander goes on sending for --flood-s, latencies recorded apart.
 *      The attacker's answers are counted by kind (error code, or none: a live subscription) and
 *      its socket's close code kept; server CPU and RSS are read at both ends.
 * The verdict compares the flood's send p99 with the baseline's: the goal is at most 2x.
 * Writes bench/results/subscribe-flood-<label>-<timestamp>.json and prints a Markdown row per
 * database. Exit 0 when complete (whatever the verdict), 1 on an error, 2 when stopped.
 */
import http from "node:http";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import {
  commonOptions,
  commonSettings,
  CpuWindow,
  createScratchDatabase,
  gitFacts,
  log,
  machineFacts,
  machineLine,
  procStatusKb,
  round,
  RunBudget,
  runMain,
  sleep,
  startConcord,
  stopAndCollect,
  writeReport,
  intOption,
  type ConcordProcess,
  type ScratchDatabase,
} from "./lib/harness.js";
import { LatencyHistogram, type LatencySummary } from "./lib/histogram.js";

const { values: argv } = parseArgs({
  options: {
    database: { type: "string", default: "embedded,postgres" },
    subscriptions: { type: "string", default: "3000" },
    rate: { type: "string", default: "10" },
    "baseline-s": { type: "string", default: "15" },
    "flood-s": { type: "string", default: "20" },
    ...commonOptions(900),
  },
  strict: true,
});
if (argv.help) {
  console.log(`usage: npx tsx bench/subscribe-flood.ts [--database embedded,postgres] [--subscriptions 3000] [--rate 10]
  [--baseline-s 15] [--flood-s 20] [--server-dir DIR] [--label dev] [--timeout-s 900] [--pg-url URL] [--out DIR]`);
  process.exit(0);
}
type Database = "embedded" | "postgres";
const DATABASES = argv.database.split(",").map((d) => d.trim()).filter(Boolean) as Database[];
if (DATABASES.length === 0 || DATABASES.some((d) => d !== "embedded" && d !== "postgres")) {
  console.error(`--database: expected embedded and/or postgres, got ${JSON.stringify(argv.database)}`);
  process.exit(1);
}
const SUBSCRIPTIONS = intOption("subscriptions", argv.subscriptions, 1, 100_000);
const RATE = intOption("rate", argv.rate, 1, 1_000);
const BASELINE_MS = intOption("baseline-s", argv["baseline-s"], 1, 3_600) * 1000;
const FLOOD_MS = intOption("flood-s", argv["flood-s"], 1, 3_600) * 1000;
const { serverDir: SERVER_DIR, label: LABEL, timeoutMs: TIMEOUT_MS } = commonSettings(argv);
const budget = new RunBudget(TIMEOUT_MS);

/**
 * Limits on, as a new user runs it; only the bystander's own send budgets (and the global one it
 * shares with them) are raised so its steady sends are never refused: the question is whether the
 * attacker slows it down.
 */
const SERVER_ENV = {
  LOG_LEVEL: "warn",
  PASSWORD_HASH_COST: "10",
  RATE_LIMITS: "on",
  RATE_LIMIT_SEND_MESSAGE_CHANNEL: "100000/1s",
  RATE_LIMIT_SEND_MESSAGE_PERSON: "100000/1s",
  RATE_LIMIT_GLOBAL: "100000/1s",
};
const SEND = `mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id } }`;
const SUBSCRIBE = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageCreated { message { id content } } } }`;

interface Phase {
  latencyMs: LatencySummary;
  sent: number;
  errors: number;
  errorSamples: string[];
  serverCpu: { cpuMs: number; wallMs: number; cores: number };
}

interface DatabaseResult {
  database: Database;
  status: "complete" | "failed" | "timeout" | "interrupted";
  baseline?: Phase;
  flood?: Phase;
  /** flood p99 / baseline p99: the goal is at most 2. */
  p99Ratio?: number;
  attacker?: { answers: Record<string, number>; firstRefusedId: number | null; closeCode: number | null; closedAfterMs: number | null; rssBeforeMb: number; rssAfterMb: number };
  error?: string;
  [key: string]: unknown;
}

/** One send over keep-alive HTTP; resolves with an error text or null. */
function send(agent: http.Agent, port: number, token: string, channelId: string, text: string): Promise<string | null> {
  const body = JSON.stringify({ query: SEND, variables: { c: channelId, t: text } });
  return new Promise((resolve) => {
    const req = http.request(
      { host: "127.0.0.1", port, path: "/graphql", method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization: `Bearer ${token}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode !== 200) return resolve(`http ${res.statusCode}: ${text.slice(0, 200)}`);
          resolve(text.includes('"errors"') ? text.slice(0, 200) : null);
        });
        res.on("error", (e) => resolve(`transport: ${e.message}`));
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve(`transport: ${e.message}`));
    req.end(body);
  });
}

/** The bystander's open-loop sends for `ms`; every send started is awaited before the phase's numbers are taken. */
async function sendSteadily(concord: ConcordProcess, agent: http.Agent, token: string, channelId: string, ms: number, tag: string): Promise<Phase> {
  const histogram = new LatencyHistogram();
  const cpu = new CpuWindow(concord.pid);
  cpu.start();
  const inFlight: Promise<void>[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  const started = performance.now();
  for (let i = 0; ; i++) {
    const at = started + (i * 1000) / RATE;
    if (at > started + ms) break;
    if (!(await budget.waitUntil(at))) break;
    const t0 = process.hrtime.bigint();
    inFlight.push(
      send(agent, concord.port, token, channelId, `${tag} ${i}`).then((error) => {
        histogram.recordNs(process.hrtime.bigint() - t0);
        if (error) {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(error);
        }
      }),
    );
  }
  await Promise.all(inFlight);
  return { latencyMs: histogram.summary(), sent: inFlight.length, errors, errorSamples, serverCpu: cpu.take() };
}

/** The attacker's socket: connects, is acknowledged, then writes `n` subscribe messages in one go. */
async function flood(concord: ConcordProcess, token: string, channelId: string, n: number) {
  const socket = new WebSocket(concord.wsUrl, "graphql-transport-ws");
  const answers = new Map<string, string>();
  let closeCode: number | null = null;
  let closedAt: number | null = null;
  const opened = performance.now();
  socket.on("message", (data) => {
    const message = JSON.parse(data.toString()) as { type: string; id?: string; payload?: { extensions?: { code?: string } }[] };
    if (message.type === "error" && message.id) answers.set(message.id, message.payload?.[0]?.extensions?.code ?? "error");
    else if (message.type === "complete" && message.id && !answers.has(message.id)) answers.set(message.id, "completed");
  });
  socket.on("close", (code) => {
    closeCode = code;
    closedAt = performance.now();
  });
  socket.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } })));
    socket.on("message", (data) => {
      if (JSON.parse(data.toString()).type === "connection_ack") resolve();
    });
    socket.once("close", () => reject(new Error("the attacker's socket closed before connection_ack")));
  });
  const started = performance.now();
  for (let i = 1; i <= n; i++) socket.send(JSON.stringify({ id: String(i), type: "subscribe", payload: { query: SUBSCRIBE, variables: { c: channelId } } }));
  return {
    started,
    summary() {
      // A live subscription gets no answer: those before the first refusal are live, the
      // unanswered ones after it were not handled before the socket closed.
      let firstRefused = n + 1;
      for (let i = 1; i <= n; i++) if (answers.has(String(i))) (firstRefused = i), (i = n);
      const counts: Record<string, number> = {};
      for (let i = 1; i <= n; i++) {
        const answer = answers.get(String(i)) ?? (i < firstRefused ? "live" : closeCode === null ? "unanswered" : "unhandled before close");
        counts[answer] = (counts[answer] ?? 0) + 1;
      }
      return { answers: counts, firstRefusedId: firstRefused <= n ? firstRefused : null, closeCode, closedAfterMs: closedAt === null ? null : Math.round(closedAt - started), connectMs: Math.round(started - opened) };
    },
    close: () => socket.terminate(),
  };
}

async function runDatabase(database: Database): Promise<DatabaseResult> {
  const result: DatabaseResult = { database, status: "complete", startedAt: new Date().toISOString() };
  let db: ScratchDatabase | undefined;
  let concord: ConcordProcess | undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  try {
    const env: Record<string, string> = { ...SERVER_ENV };
    if (database === "postgres") {
      db = await createScratchDatabase(argv["pg-url"]);
      env.DATABASE_URL = db.url;
    } else {
      env.DATA_DIR = "memory://";
    }
    concord = await startConcord(SERVER_DIR, env);
    log(`${database}: concord pid ${concord.pid} on port ${concord.port}`);
    const register = async (name: string) =>
      (await concord!.gql<{ register: { token: string } }>(`mutation($u: String!) { register(input: { username: $u, password: "bench-password-1" }) { token } }`, { u: name })).register.token;
    const bystander = await register("bystander");
    const attacker = await register("attacker");
    const guildOf = async (token: string) => (await concord!.gql<{ createGuild: { channels: { id: string }[] } }>(`mutation { createGuild(input: { name: "Flood" }) { channels { id } } }`, {}, token)).createGuild.channels[0]!.id;
    const quiet = await guildOf(bystander);
    const target = await guildOf(attacker);

    // A short warm-up so the baseline is not the first requests of a cold process.
    await sendSteadily(concord, agent, bystander, quiet, 2_000, "warm-up");
    log(`${database}: baseline, ${RATE} sends/s for ${BASELINE_MS / 1000} s`);
    result.baseline = await sendSteadily(concord, agent, bystander, quiet, BASELINE_MS, "baseline");
    log(`${database}: baseline p50 ${result.baseline.latencyMs.p50} / p99 ${result.baseline.latencyMs.p99} / max ${result.baseline.latencyMs.max} ms`);

    const rssBeforeMb = round(procStatusKb(concord.pid, "VmRSS") / 1024, 0);
    const attack = await flood(concord, attacker, target, SUBSCRIPTIONS);
    log(`${database}: ${SUBSCRIPTIONS} subscribe messages written; ${FLOOD_MS / 1000} s of sends during the flood`);
    result.flood = await sendSteadily(concord, agent, bystander, quiet, FLOOD_MS, "flood");
    const rssAfterMb = round(procStatusKb(concord.pid, "VmRSS") / 1024, 0);
    result.attacker = { ...attack.summary(), rssBeforeMb, rssAfterMb };
    attack.close();
    result.p99Ratio = round(result.flood.latencyMs.p99 / result.baseline.latencyMs.p99, 2);
    log(`${database}: flood p50 ${result.flood.latencyMs.p50} / p99 ${result.flood.latencyMs.p99} / max ${result.flood.latencyMs.max} ms (${result.p99Ratio}x the baseline p99); attacker ${JSON.stringify(result.attacker)}`);
    if (budget.stoppedBy) result.status = budget.stoppedBy;
  } catch (error) {
    result.status = budget.stoppedBy ?? "failed";
    result.error = String((error as Error)?.stack ?? error);
    log(`${database}: ${result.error}`);
  } finally {
    agent.destroy();
    if (concord) Object.assign(result, await stopAndCollect(concord));
    if (db) await db.drop().catch((error: unknown) => log(`could not drop ${db!.name}: ${String(error)}`));
  }
  return result;
}

function row(r: DatabaseResult): string {
  if (!r.baseline || !r.flood || !r.attacker) return `| ${LABEL} | ${r.database} | ${r.status} | | | | |`;
  const b = r.baseline.latencyMs;
  const f = r.flood.latencyMs;
  const answers = Object.entries(r.attacker.answers).map(([k, v]) => `${v} ${k}`).join(", ");
  return `| ${LABEL} | ${r.database} | ${b.p50} / ${b.p99} / ${b.max} | ${f.p50} / ${f.p99} / ${f.max} | **${r.p99Ratio}x** | ${answers}; closed ${r.attacker.closeCode ?? "no"}${r.attacker.closedAfterMs !== null ? ` after ${r.attacker.closedAfterMs} ms` : ""} | ${r.attacker.rssBeforeMb} → ${r.attacker.rssAfterMb} MB, ${r.flood.serverCpu.cores} cores |`;
}

runMain(async () => {
  const started = new Date();
  const machine = machineFacts();
  log(`subscribe flood: ${SUBSCRIPTIONS} subscriptions on one socket, bystander at ${RATE}/s (${machineLine(machine)})`);
  const results: DatabaseResult[] = [];
  for (const database of DATABASES) {
    if (budget.stop()) break;
    results.push(await runDatabase(database));
  }
  await writeReport(argv.out, "subscribe-flood", LABEL, started, {
    scenario: "S6 subscribe flood",
    label: LABEL,
    server: { dir: SERVER_DIR, ...gitFacts(SERVER_DIR) },
    settings: { subscriptions: SUBSCRIPTIONS, rate: RATE, baselineMs: BASELINE_MS, floodMs: FLOOD_MS, serverEnv: SERVER_ENV },
    machine,
    startedAt: started.toISOString(),
    results,
  });
  console.log("| server | database | bystander send p50 / p99 / max ms, baseline | during the flood | p99 ratio | attacker's 3,000 subscribe messages | server RSS, CPU |");
  console.log("|---|---|---|---|---|---|---|");
  for (const r of results) console.log(row(r));
  if (budget.stoppedBy) return 2;
  return results.some((r) => r.status !== "complete") ? 1 : 0;
});
