import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { inject } from "vitest";
import { PrismaClient } from "../../src/generated/prisma/client.js";
import { openDatabase, type Database } from "../../src/stores/prisma/database.js";
import { TEST_POSTGRES_URL } from "./services.js";

/** A fresh, migrated, in-memory embedded database, loaded from the global template. */
export async function openTestPglite(): Promise<Database> {
  const tarball = new Blob([await readFile(inject("pgliteTemplate"))]);
  const db = await PGlite.create("memory://", { loadDataDir: tarball });
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
  return {
    prisma,
    kind: "pglite",
    migrated: [],
    async close() {
      await prisma.$disconnect();
      await db.close();
    },
  };
}

/**
 * A fresh database on the real Postgres server, migrated by the app's own migration runner,
 * dropped again on close. Every suite gets its own, so suites can run in parallel.
 */
export async function openTestPostgres(): Promise<Database & { url: string }> {
  const name = `concord_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  const db = await openDatabase({ kind: "postgres", url: url.toString(), poolSize: 5 });
  return {
    ...db,
    url: url.toString(),
    async close() {
      await db.close();
      const dropper = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await dropper.end();
    },
  };
}
