import { readdir } from "node:fs/promises";
import type { PrismaClient } from "../../generated/prisma/client.js";
import { MIGRATIONS_DIR } from "./migrate.js";

/**
 * A readiness check: resolves when every migration committed with this code is recorded as
 * finished in `_prisma_migrations` (one small query; it doubles as the database's ping), rejects
 * naming the first one missing, or when the database does not answer.
 */
export async function createMigrationCheck(prisma: PrismaClient, dir: string = MIGRATIONS_DIR): Promise<() => Promise<void>> {
  const names = (await readdir(dir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  return async () => {
    const rows = await prisma.$queryRawUnsafe<{ migration_name: string }[]>(
      `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const applied = new Set(rows.map((row) => row.migration_name));
    const missing = names.filter((name) => !applied.has(name));
    if (missing.length > 0) throw new Error(`${missing.length} migration(s) not applied, first ${missing.sort()[0]}`);
  };
}
