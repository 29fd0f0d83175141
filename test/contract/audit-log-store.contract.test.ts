import { PrismaAccountStore } from "../../src/stores/account-store.prisma.js";
import { PrismaAuditLogStore } from "../../src/stores/audit-log-store.prisma.js";
import { PrismaGuildStore } from "../../src/stores/guild-store.prisma.js";
import type { Database } from "../../src/stores/prisma/database.js";
import { openTestPglite, openTestPostgres } from "../support/databases.js";
import { requireService, TEST_POSTGRES_URL } from "../support/services.js";
import { auditLogStoreContract, type AuditLogStoreFixture } from "./audit-log-store.contract.js";

/** The Prisma adapters on a fresh database from `open`, closed (and dropped) after the suite. */
const prisma = (open: () => Promise<Database>) => async (): Promise<AuditLogStoreFixture> => {
  const db = await open();
  return {
    accounts: new PrismaAccountStore(db.prisma, db.reads),
    guilds: new PrismaGuildStore(db.prisma, db.reads),
    auditLog: new PrismaAuditLogStore(db.prisma),
    close: () => db.close(),
  };
};
const postgres = { available: () => requireService("Postgres", TEST_POSTGRES_URL) };

auditLogStoreContract("Prisma on PGlite", prisma(openTestPglite));
auditLogStoreContract("Prisma on Postgres", prisma(openTestPostgres), postgres);
