import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { freePort, REPO_ROOT } from "./processes.js";

const run = promisify(execFile);
const SCRIPT = path.join(REPO_ROOT, "scripts/redis-sentinel.sh");

/** True while process `pid` exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A primary, a replica and three sentinels on free loopback ports, run by scripts/redis-sentinel.sh. */
export interface SentinelSet {
  /** REDIS_SENTINELS for Concord: host:port of the three sentinels. */
  sentinels: string;
  /** REDIS_SENTINEL_NAME: the primary group's name. */
  name: string;
  /** The primary's port as the sentinels name it now. */
  primaryPort(): Promise<number>;
  /**
   * SIGKILLs the current primary; resolves with its port and the moment of the kill. With
   * `pauseWritesMs`, writes are paused that long first (CLIENT PAUSE … WRITE), so the writes
   * clients send meanwhile are still in flight, unanswered, when the primary dies.
   */
  killPrimary(options?: { pauseWritesMs?: number }): Promise<{ port: number; at: number }>;
  /** Stops every process of the set and removes its files. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a Sentinel set of its own (fresh, empty, on free ports, files under a temporary
 * directory) and waits until the sentinels see the replica and each other, so a failover can be
 * agreed. The set is stopped when this process exits, however the test ends.
 */
export async function startSentinelSet(options: { name?: string; downAfterMs?: number } = {}): Promise<SentinelSet> {
  const [primary, replica, s1, s2, s3] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const name = options.name ?? "concord";
  const dir = await mkdtemp(path.join(os.tmpdir(), "concord-sentinel-"));
  const env = {
    ...process.env,
    REDIS_SENTINEL_DATA_PORTS: `${primary} ${replica}`,
    REDIS_SENTINEL_PORTS: `${s1} ${s2} ${s3}`,
    REDIS_SENTINEL_NAME: name,
    REDIS_SENTINEL_DOWN_AFTER_MS: String(options.downAfterMs ?? 1_000),
    REDIS_SENTINEL_FAILOVER_MS: "5000",
    REDIS_SENTINEL_DIR: dir,
  };
  const script = async (command: string) => (await run("bash", [SCRIPT, command], { env, timeout: 60_000 })).stdout.trim();
  let stopped = false;
  const stopNow = () => {
    if (!stopped) spawnSync("bash", [SCRIPT, "stop"], { env, stdio: "ignore", timeout: 30_000 });
    stopped = true;
  };
  process.once("exit", stopNow);
  try {
    await script("start");
  } catch (error) {
    stopNow();
    const failure = error as Error & { stderr?: string };
    throw new Error(`scripts/redis-sentinel.sh start failed: ${failure.stderr || failure.message}`);
  }
  return {
    sentinels: await script("sentinels"),
    name,
    async primaryPort() {
      return Number((await script("primary")).split(":").pop());
    },
    async killPrimary(killOptions = {}) {
      // The script's kill-primary, minus its shell start-up: the kill's moment is what is measured.
      const port = Number((await script("primary")).split(":").pop());
      const pid = Number(await readFile(path.join(dir, `${port}.pid`), "utf8"));
      if (killOptions.pauseWritesMs) {
        const primary = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0 });
        await primary.connect();
        await primary.call("CLIENT", "PAUSE", String(killOptions.pauseWritesMs + 10_000), "WRITE");
        primary.disconnect();
        await new Promise((resolve) => setTimeout(resolve, killOptions.pauseWritesMs));
      }
      process.kill(pid, "SIGKILL");
      const at = Date.now();
      while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 10));
      return { port, at };
    },
    async stop() {
      if (stopped) return;
      await script("stop").catch(() => {});
      stopped = true;
      process.off("exit", stopNow);
    },
  };
}
