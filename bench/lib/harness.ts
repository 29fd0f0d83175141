/**
 * Shared plumbing of the black-box benchmarks (fanout.ts, connections.ts, write-path.ts): Concord
 * as a child process started from any checkout, the plain broadcast server, a scratch Postgres
 * database seeded with N bot users, a scratch Cassandra keyspace, /proc readings of a process or
 * a group of processes (CPU time, RSS), file-descriptor limits, machine facts, and clean-up on
 * exit or Ctrl-C.
 *
 * Nothing here imports from src/: the server under test is reached over HTTP and WebSocket only
 * (plus direct SQL on the scratch database it migrated), so a bench can run against another
 * checkout (--server-dir) whose internals differ.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import { Redis } from "ioredis";
import pg from "pg";
import { configVariableNames } from "../../src/config.js";
import { freePort, stopChild } from "../../test/support/processes.js";
import { createScratchDatabase as createScratch, type ScratchDatabase } from "../../test/support/scratch-database.js";

/** The repository this bench lives in. */
export { freePort };
export const BENCH_REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
export const log = (message: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
export const loadavg = () => os.loadavg().map((v) => Math.round(v * 100) / 100) as [number, number, number];
export const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;

// ------------------------------------------------------------------ children and clean-up

const children = new Set<ChildProcess>();
/** Scratch databases not dropped yet: dropped with psql from the exit handler if the run dies. */
const pendingDatabases = new Map<string, string>();
/** Scratch keyspaces not dropped yet (name → contact point, local DC), dropped from the exit handler likewise. */
const pendingKeyspaces = new Map<string, { contactPoint: string; dc: string }>();

function killChildren(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

process.once("exit", () => {
  killChildren();
  for (const [name, adminUrl] of pendingDatabases) {
    // Last resort (crash, second Ctrl-C): psql is synchronous, pg is not.
    spawnSync("psql", [adminUrl, "-q", "-c", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], { stdio: "ignore", timeout: 15_000 });
  }
  for (const [name, { contactPoint, dc }] of pendingKeyspaces) {
    // No cqlsh here: a synchronous child node runs cassandra-driver.
    const driver = createRequire(import.meta.url).resolve("cassandra-driver");
    const script = `const { Client } = require(${JSON.stringify(driver)}); const c = new Client({ contactPoints: [${JSON.stringify(contactPoint)}], localDataCenter: ${JSON.stringify(dc)} });
c.connect().then(() => c.execute("DROP KEYSPACE IF EXISTS ${name}", [], { readTimeout: 60000 })).finally(() => c.shutdown());`;
    spawnSync(process.execPath, ["-e", script], { stdio: "ignore", timeout: 60_000 });
  }
});

/** Set by the first Ctrl-C (or SIGTERM): steps stop at the next check and clean up. A second one exits at once. */
export const interruption = { interrupted: false };
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (interruption.interrupted) {
      killChildren();
      process.exit(130);
    }
    interruption.interrupted = true;
    console.error(`\n${signal}: finishing the current step, then cleaning up (again to quit at once)`);
  });
}

function track(child: ChildProcess): void {
  children.add(child);
  child.once("exit", () => children.delete(child));
}

/** Keeps the last `max` lines of a stream, and counts lines by JSON log level. */
function tailLines(stream: NodeJS.ReadableStream | null, max: number) {
  const lines: string[] = [];
  const levels: Record<string, number> = {};
  let partial = "";
  stream?.setEncoding("utf8");
  stream?.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      if (!line.trim()) continue;
      const level = /"level":"(\w+)"/.exec(line)?.[1] ?? "other";
      levels[level] = (levels[level] ?? 0) + 1;
      lines.push(line.length > 2_000 ? `${line.slice(0, 2_000)}…` : line);
      if (lines.length > max) lines.shift();
    }
  });
  return { lines, levels };
}


