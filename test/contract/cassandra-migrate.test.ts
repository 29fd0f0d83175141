import { randomBytes } from "node:crypto";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client, types } from "cassandra-driver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConsistency, parseReplication } from "../../src/stores/cassandra/client.js";
import { CASSANDRA_MIGRATIONS_DIR, migrateCassandra, readMigrations, replicationCql, splitCql, type Replication } from "../../src/stores/cassandra/migrate.js";
import { requireService } from "../support/services.js";

const TEST_CASSANDRA_URL = process.env.TEST_CASSANDRA_URL ?? "tcp://127.0.0.1:9042";
const TEST_CASSANDRA_DC = process.env.TEST_CASSANDRA_DC ?? "datacenter1";
const DEV: Replication = { class: "SimpleStrategy", replicationFactor: 1 };
const ALL_VERSIONS = ["001_keyspace", "002_messages"];

describe("Cassandra settings parsing", () => {
  it("parses replication for one dev node and for several data centres, and rejects anything else with the expected form", () => {
    expect(parseReplication("SimpleStrategy:1")).toEqual(DEV);
    expect(parseReplication("NetworkTopologyStrategy:dc1=3, eu-west=3")).toEqual({ class: "NetworkTopologyStrategy", dataCenters: { dc1: 3, "eu-west": 3 } });
    for (const bad of ["", "SimpleStrategy", "SimpleStrategy:0", "SimpleStrategy:x", "NetworkTopologyStrategy:", "NetworkTopologyStrategy:dc1", "Everywhere:3"]) {
      expect(() => parseReplication(bad), bad).toThrow(/expected|replication factor/);
    }
    expect(replicationCql(parseReplication("NetworkTopologyStrategy:dc1=3,dc2=2"))).toBe("{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2}");
  });

  it("parses consistency names case-insensitively and refuses serial levels for plain reads and writes", () => {
    expect(parseConsistency("local_quorum")).toBe("LOCAL_QUORUM");
    expect(parseConsistency("ONE")).toBe("ONE");
    expect(parseConsistency("SERIAL")).toBeNull();
    expect(parseConsistency("quorum!")).toBeNull();
  });

  it("splits CQL files into statements without comments", () => {
    expect(splitCql("-- a comment; with a semicolon\nCREATE TABLE a (x int PRIMARY KEY);\n\n// another\nDROP TABLE b ;\n")).toEqual([
      "CREATE TABLE a (x int PRIMARY KEY)",
      "DROP TABLE b",
    ]);
  });
});

