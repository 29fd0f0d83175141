/**
 * S5 history benchmark: scroll-back through one channel with N messages, on Postgres and/or
 * Cassandra, through the real MessageStore adapters.
 *
 *   npx tsx bench/history-scrollback.ts --store postgres|cassandra|both --messages 1000000 --page 50
 *
 * Per store: a fresh database (Postgres: CREATE DATABASE concord_bench_<rand>, migrated by
 * openDatabase; Cassandra: keyspace concord_bench_<rand>, migrated by openCassandra), N messages
 * loaded into one channel, then
 *   1. a full scroll-back from the newest message to the oldest, exactly as the API pages
 *      (store.page(channel, { before, limit: page + 1, from: "newest" }), cursor = the oldest
 *      message shown), checking that every message comes back exactly once, in strictly
 *      decreasing id order, with the content that was written (exit 1 otherwise);
 *   2. --random page reads at random message-id cursors (also checked).
 * Page calls run one at a time (no concurrency), timed with process.hrtime around store.page.
 * Writes bench/results/history-<store>-<timestamp>.json and prints a Markdown table row.
 * Exit code: 0 complete, 1 a check failed or an error, 2 stopped by --timeout-s (partial results).
 * See bench/README.md.
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pg from "pg";
import { CONCORD_EPOCH_MS, snowflakeAt, snowflakeTime } from "../src/ids/snowflake.js";
import { openCassandra, type Cassandra } from "../src/stores/cassandra/client.js";
import { bucketOf, BUCKET_MS, CassandraMessageStore } from "../src/stores/message-store.cassandra.js";
import type { MessageRecord, MessageStore } from "../src/stores/message-store.js";
import { PostgresMessageStore } from "../src/stores/message-store.postgres.js";
import { openDatabase, type Database } from "../src/stores/prisma/database.js";
import { BENCH_REPO, gitFacts, loadavg, machineFacts as harnessMachineFacts, runMain } from "./lib/harness.js";
import { LatencyHistogram, type LatencySummary } from "./lib/histogram.js";
import { seededRandom } from "../test/support/random.js";

// ------------------------------------------------------------------ options

const { values: argv } = parseArgs({
  options: {
    store: { type: "string", default: "both" },
    messages: { type: "string", default: "1000000" },
    page: { type: "string", default: "50" },
    days: { type: "string", default: "60" },
    random: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "128" },
    "pg-chunk": { type: "string", default: "5000" },
    "pg-load": { type: "string", default: "sql" },
    "timeout-s": { type: "string", default: "1500" },
    seed: { type: "string", default: "1" },
    keep: { type: "boolean", default: false },
    fault: { type: "string", default: "none" },
    "pg-url": { type: "string", default: process.env.BENCH_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres" },
    cassandra: { type: "string", default: process.env.BENCH_CASSANDRA ?? "127.0.0.1:9042" },
    dc: { type: "string", default: process.env.BENCH_CASSANDRA_DC ?? "datacenter1" },
    consistency: { type: "string", default: "LOCAL_QUORUM" },
    out: { type: "string", default: fileURLToPath(new URL("./results/", import.meta.url)) },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});

if (argv.help) {
  console.log(`usage: npx tsx bench/history-scrollback.ts [--store postgres|cassandra|both] [--messages N] [--page 50]
  [--days 60] [--random 2000] [--concurrency 128] [--pg-chunk 5000] [--timeout-s 1500 (per store)]
  [--seed 1] [--keep] [--fault none|gap|duplicate] [--pg-load sql|createMany] [--pg-url URL] [--cassandra host:port] [--dc datacenter1] [--consistency LOCAL_QUORUM] [--out DIR]`);
  process.exit(0);
}

function intOption(name: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`--${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    process.exit(1);
  }
  return value;
}

const STORES = argv.store === "both" ? (["postgres", "cassandra"] as const) : argv.store === "postgres" || argv.store === "cassandra" ? ([argv.store] as const) : null;
if (!STORES) {
  console.error(`--store: expected postgres, cassandra or both, got ${JSON.stringify(argv.store)}`);
  process.exit(1);
}
const N = intOption("messages", argv.messages, 1, 50_000_000);
const PAGE = intOption("page", argv.page, 1, 100);
const DAYS = intOption("days", argv.days, 1, 3650);
const RANDOM_READS = intOption("random", argv.random, 0, 10_000_000);
const CONCURRENCY = intOption("concurrency", argv.concurrency, 1, 2048);
const PG_CHUNK = intOption("pg-chunk", argv["pg-chunk"], 1, 8000); // 8 columns x 8000 < 65535 bind parameters (createMany)
const PG_LOAD = argv["pg-load"];
if (PG_LOAD !== "sql" && PG_LOAD !== "createMany") {
  console.error(`--pg-load: expected sql or createMany, got ${JSON.stringify(PG_LOAD)}`);
  process.exit(1);
}
/** Messages written through PostgresMessageStore.create before the bulk load (see openPostgresTarget). */
const PG_ADAPTER_PREFIX = 500;
const TIMEOUT_MS = intOption("timeout-s", argv["timeout-s"], 1, 86_400) * 1000;
const SEED = intOption("seed", argv.seed, 0, 2 ** 31 - 1);
/** Checks the checker: corrupts one walk page (drops or repeats a row); the run must then fail. */
const FAULT = argv.fault;
if (FAULT !== "none" && FAULT !== "gap" && FAULT !== "duplicate") {
  console.error(`--fault: expected none, gap or duplicate, got ${JSON.stringify(FAULT)}`);
  process.exit(1);
}

