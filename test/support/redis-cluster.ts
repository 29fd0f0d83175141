import { Cluster, type Redis } from "ioredis";
import { parseClusterSeeds, type ClusterSeed } from "../../src/redis/cluster.js";
import { TEST_REDIS_CLUSTER_NODES } from "./services.js";

/** The test cluster's seeds (TEST_REDIS_CLUSTER_NODES), parsed as Concord parses REDIS_CLUSTER_NODES. */
export function testClusterSeeds(): ClusterSeed[] {
  const parsed = parseClusterSeeds(TEST_REDIS_CLUSTER_NODES);
  if ("error" in parsed) throw new Error(`TEST_REDIS_CLUSTER_NODES: ${parsed.error}`);
  return parsed.seeds;
}

/** A plain cluster client for tests to look at (and move) what the code under test wrote. Connected. */
export async function openAdminCluster(): Promise<Cluster> {
  const cluster = new Cluster(testClusterSeeds());
  await new Promise<void>((resolve, reject) => {
    cluster.once("ready", resolve);
    cluster.once("error", reject);
  });
  return cluster;
}

/** "host:port" of a node connection, as `Cluster#slots` names it. */
export const nodeKey = (node: Redis) => `${node.options.host}:${node.options.port}`;

/** "host:port" of the primary serving `slot` in `node`'s own view (CLUSTER SLOTS), or undefined. */
async function ownerSeenBy(node: Redis | Cluster, slot: number): Promise<string | undefined> {
  const ranges = await node.cluster("SLOTS");
  const range = ranges.find(([from, to]) => slot >= from && slot <= to);
  return range?.[2] ? `${range[2][0]}:${range[2][1]}` : undefined;
}

/** The primary serving `slot` now (asked of the cluster, not from a cached map). */
export async function primaryOf(admin: Cluster, slot: number): Promise<Redis> {
  const key = await ownerSeenBy(admin, slot);
  const node = admin.nodes("master").find((n) => nodeKey(n) === key);
  if (!node) throw new Error(`slot ${slot}: no primary serves it, or the admin client has no connection to ${key}`);
  return node;
}

/** Deletes every key under `prefix` on every primary (SCAN + UNLINK, one node at a time). */
export async function deleteClusterKeys(admin: Cluster, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
  let deleted = 0;
  for (const node of admin.nodes("master")) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1_000);
      cursor = next;
      // One UNLINK per key: keys of one node may still be in different slots.
      for (const key of keys) deleted += await node.unlink(key);
    } while (cursor !== "0");
  }
  return deleted;
}

/** {@link deleteClusterKeys} through an admin client of its own (for fixtures' close). */
export async function dropClusterKeys(prefix: string): Promise<void> {
  const admin = await openAdminCluster();
  await deleteClusterKeys(admin, prefix).finally(() => admin.quit());
}

/**
 * Moves `slot` to `to` the way a resharding does: IMPORTING/MIGRATING, MIGRATE of its keys, then
 * SETSLOT NODE on every primary. Resolves once every primary names `to` as the slot's owner.
 */
export async function moveSlot(admin: Cluster, slot: number, to: Redis): Promise<void> {
  const from = await primaryOf(admin, slot);
  if (nodeKey(from) === nodeKey(to)) return;
  const [fromId, toId] = (await Promise.all([from.cluster("MYID"), to.cluster("MYID")])) as [string, string];
  await to.cluster("SETSLOT", slot, "IMPORTING", fromId);
  await from.cluster("SETSLOT", slot, "MIGRATING", toId);
  for (;;) {
    const keys = (await from.cluster("GETKEYSINSLOT", slot, 100)) as string[];
    if (keys.length === 0) break;
    await from.migrate(to.options.host!, to.options.port!, "", 0, 5_000, "KEYS", ...keys);
  }
  // The new owner first, then the old one (it tells its shard-channel subscribers), then the rest.
  await to.cluster("SETSLOT", slot, "NODE", toId);
  await from.cluster("SETSLOT", slot, "NODE", toId);
  for (const node of admin.nodes("master")) if (node !== to && node !== from) await node.cluster("SETSLOT", slot, "NODE", toId);
  const deadline = Date.now() + 10_000;
  while (!(await Promise.all(admin.nodes("master").map(async (node) => (await ownerSeenBy(node, slot)) === nodeKey(to)))).every(Boolean)) {
    if (Date.now() > deadline) throw new Error(`slot ${slot}: not every primary names ${nodeKey(to)} as its owner after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
