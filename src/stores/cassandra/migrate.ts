import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { types, type Client } from "cassandra-driver";
import { executeLwt } from "./lwt.js";
import { waitForSchemaAgreement } from "./schema-agreement.js";

/** src/stores/cassandra/migrations, found relative to this file so it works from any directory. */
export const CASSANDRA_MIGRATIONS_DIR = fileURLToPath(new URL("./migrations", import.meta.url));

/**
 * Keyspace replication. SimpleStrategy with factor 1 is for a single development node only;
 * production uses NetworkTopologyStrategy with 3 replicas in each data centre (LOCAL_QUORUM then
 * tolerates one node down per DC, and a whole DC down for LOCAL_* reads in the other).
 */
export type Replication =
  | { class: "SimpleStrategy"; replicationFactor: number }
  | { class: "NetworkTopologyStrategy"; dataCenters: Record<string, number> };

export interface MigrateOptions {
  /** Keyspace name: lower-case letters, digits and underscores, at most 48 characters. */
  keyspace: string;
  replication: Replication;
  /** Where the NNN_name.cql files live (default: the committed migrations). */
  dir?: string;
  /** Consistency of the ledger's plain reads and LWT commits (default LOCAL_QUORUM). */
  consistency?: types.consistencies;
  /** Paxos consistency of the ledger's LWTs (default LOCAL_SERIAL). */
  serialConsistency?: types.consistencies;
  /**
   * How long another instance may hold a claimed, unfinished migration before this one takes it
   * over (default 60 s). Safe because every statement is CREATE ... IF NOT EXISTS: re-running a
   * half-applied file after its instance died completes it.
   */
  leaseMs?: number;
  /** Longest wait for the nodes that are up to agree on the schema after a statement (default 30 s). */
  schemaAgreementTimeoutMs?: number;
}

export interface MigrateResult {
  /** Versions (file names without .cql) this call applied; empty when the schema was current. */
  applied: string[];
  /** Things an operator should know but that do not stop start-up (one line each). */
  warnings: string[];
}

interface MigrationFile {
  version: string;
  checksum: string;
  statements: string[];
}

const KEYSPACE_NAME = /^[a-z][a-z0-9_]{0,47}$/;
const DC_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** The CQL map literal for a replication setting; throws RangeError on a value CQL would reject. */
export function replicationCql(replication: Replication): string {
  const factor = (value: number, what: string) => {
    if (!Number.isInteger(value) || value < 1 || value > 99) throw new RangeError(`${what}: replication factor must be an integer from 1 to 99, got ${value}`);
    return value;
  };
  if (replication.class === "SimpleStrategy") {
    return `{'class': 'SimpleStrategy', 'replication_factor': ${factor(replication.replicationFactor, "SimpleStrategy")}}`;
  }
  const entries = Object.entries(replication.dataCenters);
  if (entries.length === 0) throw new RangeError("NetworkTopologyStrategy needs at least one data centre");
  const parts = entries.map(([dc, rf]) => {
    if (!DC_NAME.test(dc)) throw new RangeError(`data centre name ${JSON.stringify(dc)} is not valid`);
    return `'${dc}': ${factor(rf, dc)}`;
  });
  return `{'class': 'NetworkTopologyStrategy', ${parts.join(", ")}}`;
}

/** Splits a CQL file into statements. Comments are `--` or `//` to the end of a line; no `;` inside strings. */
export function splitCql(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.replace(/(--|\/\/).*$/, ""))
    .join("\n")
    .split(";")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Reads the migration files in version order; checksums are of the template, before substitution. */
export async function readMigrations(dir: string, keyspace: string, replication: Replication): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((name) => /^\d+_[\w-]+\.cql$/.test(name));
  names.sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || a.localeCompare(b));
  const seen = new Set<number>();
  const replicationText = replicationCql(replication);
  return Promise.all(
    names.map(async (name) => {
      const number = parseInt(name, 10);
      if (seen.has(number)) throw new Error(`two Cassandra migrations share the number ${number} (${name}): renumber one`);
      seen.add(number);
      const template = await readFile(path.join(dir, name), "utf8");
      const text = template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
        if (key === "keyspace") return keyspace;
        if (key === "replication") return replicationText;
        throw new Error(`${name}: unknown placeholder {{${key}}} (known: keyspace, replication)`);
      });
      return {
        version: name.replace(/\.cql$/, ""),
        checksum: createHash("sha256").update(template).digest("hex"),
        statements: splitCql(text),
      };
    }),
  );
}


