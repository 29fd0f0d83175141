import type { Database } from "../../src/stores/prisma/database.js";

/**
 * A fingerprint of the whole database: per table, its row count and a checksum of every row,
 * in one query. Equal fingerprints before and after a call: the call wrote nothing.
 *
 * Unlike the fuzz test's (test/abuse/fuzz-world.ts, a fixed list of tables and columns), this one
 * lists the tables when it is first used, so a table added by a migration is covered without
 * anyone remembering to add it. Left out:
 * - `_prisma_migrations`, the migration runner's bookkeeping;
 * - `sessions.last_used_at`, which authenticating a request may refresh by design (at most about
 *   once an hour per session: bookkeeping of a use, not a write by the operation).
 * Read acknowledgements are written in batches (ACK_FLUSH_MS): callers flush the batch before
 * taking a fingerprint, so a refused call's buffered ack would show.
 */

/** Columns a call may touch without writing anything of its own, per table. */
const IGNORED_COLUMNS: Record<string, readonly string[]> = { sessions: ["last_used_at"] };
const IGNORED_TABLES = new Set(["_prisma_migrations"]);

const queries = new WeakMap<Database, Promise<string>>();

async function fingerprintQuery(database: Database): Promise<string> {
  const rows = await database.prisma.$queryRawUnsafe<{ table_name: string }[]>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  const tables = rows.map((r) => r.table_name).filter((t) => !IGNORED_TABLES.has(t));
  if (tables.length === 0) throw new Error("the database has no tables to fingerprint");
  const row = (table: string) => `(to_jsonb(t)${(IGNORED_COLUMNS[table] ?? []).map((c) => ` - '${c}'`).join("")})::text`;
  return `SELECT json_build_object(${tables
    .map((table) => `'${table}', (SELECT count(*) || ' rows, md5 ' || md5(coalesce(string_agg(${row(table)}, ',' ORDER BY ${row(table)}), '')) FROM "${table}" t)`)
    .join(", ")})::text AS fingerprint`;
}

/** Row counts and a checksum of every table (see above). */
export async function fingerprint(database: Database): Promise<Record<string, string>> {
  let query = queries.get(database);
  if (!query) queries.set(database, (query = fingerprintQuery(database)));
  const [row] = await database.prisma.$queryRawUnsafe<{ fingerprint: string }[]>(await query);
  return JSON.parse(row!.fingerprint) as Record<string, string>;
}

/** The tables whose fingerprint differs, with before and after. */
export function differences(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys({ ...before, ...after })
    .filter((table) => before[table] !== after[table])
    .map((table) => `${table}: ${before[table]} -> ${after[table]}`);
}
