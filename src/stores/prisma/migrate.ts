import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";
import type { SqlRunner } from "./sql-runner.js";

/** prisma/migrations, found relative to this file so it works from any working directory. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../../prisma/migrations", import.meta.url));

/** Prisma's own advisory lock key, so this runner and `prisma migrate deploy` exclude each other. */
const PRISMA_MIGRATE_LOCK = 72707369;

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Applies the committed SQL migrations that the database has not seen, in name order, inside
 * one transaction under Prisma's advisory lock (so instances starting together do not race).
 * Records them in `_prisma_migrations` exactly as Prisma does (SHA-256 checksum of the file),
 * so `prisma migrate deploy/status` elsewhere agree with what ran here.
 *
 * Returns the names of the migrations it applied. Throws if a migration is recorded as failed
 * or if a committed migration was edited after being applied.
 */
export async function applyMigrations(runner: SqlRunner, dir: string = MIGRATIONS_DIR): Promise<string[]> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const files = await Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    }),
  );

  return runner.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${PRISMA_MIGRATE_LOCK})`);
    await tx.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0
    )`);
    const rows = await tx.query<AppliedRow>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"`,
    );
    const applied = new Map(rows.filter((r) => r.rolled_back_at === null).map((r) => [r.migration_name, r]));
    const ran: string[] = [];
    for (const file of files) {
      const row = applied.get(file.name);
      if (row) {
        if (row.finished_at === null) {
          throw new Error(`migration ${file.name} is recorded as started but not finished: repair the database, then mark it rolled back`);
        }
        if (row.checksum !== file.checksum) {
          throw new Error(`migration ${file.name} was edited after it was applied (checksum differs): add a new migration instead`);
        }
        continue;
      }
      await tx.exec(file.sql);
      await tx.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, finished_at, applied_steps_count) VALUES ($1, $2, $3, now(), 1)`,
        [randomUUID(), file.checksum, file.name],
      );
      ran.push(file.name);
    }
    return ran;
  });
}