/**
 * Brings the keyspace up to date with the committed CQL migrations, in version order, and records
 * each one in `<keyspace>.schema_migrations` (version, SHA-256 of the file, who applied it, when).
 *
 * Instances starting together: each file is claimed with an LWT `INSERT ... IF NOT EXISTS` on its
 * ledger row; the winner runs it, the others wait for `finished_at` and then continue, so DDL for
 * one table never runs on two coordinators at once (which can give a table two ids). The first
 * file creates the keyspace and the ledger itself, so it cannot be claimed before it runs: every
 * statement is `IF NOT EXISTS`, and the ledger row is written afterwards. After each statement the
 * runner waits until the nodes that are up agree on the schema (a node that is down catches up
 * when it returns).
 *
 * Throws if an applied file was edited afterwards (add a new migration instead).
 */
export async function migrateCassandra(client: Client, options: MigrateOptions): Promise<MigrateResult> {
  // Instances starting together all run the unclaimed bootstrap file (keyspace and ledger) at
  // once; concurrent CREATE ... IF NOT EXISTS of one table can leave it briefly unknown to the
  // next statement ("table schema_migrations does not exist", seen in the fleet test), or let the
  // check that the bootstrap created the ledger read a node's system_schema before it has the
  // table ("must create", seen once in CI on the 4-node fault cluster). Every step is
  // idempotent, so such a run is retried after the schema settles.
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(client, options);
    } catch (error) {
      const transient = /does not exist|unconfigured table|schema agreement|must create/i.test((error as Error).message);
      if (!transient || attempt >= 5) throw error;
      await sleep(200 * attempt + Math.random() * 300);
      await waitForSchemaAgreement(client, options.schemaAgreementTimeoutMs ?? 30_000).catch(() => {});
    }
  }
}