// ------------------------------------------------------------------ /proc

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat; NaN if unreadable. */
export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from #3 (state) on
    const utime = Number(fields[11]); // #14
    const stime = Number(fields[12]); // #15
    return ((utime + stime) * 1000) / ticksPerSecond();
  } catch {
    return NaN;
  }
}

/** A line of /proc/<pid>/status in KiB (VmRSS, VmHWM, ...); NaN if unreadable. */
export function procStatusKb(pid: number | "self", key: "VmRSS" | "VmHWM"): number {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** Open file descriptors of a process (entries of /proc/<pid>/fd); NaN if unreadable. */
export function procFdCount(pid: number | "self"): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

/** Soft and hard "Max open files" of a process (children inherit this process's). */
export function fdLimits(pid: number | "self" = "self"): { soft: number; hard: number } {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
  const n = (v: string | undefined) => (v === undefined || v === "unlimited" ? Infinity : Number(v));
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}

/** A CPU-time window of a process: start(), then take() → ms of CPU used in between. */
export class CpuWindow {
  private startMs = NaN;
  private startWall = 0;
  constructor(private readonly pid: number) {}
  start(): void {
    this.startMs = procCpuMs(this.pid);
    this.startWall = performance.now();
  }
  take(): { cpuMs: number; wallMs: number; cores: number } {
    const cpuMs = procCpuMs(this.pid) - this.startMs;
    const wallMs = performance.now() - this.startWall;
    return { cpuMs: round(cpuMs, 0), wallMs: round(wallMs, 0), cores: round(cpuMs / wallMs, 2) };
  }
}

/**
 * CPU time of every process that `match`es (its /proc/<pid>/comm and cmdline), e.g. all
 * `postgres` backends or the Cassandra JVM: start(), then take() → ms used in between by the
 * processes seen at either end (one that started in between counts with all its CPU; one that
 * exited in between is missed). Processes of other users of the same server count too.
 */
export class GroupCpuWindow {
  private start_ = new Map<number, number>();
  private startWall = 0;
  constructor(private readonly match: (comm: string, cmdline: string) => boolean) {}
  /** Pids that match now. */
  pids(): number[] {
    const pids: number[] = [];
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const comm = readFileSync(`/proc/${entry}/comm`, "utf8").trim();
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ");
        if (this.match(comm, cmdline)) pids.push(Number(entry));
      } catch {
        // exited while listed
      }
    }
    return pids;
  }
  start(): void {
    this.start_ = new Map(this.pids().map((pid) => [pid, procCpuMs(pid)]));
    this.startWall = performance.now();
  }
  take(): { cpuMs: number; wallMs: number; cores: number; processes: number } {
    let cpuMs = 0;
    const pids = this.pids();
    for (const pid of pids) {
      const now = procCpuMs(pid);
      if (!Number.isNaN(now)) cpuMs += now - (this.start_.get(pid) ?? 0);
    }
    const wallMs = performance.now() - this.startWall;
    return { cpuMs: round(cpuMs, 0), wallMs: round(wallMs, 0), cores: round(cpuMs / wallMs, 2), processes: pids.length };
  }
}

/** This process's own CPU (process.cpuUsage) and event-loop delay over a window. */
export class ClientWindow {
  private cpu = process.cpuUsage();
  private wall = performance.now();
  private delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  start(): void {
    this.cpu = process.cpuUsage();
    this.wall = performance.now();
    this.delay.disable();
    this.delay = monitorEventLoopDelay({ resolution: 10 });
    this.delay.enable();
  }
  take(): { cpuMs: number; cores: number; eventLoopDelayMs: { p50: number; p99: number; max: number } } {
    const used = process.cpuUsage(this.cpu);
    const cpuMs = (used.user + used.system) / 1000;
    const wallMs = performance.now() - this.wall;
    this.delay.disable();
    // Node records the time between samples: subtract the 10 ms sampling interval.
    const ms = (ns: number) => Math.max(0, round((ns - 10e6) / 1e6, 2));
    return { cpuMs: round(cpuMs, 0), cores: round(cpuMs / wallMs, 2), eventLoopDelayMs: { p50: ms(this.delay.percentile(50)), p99: ms(this.delay.percentile(99)), max: ms(this.delay.max) } };
  }
}

