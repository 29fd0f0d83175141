import type { ClusterOptions } from "ioredis";

/** A seed node of a Redis Cluster (REDIS_CLUSTER_NODES): any node will do, the client learns the others. */
export interface ClusterSeed {
  host: string;
  port: number;
}

/** Hash slots of a Redis Cluster. */
const SLOTS = 16_384;

/** CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes keys and shard channels with. */
export function crc16(text: string): number {
  let crc = 0;
  for (const byte of Buffer.from(text, "utf8")) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/**
 * The hash slot of a key or shard channel, as the server computes it (CLUSTER KEYSLOT): only the
 * part between the first `{` and the next `}` counts when it is not empty (a hash tag), so
 * `concord:{channel:1}:seq` and `concord:{channel:1}` share a slot.
 */
export function keySlot(key: string): number {
  const open = key.indexOf("{");
  if (open >= 0) {
    const close = key.indexOf("}", open + 1);
    if (close > open + 1) return crc16(key.slice(open + 1, close)) % SLOTS;
  }
  return crc16(key) % SLOTS;
}

/**
 * Parses REDIS_CLUSTER_NODES: comma-separated `host:port` seeds (an IPv6 host in brackets,
 * `[::1]:30001`). Returns the seeds, or what is wrong with the first bad entry (showing
 * `example` as a good one). Also reads REDIS_SENTINELS, the same format.
 */
export function parseClusterSeeds(raw: string, example = "10.0.0.5:6379"): { seeds: ClusterSeed[] } | { error: string } {
  const seeds: ClusterSeed[] = [];
  for (const entry of raw.split(",").map((e) => e.trim())) {
    if (entry === "") continue;
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65_535) return { error: `${JSON.stringify(entry)} is not host:port (e.g. ${example})` };
    seeds.push({ host: match[1]!.replace(/^\[(.*)\]$/, "$1"), port });
  }
  if (seeds.length === 0) return { error: "expected at least one host:port" };
  return { seeds };
}

/** "host:port" of a seed, as ioredis names cluster nodes (`Cluster#slots`). */
export function seedList(seeds: readonly ClusterSeed[]): string {
  return seeds.map((s) => `${s.host}:${s.port}`).join(",");
}

/** Options every Concord cluster client shares. */
export function clusterDefaults(): ClusterOptions {
  return {
    // Commands notice a failover or a resharding by their MOVED replies; the periodic refresh
    // also catches the changes no command ran into (and tells the sharded subscriber).
    slotsRefreshInterval: 5_000,
  };
}