// ------------------------------------------------------------------ deterministic data

/** 32-bit integer hash (lowbias32); stable across runs, so the data is a function of --seed. */
function hash32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}
/** Uniform [0, 1) drawn from message `i`, stream `k`. */
const draw = (i: number, k: number) => hash32(hash32(i ^ Math.imul(SEED, 0x9e3779b1)) + k * 0x632be5ab) / 2 ** 32;


const DAY_MS = 86_400_000;
const WORKERS = 8; // messages arrive through 8 API instances (snowflake worker ids 0..7)

/**
 * N snowflake ids, ascending, over the `days` before now: a Poisson process whose rate follows a
 * day/night cycle (3x busier at the peak than at night), ids minted by one of 8 workers. The
 * newest message is ~1 s old, so the first page starts in the current bucket, as for an active
 * channel.
 */
function makeIds(n: number, days: number, endMs: number): BigInt64Array {
  const rand = seededRandom(SEED * 7919 + 17);
  const rate = (t: number) => 1 + 0.5 * Math.sin((2 * Math.PI * (t % DAY_MS)) / DAY_MS); // 0.5 .. 1.5
  const gaps = new Float64Array(n);
  let t = 0;
  const meanGap = (days * DAY_MS) / n;
  for (let i = 0; i < n; i++) {
    const gap = (-Math.log(1 - rand()) * meanGap) / rate(t);
    gaps[i] = gap;
    t += gap;
  }
  const scale = (days * DAY_MS) / t; // stretch to exactly `days`
  const startMs = endMs - days * DAY_MS;
  const ids = new BigInt64Array(n);
  let at = startMs;
  let previous = -1n;
  for (let i = 0; i < n; i++) {
    at += gaps[i]! * scale;
    const ms = BigInt(Math.floor(at) - CONCORD_EPOCH_MS);
    const worker = BigInt(Math.floor(rand() * WORKERS));
    let id = (ms << 22n) | (worker << 12n);
    if (id <= previous) id = previous + 1n; // same millisecond: next sequence number
    ids[i] = id;
    previous = id;
  }
  return ids;
}

const WORDS = (
  "the a to and is it you that of in i for this on with what was just have be not are so like " +
  "but do can me my if we lol yeah no one at get all it's out up about when there know think " +
  "now how they your good time really would some see go here been make then want will still " +
  "server deploy build merge review ship bug fix test patch release channel message thread " +
  "voice role ping latency gg nice thanks anyone tonight tomorrow weekend raid match stream"
).split(" ");
const AUTHORS = 400;

/**
 * Message i of the channel, a pure function of (seed, i, ids): Discord-like sizes (median ~40
 * characters, 2 % between 500 and 2,000), ~5 % with mentions, ~8 % replies, ~3 % edited, no
 * nonce (a nonce makes a Cassandra send an LWT; history reads do not depend on it).
 */
function makeRecord(channelId: bigint, authorBase: bigint, ids: BigInt64Array, i: number): MessageRecord {
  const id = ids[i]!;
  const author = authorBase + BigInt(Math.floor(AUTHORS * draw(i, 1) ** 3)); // a few authors write most
  const sizeDraw = draw(i, 2);
  const length = sizeDraw < 0.6 ? 5 + Math.floor(draw(i, 3) * 45) : sizeDraw < 0.9 ? 50 + Math.floor(draw(i, 3) * 100) : sizeDraw < 0.98 ? 150 + Math.floor(draw(i, 3) * 350) : 500 + Math.floor(draw(i, 3) * 1500);
  const mentionIds: bigint[] = [];
  if (draw(i, 4) < 0.05) {
    const count = 1 + Math.floor(draw(i, 5) * 3);
    for (let k = 0; k < count; k++) {
      const mentioned = authorBase + BigInt(Math.floor(AUTHORS * draw(i, 10 + k)));
      if (!mentionIds.includes(mentioned)) mentionIds.push(mentioned);
    }
  }
  let content = mentionIds.map((m) => `<@${m}> `).join("");
  for (let k = 0; content.length < length; k++) content += (content.length > 0 ? " " : "") + WORDS[hash32(i * 131 + k) % WORDS.length];
  content = content.slice(0, Math.max(length, content.indexOf(">") + 1));
  const replyToId = i > 0 && draw(i, 6) < 0.08 ? ids[i - 1 - Math.floor(draw(i, 7) * Math.min(i, 50))]! : null;
  const editedAt = draw(i, 8) < 0.03 ? new Date(snowflakeTime(id).getTime() + 30_000 + Math.floor(draw(i, 9) * 3_600_000)) : null;
  return { id, channelId, authorId: author, content, editedAt, replyToId, mentionIds, nonce: null };
}

