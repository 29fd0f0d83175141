import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client as CassandraClient } from "cassandra-driver";
import { REPO_ROOT } from "./processes.js";
import { IN_CI, reachable } from "./services.js";

/**
 * A real 4-node, two-data-centre Cassandra cluster on loopback (scripts/cassandra-cluster.sh):
 * dc1 on 127.0.0.2-4, dc2 on 127.0.0.5, each node a JVM a test may SIGKILL and restart.
 */

const SCRIPT = path.join(REPO_ROOT, "scripts/cassandra-cluster.sh");
/** The script's default layout, spelled out so the suite and the script agree. */
export const CLUSTER_NODES = [
  { n: 1, address: "127.0.0.2", dc: "dc1" },
  { n: 2, address: "127.0.0.3", dc: "dc1" },
  { n: 3, address: "127.0.0.4", dc: "dc1" },
  { n: 4, address: "127.0.0.5", dc: "dc2" },
] as const;
const CQL_PORT = 9042;
/** Resident memory one node reaches (512 MB heap; measured about 1.0 GB) plus headroom. */
const BYTES_PER_NODE = 1.15 * 2 ** 30;
/** The two Concord processes and the test runner beside the cluster. */
const BYTES_BESIDE = 1.0 * 2 ** 30;

export interface CassandraCluster {
  /** The run directory (one subdirectory per node, logs in node<n>/logs). */
  dir: string;
  /** How long `start` took, in ms. */
  startMs: number;
  /** CQL contact points of one data centre, "host:port" each. */
  contactPoints(dc: string): string[];
  /** SIGKILL node n (1-4); resolves once it has exited. */
  kill(n: number): Promise<void>;
  /** Starts killed node n on its data; resolves once it answers CQL and sees the others UP. Returns ms taken. */
  restart(n: number): Promise<number>;
  /** Stops every node; removes the run directory unless `keep` (for reading logs after a failure). */
  stop(keep?: boolean): Promise<void>;
}

/** Runs the cluster script with `args`; rejects with its output when it exits non-zero. */
function runScript(dir: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [SCRIPT, ...args], { cwd: REPO_ROOT, env: { ...process.env, CASSANDRA_CLUSTER_DIR: dir }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(output) : reject(new Error(`cassandra-cluster.sh ${args.join(" ")} exited ${code}:\n${output.slice(-6000)}`))));
  });
}

/** SIGKILLs every node whose pid file is in `dir` (synchronous: usable in an exit handler). */
function killAllSync(dir: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((name) => /^node\d+\.pid$/.test(name));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(readFileSync(path.join(dir, name), "utf8").trim());
    try {
      if (pid > 0 && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("CassandraDaemon")) process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Why the cluster cannot start on this machine (no JDK, too little memory, an address in use), or null. */
export async function clusterProblem(): Promise<string | null> {
  if (spawnSync("java", ["-version"], { stdio: "ignore" }).status !== 0 && !process.env.JAVA_HOME) return "no java on PATH (JDK 17 needed)";
  const meminfo = await readFile("/proc/meminfo", "utf8").catch(() => "");
  const availableKb = Number(/^MemAvailable:\s+(\d+)/m.exec(meminfo)?.[1] ?? Number.NaN);
  const neededBytes = CLUSTER_NODES.length * BYTES_PER_NODE + BYTES_BESIDE;
  if (availableKb * 1024 < neededBytes) {
    return `${(availableKb / 2 ** 20).toFixed(1)} GB of memory available, ${(neededBytes / 2 ** 30).toFixed(1)} GB needed (${CLUSTER_NODES.length} nodes with a 512 MB heap, about 1 GB resident each)`;
  }
  for (const node of CLUSTER_NODES) {
    for (const port of [7000, CQL_PORT]) {
      if (await reachable(`tcp://${node.address}:${port}`, 500)) return `${node.address}:${port} is already in use (another cluster? bash scripts/cassandra-cluster.sh stop)`;
    }
  }
  return null;
}

/**
 * Whether a suite that starts its own Cassandra cluster can run: false (with a warning) locally
 * when it cannot; under CI=true that is an error, not a skip.
 */
export async function requireCassandraCluster(suite: string): Promise<boolean> {
  const problem = await clusterProblem();
  if (problem === null) return true;
  if (IN_CI) throw new Error(`${suite} needs a 4-node Cassandra cluster on loopback: ${problem}; CI=true requires it`);
  console.warn(`skipping ${suite}: ${problem}`);
  return false;
}

/**
 * Starts the cluster (fresh and empty, in a new temporary run directory) and waits until every
 * node answers CQL and a driver in each data centre sees all four hosts UP. The nodes are
 * SIGKILLed if the process exits without `stop`.
 */
export async function startCassandraCluster(): Promise<CassandraCluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "concord-cassandra-cluster-"));
  const onExit = () => killAllSync(dir);
  process.once("exit", onExit);
  const started = Date.now();
  try {
    await runScript(dir, ["start"]);
    for (const dc of ["dc1", "dc2"]) await waitForHostsUp(dc, CLUSTER_NODES.map((node) => node.address), 60_000);
  } catch (error) {
    killAllSync(dir);
    throw error;
  }
  const startMs = Date.now() - started;
  return {
    dir,
    startMs,
    contactPoints: (dc) => CLUSTER_NODES.filter((node) => node.dc === dc).map((node) => `${node.address}:${CQL_PORT}`),
    async kill(n) {
      await runScript(dir, ["kill", String(n)]);
    },
    async restart(n) {
      const t0 = Date.now();
      await runScript(dir, ["restart", String(n)]);
      return Date.now() - t0;
    },
    async stop(keep = false) {
      await runScript(dir, ["stop"]).catch(() => killAllSync(dir));
      process.removeListener("exit", onExit);
      if (!keep) await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Waits until a driver whose local data centre is `dc` sees exactly `up` (addresses) as the hosts
 * that are UP, through any node of the cluster that answers.
 */
export async function waitForHostsUp(dc: string, up: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const want = [...up].sort().join(",");
  let seen = "(no answer)";
  for (;;) {
    const alive = [];
    for (const node of CLUSTER_NODES) if (await reachable(`tcp://${node.address}:${CQL_PORT}`, 500)) alive.push(`${node.address}:${CQL_PORT}`);
    if (alive.length > 0) {
      const client = new CassandraClient({ contactPoints: alive, localDataCenter: dc });
      try {
        await client.connect();
        seen = [...client.hosts.values()].filter((host) => host.isUp()).map((host) => host.address.replace(/:\d+$/, "")).sort().join(",");
        if (seen === want) return;
      } catch (error) {
        seen = (error as Error).message;
      } finally {
        await client.shutdown().catch(() => {});
      }
    }
    if (Date.now() > deadline) throw new Error(`a driver in ${dc} sees ${seen} UP, not ${want}, after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

/** The last `lines` of node n's system.log in `dir` (for failure messages). */
export async function nodeLog(dir: string, n: number, lines = 40): Promise<string> {
  const logs = path.join(dir, `node${n}`, "logs");
  const names = await readdir(logs).catch(() => [] as string[]);
  if (!names.includes("system.log")) return `(no system.log for node ${n})`;
  return (await readFile(path.join(logs, "system.log"), "utf8")).split("\n").slice(-lines).join("\n");
}
