import type { Database } from "../../src/stores/prisma/database.js";
import { PrismaReadStateStore } from "../../src/stores/read-state-store.prisma.js";
import { openTestPglite, openTestPostgres } from "../support/databases.js";
import { requireService, TEST_POSTGRES_URL } from "../support/services.js";
import { readStateStoreContract, type ReadStateStoreFixture } from "./read-state-store.contract.js";

/** The Prisma adapter on a fresh database from `open`, closed (and dropped) after the suite. */
const prisma = (open: () => Promise<Database>) => async (): Promise<ReadStateStoreFixture> => {
  const db = await open();
  return { readStates: new PrismaReadStateStore(db.prisma), close: () => db.close() };
};
const postgres = { available: () => requireService("Postgres", TEST_POSTGRES_URL) };

readStateStoreContract("Prisma on PGlite", prisma(openTestPglite));
readStateStoreContract("Prisma on Postgres", prisma(openTestPostgres), postgres);