/** Null when equal, otherwise what differs. */
function difference(expected: MessageRecord, actual: MessageRecord): string | null {
  if (actual.id !== expected.id) return `id ${actual.id} != ${expected.id}`;
  if (actual.channelId !== expected.channelId) return `channelId ${actual.channelId} != ${expected.channelId}`;
  if (actual.authorId !== expected.authorId) return `authorId ${actual.authorId} != ${expected.authorId}`;
  if (actual.content !== expected.content) return `content ${JSON.stringify(actual.content.slice(0, 40))} != ${JSON.stringify(expected.content.slice(0, 40))}`;
  if ((actual.editedAt?.getTime() ?? null) !== (expected.editedAt?.getTime() ?? null)) return `editedAt ${actual.editedAt?.toISOString()} != ${expected.editedAt?.toISOString()}`;
  if (actual.replyToId !== expected.replyToId) return `replyToId ${actual.replyToId} != ${expected.replyToId}`;
  if (actual.mentionIds.join(",") !== expected.mentionIds.join(",")) return `mentionIds [${actual.mentionIds}] != [${expected.mentionIds}]`;
  if (actual.nonce !== expected.nonce) return `nonce ${actual.nonce} != ${expected.nonce}`;
  return null;
}

// ------------------------------------------------------------------ run-time helpers

class CheckFailed extends Error {}

let interrupted = false;
process.on("SIGINT", () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  console.error("\ninterrupted: finishing the current step, then cleaning up (Ctrl-C again to quit at once)");
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (message: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);

/** Samples the 1-minute load average every 2 s, per phase. */
class LoadSampler {
  private samples: number[] = [];
  private readonly timer = setInterval(() => this.samples.push(os.loadavg()[0]!), 2_000);
  constructor() {
    this.timer.unref();
    this.samples.push(os.loadavg()[0]!);
  }
  /** Summary of the samples since the last call (min/mean/max of loadavg-1m), then resets. */
  take(): { samples: number; min: number; mean: number; max: number; atEnd: [number, number, number] } {
    const s = this.samples.length > 0 ? this.samples : [os.loadavg()[0]!];
    const r = (v: number) => Math.round(v * 100) / 100;
    const out = { samples: s.length, min: r(Math.min(...s)), mean: r(s.reduce((a, b) => a + b, 0) / s.length), max: r(Math.max(...s)), atEnd: loadavg() };
    this.samples = [os.loadavg()[0]!];
    return out;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/** Runs `fn` up to `attempts` times (transient timeouts of a loaded node); counts the retries. */
async function withRetry<T>(counter: { retries: number; lastError?: string }, attempts: number, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts) throw error;
      counter.retries++;
      counter.lastError = String((error as Error)?.message ?? error).split("\n")[0];
      await sleep(50 * 2 ** attempt);
    }
  }
}

/**
 * Event-loop delay of this process during a phase: how late its own timers ran, i.e. how much of
 * a page's latency can be the benchmark process waiting for a CPU (the machine is shared).
 * Node records the time between samples, so the 10 ms sampling interval is subtracted.
 */
