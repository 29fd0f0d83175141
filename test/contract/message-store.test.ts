import { describe, expect, it } from "vitest";
import { createIdGenerator } from "../../src/ids/snowflake.js";
import { PostgresMessageStore } from "../../src/stores/message-store.postgres.js";
import type { Database } from "../../src/stores/prisma/database.js";
import { openTestPglite, openTestPostgres } from "../support/databases.js";
import { requireService, TEST_POSTGRES_URL } from "../support/services.js";
import { messageStoreContract } from "./message-store.contract.js";

/** The Postgres adapter on a fresh database from `open`, closed (and dropped) after the suite. */
const postgresStore = (open: () => Promise<Database>) => async () => {
  const db = await open();
  return { store: new PostgresMessageStore(db.prisma, db.reads), close: () => db.close() };
};

messageStoreContract("PostgresMessageStore on PGlite", postgresStore(openTestPglite));

// Locally a stopped server skips this suite with a warning; with CI=true requireService throws.
describe.runIf(await requireService("Postgres", TEST_POSTGRES_URL))("real Postgres server", () => {
  messageStoreContract("PostgresMessageStore on Postgres", postgresStore(openTestPostgres));
});

/** Postgres only (in Cassandra a write with an existing key overwrites): a batch with one bad row. */
describe("PostgresMessageStore group commit on PGlite", () => {
  it("a row that breaks the batch's statement fails its own send only: the others of its turn are stored", async () => {
    const { store, close } = await postgresStore(openTestPglite)();
    try {
      const newId = createIdGenerator(3);
      const channelId = newId();
      const record = (content: string) => ({ id: newId(), channelId, authorId: 7n, content, editedAt: null, replyToId: null, mentionIds: [], nonce: null });
      const taken = record("first");
      await store.create(taken);
      // The same id again: a primary-key clash, which DO NOTHING (on the nonce index) does not cover.
      const batch = [record("a"), { ...taken, content: "clash" }, record("b"), record("c")];
      const results = await Promise.allSettled(batch.map((m) => store.create(m)));
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
      expect(await store.get(channelId, taken.id)).toEqual(taken);
      for (const m of [batch[0]!, batch[2]!, batch[3]!]) expect(await store.get(channelId, m.id)).toEqual(m);
    } finally {
      await close();
    }
  });
});