// Locally a stopped node skips this suite with a warning; with CI=true requireService throws.
describe.runIf(await requireService("Cassandra", TEST_CASSANDRA_URL))("Cassandra migrations", () => {
  const clients: Client[] = [];
  const keyspaces: string[] = [];
  let dir: string;

  const connect = async () => {
    const client = new Client({ contactPoints: [new URL(TEST_CASSANDRA_URL).host], localDataCenter: TEST_CASSANDRA_DC });
    await client.connect();
    clients.push(client);
    return client;
  };
  const freshKeyspace = () => {
    const name = `concord_test_${randomBytes(6).toString("hex")}`;
    keyspaces.push(name);
    return name;
  };
  const tables = async (client: Client, keyspace: string) => {
    const rs = await client.execute("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?", [keyspace], { prepare: true });
    return rs.rows.map((r) => r.get("table_name") as string).sort();
  };
  const ledger = async (client: Client, keyspace: string) => {
    const rs = await client.execute(`SELECT version, checksum, finished_at FROM ${keyspace}.schema_migrations`);
    return rs.rows.map((r) => ({ version: r.get("version") as string, checksum: r.get("checksum") as string, finished: r.get("finished_at") !== null })).sort((a, b) => a.version.localeCompare(b.version));
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "concord-cql-"));
  });
  afterAll(async () => {
    const admin = clients[0];
    if (admin) for (const keyspace of keyspaces) await admin.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
    await Promise.all(clients.map((c) => c.shutdown()));
    await rm(dir, { recursive: true, force: true });
  });

  it("creates the keyspace and tables, records every version with its checksum; a second run applies nothing", async () => {
    const client = await connect();
    const keyspace = freshKeyspace();
    const first = await migrateCassandra(client, { keyspace, replication: DEV });
    expect(first).toEqual({ applied: ALL_VERSIONS, warnings: [] });
    expect(await tables(client, keyspace)).toEqual(["channel_buckets", "message_nonces", "messages", "schema_migrations"]);
    const recorded = await ledger(client, keyspace);
    expect(recorded.map((r) => r.version)).toEqual(ALL_VERSIONS);
    expect(recorded.every((r) => r.finished && /^[0-9a-f]{64}$/.test(r.checksum))).toBe(true);

    expect(await migrateCassandra(client, { keyspace, replication: DEV })).toEqual({ applied: [], warnings: [] });
    expect(await ledger(client, keyspace)).toEqual(recorded);

    const other = await migrateCassandra(client, { keyspace, replication: { class: "SimpleStrategy", replicationFactor: 3 } });
    expect(other.applied).toEqual([]);
    expect(other.warnings).toEqual([expect.stringMatching(/replication .* ALTER KEYSPACE/)]);
  });

  it("instances starting together all succeed, and each version is applied by exactly one of them", async () => {
    const keyspace = freshKeyspace();
    const instances = await Promise.all([1, 2, 3, 4].map(() => connect()));
    const results = await Promise.all(instances.map((client) => migrateCassandra(client, { keyspace, replication: DEV })));
    expect(results.flatMap((r) => r.applied).sort()).toEqual(ALL_VERSIONS);
    expect(await tables(instances[0]!, keyspace)).toEqual(["channel_buckets", "message_nonces", "messages", "schema_migrations"]);
    expect((await ledger(instances[0]!, keyspace)).every((r) => r.finished)).toBe(true);
  });

  /** A copy of the committed migrations plus 003_extra.cql, which creates the table `extra`. */
  const withExtraMigration = async () => {
    const extraDir = await mkdtemp(path.join(dir, "cql-"));
    await cp(CASSANDRA_MIGRATIONS_DIR, extraDir, { recursive: true });
    await writeFile(path.join(extraDir, "003_extra.cql"), "CREATE TABLE IF NOT EXISTS {{keyspace}}.extra (id int PRIMARY KEY);\n");
    return extraDir;
  };
  /** Writes a ledger row as another instance's claim of 003_extra, started `ageMs` ago. */
  const foreignClaim = async (client: Client, keyspace: string, extraDir: string, ageMs: number) => {
    const extra = (await readMigrations(extraDir, keyspace, DEV)).find((m) => m.version === "003_extra")!;
    await client.execute(
      `INSERT INTO ${keyspace}.schema_migrations (version, checksum, applied_by, started_at) VALUES (?, ?, ?, ?)`,
      ["003_extra", extra.checksum, types.Uuid.random(), new Date(Date.now() - ageMs)],
      { prepare: true },
    );
  };

  it("waits for a version another instance is applying instead of running it too", async () => {
    const client = await connect();
    const keyspace = freshKeyspace();
    await migrateCassandra(client, { keyspace, replication: DEV });
    const extraDir = await withExtraMigration();
    // Another instance has just claimed 003 and reports it finished 600 ms later.
    await foreignClaim(client, keyspace, extraDir, 0);
    const finisher = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 600));
      await client.execute(`UPDATE ${keyspace}.schema_migrations SET finished_at = ? WHERE version = '003_extra'`, [new Date()], { prepare: true });
    })();
    const started = Date.now();
    const result = await migrateCassandra(client, { keyspace, replication: DEV, dir: extraDir });
    await finisher;
    expect(result.applied).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    // The other instance "ran" it (here: did not create the table); this one did not run it again.
    expect(await tables(client, keyspace)).not.toContain("extra");
  });

  it("takes over a claim whose instance died (lease expired) and completes it", async () => {
    const client = await connect();
    const keyspace = freshKeyspace();
    await migrateCassandra(client, { keyspace, replication: DEV });
    const extraDir = await withExtraMigration();
    await foreignClaim(client, keyspace, extraDir, 10_000);
    const result = await migrateCassandra(client, { keyspace, replication: DEV, dir: extraDir, leaseMs: 5_000 });
    expect(result.applied).toEqual(["003_extra"]);
    expect(await tables(client, keyspace)).toContain("extra");
    expect((await ledger(client, keyspace)).every((r) => r.finished)).toBe(true);
  });

  it("refuses to run when an applied migration was edited, and names it", async () => {
    const client = await connect();
    const keyspace = freshKeyspace();
    const editedDir = await mkdtemp(path.join(dir, "cql-"));
    await cp(CASSANDRA_MIGRATIONS_DIR, editedDir, { recursive: true });
    await migrateCassandra(client, { keyspace, replication: DEV, dir: editedDir });
    await writeFile(path.join(editedDir, "002_messages.cql"), "CREATE TABLE IF NOT EXISTS {{keyspace}}.messages (id int PRIMARY KEY);\n");
    await expect(migrateCassandra(client, { keyspace, replication: DEV, dir: editedDir })).rejects.toThrow(/002_messages was edited after it was applied/);
  });
});