function loopDelay(): { take(): { p50: number; p99: number; max: number } } {
  let h: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  return {
    take() {
      h.disable();
      const ms = (ns: number) => Math.max(0, Math.round((ns - 10e6) / 1e3) / 1e3);
      const out = { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
      h = monitorEventLoopDelay({ resolution: 10 });
      h.enable();
      return out;
    },
  };
}

// ------------------------------------------------------------------ stores

interface Target {
  store: MessageStore;
  /** Loads messages [0, n) in id order until `stop()`; returns how many are loaded (a prefix). */
  load(n: number, record: (i: number) => MessageRecord, stop: () => boolean, progress: (loaded: number) => void): Promise<{ loaded: number; retries: number; lastError?: string; method: string }>;
  /** Server facts worth keeping with the numbers. */
  describe(): Promise<Record<string, unknown>>;
  /** Drops the database/keyspace (unless keep) and disconnects. */
  close(keep: boolean): Promise<void>;
  name: string;
}

async function openPostgresTarget(): Promise<Target> {
  const name = `concord_bench_${randomBytes(5).toString("hex")}`;
  const adminUrl = argv["pg-url"];
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let db: Database;
  try {
    db = await openDatabase({ kind: "postgres", url: url.toString(), poolSize: 4 });
  } catch (error) {
    await dropPostgres(adminUrl, name).catch(() => {});
    throw error;
  }
  const store = new PostgresMessageStore(db.prisma, db.reads);
  return {
    name,
    store,
    async load(n, record, stop, progress) {
      const counter = { retries: 0 } as { retries: number; lastError?: string };
      // The oldest PG_ADAPTER_PREFIX messages go through the adapter's own create(), 8 at a time;
      // the bulk load below must store them identically (checked after the load).
      let next = 0;
      let loaded = 0;
      const prefix = Math.min(n, PG_ADAPTER_PREFIX);
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (!stop()) {
            const i = next++;
            if (i >= prefix) return;
            await withRetry(counter, 3, () => store.create(record(i)));
            loaded++;
          }
        }),
      );
      next = loaded;
      // The rest in bulk, bypassing the adapter: "sql" is one multi-row INSERT ... SELECT FROM
      // unnest(...) per chunk on a plain pg connection (every value sent as exact text); "createMany"
      // is prisma.message.createMany with the adapter's own data shape. Two chunks in flight.
      const bulk = new pg.Pool({ connectionString: url.toString(), max: 2 });
      const chunk = PG_LOAD === "sql" ? 10_000 : PG_CHUNK;
      const insertSql = `INSERT INTO messages (channel_id, id, author_id, content, edited_at, reply_to_id, mention_ids, nonce)
        SELECT $1::bigint, u.id::bigint, u.author_id::bigint, u.content, u.edited_at::timestamptz(3), u.reply_to_id::bigint, u.mention_ids::bigint[], u.nonce
        FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS u(id, author_id, content, edited_at, reply_to_id, mention_ids, nonce)`;
      const writeChunk = async (records: MessageRecord[]) => {
        if (PG_LOAD === "createMany") {
          await db.prisma.message.createMany({ data: records });
          return;
        }
        await bulk.query(insertSql, [
          channelOf(records).toString(),
          records.map((r) => r.id.toString()),
          records.map((r) => r.authorId.toString()),
          records.map((r) => r.content),
          records.map((r) => r.editedAt?.toISOString() ?? null),
          records.map((r) => r.replyToId?.toString() ?? null),
          records.map((r) => `{${r.mentionIds.join(",")}}`), // the adapter stores [] as '{}', not NULL
          records.map((r) => r.nonce),
        ]);
      };
      const channelOf = (records: MessageRecord[]) => {
        const channel = records[0]!.channelId;
        if (records.some((r) => r.channelId !== channel)) throw new Error("one channel per chunk");
        return channel;
      };
      const worker = async () => {
        while (!stop()) {
          const from = next;
          if (from >= n) return;
          const to = Math.min(n, from + chunk);
          next = to;
          const records: MessageRecord[] = [];
          for (let i = from; i < to; i++) records.push(record(i));
          await withRetry(counter, 3, () => writeChunk(records));
          loaded += to - from;
          progress(loaded);
        }
      };
      try {
        await Promise.all([worker(), worker()]);
      } finally {
        await bulk.end();
      }
      // Chunks finish out of order; a stop may leave a hole, so only a prefix counts as loaded
      // (an interrupted load is reported as such; the walk then checks what is there).
      const rows = await db.prisma.message.count();
      if (rows !== loaded) throw new Error(`expected ${loaded} rows after the load, found ${rows}`);
      // Adapter-written and bulk-written rows must look the same, also where the typed read
      // would hide a difference (NULL vs '{}' mentions, timestamp precision).
      const shapes = await db.prisma.$queryRawUnsafe<{ shape: string; n: bigint }[]>(
        `SELECT (id <= $1::bigint)::text || ':' || (mention_ids IS NULL)::text || ':' || coalesce(cardinality(mention_ids), -1)::text AS shape, count(*) AS n
           FROM messages WHERE coalesce(cardinality(mention_ids), 0) = 0 GROUP BY 1 ORDER BY 1`,
        record(prefix - 1).id.toString(),
      );
      const emptyShapes = new Set(shapes.map((s) => s.shape.split(":").slice(1).join(":")));
      if (emptyShapes.size > 1) throw new Error(`bulk rows differ from adapter rows in how empty mentions are stored: ${JSON.stringify(shapes, (_, v) => (typeof v === "bigint" ? Number(v) : v))}`);
      // What autovacuum would have done to a table this size by the time anyone scrolls it.
      await db.prisma.$executeRawUnsafe(`VACUUM (ANALYZE) messages`);
      const how = PG_LOAD === "sql" ? `INSERT ... SELECT FROM unnest(text[]...) on pg, chunks of ${chunk}` : `prisma.message.createMany, chunks of ${chunk}`;
      return { loaded, retries: counter.retries, lastError: counter.lastError, method: `first ${prefix} via PostgresMessageStore.create, the rest ${how}, 2 in flight; then VACUUM (ANALYZE)` };
    },
    async describe() {
      const one = async (sql: string) => ((await db.prisma.$queryRawUnsafe<Record<string, unknown>[]>(sql))[0] ?? {});
      const version = await one(`SELECT current_setting('server_version') AS v`);
      const settings = await db.prisma.$queryRawUnsafe<{ name: string; setting: string; unit: string | null }[]>(
        `SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers', 'effective_cache_size', 'work_mem', 'random_page_cost', 'jit')`,
      );
      const size = await one(`SELECT pg_total_relation_size('messages')::text AS total, pg_relation_size('messages')::text AS heap, pg_indexes_size('messages')::text AS indexes`);
      return {
        serverVersion: version.v,
        settings: Object.fromEntries(settings.map((s) => [s.name, s.unit ? `${s.setting} x ${s.unit}` : s.setting])),
        messagesTableBytes: { total: Number(size.total), heap: Number(size.heap), indexes: Number(size.indexes) },
        database: name,
        poolSize: 4,
      };
    },
    async close(keep) {
      await db.close();
      if (!keep) await dropPostgres(adminUrl, name);
    },
  };
}

