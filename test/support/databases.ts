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
  const scratch = await createScratchDatabase("concord_test");
  const db = await openDatabase({ kind: "postgres", url: scratch.url, poolSize: 5 });
  return {
    ...db,
    url: scratch.url,
    async close() {
      await db.close();
      await scratch.drop();
    },
  };
}

/**
 * An empty database on the real Postgres server, named `<prefix>_<random>`, for a suite or a
 * fleet of processes to migrate and use; `drop` removes it (forcing out open connections).
 */
export async function createScratchDatabase(prefix: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const dropper = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}
