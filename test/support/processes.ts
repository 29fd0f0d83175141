import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import net from "node:net";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { configVariableNames } from "../../src/config.js";
import { IN_CI } from "./services.js";

/**
 * Real OS processes for multi-instance tests: Concord itself (`node --import tsx src/main.ts`,
 * exactly what `npm start` runs) and a private redis-server that a test may SIGKILL and restart
 * without touching the shared Redis.
 */

/** The repository root (where package.json and src/ live). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every child started here, so a crashed test run does not leave processes behind. */
const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

function track(child: ChildProcess): void {
  children.add(child);
  child.once("exit", () => children.delete(child));
}

/**
 * A port nothing listens on right now: bind port 0, read the port, close. (PORT=0 works but the
 * chosen port is only in an info log line, which LOG_LEVEL=warn hides.) Another process could
 * take it in between; callers that see EADDRINUSE retry with a new one.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** How a child process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * SIGTERM, then SIGKILL if the child has not exited after `graceMs`. Resolves with how it ended,
 * how long that took and whether SIGKILL was needed (ms 0 if it had already exited).
 */
export async function stopChild(child: ChildProcess, exited: Promise<Exit>, graceMs: number): Promise<Exit & { ms: number; killed: boolean }> {
  const started = Date.now();
  if (child.exitCode !== null || child.signalCode !== null) return { ...(await exited), ms: 0, killed: false };
  child.kill("SIGTERM");
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, graceMs);
  const exit = await exited;
  clearTimeout(timer);
  return { ...exit, ms: Date.now() - started, killed };
}

function exitOf(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

/** Collects a stream's output line by line (and keeps a partial last line). */
function collectLines(stream: NodeJS.ReadableStream | null, into: string[]): void {
  if (!stream) return;
  let partial = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) if (line.trim()) into.push(line);
  });
  stream.on("end", () => {
    if (partial.trim()) into.push(partial);
    partial = "";
  });
}

/** A GraphQL-over-HTTP answer. */
export interface GqlResponse<T = any> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; [key: string]: unknown } }[];
}

/** Concord configuration variables: never inherited from the test runner's environment. */
const CONCORD_ENV = configVariableNames();

export interface ConcordProcessOptions {
  /** Shown in failure messages ("A", "B", ...). */
  name: string;
  /** Concord configuration (PORT and HOST are chosen here unless given). */
  env: Record<string, string>;
  /** Longest wait for `/health` to answer 200 (default 60 s: Cassandra migrations are slow). */
  startTimeoutMs?: number;
}

export interface ConcordProcess {
  name: string;
  pid: number;
  port: number;
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  /** ws://127.0.0.1:<port>/graphql */
  wsUrl: string;
  child: ChildProcess;
  /** stderr lines (JSON log entries, plus anything the runtime printed), in arrival order. */
  logs: string[];
  /** stdout lines (Concord writes nothing there; kept for diagnostics). */
  stdout: string[];
  /** Settles when the process exits, however it ends. */
  exited: Promise<Exit>;
  /** True until the process exits. */
  readonly running: boolean;
  /** Log lines at `level` ("error", "warn"...). */
  logsAt(level: string): string[];
  /** The last `n` log lines, for failure messages. */
  tail(n?: number): string;
  /** POSTs one GraphQL operation; `token` becomes `Authorization: Bearer <token>`. Rejects after `timeoutMs` (default 15 s). */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string, timeoutMs?: number): Promise<GqlResponse<T>>;
  /**
   * SIGTERM, then SIGKILL if it has not exited after `graceMs` (default 10 s). Resolves with how
   * it ended, how long that took and whether SIGKILL was needed.
   */
  stop(graceMs?: number): Promise<Exit & { ms: number; killed: boolean }>;
}

/**
 * Starts `node --import tsx src/main.ts` with the given configuration on a free port and waits
 * for `GET /health` to answer 200. If the process exits first or the wait times out, rejects
 * with its logs (and kills it).
 */
