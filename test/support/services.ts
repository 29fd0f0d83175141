import net from "node:net";
import { Redis } from "ioredis";

/**
 * External services for the contract and integration suites. Locally a suite whose service is
 * down is skipped with a note (so `npm test` passes on a laptop with nothing installed); with
 * CI=true the same suite fails, because CI must prove every adapter against its real server.
 */
export const IN_CI = /^(1|true)$/i.test(process.env.CI ?? "");

/** Where the real Postgres used by tests lives (any database; suites create their own). */
export const TEST_POSTGRES_URL = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** True if a TCP connection to the URL's host and port succeeds within the timeout. */
export function reachable(url: string, timeoutMs = 1_500): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 5432), timeout: timeoutMs });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
    socket.once("error", () => resolve(false));
  });
}

/**
 * Decides whether a backend suite runs: true if the service answers; false (skip) locally if
 * not; throws in CI, so a missing service is a red build, never a silent skip.
 */
export async function requireService(name: string, url: string): Promise<boolean> {
  if (await reachable(url)) return true;
  const message = `${name} is not reachable at ${url.replace(/\/\/[^@]*@/, "//")}`;
  if (IN_CI) throw new Error(`${message}: CI=true requires it (start it, or fix TEST_DATABASE_URL)`);
  console.warn(`skipping ${name} suites: ${message}`);
  return false;
}

/** Seeds of the loopback Redis Cluster the cluster suites run on (started by scripts/redis-cluster.sh). */
export const TEST_REDIS_CLUSTER_NODES = process.env.TEST_REDIS_CLUSTER_NODES ?? "127.0.0.1:30001,127.0.0.1:30002,127.0.0.1:30003";

/** Why the Redis Cluster at `seeds` cannot be used (a seed does not answer, or cluster_state is not ok), or null. */
async function clusterProblem(seeds: string): Promise<string | null> {
  for (const seed of seeds.split(",")) {
    if (!(await reachable(`redis://${seed}`))) return `${seed} does not answer`;
    const node = new Redis(`redis://${seed}`, { lazyConnect: true, retryStrategy: () => null, connectTimeout: 1_500, maxRetriesPerRequest: 0 });
    try {
      await node.connect();
      const info = String(await node.call("CLUSTER", "INFO"));
      if (!/^cluster_state:ok\r?$/m.test(info)) return `${seed} reports ${/^cluster_state:\w+/m.exec(info)?.[0] ?? "no cluster_state"}`;
    } catch (error) {
      return `${seed}: ${(error as Error).message}`;
    } finally {
      node.disconnect();
    }
  }
  return null;
}

/**
 * {@link requireService} for the Redis Cluster suites: true if every seed answers and reports
 * cluster_state:ok; false (skip) locally if not; throws in CI.
 */
export async function requireRedisCluster(seeds = TEST_REDIS_CLUSTER_NODES): Promise<boolean> {
  const problem = await clusterProblem(seeds);
  if (problem === null) return true;
  const message = `the Redis Cluster at ${seeds} is not usable: ${problem}`;
  if (IN_CI) throw new Error(`${message}: CI=true requires it (bash scripts/redis-cluster.sh start, or fix TEST_REDIS_CLUSTER_NODES)`);
  console.warn(`skipping Redis Cluster suites: ${message}`);
  return false;
}