async function dropPostgres(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

async function openCassandraTarget(): Promise<Target> {
  const keyspace = `concord_bench_${randomBytes(5).toString("hex")}`;
  const consistency = argv.consistency.toUpperCase();
  const cassandra: Cassandra = await openCassandra({
    contactPoints: [argv.cassandra],
    localDataCenter: argv.dc,
    keyspace,
    replication: { class: "SimpleStrategy", replicationFactor: 1 },
    consistency: consistency as "LOCAL_QUORUM",
  });
  const store = new CassandraMessageStore(cassandra.client, { keyspace, consistency: cassandra.consistency, serialConsistency: cassandra.serialConsistency });
  return {
    name: keyspace,
    store,
    async load(n, record, stop, progress) {
      // Through the adapter (so the channel_buckets index rows are written as in production),
      // CONCURRENCY creates in flight, handed out in id order.
      let next = 0;
      let loaded = 0;
      const counter = { retries: 0 } as { retries: number; lastError?: string };
      const worker = async () => {
        while (!stop()) {
          const i = next++;
          if (i >= n) return;
          const result = await withRetry(counter, 5, () => store.create(record(i)));
          if (!result.created) throw new Error(`message ${i} was not created`);
          loaded++;
          if ((loaded & 4095) === 0) progress(loaded);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      // Every index below `next` was created (or the load threw), so the loaded set is a prefix.
      return { loaded, retries: counter.retries, lastError: counter.lastError, method: `CassandraMessageStore.create, ${CONCURRENCY} in flight` };
    },
    async describe() {
      const local = (await cassandra.client.execute(`SELECT release_version FROM system.local`)).first();
      const facts: Record<string, unknown> = { releaseVersion: local?.get("release_version"), keyspace, consistency, bucketMs: BUCKET_MS };
      try {
        const rs = await cassandra.client.execute(`SELECT table_name, mebibytes FROM system_views.disk_usage WHERE keyspace_name = ?`, [keyspace], { prepare: true });
        facts.diskUsageMiB = Object.fromEntries(rs.rows.map((r) => [r.get("table_name"), Number(r.get("mebibytes"))]));
      } catch (error) {
        facts.diskUsageMiB = `unavailable: ${String((error as Error).message).split("\n")[0]}`;
      }
      return facts;
    },
    async close(keep) {
      try {
        if (!keep) await cassandra.client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`, [], { readTimeout: 120_000 });
      } finally {
        await cassandra.close();
      }
    },
  };
}

// ------------------------------------------------------------------ one store

interface StoreResult {
  store: "postgres" | "cassandra";
  status: "complete" | "timeout" | "interrupted" | "failed";
  error?: string;
  startedAt: string;
  finishedAt?: string;
  config: Record<string, unknown>;
  machine: Record<string, unknown>;
  server?: Record<string, unknown>;
  data?: Record<string, unknown>;
  insert?: { messages: number; seconds: number; perSecond: number; retries: number; lastError?: string; method: string; load: unknown };
  walk?: { pages: number; messagesSeen: number; complete: boolean; verified: boolean; retries: number; seconds: number; latencyMs: LatencySummary; firstPageMs?: number; crossBucketPages?: number; load: unknown; benchEventLoopDelayMs?: unknown };
  random?: { reads: number; verified: boolean; retries: number; seconds: number; latencyMs: LatencySummary; load: unknown; benchEventLoopDelayMs?: unknown };
  goal: { p99Ms: number; walkP99Met?: boolean; randomP99Met?: boolean };
}

function machineFacts(): Record<string, unknown> {
  return { ...harnessMachineFacts(), commit: gitFacts(BENCH_REPO).commit };
}

async function runStore(kind: "postgres" | "cassandra"): Promise<StoreResult> {
  const started = Date.now();
  const deadline = started + TIMEOUT_MS;
  let stoppedBy: "timeout" | "interrupted" | undefined;
  const stop = () => {
    if (stoppedBy) return true;
    if (interrupted) stoppedBy = "interrupted";
    else if (Date.now() > deadline) stoppedBy = "timeout";
    return stoppedBy !== undefined;
  };
  const result: StoreResult = {
    store: kind,
    status: "complete",
    startedAt: new Date(started).toISOString(),
    config: { messages: N, page: PAGE, limit: PAGE + 1, days: DAYS, randomReads: RANDOM_READS, concurrency: kind === "cassandra" ? CONCURRENCY : 2, timeoutS: TIMEOUT_MS / 1000, seed: SEED, keep: argv.keep },
    machine: machineFacts(),
    goal: { p99Ms: 10 },
  };
  const sampler = new LoadSampler();
  const walk = { started: 0, pages: 0, seen: 0, hist: new LatencyHistogram() };
  const delay = loopDelay();
  log(`${kind}: opening a fresh ${kind === "postgres" ? "database" : "keyspace"} (load average ${loadavg().join(" ")})`);
  let target: Target | undefined;
  try {
    target = kind === "postgres" ? await openPostgresTarget() : await openCassandraTarget();
    log(`${kind}: ${target.name}`);

    // ---- data
    const endMs = Date.now() - 1_000;
    const ids = makeIds(N, DAYS, endMs);
    const channelId = snowflakeAt(endMs - (DAYS + 30) * DAY_MS) | 1n;
    const authorBase = snowflakeAt(endMs - (DAYS + 365) * DAY_MS);
    const record = (i: number) => makeRecord(channelId, authorBase, ids, i);
    const buckets = new Set<number>();
    for (const id of ids) buckets.add(bucketOf(id));
    let contentChars = 0;
    for (let i = 0; i < N; i += 97) contentChars += record(i).content.length;
    result.data = {
      channelId: channelId.toString(),
      oldest: snowflakeTime(ids[0]!).toISOString(),
      newest: snowflakeTime(ids[N - 1]!).toISOString(),
      cassandraBucketsCrossed: buckets.size,
      meanContentChars: Math.round(contentChars / Math.ceil(N / 97)),
    };
    log(`${kind}: ${N} messages from ${result.data.oldest} to ${result.data.newest}, ${buckets.size} ten-day buckets`);

    // ---- load
    sampler.take();
    const loadStart = Date.now();
    let lastProgress = loadStart;
    const loadOut = await target.load(N, record, stop, (loaded) => {
      if (Date.now() - lastProgress < 10_000) return;
      lastProgress = Date.now();
      log(`${kind}: inserted ${loaded} (${Math.round(loaded / ((Date.now() - loadStart) / 1000))}/s, load ${loadavg().join(" ")})`);
    });
    const loadSeconds = (Date.now() - loadStart) / 1000;
    result.insert = { messages: loadOut.loaded, seconds: Math.round(loadSeconds * 10) / 10, perSecond: Math.round(loadOut.loaded / loadSeconds), retries: loadOut.retries, ...(loadOut.lastError ? { lastError: loadOut.lastError } : {}), method: loadOut.method, load: sampler.take() };
    log(`${kind}: inserted ${loadOut.loaded} in ${loadSeconds.toFixed(1)} s (${result.insert.perSecond}/s, ${loadOut.retries} retries)`);
    const n = loadOut.loaded; // a prefix of ids; the checks below expect exactly that prefix
    if (n === 0) throw new Error("nothing was loaded");

    // ---- full walk
    const walkHist = walk.hist;
    const readRetries = { retries: 0 } as { retries: number; lastError?: string };
    let pageCalls = 0;
    const timedPage = async (hist: LatencyHistogram, before: bigint | undefined) => {
      const t0 = process.hrtime.bigint();
      const rows = await withRetry(readRetries, 3, () => target!.store.page(channelId, { before, limit: PAGE + 1, from: "newest" }));
      hist.recordNs(process.hrtime.bigint() - t0);
      if (++pageCalls === 3 && FAULT !== "none" && rows.length > 2) {
        if (FAULT === "gap") rows.splice(1, 1);
        else rows[2] = rows[1]!;
        log(`${kind}: --fault ${FAULT}: corrupted page 3 on purpose; the checks must now fail`);
      }
      return rows;
    };
    /** Checks a page read with cursor `before` (= ids[top + 1], or newest when top = n - 1). */
    const checkPage = (rows: MessageRecord[], top: number, where: string) => {
      const expectedLength = Math.min(PAGE + 1, top + 1);
      for (let k = 0; k < Math.min(rows.length, expectedLength); k++) {
        const row = rows[k]!;
        if (k > 0 && !(row.id < rows[k - 1]!.id)) throw new CheckFailed(`${where}: ids not strictly decreasing at row ${k}: ${rows[k - 1]!.id} then ${row.id}${row.id === rows[k - 1]!.id ? " (duplicate)" : ""}`);
        const expected = record(top - k);
        if (row.id !== expected.id) {
          const kind = row.id < expected.id ? `gap: message ${expected.id} (index ${top - k}) is missing` : `unexpected message ${row.id}`;
          throw new CheckFailed(`${where}, row ${k}: ${kind}; got ${row.id}`);
        }
        const diff = difference(expected, row);
        if (diff) throw new CheckFailed(`${where}, row ${k}: message ${row.id} differs from what was written: ${diff}`);
      }
      if (rows.length !== expectedLength) {
        throw new CheckFailed(`${where}: ${rows.length} rows, expected ${expectedLength} (${rows.length < expectedLength ? `gap: messages below ${rows.at(-1)?.id ?? "the cursor"} are missing` : "more rows than exist"})`);
      }
    };

    sampler.take();
    delay.take();
    const walkStart = (walk.started = Date.now());
    let firstPageMs: number | undefined;
    let before: bigint | undefined;
    let top = n - 1; // index of the newest message not yet seen
    let pages = 0;
    let crossBucketPages = 0;
    let walkComplete = false;
    let lastLog = walkStart;
    while (!stop()) {
      const t0 = process.hrtime.bigint();
      const rows = await timedPage(walkHist, before);
      if (pages === 0) firstPageMs = Number(process.hrtime.bigint() - t0) / 1e6;
      walk.pages = ++pages;
      checkPage(rows, top, `walk page ${pages} (before ${before ?? "none"})`);
      const shown = rows.slice(0, PAGE);
      if (bucketOf(shown[0]!.id) !== bucketOf(rows.at(-1)!.id)) crossBucketPages++;
      top -= shown.length;
      walk.seen = n - 1 - top;
      if (rows.length <= PAGE) {
        if (top !== -1) throw new CheckFailed(`walk ended after ${pages} pages with ${top + 1} messages never returned (gap)`);
        walkComplete = true;
        break;
      }
      before = shown.at(-1)!.id;
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        const s = walkHist.summary();
        log(`${kind}: walk ${pages} pages, ${n - 1 - top} messages, p50 ${s.p50} ms p99 ${s.p99} ms (load ${loadavg().join(" ")})`);
      }
    }
    const walkSummary = walkHist.summary();
    result.walk = {
      pages,
      messagesSeen: n - 1 - top,
      complete: walkComplete,
      verified: true,
      retries: readRetries.retries,
      seconds: Math.round((Date.now() - walkStart) / 100) / 10,
      latencyMs: walkSummary,
      ...(firstPageMs !== undefined ? { firstPageMs: Math.round(firstPageMs * 1000) / 1000 } : {}),
      ...(kind === "cassandra" ? { crossBucketPages } : {}),
      load: sampler.take(),
      benchEventLoopDelayMs: delay.take(),
    };
    log(`${kind}: walk ${walkComplete ? "complete" : "STOPPED"}: ${pages} pages, ${n - 1 - top}/${n} messages, each exactly once, newest to oldest; p50 ${walkSummary.p50} ms, p99 ${walkSummary.p99} ms, max ${walkSummary.max} ms`);

    // ---- random cursors
    if (RANDOM_READS > 0 && n > 1 && !stop()) {
      const randomHist = new LatencyHistogram();
      const rand = seededRandom(SEED * 31 + 5);
      readRetries.retries = 0;
      const randomStart = Date.now();
      let reads = 0;
      while (reads < RANDOM_READS && !stop()) {
        const cursor = 1 + Math.floor(rand() * (n - 1)); // before = ids[cursor], an existing message
        const rows = await timedPage(randomHist, ids[cursor]!);
        reads++;
        checkPage(rows, cursor - 1, `random read ${reads} (before ${ids[cursor]})`);
      }
      const s = randomHist.summary();
      result.random = { reads, verified: true, retries: readRetries.retries, seconds: Math.round((Date.now() - randomStart) / 100) / 10, latencyMs: s, load: sampler.take(), benchEventLoopDelayMs: delay.take() };
      log(`${kind}: ${reads} random-cursor pages: p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms`);
    }

    if (walkSummary.count > 0) result.goal.walkP99Met = walkSummary.p99 < result.goal.p99Ms;
    if (result.random) result.goal.randomP99Met = result.random.latencyMs.p99 < result.goal.p99Ms;
    result.server = await target.describe().catch((error: unknown) => ({ error: String(error) }));
    if (stoppedBy) result.status = stoppedBy;
    else if (!walkComplete || (RANDOM_READS > 0 && (result.random?.reads ?? 0) < RANDOM_READS)) result.status = "timeout";
  } catch (error) {
    result.status = "failed";
    result.error = error instanceof CheckFailed ? `CHECK FAILED: ${error.message}` : String((error as Error)?.stack ?? error);
    log(`${kind}: ${result.error}`);
    if (walk.started && result.walk === undefined) {
      // The walk failed (or errored) part-way: keep what it measured up to there.
      result.walk = { pages: walk.pages, messagesSeen: walk.seen, complete: false, verified: !(error instanceof CheckFailed), retries: 0, seconds: Math.round((Date.now() - walk.started) / 100) / 10, latencyMs: walk.hist.summary(), load: sampler.take() };
    }
  } finally {
    sampler.stop();
    if (target) {
      log(`${kind}: ${argv.keep ? `keeping ${target.name}` : `dropping ${target.name}`}`);
      await target.close(argv.keep).catch((error: unknown) => log(`${kind}: cleanup failed: ${String(error)}`));
    }
    result.finishedAt = new Date().toISOString();
    result.machine.loadavgAtEnd = loadavg();
  }
  return result;
}

// ------------------------------------------------------------------ report

const fmt = (v: number | undefined) => (v === undefined ? "–" : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));

const TABLE_HEADER =
  "| store | messages | insert/s | walk pages | walk p50 ms | walk p99 ms | walk max ms | random p50 ms | random p99 ms | random max ms | p99 < 10 ms | load avg (1m, mean during reads) | status |\n" +
  "|---|---|---|---|---|---|---|---|---|---|---|---|---|";

function tableRow(r: StoreResult): string {
  const w = r.walk?.latencyMs;
  const x = r.random?.latencyMs;
  const loads = [r.walk?.load, r.random?.load].filter(Boolean) as { mean: number; max: number }[];
  const meanLoad = loads.length ? loads.reduce((a, l) => a + l.mean, 0) / loads.length : undefined;
  const maxLoad = loads.length ? Math.max(...loads.map((l) => l.max)) : undefined;
  const goal = w && w.count > 0 ? (w.p99 < 10 && (!x || x.p99 < 10) ? "yes" : "**no**") : "–";
  const walk = r.walk ? `${r.walk.pages}${r.walk.complete ? " (all, verified)" : " (partial)"}` : "–";
  return `| ${r.store} | ${r.insert?.messages ?? 0} | ${r.insert?.perSecond ?? "–"} | ${walk} | ${fmt(w?.p50)} | ${fmt(w?.p99)} | ${fmt(w?.max)} | ${fmt(x?.p50)} | ${fmt(x?.p99)} | ${fmt(x?.max)} | ${goal} | ${meanLoad === undefined ? "–" : `${meanLoad.toFixed(1)} (max ${maxLoad!.toFixed(1)})`} | ${r.status} |`;
}

async function main(): Promise<number> {
  log(`history scroll-back: ${N} messages over ${DAYS} days, pages of ${PAGE} (limit ${PAGE + 1}), ${RANDOM_READS} random reads, stores: ${STORES!.join(", ")}, timeout ${TIMEOUT_MS / 1000} s per store`);
  const results: StoreResult[] = [];
  for (const kind of STORES!) {
    if (interrupted) break;
    const r = await runStore(kind);
    results.push(r);
    await mkdir(argv.out, { recursive: true });
    const file = path.join(argv.out, `history-${kind}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    await writeFile(file, JSON.stringify(r, null, 2) + "\n");
    log(`${kind}: wrote ${path.relative(process.cwd(), file)}`);
  }
  console.log(`\n${TABLE_HEADER}`);
  for (const r of results) console.log(tableRow(r));
  if (results.some((r) => r.status === "failed")) return 1;
  if (results.some((r) => r.status !== "complete")) return 2;
  return 0;
}

runMain(main);
