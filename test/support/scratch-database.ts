import { randomBytes } from "node:crypto";
import pg from "pg";

/** An empty database created for one suite, fleet or benchmark. */
export interface ScratchDatabase {
  name: string;
  url: string;
  /** Drops it, forcing out open connections. */
  drop(): Promise<void>;
}

/**
 * CREATE DATABASE `<prefix>_<random>` on the server of `adminUrl` (any database of it). Kept free
 * of vitest so benchmarks can use it too.
 */
export async function createScratchDatabase(prefix: string, adminUrl: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const dropper = new pg.Client({ connectionString: adminUrl });
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}
