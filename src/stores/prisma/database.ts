import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import pg from "pg";
import { PrismaClient } from "../../generated/prisma/client.js";
import { applyMigrations } from "./migrate.js";
import { pgliteReads, poolReads, type PreparedReads } from "./prepared-reads.js";
import { pgliteRunner, pgPoolRunner } from "./sql-runner.js";

export type { PrismaClient, PreparedReads };

/** An open, migrated database and how to close it. */
export interface Database {
  prisma: PrismaClient;
  /** The hot-path reads that bypass Prisma, on the same connections (see prepared-reads.ts). */
  reads: PreparedReads;
  /** "pglite" (embedded, in-process) or "postgres" (a server). */
  kind: "pglite" | "postgres";
  /** Migrations applied by this open. */
  migrated: string[];
  close(): Promise<void>;
}

export type DatabaseOptions =
  | { kind: "pglite"; dataDir: string }
  | { kind: "postgres"; url: string; poolSize: number };

/**
 * Opens the metadata database and brings its schema up to date with the committed migrations.
 * PGlite keeps its files under `dataDir` ("memory://" for a throwaway in-memory database).
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.kind === "pglite") {
    if (!options.dataDir.startsWith("memory://")) await mkdir(options.dataDir, { recursive: true });
    const db = await PGlite.create(options.dataDir);
    try {
      const migrated = await applyMigrations(pgliteRunner(db));
      const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
      return {
        prisma,
        reads: pgliteReads(db),
        kind: "pglite",
        migrated,
        async close() {
          await prisma.$disconnect();
          await db.close();
        },
      };
    } catch (error) {
      await db.close().catch(() => {});
      throw error;
    }
  }

  const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize, connectionTimeoutMillis: 10_000 });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  try {
    const migrated = await applyMigrations(pgPoolRunner(pool));
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    return {
      prisma,
      reads: poolReads(pool),
      kind: "postgres",
      migrated,
      async close() {
        await prisma.$disconnect();
        await pool.end().catch(() => {});
      },
    };
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
}