// ------------------------------------------------------------------ machine

export function gitFacts(dir: string): { commit?: string; dirtySrc?: boolean } {
  try {
    const commit = execFileSync("git", ["-C", dir, "rev-parse", "--short", "HEAD"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const dirty = execFileSync("git", ["-C", dir, "status", "--porcelain", "--", "src"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() !== "";
    return { commit, dirtySrc: dirty };
  } catch {
    return {};
  }
}

export function machineFacts(): Record<string, unknown> {
  const limits = fdLimits();
  let portRange: string | undefined;
  try {
    portRange = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().replace(/\s+/, "-");
  } catch {
    portRange = undefined;
  }
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    fdLimit: { soft: limits.soft, hard: limits.hard },
    ephemeralPorts: portRange,
    loadavgAtStart: loadavg(),
  };
}

export const machineLine = (m: Record<string, unknown>) => `${m.cpus} CPU, ${m.memGiB} GiB, Node ${String(m.node).replace(/^v/, "")}`;

// ------------------------------------------------------------------ Concord as a child process

/** Concord configuration variables: never inherited from this process's environment. */
const CONCORD_ENV = configVariableNames();

/**
 * What every benchmark server runs with unless its scenario says otherwise: no rate limits (load
 * generators send far faster than any person), and room for the thousands of sockets one client
 * process opens from a handful of loopback addresses (the per-address and per-user socket caps
 * would refuse them). A checkout that predates a setting ignores it.
 */
const BENCH_DEFAULT_ENV = { RATE_LIMITS: "off", MAX_SOCKETS_PER_ADDRESS: "1000000", MAX_SOCKETS_PER_USER: "100000" };

/** BENCH_SERVER_ENV="K=V,K2=V2": settings for every Concord a bench starts, over the scenario's own. */
function serverEnvFromBench(): Record<string, string> {
  const raw = process.env.BENCH_SERVER_ENV ?? "";
  return Object.fromEntries(
    raw
      .split(",")
      .map((pair) => pair.trim())
      .filter(Boolean)
      .map((pair) => {
        const at = pair.indexOf("=");
        if (at <= 0) throw new Error(`BENCH_SERVER_ENV: expected K=V pairs separated by commas, got ${JSON.stringify(pair)}`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
  );
}

export interface GqlResponse<T = any> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export interface ServerProcess {
  pid: number;
  port: number;
  child: ChildProcess;
  readonly running: boolean;
  /** The last stderr/stdout lines and line counts by log level. */
  output(): { tail: string[]; levels: Record<string, number> };
  /** SIGTERM, SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number; killed: boolean }>;
}

export interface ConcordProcess extends ServerProcess {
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  /** ws://127.0.0.1:<port>/graphql */
  wsUrl: string;
  /** One GraphQL operation over HTTP; throws on transport errors and on GraphQL errors. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string, timeoutMs?: number): Promise<T>;
}

function serverProcess(child: ChildProcess, port: number, out: ReturnType<typeof tailLines>, err: ReturnType<typeof tailLines>): ServerProcess {
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  void exited.then(() => (running = false));
  let stopping: ReturnType<ServerProcess["stop"]> | undefined;
  return {
    pid: child.pid ?? -1,
    port,
    child,
    get running() {
      return running;
    },
    output: () => {
      const levels: Record<string, number> = { ...err.levels };
      for (const [k, v] of Object.entries(out.levels)) levels[k] = (levels[k] ?? 0) + v;
      return { tail: [...err.lines, ...out.lines].slice(-40), levels };
    },
    stop(graceMs = 10_000) {
      stopping ??= stopChild(child, exited, graceMs);
      return stopping;
    },
  };
}

/** `dist/main.js` of serverDir's production build, or an error saying how to make it. */
function compiledEntry(serverDir: string): string[] {
  if (!existsSync(path.join(serverDir, "dist/main.js"))) throw new Error(`BENCH_SERVER_COMPILED=1: no dist/main.js in ${serverDir} (run npm run build there)`);
  return ["dist/main.js"];
}

/**
 * Starts Concord from `serverDir` exactly as `npm start` does (`node --import tsx src/main.ts`,
 * which needs `node_modules` in that directory; with BENCH_SERVER_COMPILED=1 as `npm run
 * start:prod` does, `node dist/main.js`), on a free port of 127.0.0.1, with `env` on top
 * of this process's environment minus every Concord variable and NODE_OPTIONS, and
 * `extraNodeArgs` before the script (e.g. `--inspect=127.0.0.1:0` to read its live heap); waits
 * for GET /health to answer 200.
 */
export async function startConcord(serverDir: string, env: Record<string, string>, startTimeoutMs = 90_000, extraNodeArgs: string[] = []): Promise<ConcordProcess> {
  if (!existsSync(path.join(serverDir, "src/main.ts"))) throw new Error(`--server-dir ${serverDir}: no src/main.ts there`);
  if (!existsSync(path.join(serverDir, "node_modules/tsx"))) throw new Error(`--server-dir ${serverDir}: no node_modules/tsx (run npm ci there, or symlink node_modules)`);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !CONCORD_ENV.includes(key) && key !== "NODE_OPTIONS"));
    // BENCH_SERVER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the server.
    // An inspector on port 0 would pick any free port, possibly the one just chosen for PORT:
    // give it one of its own.
    let inspectPort = await freePort();
    while (inspectPort === port) inspectPort = await freePort();
    const nodeArgs = [...extraNodeArgs.map((arg) => (arg === "--inspect=127.0.0.1:0" ? `--inspect=127.0.0.1:${inspectPort}` : arg)), ...(process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean)];
    // BENCH_SERVER_COMPILED=1 runs the production build (`npm run build` in serverDir first) as
    // `npm run start:prod` does: no tsx loader, no esbuild keepNames wrappers.
    const entry = process.env.BENCH_SERVER_COMPILED === "1" ? compiledEntry(serverDir) : ["--import", "tsx", "src/main.ts"];
    const child = spawn(process.execPath, [...nodeArgs, ...entry], {
      cwd: serverDir,
      // Benchmarks measure the system, not its abuse limits, unless a scenario asks (see
      // BENCH_DEFAULT_ENV); BENCH_SERVER_ENV ("K=V,K2=V2") sets more on top.
      // The production build runs as the Dockerfile runs it, with NODE_ENV=production (graphql-js
      // and yoga skip their development checks), unless a scenario or BENCH_SERVER_ENV says otherwise.
      env: { ...inherited, ...(process.env.BENCH_SERVER_COMPILED === "1" ? { NODE_ENV: "production" } : {}), ...BENCH_DEFAULT_ENV, ...env, ...serverEnvFromBench(), HOST: "127.0.0.1", PORT: String(port) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    track(child);
    const out = tailLines(child.stdout, 50);
    const err = tailLines(child.stderr, 200);
    const base = serverProcess(child, port, out, err);
    const url = `http://127.0.0.1:${port}/graphql`;
    const proc: ConcordProcess = Object.assign(base, {
      url,
      wsUrl: `ws://127.0.0.1:${port}/graphql`,
      async gql<T>(query: string, variables: Record<string, unknown> = {}, token?: string, timeoutMs = 30_000): Promise<T> {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await res.text();
        let body: GqlResponse<T>;
        try {
          body = JSON.parse(text) as GqlResponse<T>;
        } catch {
          throw new Error(`HTTP ${res.status}, not JSON: ${text.slice(0, 300)}`);
        }
        if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors).slice(0, 500)}`);
        return body.data as T;
      },
    });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/health`, () => proc.running, startTimeoutMs);
      return proc;
    } catch (error) {
      await proc.stop(1_000);
      const tail = proc.output().tail.slice(-30).join("\n");
      if (attempt < 3 && /already in use|EADDRINUSE/.test(tail)) continue;
      throw new Error(`${(error as Error).message}; Concord output:\n${tail || "(none)"}`);
    }
  }
}

async function waitForHttp(url: string, running: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let problem = "no answer yet";
  for (;;) {
    if (!running()) throw new Error(`the process exited before ${url} answered`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      problem = `HTTP ${res.status}`;
    } catch (error) {
      problem = ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message;
    }
    if (performance.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (${problem})`);
    await sleep(100);
  }
}

/** Stops Concord (SIGTERM, SIGKILL after 15 s) and returns how long that took and what it logged above info. */
export async function stopAndCollect(concord: ConcordProcess): Promise<{ stopMs: number; serverLogLevels: Record<string, number>; serverLogTail: string[] }> {
  const stopped = await concord.stop(15_000);
  const out = concord.output();
  return { stopMs: stopped.ms, serverLogLevels: out.levels, serverLogTail: out.tail.filter((l) => !l.includes('"level":"info"')).slice(-10) };
}

/** Writes `report` as <outDir>/<scenario>-<label>-<timestamp>.json; returns the path. */
export async function writeReport(outDir: string, scenario: string, label: string, started: Date, report: unknown): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const file = path.join(outDir, `${scenario}-${label}-${started.toISOString().replace(/[:.]/g, "-")}.json`);
  await writeFile(file, JSON.stringify(report, null, 2) + "\n");
  log(`wrote ${path.relative(process.cwd(), file)}`);
  return file;
}

// ------------------------------------------------------------------ plain broadcast server

export interface PlainServer extends ServerProcess {
  wsUrl: string;
  /** POST /broadcast: the server sends `text` to every socket; resolves when its loop ended. */
  broadcast(text: string): Promise<{ clients: number; loopMs: number }>;
}

/** Starts bench/lib/plain-broadcast-server.ts as its own process (from this repository). */
export async function startPlainServer(): Promise<PlainServer> {
  const script = path.join(BENCH_REPO, "bench/lib/plain-broadcast-server.ts");
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== "NODE_OPTIONS"));
  const child = spawn(process.execPath, ["--import", "tsx", script, "--port", "0"], { cwd: BENCH_REPO, env: inherited, stdio: ["ignore", "pipe", "pipe"] });
  track(child);
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = "";
    const timer = setTimeout(() => reject(new Error("plain broadcast server: no port within 30 s")), 30_000);
    child.stdout!.setEncoding("utf8");
    const onData = (chunk: string) => {
      buffer += chunk;
      const line = buffer.split("\n")[0];
      if (buffer.includes("\n") && line) {
        clearTimeout(timer);
        child.stdout!.off("data", onData);
        try {
          resolve((JSON.parse(line) as { port: number }).port);
        } catch {
          reject(new Error(`plain broadcast server said: ${line}`));
        }
      }
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`plain broadcast server exited (code ${code})`)));
  });
  const base = serverProcess(child, port, tailLines(child.stdout, 20), tailLines(child.stderr, 50));
  return Object.assign(base, {
    wsUrl: `ws://127.0.0.1:${port}/`,
    async broadcast(text: string) {
      const res = await fetch(`http://127.0.0.1:${port}/broadcast`, { method: "POST", headers: { "content-type": "text/plain" }, body: text, signal: AbortSignal.timeout(60_000) });
      return (await res.json()) as { clients: number; loopMs: number };
    },
  });
}

// ------------------------------------------------------------------ scratch database and seeding

export type { ScratchDatabase };

/** CREATE DATABASE concord_bench_<rand> on the admin URL's server; drop() removes it (WITH FORCE), and so does the exit handler if the run dies first. */
export async function createScratchDatabase(adminUrl: string): Promise<ScratchDatabase> {
  const db = await createScratch("concord_bench", adminUrl);
  pendingDatabases.set(db.name, adminUrl);
  return {
    ...db,
    async drop() {
      await db.drop();
      pendingDatabases.delete(db.name);
    },
  };
}

export interface ScratchKeyspace {
  /** concord_bench_<rand>: not created here (Concord's migrations create it), only dropped. */
  name: string;
  /** Cassandra's release_version. */
  releaseVersion: string;
  /** The connected driver client (cassandra-driver), for checks on the keyspace. */
  client: import("cassandra-driver").Client;
  /** DROP KEYSPACE IF EXISTS, then disconnect. */
  drop(): Promise<void>;
}

/**
 * Connects to Cassandra (fails fast, with a hint, when nothing listens) and reserves a keyspace
 * name concord_bench_<rand>; drop() removes the keyspace, also from the exit handler if the run
 * dies first.
 */
export async function createScratchKeyspace(contactPoint: string, dc: string): Promise<ScratchKeyspace> {
  const { Client } = await import("cassandra-driver");
  const client = new Client({ contactPoints: [contactPoint], localDataCenter: dc, socketOptions: { connectTimeout: 5_000, readTimeout: 60_000 } });
  try {
    await client.connect();
  } catch (error) {
    await client.shutdown().catch(() => {});
    throw new Error(`cannot connect to Cassandra at ${contactPoint} (data centre ${dc}): ${String((error as Error).message).split("\n")[0]}; start it with \`bash scripts/cassandra.sh start\``);
  }
  const releaseVersion = String((await client.execute("SELECT release_version FROM system.local")).first()?.get("release_version") ?? "?");
  const name = `concord_bench_${randomBytes(5).toString("hex")}`;
  pendingKeyspaces.set(name, { contactPoint, dc });
  return {
    name,
    releaseVersion,
    client,
    async drop() {
      try {
        await client.execute(`DROP KEYSPACE IF EXISTS ${name}`, [], { readTimeout: 120_000 });
        pendingKeyspaces.delete(name);
      } finally {
        await client.shutdown();
      }
    },
  };
}

/** A Concord-format bearer token (cnc_ + base64url of 32 bytes) and what the sessions table stores. */
export function makeToken(): { token: string; hash: string } {
  const token = "cnc_" + randomBytes(32).toString("base64url");
  return { token, hash: createHash("sha256").update(token).digest("hex") };
}

/** Concord's snowflake epoch (2025-01-01): ids are (ms since it) << 22 | worker << 12 | sequence. */
const SNOWFLAKE_EPOCH_MS = Date.UTC(2025, 0, 1);
/** Seeded users get worker id 1023 and a millisecond range in mid-2025: no clash with ids the server mints (worker 0, now). */
const SEED_USER_BASE = (BigInt(Date.UTC(2025, 6, 1) - SNOWFLAKE_EPOCH_MS) << 22n) | (1023n << 12n);
export const seededUserId = (i: number) => SEED_USER_BASE + (BigInt(Math.floor(i / 4096)) << 22n) + BigInt(i % 4096);

export interface Fixture {
  ownerToken: string;
  ownerId: string;
  guildId: string;
  /** The guild's text channels: `general` first, then any created with createChannel. */
  channelIds: string[];
  /** Token of seeded user i (bench_<i>, a bot, member of the guild). */
  tokens: string[];
  seedMs: number;
}

/**
 * Through the API: registers an owner, creates a guild (and `extraChannels` more channels).
 * Then in SQL on the scratch database: N bot users bench_0 .. bench_<N-1>, one session each,
 * all members of the guild, and the guild's member_count.
 */
export async function seedGuild(concord: ConcordProcess, databaseUrl: string, n: number, extraChannels = 0): Promise<Fixture> {
  const started = performance.now();
  const owner = await concord.gql<{ register: { token: string; user: { id: string } } }>(
    `mutation($u: String!, $p: String!) { register(input: { username: $u, password: $p }) { token user { id } } }`,
    { u: "bench_owner", p: "bench-password-1" },
  );
  const ownerToken = owner.register.token;
  const guild = await concord.gql<{ createGuild: { id: string; channels: { id: string }[] } }>(`mutation { createGuild(input: { name: "Bench" }) { id channels { id } } }`, {}, ownerToken);
  const guildId = guild.createGuild.id;
  const channelIds = guild.createGuild.channels.map((c) => c.id);
  for (let c = 0; c < extraChannels; c++) {
    const created = await concord.gql<{ createChannel: { id: string } }>(`mutation($g: ID!, $n: String!) { createChannel(input: { guildId: $g, name: $n }) { id } }`, { g: guildId, n: `bench-${c + 1}` }, ownerToken);
    channelIds.push(created.createChannel.id);
  }

  const tokens: string[] = new Array<string>(n);
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const CHUNK = 20_000;
    const idExpr = `($2::bigint + (((g / 4096)::bigint) << 22) + (g % 4096))`;
    // Sessions have a public id since the session-control migration; older checkouts have none.
    const sessionIds = (await db.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'sessions' AND column_name = 'id'`)).rowCount === 1;
    for (let from = 0; from < n; from += CHUNK) {
      const to = Math.min(n, from + CHUNK);
      const hashes: string[] = [];
      for (let i = from; i < to; i++) {
        const t = makeToken();
        tokens[i] = t.token;
        hashes.push(t.hash);
      }
      await db.query("BEGIN");
      await db.query(`INSERT INTO users (id, username_key, username, password_hash, bot) SELECT ${idExpr}, 'bench_' || g, 'bench_' || g, NULL, true FROM generate_series($1::int, $3::int) AS g`, [from, SEED_USER_BASE.toString(), to - 1]);
      await db.query(
        `INSERT INTO sessions (${sessionIds ? "id, " : ""}token_hash, user_id) SELECT ${sessionIds ? `${idExpr}, ` : ""}h, ${idExpr} FROM unnest($3::text[]) WITH ORDINALITY AS t(h, o), LATERAL (SELECT ($1::int + o::int - 1) AS g) AS x`,
        [from, SEED_USER_BASE.toString(), hashes],
      );
      await db.query(`INSERT INTO members (guild_id, user_id) SELECT $4::bigint, ${idExpr} FROM generate_series($1::int, $3::int) AS g`, [from, SEED_USER_BASE.toString(), to - 1, guildId]);
      await db.query("COMMIT");
    }
    await db.query(`UPDATE guilds SET member_count = (SELECT count(*) FROM members WHERE guild_id = $1::bigint) WHERE id = $1::bigint`, [guildId]);
    await db.query("ANALYZE users, sessions, members");
    const check = await db.query<{ users: string; members: string; sessions: string }>(
      `SELECT (SELECT count(*) FROM users WHERE bot) AS users, (SELECT member_count FROM guilds WHERE id = $1::bigint) AS members, (SELECT count(*) FROM sessions) AS sessions`,
      [guildId],
    );
    const row = check.rows[0]!;
    if (Number(row.users) !== n || Number(row.members) !== n + 1) throw new Error(`seeding: expected ${n} bots and ${n + 1} members, got ${JSON.stringify(row)}`);
  } catch (error) {
    await db.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    await db.end();
  }
  return { ownerToken, ownerId: owner.register.user.id, guildId, channelIds, tokens, seedMs: Math.round(performance.now() - started) };
}

// ------------------------------------------------------------------ options

/**
 * The parseArgs options every black-box bench takes: --server-dir (default this repository),
 * --label dev, --timeout-s (whole run), --pg-url (or BENCH_DATABASE_URL), --out (bench/results), --help.
 */
export function commonOptions(timeoutS: number) {
  return {
    "server-dir": { type: "string", default: BENCH_REPO },
    label: { type: "string", default: "dev" },
    "timeout-s": { type: "string", default: String(timeoutS) },
    "pg-url": { type: "string", default: process.env.BENCH_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres" },
    out: { type: "string", default: path.join(BENCH_REPO, "bench/results") },
    help: { type: "boolean", short: "h", default: false },
  } as const;
}

/** The validated common options: absolute server directory, a label safe for a file name, the run's time budget. */
export function commonSettings(argv: { "server-dir": string; label: string; "timeout-s": string }) {
  return {
    serverDir: path.resolve(argv["server-dir"]),
    label: argv.label.replace(/[^\w.-]/g, "_"),
    timeoutMs: intOption("timeout-s", argv["timeout-s"], 1, 86_400) * 1000,
  };
}

/** A run's time budget: stop() turns true, for good, once --timeout-s has passed or after Ctrl-C (stoppedBy says which). */
export class RunBudget {
  stoppedBy: "timeout" | "interrupted" | undefined;
  private readonly deadline: number;
  constructor(timeoutMs: number) {
    this.deadline = performance.now() + timeoutMs;
  }
  readonly stop = (): boolean => {
    if (this.stoppedBy) return true;
    if (interruption.interrupted) this.stoppedBy = "interrupted";
    else if (performance.now() > this.deadline) this.stoppedBy = "timeout";
    return this.stoppedBy !== undefined;
  };
  /** Sleeps until `until` (a performance.now() time) or until the run is stopped; false when stopped. */
  async waitUntil(until: number): Promise<boolean> {
    for (;;) {
      if (this.stop()) return false;
      const left = until - performance.now();
      if (left <= 0) return true;
      await sleep(Math.min(left, 50));
    }
  }
}

/** Runs a bench's main and exits with its code (1 if it throws). */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

export function intOption(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`--${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    process.exit(1);
  }
  return value;
}

export function intListOption(name: string, raw: string, min: number, max: number): number[] {
  const list = raw.split(",").map((s) => s.trim()).filter(Boolean).map((s) => intOption(name, s.replace(/_/g, ""), min, max));
  if (list.length === 0) {
    console.error(`--${name}: expected a comma-separated list of integers`);
    process.exit(1);
  }
  return list;
}

/** The message stores a bench can run Concord with. */
export type Store = "postgres" | "cassandra";

/** A comma-separated list of message stores (`postgres,cassandra`), in the order given; exits with a message otherwise. */
export function storeListOption(name: string, raw: string): Store[] {
  const stores = raw.split(",").map((s) => s.trim()).filter(Boolean) as Store[];
  if (stores.length === 0 || stores.some((s) => s !== "postgres" && s !== "cassandra")) {
    console.error(`--${name}: expected a comma-separated list of postgres and cassandra, got ${JSON.stringify(raw)}`);
    process.exit(1);
  }
  return stores;
}

/** Thousands separators for the Markdown tables. */
export const thousands = (v: number) => Math.round(v).toLocaleString("en-US");

/** Unlinks every key under a run's Redis prefix (best effort: what is left expires with its TTL). Returns how many went. */
export async function unlinkRedisPrefix(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let removed = 0;
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) removed += await redis.unlink(...keys);
    } while (cursor !== "0");
  } catch {
    // Left for the keys' TTLs.
  } finally {
    redis.disconnect();
  }
  return removed;
}

/** The pg_stat_database counters benches read around a measured window. */
export const PG_STATS = ["xact_commit", "xact_rollback", "tup_returned", "tup_fetched", "tup_inserted", "tup_updated", "tup_deleted"] as const;
export type PgStats = Record<(typeof PG_STATS)[number], number>;

/** A database's pg_stat_database counters (backends flush them about once a second), read on the given connection. */
export async function pgStats(client: pg.Client, database: string): Promise<PgStats> {
  const row = (await client.query(`SELECT ${PG_STATS.join(", ")} FROM pg_stat_database WHERE datname = $1`, [database])).rows[0] as Record<string, string>;
  return Object.fromEntries(PG_STATS.map((k) => [k, Number(row[k])])) as PgStats;
}
