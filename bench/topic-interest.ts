/**
 * Per-instance topic interest: how many instances receive each channel message as the fleet
 * grows, with clients placed by a plain load balancer (spread) or by channel (what routing a
 * guild's or channel's clients to the same gateways does).
 *
 *   npx tsx bench/topic-interest.ts --instances 1,2,4 --clients 2000 [--channels 100] [--placement spread,channel]
 *
 * Per fleet size K and placement: K Concord instances (WORKER_ID 1..K) on one scratch Postgres
 * database and the Redis at --redis under a fresh REDIS_KEY_PREFIX; N bot users seeded in SQL,
 * C channels; client i subscribes to channel i mod C (`channelEvents`) on instance
 *   - spread:  a hash of i mod K (a load balancer's placement: random for the channel),
 *   - channel: (i mod C) mod K (all clients of a channel on one instance),
 * and waits for its `Subscribed`. Then Redis is asked who listens: `PUBSUB NUMSUB` of every
 * channel topic under the prefix = the instances a message of that channel is delivered to (each
 * instance holds one Redis subscription per topic, whatever its number of local subscribers).
 * Reported: instances per channel message (mean, max), Redis deliveries per message, and the
 * same for a channel with one subscriber.
 * Writes bench/results/topic-interest-<label>-<timestamp>.json and prints a Markdown row per run.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { commonOptions, createScratchDatabase, gitFacts, interruption, intListOption, intOption, loadavg, log, machineFacts, machineLine, runMain, seedGuild, sleep, startConcord, unlinkRedisPrefix, writeReport, type ConcordProcess, type ScratchDatabase } from "./lib/harness.js";
import { WsLoad } from "./lib/ws-load.js";

const { values: argv } = parseArgs({
  options: {
    ...commonOptions(900),
    instances: { type: "string", default: "1,2,4" },
    clients: { type: "string", default: "2000" },
    channels: { type: "string", default: "100" },
    placement: { type: "string", default: "spread,channel" },
    redis: { type: "string", default: process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379" },
  },
  strict: true,
});
if (argv.help) {
  console.log(`usage: npx tsx bench/topic-interest.ts [--instances 1,2,4] [--clients 2000] [--channels 100] [--placement spread,channel]
  [--redis URL] [--server-dir DIR] [--label dev] [--timeout-s 900] [--pg-url URL] [--out DIR]`);
  process.exit(0);
}
const FLEETS = intListOption("instances", argv.instances, 1, 8);
const N = intOption("clients", argv.clients, 1, 15_000);
const CHANNELS = intOption("channels", argv.channels, 1, 1_000);
const PLACEMENTS = argv.placement.split(",").map((p) => p.trim()) as ("spread" | "channel")[];
for (const p of PLACEMENTS) if (p !== "spread" && p !== "channel") throw new Error(`--placement: spread or channel, not ${p}`);
const SERVER_DIR = path.resolve(argv["server-dir"]);
const LABEL = argv.label.replace(/[^\w.-]/g, "_");
const deadline = performance.now() + intOption("timeout-s", argv["timeout-s"], 1, 86_400) * 1000;
const stop = () => interruption.interrupted || performance.now() > deadline;
const SUBSCRIPTION = `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageCreated { message { id } } } }`;

/** A 32-bit integer hash (so placement does not line up with i mod C). */
function mix(i: number): number {
  let h = i ^ (i >>> 16);
  h = Math.imul(h, 0x45d9f3b);
  h ^= h >>> 16;
  h = Math.imul(h, 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}

interface Row {
  instances: number;
  placement: string;
  clients: number;
  live: number;
  channelTopics: number;
  /** Instances subscribed per channel topic: what one message of that channel is delivered to. */
  instancesPerMessage: { mean: number; max: number; min: number };
  subscribersPerChannel: number;
  error?: string;
}

async function run(k: number, placement: "spread" | "channel"): Promise<Row> {
  const row: Row = { instances: k, placement, clients: N, live: 0, channelTopics: 0, instancesPerMessage: { mean: NaN, max: NaN, min: NaN }, subscribersPerChannel: N / CHANNELS };
  const prefix = `concord_bench_${randomBytes(5).toString("hex")}:`;
  let db: ScratchDatabase | undefined;
  const fleet: ConcordProcess[] = [];
  const loads: WsLoad[] = [];
  const redis = new Redis(argv.redis, { maxRetriesPerRequest: 1 });
  try {
    db = await createScratchDatabase(argv["pg-url"]);
    const env = { DATABASE_URL: db.url, REDIS_URL: argv.redis, REDIS_KEY_PREFIX: prefix, LOG_LEVEL: "warn", PASSWORD_HASH_COST: "10" };
    for (let w = 1; w <= k; w++) fleet.push(await startConcord(SERVER_DIR, { ...env, WORKER_ID: String(w) }));
    const fixture = await seedGuild(fleet[0]!, db.url, N, CHANNELS - 1);
    const channelIds = fixture.channelIds.slice(0, CHANNELS);
    const instanceOf = (i: number) => (placement === "spread" ? mix(i) % k : (i % CHANNELS) % k);
    let live = 0;
    for (let w = 0; w < k; w++) {
      const mine: number[] = [];
      for (let i = 0; i < N; i++) if (instanceOf(i) === w) mine.push(i);
      if (mine.length === 0) continue;
      const seen = new Uint8Array(mine.length);
      const load = new WsLoad({
        url: fleet[w]!.wsUrl,
        count: mine.length,
        mode: "graphql-ws",
        token: (j) => fixture.tokens[mine[j]!]!,
        subscription: { query: SUBSCRIPTION, variables: (j) => ({ c: channelIds[mine[j]! % CHANNELS] }) },
        addresses: 1,
        addressOffset: w,
        marker: '"Subscribed',
        onReceipt: (j) => {
          if (seen[j]) return;
          seen[j] = 1;
          live++;
        },
        shouldStop: stop,
      });
      loads.push(load);
      await load.connectAll();
    }
    const until = performance.now() + 60_000;
    while (live < N && performance.now() < until && !stop()) await sleep(50);
    row.live = live;
    const topics = (await redis.pubsub("CHANNELS", `${prefix}*channel:*`)) as string[];
    const counts: number[] = [];
    for (let i = 0; i < topics.length; i += 500) {
      const reply = (await redis.pubsub("NUMSUB", ...topics.slice(i, i + 500))) as (string | number)[];
      for (let j = 1; j < reply.length; j += 2) counts.push(Number(reply[j]));
    }
    row.channelTopics = counts.length;
    if (counts.length > 0) row.instancesPerMessage = { mean: Math.round((counts.reduce((a, b) => a + b, 0) / counts.length) * 100) / 100, max: Math.max(...counts), min: Math.min(...counts) };
    log(`K=${k} ${placement}: ${live}/${N} live; ${counts.length} channel topics, instances per message mean ${row.instancesPerMessage.mean}, max ${row.instancesPerMessage.max}`);
  } catch (error) {
    row.error = String((error as Error)?.stack ?? error);
    log(row.error);
  } finally {
    for (const load of loads) load.expectClose();
    for (const concord of fleet) await concord.stop(10_000);
    for (const load of loads) await load.closeAll(1_000);
    if (db) await db.drop().catch(() => {});
    redis.disconnect();
    await unlinkRedisPrefix(argv.redis, prefix);
  }
  return row;
}

async function main(): Promise<number> {
  const machine = machineFacts();
  const server = gitFacts(SERVER_DIR);
  const started = new Date();
  const rows: Row[] = [];
  for (const placement of PLACEMENTS) for (const k of FLEETS) if (!stop()) rows.push(await run(k, placement));
  await writeReport(argv.out, "topic-interest", LABEL, started, { scenario: "topic interest", label: LABEL, startedAt: started.toISOString(), server: { dir: SERVER_DIR, ...server }, machine, loadavgAtEnd: loadavg(), rows });
  console.log(`\nTopic interest, label ${LABEL}, server ${server.commit ?? SERVER_DIR}${server.dirtySrc ? " (src modified)" : ""}, ${machineLine(machine)}, ${N} clients over ${CHANNELS} channels (${N / CHANNELS} per channel)`);
  console.log("| placement | instances | clients live | channel topics | instances receiving each channel message: mean / max |\n|---|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.placement} | ${r.instances} | ${r.live} / ${r.clients} | ${r.channelTopics} | ${r.instancesPerMessage.mean} / ${r.instancesPerMessage.max}${r.error ? " (error)" : ""} |`);
  return rows.some((r) => r.error || r.live < r.clients) ? 2 : 0;
}

runMain(main);
