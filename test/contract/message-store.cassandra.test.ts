import { randomBytes } from "node:crypto";
import { types } from "cassandra-driver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIdGenerator, snowflakeAt } from "../../src/ids/snowflake.js";
import { openCassandra, type Cassandra } from "../../src/stores/cassandra/client.js";
import { bucketOf, CassandraMessageStore } from "../../src/stores/message-store.cassandra.js";
import type { MessageRecord } from "../../src/stores/message-store.js";
import { requireService } from "../support/services.js";
import { messageStoreContract } from "./message-store.contract.js";

/** The Cassandra (or ScyllaDB) node used by tests; only host and port matter. */
const TEST_CASSANDRA_URL = process.env.TEST_CASSANDRA_URL ?? "tcp://127.0.0.1:9042";
const TEST_CASSANDRA_DC = process.env.TEST_CASSANDRA_DC ?? "datacenter1";

/** A fresh keyspace, migrated by the app's own runner; `drop` removes it and disconnects. */
async function openTestKeyspace(): Promise<{ cassandra: Cassandra; drop(): Promise<void> }> {
  const keyspace = `concord_test_${randomBytes(6).toString("hex")}`;
  const cassandra = await openCassandra({
    contactPoints: [new URL(TEST_CASSANDRA_URL).host],
    localDataCenter: TEST_CASSANDRA_DC,
    keyspace,
    replication: { class: "SimpleStrategy", replicationFactor: 1 },
    consistency: "LOCAL_QUORUM",
  });
  return {
    cassandra,
    async drop() {
      try {
        await cassandra.client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
      } finally {
        await cassandra.close();
      }
    },
  };
}

const storeFor = (cassandra: Cassandra, options: { nonceGraceMs?: number } = {}) =>
  new CassandraMessageStore(cassandra.client, { keyspace: cassandra.keyspace, consistency: cassandra.consistency, serialConsistency: cassandra.serialConsistency, ...options });

