import { describe } from "vitest";
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