async function migrateOnce(client: Client, options: MigrateOptions): Promise<MigrateResult> {
  const { keyspace, replication } = options;
  if (!KEYSPACE_NAME.test(keyspace)) {
    throw new RangeError(`keyspace ${JSON.stringify(keyspace)}: expected lower-case letters, digits and underscores, starting with a letter, at most 48 characters`);
  }
  const files = await readMigrations(options.dir ?? CASSANDRA_MIGRATIONS_DIR, keyspace, replication);
  const consistency = options.consistency ?? types.consistencies.localQuorum;
  const serialConsistency = options.serialConsistency ?? types.consistencies.localSerial;
  const leaseMs = options.leaseMs ?? 60_000;
  const agreementMs = options.schemaAgreementTimeoutMs ?? 30_000;
  const me = types.Uuid.random();
  const ledger = `${keyspace}.schema_migrations`;
  const plain = { prepare: true, consistency };
  const lwt = { prepare: true, consistency, serialConsistency, isIdempotent: true };
  const applied: string[] = [];

  const ledgerExists = async () => {
    const rs = await client.execute(
      "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ? AND table_name = 'schema_migrations'",
      [keyspace],
      plain,
    );
    return rs.rowLength > 0;
  };
  const run = async (file: MigrationFile) => {
    for (const statement of file.statements) {
      try {
        await client.execute(statement, [], { consistency, prepare: false });
      } catch (error) {
        throw new Error(`Cassandra migration ${file.version} failed at: ${statement.split("\n")[0]} ...: ${(error as Error).message}`, { cause: error });
      }
      // The next statement may go to another coordinator: it must know this one's result
      // (openCassandra turns the driver's own wait off; it counts nodes that are down).
      await waitForSchemaAgreement(client, agreementMs);
    }
  };
  const checkChecksum = (file: MigrationFile, checksum: unknown) => {
    if (checksum !== file.checksum) {
      throw new Error(`Cassandra migration ${file.version} was edited after it was applied to keyspace ${keyspace} (checksum differs): add a new migration instead`);
    }
  };

  for (const file of files) {
    // A random pause makes it likely that one instance bootstraps and the others find the ledger.
    if (!(await ledgerExists()) && (await sleep(Math.random() * 250), !(await ledgerExists()))) {
      // Only the bootstrap file (keyspace + ledger) runs unclaimed; it is all IF NOT EXISTS.
      await run(file);
      if (!(await ledgerExists())) throw new Error(`Cassandra migration ${file.version} must create ${ledger} (the first migration creates the keyspace and the ledger)`);
      const now = new Date();
      const rs = await executeLwt(
        client,
        `INSERT INTO ${ledger} (version, checksum, applied_by, started_at, finished_at) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS`,
        [file.version, file.checksum, me, now, now],
        lwt,
      );
      // Our own id in a "not applied" answer: a retried insert whose first attempt won.
      if (rs.wasApplied() || rs.first().get("applied_by")?.equals(me)) applied.push(file.version);
      else checkChecksum(file, rs.first().get("checksum"));
      continue;
    }

    const claim = await executeLwt(
      client,
      `INSERT INTO ${ledger} (version, checksum, applied_by, started_at) VALUES (?, ?, ?, ?) IF NOT EXISTS`,
      [file.version, file.checksum, me, new Date()],
      lwt,
    );
    let row = claim.wasApplied() ? null : claim.first();
    // Somebody else holds (or finished) this version: wait for it, taking over a stale claim.
    while (row && !row.get("applied_by")?.equals(me)) {
      checkChecksum(file, row.get("checksum"));
      if (row.get("finished_at")) break;
      const startedAt = (row.get("started_at") as Date | null)?.getTime() ?? 0;
      if (Date.now() - startedAt > leaseMs) {
        const takeover = await executeLwt(
          client,
          `UPDATE ${ledger} SET applied_by = ?, started_at = ? WHERE version = ? IF applied_by = ? AND finished_at = null`,
          [me, new Date(), file.version, row.get("applied_by")],
          lwt,
        );
        if (takeover.wasApplied()) {
          row = null;
          break;
        }
      } else {
        await sleep(250);
      }
      const rs = await executeLwt(client, `SELECT * FROM ${ledger} WHERE version = ?`, [file.version], { prepare: true, consistency: serialConsistency });
      row = rs.first();
      if (!row) throw new Error(`Cassandra migration ${file.version}: its ledger row disappeared while waiting for another instance`);
    }
    if (row && row.get("finished_at")) continue;

    await run(file);
    await executeLwt(
      client,
      `UPDATE ${ledger} SET finished_at = ? WHERE version = ? IF applied_by = ?`,
      [new Date(), file.version, me],
      lwt,
    );
    applied.push(file.version);
  }

  return { applied, warnings: await replicationWarnings(client, keyspace, replication, consistency) };
}

/** Reports when the existing keyspace's replication differs from the configured one. */
async function replicationWarnings(client: Client, keyspace: string, wanted: Replication, consistency: types.consistencies): Promise<string[]> {
  const rs = await client.execute("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?", [keyspace], { prepare: true, consistency });
  const actual = (rs.first()?.get("replication") ?? {}) as Record<string, string>;
  const actualClass = (actual.class ?? "").split(".").pop();
  const want: Record<string, string> =
    wanted.class === "SimpleStrategy"
      ? { replication_factor: String(wanted.replicationFactor) }
      : Object.fromEntries(Object.entries(wanted.dataCenters).map(([dc, rf]) => [dc, String(rf)]));
  const have = Object.fromEntries(Object.entries(actual).filter(([key]) => key !== "class"));
  const same = actualClass === wanted.class && JSON.stringify(Object.entries(want).sort()) === JSON.stringify(Object.entries(have).sort());
  if (same) return [];
  return [
    `keyspace ${keyspace} has replication ${JSON.stringify(actual)} but the configuration asks for ${replicationCql(wanted)}: ` +
      "migrations never alter an existing keyspace; run ALTER KEYSPACE and a full repair, or fix CASSANDRA_REPLICATION",
  ];
}