// Locally a stopped node skips these suites with a warning; with CI=true requireService throws.
describe.runIf(await requireService("Cassandra", TEST_CASSANDRA_URL))("real Cassandra node", () => {
  messageStoreContract("CassandraMessageStore on Cassandra", async () => {
    const { cassandra, drop } = await openTestKeyspace();
    return { store: storeFor(cassandra), close: drop };
  });

  /** What only this adapter can get wrong: its own tables, seen directly. */
  describe("CassandraMessageStore internals", () => {
    let cassandra: Cassandra;
    let drop: () => Promise<void>;
    let store: CassandraMessageStore;
    const newId = createIdGenerator(41);
    /** A CQL bigint parameter: the client takes JavaScript bigints (useBigIntAsLong). */
    const L = (value: bigint) => value;
    const cql = (query: string, params: unknown[]) => cassandra.client.execute(query.replaceAll("ks.", `${cassandra.keyspace}.`), params, { prepare: true });
    const message = (channelId: bigint, overrides: Partial<MessageRecord> = {}): MessageRecord => ({
      id: newId(), channelId, authorId: 5n, content: "hi", editedAt: null, replyToId: null, mentionIds: [], nonce: null, ...overrides,
    });

    beforeAll(async () => {
      ({ cassandra, drop } = await openTestKeyspace());
      store = storeFor(cassandra, { nonceGraceMs: 300 });
    });
    afterAll(async () => {
      await drop?.();
    });

    it("a nonce claim whose message was never written is taken over after the grace period, then dedupes", async () => {
      const channelId = newId();
      // A writer that claimed the nonce and died before writing its message.
      await cql("INSERT INTO ks.message_nonces (channel_id, author_id, nonce, message_id) VALUES (?, ?, ?, ?)", [L(channelId), L(5n), "orphan", L(newId())]);
      const record = message(channelId, { nonce: "orphan" });
      const started = Date.now();
      expect(await store.create(record)).toEqual({ created: true, message: record });
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(await store.create(message(channelId, { nonce: "orphan" }))).toEqual({ created: false, message: record });
    });

    it("rows without an author (remnants of a deleted message) read as absent, and pages still fill up", async () => {
      const channelId = newId();
      const real = [message(channelId), message(channelId), message(channelId)];
      for (const m of real) await store.create(m);
      // Five author-less rows newer than the real messages, in the same bucket.
      for (let i = 0; i < 5; i++) {
        const id = newId();
        await cql("UPDATE ks.messages SET content = 'ghost' WHERE channel_id = ? AND bucket = ? AND message_id = ?", [L(channelId), bucketOf(id), L(id)]);
        expect(await store.get(channelId, id)).toBeNull();
        expect(await store.edit(channelId, id, { content: "x", mentionIds: [], editedAt: new Date() })).toBeNull();
      }
      expect(await store.page(channelId, { from: "newest", limit: 3 })).toEqual([...real].reverse());
      expect(await store.page(channelId, { from: "oldest", limit: 10 })).toEqual(real);
    });

    it("stores empty mentions and absent values as unset cells, and writes one bucket-index row per bucket", async () => {
      const channelId = newId();
      const records = [message(channelId), message(channelId, { nonce: "n", mentionIds: [1n] })];
      for (const m of records) await store.create(m);
      const rows = (await cql("SELECT message_id, mention_ids, edited_at, reply_to_id FROM ks.messages WHERE channel_id = ? AND bucket = ?", [L(channelId), bucketOf(records[0]!.id)])).rows;
      expect(rows.map((r) => [r.get("mention_ids")?.length ?? null, r.get("edited_at"), r.get("reply_to_id")])).toEqual([[1, null, null], [null, null, null]]);
      const index = (await cql("SELECT bucket FROM ks.channel_buckets WHERE channel_id = ?", [L(channelId)])).rows.map((r) => r.get("bucket"));
      expect(index).toEqual([bucketOf(records[0]!.id)]);
    });

    it("findByAuthor reads only the buckets its window covers, newest first", async () => {
      const executed: { cql: string; params: unknown[] }[] = [];
      const client = cassandra.client;
      const spy = new Proxy(client, {
        get(target, property) {
          if (property === "execute") {
            return (cql: string, params: unknown[], options: unknown) => {
              executed.push({ cql, params });
              return (target.execute as (...args: unknown[]) => unknown)(cql, params, options);
            };
          }
          const value = Reflect.get(target, property, target) as unknown;
          return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      const watched = new CassandraMessageStore(spy, { keyspace: cassandra.keyspace, consistency: cassandra.consistency, serialConsistency: cassandra.serialConsistency });
      const now = Date.now();
      let clock = 0;
      const id = createIdGenerator(43, () => clock);
      const channelId = newId();
      const at = (ms: number, authorId = 5n) => {
        clock = ms;
        return message(channelId, { id: id(), authorId });
      };
      const day = 86_400_000;
      const old = [at(now - 90 * day), at(now - 45 * day), at(now - 21 * day)];
      const recent = [at(now - 2 * day), at(now - 2 * day + 1, 6n), at(now - 3_600_000), at(now - 1_000)];
      for (const m of [...old, ...recent]) await watched.create(m);
      expect(new Set([...old, ...recent].map((m) => bucketOf(m.id))).size).toBeGreaterThan(2);
      const after = snowflakeAt(now - 7 * day) - 1n;
      executed.length = 0;
      const found = await watched.findByAuthor(channelId, 5n, { after, limit: 100 });
      expect(found).toEqual(recent.filter((m) => m.authorId === 5n).map((m) => m.id).reverse());
      const scans = executed.filter((e) => e.cql.includes(".messages ") && e.cql.includes("author_id"));
      expect(scans.length).toBeGreaterThan(0);
      for (const scan of scans) expect(scan.params[1] as number).toBeGreaterThanOrEqual(bucketOf(after + 1n));
      const index = executed.filter((e) => e.cql.includes(".channel_buckets"));
      expect(index.map((e) => e.params[1])).toEqual([bucketOf(after + 1n)]);
      // The whole history, by contrast, reaches back to the oldest bucket.
      expect(await watched.findByAuthor(channelId, 5n, { after: 0n, limit: 100 })).toEqual([...old, ...recent].filter((m) => m.authorId === 5n).map((m) => m.id).reverse());
    });

    it("deleteChannel removes the bucket index too; deleting a message removes its nonce row", async () => {
      const channelId = newId();
      const record = message(channelId, { nonce: "gone" });
      await store.create(record);
      expect((await cql("SELECT message_id FROM ks.message_nonces WHERE channel_id = ? AND author_id = ? AND nonce = ?", [L(channelId), L(5n), "gone"])).rowLength).toBe(1);
      expect(await store.delete(channelId, record.id)).toBe(true);
      expect((await cql("SELECT message_id FROM ks.message_nonces WHERE channel_id = ? AND author_id = ? AND nonce = ?", [L(channelId), L(5n), "gone"])).rowLength).toBe(0);
      await store.create(message(channelId));
      await store.deleteChannel(channelId);
      expect((await cql("SELECT bucket FROM ks.channel_buckets WHERE channel_id = ?", [L(channelId)])).rowLength).toBe(0);
      // A later message in the same channel is indexed again (the instance's cache was cleared).
      const later = message(channelId);
      await store.create(later);
      expect(await store.page(channelId, { from: "newest", limit: 5 })).toEqual([later]);
    });
  });
});
