import { PrismaAccountStore } from "../../src/stores/account-store.prisma.js";
import type { Database } from "../../src/stores/prisma/database.js";
import { openTestPglite, openTestPostgres } from "../support/databases.js";
import { requireService, TEST_POSTGRES_URL } from "../support/services.js";
import { accountStoreContract } from "./account-store.contract.js";

/** The Prisma adapter on a fresh database from `open`, closed (and dropped) after the suite. */
const prisma = (open: () => Promise<Database>) => async () => {
  const db = await open();
  return { accounts: new PrismaAccountStore(db.prisma, db.reads), close: () => db.close() };
};
const postgres = { available: () => requireService("Postgres", TEST_POSTGRES_URL) };

accountStoreContract("Prisma on PGlite", prisma(openTestPglite));
accountStoreContract("Prisma on Postgres", prisma(openTestPostgres), postgres);
