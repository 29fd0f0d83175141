import type { PGlite } from "@electric-sql/pglite";
import type pg from "pg";

/**
 * Statements on the hot path that skip Prisma's query engine, on the same connections as Prisma:
 * reads, and the one write made per message (the message insert).
 *
 * Why: Prisma 7 spends 0.7–1 ms of CPU per `findMany` compiling and interpreting the query and
 * shaping its rows; the same read as a prepared statement on the driver costs about 0.3 ms. A
 * history page makes three such reads (the channel with the viewer's access, the page, its
 * authors), which is most of its CPU (bench/history-api.ts); each send makes one insert
 * (bench/write-path.ts). Other writes and everything else stay on Prisma; each statement here is
 * checked by the store contract suites on PGlite and on a real Postgres server.
 */
export interface PreparedReads {
  /**
   * Runs a statement with `$1`-style parameters and returns its rows (a write's RETURNING rows), column names as
   * in the SQL. On a server it is prepared once per connection under `name` (one name, one text).
   * Parameters: strings (ids as decimal strings), numbers, booleans, arrays of them, null.
   * Values come back as the driver parses them: int8 as a string or a bigint (use {@link bigintOf}),
   * int8[] likewise per element, timestamptz as a Date, int4 as a number, enums and text as strings.
   */
  rows<R>(name: string, text: string, values: readonly unknown[]): Promise<R[]>;
}

/** An int8 value as either driver returns it (node-postgres: a decimal string; PGlite: a bigint) as a bigint. */
export function bigintOf(value: string | bigint | number): bigint {
  return typeof value === "bigint" ? value : BigInt(value);
}

/** A nullable int8 value as a bigint or null. */
export function nullableBigintOf(value: string | bigint | number | null): bigint | null {
  return value === null ? null : bigintOf(value);
}

/** Reads on a node-postgres pool: named (prepared) statements, so the server parses and plans each text once per connection. */
export function poolReads(pool: pg.Pool): PreparedReads {
  return {
    async rows<R>(name: string, text: string, values: readonly unknown[]) {
      return (await pool.query({ name, text, values: values as unknown[] })).rows as R[];
    },
  };
}

/** Reads on an embedded PGlite database (in process: no statement to keep). */
export function pgliteReads(db: PGlite): PreparedReads {
  return {
    async rows<R>(_name: string, text: string, values: readonly unknown[]) {
      return (await db.query<R>(text, values as unknown[])).rows;
    },
  };
}