export async function startConcord(options: ConcordProcessOptions): Promise<ConcordProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startConcordOnce(options);
    } catch (error) {
      // Someone took the free port between freePort() and listen(): try another one.
      if (attempt < 3 && !options.env.PORT && /already in use/.test((error as Error).message)) continue;
      throw error;
    }
  }
}

async function startConcordOnce(options: ConcordProcessOptions): Promise<ConcordProcess> {
  const port = options.env.PORT ? Number(options.env.PORT) : await freePort();
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !CONCORD_ENV.includes(key) && !key.startsWith("VITEST") && key !== "NODE_OPTIONS"),
  );
  // Tests sign up many users from one address: rate limits only where a test turns them on.
  // Test processes drain over 1 s rather than the production 10 s (DRAIN_WINDOW_MS), so a suite
  // that stops its fleet with SIGTERM waits for the drain itself, not for its spread.
  const env = { ...inherited, HOST: "127.0.0.1", RATE_LIMITS: "off", DRAIN_WINDOW_MS: "1000", ...options.env, PORT: String(port) };
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  track(child);
  const logs: string[] = [];
  const stdout: string[] = [];
  collectLines(child.stderr, logs);
  collectLines(child.stdout, stdout);
  const exited = exitOf(child);
  let running = true;
  void exited.then(() => (running = false));
  const host = env.HOST;
  const url = `http://${host}:${port}/graphql`;
  const tail = (n = 30) => logs.slice(-n).join("\n") || "(no output)";

  let stopping: Promise<Exit & { ms: number; killed: boolean }> | undefined;
  const proc: ConcordProcess = {
    name: options.name,
    pid: child.pid ?? -1,
    port,
    url,
    wsUrl: url.replace(/^http/, "ws"),
    child,
    logs,
    stdout,
    exited,
    get running() {
      return running;
    },
    logsAt: (level) => logs.filter((line) => line.includes(`"level":"${level}"`)),
    tail,
    async gql(query, variables, token, timeoutMs = 15_000) {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      try {
        return JSON.parse(text) as GqlResponse;
      } catch {
        throw new Error(`${options.name}: HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 300)}`);
      }
    },
    stop(graceMs = 10_000) {
      stopping ??= stopChild(child, exited, graceMs);
      return stopping;
    },
  };

  try {
    await waitForHealth(proc, options.startTimeoutMs ?? 60_000);
  } catch (error) {
    if (running) child.kill("SIGKILL");
    await exited;
    throw error;
  }
  return proc;
}

/** Polls `GET /health` every 100 ms until it answers 200; rejects with the logs if the process exits or time runs out. */
export async function waitForHealth(proc: ConcordProcess, timeoutMs = 60_000): Promise<void> {
  const health = `http://127.0.0.1:${proc.port}/health`;
  const deadline = Date.now() + timeoutMs;
  let lastProblem = "no answer yet";
  for (;;) {
    if (!proc.running) {
      const exit = await proc.exited;
      throw new Error(`Concord ${proc.name} exited (code ${exit.code}, signal ${exit.signal}) before /health answered; its output:\n${proc.tail()}`);
    }
    try {
      const res = await fetch(health, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      lastProblem = `HTTP ${res.status}`;
    } catch (error) {
      lastProblem = ((error as Error).cause as Error | undefined)?.message ?? (error as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(`Concord ${proc.name} (pid ${proc.pid}): ${health} did not answer 200 within ${timeoutMs} ms (${lastProblem}); its output:\n${proc.tail()}`);
    }
    await sleep(100);
  }
}

/** True if `redis-server` can be run from PATH. */
export function redisServerAvailable(): boolean {
  const probe = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
  return probe.status === 0;
}

/**
 * Whether a suite that runs its own redis-server (one it can kill) can run: false (with a
 * warning) locally without one on PATH; under CI=true that is an error, not a skip.
 */
export function requireRedisServer(suite: string): boolean {
  if (redisServerAvailable()) return true;
  const message = `redis-server is not on PATH (${suite} runs a private one it can kill)`;
  if (IN_CI) throw new Error(`${message}: CI=true requires it`);
  console.warn(`skipping ${suite}: ${message}`);
  return false;
}

/** Answers one inline PING on host:port with +PONG within the timeout. */
function redisPing(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port, timeout: timeoutMs });
    let answer = "";
    const done = (ok: boolean) => (socket.destroy(), resolve(ok));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      answer += chunk.toString("utf8");
      if (answer.includes("\r\n")) done(answer.startsWith("+PONG"));
    });
    socket.once("timeout", () => done(false));
    socket.once("error", () => done(false));
  });
}

