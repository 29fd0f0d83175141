import { readFile } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { inject } from "vitest";
import { PrismaClient } from "../../src/generated/prisma/client.js";
import { openDatabase, type Database } from "../../src/stores/prisma/database.js";
import { pgliteReads } from "../../src/stores/prisma/prepared-reads.js";
import { createScratchDatabase as createScratch, type ScratchDatabase } from "./scratch-database.js";
import { TEST_POSTGRES_URL } from "./services.js";

/** A fresh, migrated, in-memory embedded database, loaded from the global template. */
export async function openTestPglite(): Promise<Database> {
  const tarball = new Blob([await readFile(inject("pgliteTemplate"))]);
  const db = await PGlite.create("memory://", { loadDataDir: tarball });
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
  return {
    prisma,
    reads: pgliteReads(db),
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
export function createScratchDatabase(prefix: string): Promise<ScratchDatabase> {
  return createScratch(prefix, TEST_POSTGRES_URL);
}
