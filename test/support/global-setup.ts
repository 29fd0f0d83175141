import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { TestProject } from "vitest/node";
import { applyMigrations } from "../../src/stores/prisma/migrate.js";
import { pgliteRunner } from "../../src/stores/prisma/sql-runner.js";

/**
 * Builds one migrated embedded database and saves it as a tarball: test files load copies of it
 * (about 1 s) instead of running initdb and the migrations each time (about 5 s).
 */
export default async function setup(project: TestProject) {
  const db = await PGlite.create("memory://");
  await applyMigrations(pgliteRunner(db));
  const dump = await db.dumpDataDir("none");
  await db.close();
  const dir = path.join(tmpdir(), `concord-test-${process.pid}-${project.name || "default"}`);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, "migrated-pglite.tar");
  await writeFile(file, Buffer.from(await dump.arrayBuffer()));
  project.provide("pgliteTemplate", file);
}

declare module "vitest" {
  export interface ProvidedContext {
    pgliteTemplate: string;
  }
}