export interface PrivateRedis {
  port: number;
  /** redis://127.0.0.1:<port> */
  url: string;
  /** True while a redis-server started here runs. */
  readonly running: boolean;
  /** Output of every run so far (redis-server logs to stdout). */
  logs: string[];
  /** SIGKILL (no shutdown, no persistence): clients see the connection drop at once. Resolves once it exited. */
  kill(): Promise<void>;
  /**
   * Starts redis-server again on the same port and waits until it answers PING. With
   * persistence, it comes back with the data it had when killed, unless `wipe` (what a Redis
   * that lost its disk, or never had one, does).
   */
  restart(timeoutMs?: number, options?: { wipe?: boolean }): Promise<void>;
  /** SIGTERM (SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
}

/**
 * A throwaway redis-server on a free port (loopback only), separate from the shared Redis so a
 * test can kill and restart it. No persistence by default; with `persistent`, an append-only
 * file fsynced at every write in a temporary directory, so a SIGKILLed server restarts with
 * everything it had acknowledged.
 */
export async function startPrivateRedis(options: { port?: number; timeoutMs?: number; persistent?: boolean } = {}): Promise<PrivateRedis> {
  const port = options.port ?? (await freePort());
  const dir = options.persistent ? await mkdtemp(path.join(os.tmpdir(), "concord-redis-")) : null;
  const persistence = dir ? ["--dir", dir, "--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
  const logs: string[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<Exit> = Promise.resolve({ code: null, signal: null });
  let running = false;

  const launch = async (timeoutMs: number) => {
    if (running) throw new Error(`private redis-server on port ${port} is already running`);
    const started = spawn("redis-server", ["--port", String(port), "--save", "", ...persistence, "--bind", "127.0.0.1"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    track(started);
    child = started;
    collectLines(started.stdout, logs);
    collectLines(started.stderr, logs);
    running = true;
    const spawnFailed = new Promise<Error>((resolve) => started.once("error", resolve));
    exited = exitOf(started);
    void exited.then(() => {
      if (child === started) running = false;
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await redisPing(port)) return;
      if (!running) {
        const exit = await Promise.race([exited, spawnFailed.then((e) => ({ code: null, signal: null, error: e }))]);
        throw new Error(`redis-server on port ${port} exited (${JSON.stringify(exit)}) before answering PING:\n${logs.slice(-20).join("\n")}`);
      }
      if (Date.now() > deadline) {
        started.kill("SIGKILL");
        throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms:\n${logs.slice(-20).join("\n")}`);
      }
      await sleep(50);
    }
  };

  await launch(options.timeoutMs ?? 10_000);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return running;
    },
    logs,
    async kill() {
      if (!running || !child) return;
      child.kill("SIGKILL");
      await exited;
    },
    async restart(timeoutMs = 10_000, restartOptions = {}) {
      if (restartOptions.wipe && dir) for (const entry of await readdir(dir)) await rm(path.join(dir, entry), { recursive: true, force: true });
      await launch(timeoutMs);
    },
    async stop() {
      if (running && child) {
        const current = child;
        current.kill("SIGTERM");
        const timer = setTimeout(() => current.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
