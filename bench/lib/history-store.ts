/**
 * The store side of bench/history-api.ts, through this checkout's own adapters (src/stores): the
 * Cassandra load (so the bucket index is written as in production), and the reference figure,
 * the same pages with their authors read from the stores alone in this process, with no HTTP and
 * no GraphQL.
 */
import { performance } from "node:perf_hooks";
import { openCassandra, type Cassandra } from "../../src/stores/cassandra/client.js";
import { CassandraMessageStore } from "../../src/stores/message-store.cassandra.js";
import type { MessageStore } from "../../src/stores/message-store.js";
import { PostgresMessageStore } from "../../src/stores/message-store.postgres.js";
import { PrismaAccountStore } from "../../src/stores/account-store.prisma.js";
import { openDatabase, type Database } from "../../src/stores/prisma/database.js";
import { LatencyHistogram, type LatencySummary } from "./histogram.js";
import { messageRecords, type SeededMessage } from "./history-fixture.js";
import { round } from "./harness.js";

/** Where the server's stores are: its scratch database, and its keyspace with --store cassandra. */
export interface StoreLocation {
  databaseUrl: string;
  cassandra?: { contactPoint: string; dc: string; keyspace: string };
}

async function openCassandraOf(location: StoreLocation): Promise<Cassandra | undefined> {
  const c = location.cassandra;
  if (!c) return undefined;
  return openCassandra({ contactPoints: [c.contactPoint], localDataCenter: c.dc, keyspace: c.keyspace, replication: { class: "SimpleStrategy", replicationFactor: 1 }, consistency: "LOCAL_QUORUM", migrate: false });
}

/** Writes the messages through CassandraMessageStore.create, 64 in flight, oldest first (the keyspace must exist: the server migrated it). */
export async function insertMessagesCassandra(location: StoreLocation, channelId: bigint, messages: SeededMessage[]): Promise<void> {
  const cassandra = (await openCassandraOf(location))!;
  try {
    const store = new CassandraMessageStore(cassandra.client, { keyspace: cassandra.keyspace, consistency: cassandra.consistency });
    const records = messageRecords(channelId, messages);
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        for (let i = next++; i < records.length; i = next++) await store.create(records[i]!);
      }),
    );
  } finally {
    await cassandra.close();
  }
}

export interface StoreReference {
  pages: number;
  latencyMs: LatencySummary;
  /** This process's CPU (process.cpuUsage) per page: the adapters, Prisma or cassandra-driver, pg, and the loop around them. */
  cpuMsPerPage: number;
  windowMs: number;
  what: string;
}

/**
 * For `seconds`, one page at a time, walking back as the API bench does: `page(channel, { before,
 * limit: size + 1, from: "newest" })` as resolvers/history.ts asks, then `getUsers` of the page's
 * distinct authors, as the user DataLoader's one batch does. Every page is checked by its ids.
 */
export async function measureStoreReference(location: StoreLocation, channelId: bigint, messages: SeededMessage[], size: number, seconds: number, stop: () => boolean): Promise<StoreReference> {
  const db: Database = await openDatabase({ kind: "postgres", url: location.databaseUrl, poolSize: 4 });
  const cassandra = await openCassandraOf(location);
  try {
    const store: MessageStore = cassandra
      ? new CassandraMessageStore(cassandra.client, { keyspace: cassandra.keyspace, consistency: cassandra.consistency })
      : new PostgresMessageStore(db.prisma, db.reads);
    const accounts = new PrismaAccountStore(db.prisma, db.reads);
    const histogram = new LatencyHistogram();
    const onePage = async (end: number) => {
      const before = end === messages.length ? undefined : messages[end]!.id;
      const rows = await store.page(channelId, { before, limit: size + 1, from: "newest" });
      const users = await accounts.getUsers([...new Set(rows.slice(0, size).map((m) => m.authorId))]);
      const start = Math.max(0, end - size);
      if (rows.length !== Math.min(end, size + 1) || rows[0]?.id !== messages[end - 1]!.id || users.length === 0) throw new Error(`store reference: wrong page before index ${end}`);
      return start === 0 ? messages.length : start;
    };
    // Warm-up: prepared statements, Prisma's query plans, the pools.
    for (let i = 0, end = messages.length; i < 50; i++) end = await onePage(end);
    const cpu = process.cpuUsage();
    const began = performance.now();
    let pages = 0;
    for (let end = messages.length; performance.now() - began < seconds * 1000 && !stop(); pages++) {
      const t0 = process.hrtime.bigint();
      end = await onePage(end);
      histogram.recordNs(process.hrtime.bigint() - t0);
    }
    const used = process.cpuUsage(cpu);
    return {
      pages,
      latencyMs: histogram.summary(),
      cpuMsPerPage: pages > 0 ? round((used.user + used.system) / 1000 / pages, 3) : NaN,
      windowMs: Math.round(performance.now() - began),
      what: `${cassandra ? "CassandraMessageStore" : "PostgresMessageStore"}.page (limit ${size + 1}) + PrismaAccountStore.getUsers (distinct authors), this checkout's adapters in the bench process, one at a time`,
    };
  } finally {
    await cassandra?.close();
    await db.close();
  }
}
