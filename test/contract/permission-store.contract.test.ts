import { PrismaAccountStore } from "../../src/stores/account-store.prisma.js";
import { PrismaAuditLogStore } from "../../src/stores/audit-log-store.prisma.js";
import { PrismaChannelStore } from "../../src/stores/channel-store.prisma.js";
import { PrismaGuildStore } from "../../src/stores/guild-store.prisma.js";
import { PrismaPermissionStore } from "../../src/stores/permission-store.prisma.js";
import type { Database } from "../../src/stores/prisma/database.js";
import { openTestPglite, openTestPostgres } from "../support/databases.js";
import { requireService, TEST_POSTGRES_URL } from "../support/services.js";
import { permissionStoreContract, type PermissionStoreFixture } from "./permission-store.contract.js";

/** The Prisma adapters on a fresh database from `open`, closed (and dropped) after the suite. */
const prisma = (open: () => Promise<Database>) => async (): Promise<PermissionStoreFixture> => {
  const db = await open();
  return {
    accounts: new PrismaAccountStore(db.prisma, db.reads),
    guilds: new PrismaGuildStore(db.prisma, db.reads),
    channels: new PrismaChannelStore(db.prisma, db.reads),
    permissions: new PrismaPermissionStore(db.prisma, db.reads),
    auditLog: new PrismaAuditLogStore(db.prisma),
    close: () => db.close(),
  };
};
const postgres = { available: () => requireService("Postgres", TEST_POSTGRES_URL) };

permissionStoreContract("Prisma on PGlite", prisma(openTestPglite));
permissionStoreContract("Prisma on Postgres", prisma(openTestPostgres), postgres);
