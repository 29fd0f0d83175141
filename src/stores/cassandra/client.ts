import { auth, Client, errors, policies, types, type ClientOptions } from "cassandra-driver";
import { migrateCassandra, type Replication } from "./migrate.js";

export type { Replication } from "./migrate.js";

/** Longest wait between two attempts to reconnect to a node that is down. */
const RECONNECT_MAX_DELAY_MS = 10_000;

/** Consistency levels a deployment may choose for reads and writes (CASSANDRA_CONSISTENCY). */
export const CONSISTENCY_LEVELS = {
  ONE: types.consistencies.one,
  TWO: types.consistencies.two,
  THREE: types.consistencies.three,
  QUORUM: types.consistencies.quorum,
  ALL: types.consistencies.all,
  LOCAL_QUORUM: types.consistencies.localQuorum,
  EACH_QUORUM: types.consistencies.eachQuorum,
  LOCAL_ONE: types.consistencies.localOne,
} as const;

export type ConsistencyName = keyof typeof CONSISTENCY_LEVELS;

/** Parses a consistency level name (case-insensitive); null when it is not one of {@link CONSISTENCY_LEVELS}. */
export function parseConsistency(text: string): ConsistencyName | null {
  const name = text.trim().toUpperCase();
  return name in CONSISTENCY_LEVELS ? (name as ConsistencyName) : null;
}

/**
 * Parses CASSANDRA_REPLICATION: `SimpleStrategy:1` (one dev node) or
 * `NetworkTopologyStrategy:dc1=3,dc2=3` (production). Throws an Error whose message says what
 * was expected.
 */
export function parseReplication(text: string): Replication {
  const expected = "expected SimpleStrategy:<factor> or NetworkTopologyStrategy:<dc>=<factor>[,<dc>=<factor>...]";
  const [strategy, rest = ""] = text.trim().split(/:(.*)/s, 2) as [string, string?];
  const factor = (raw: string) => {
    const value = Number(raw.trim());
    if (!/^\d+$/.test(raw.trim()) || value < 1 || value > 99) throw new Error(`${JSON.stringify(text)}: replication factor ${JSON.stringify(raw)} must be an integer from 1 to 99`);
    return value;
  };
  if (/^SimpleStrategy$/i.test(strategy)) return { class: "SimpleStrategy", replicationFactor: factor(rest) };
  if (/^NetworkTopologyStrategy$/i.test(strategy)) {
    const dataCenters: Record<string, number> = {};
    for (const pair of rest.split(",")) {
      const match = /^\s*([A-Za-z0-9_.-]+)\s*=\s*(\S+)\s*$/.exec(pair);
      if (!match) throw new Error(`${JSON.stringify(text)}: ${expected}`);
      dataCenters[match[1]!] = factor(match[2]!);
    }
    return { class: "NetworkTopologyStrategy", dataCenters };
  }
  throw new Error(`${JSON.stringify(text)}: ${expected}`);
}

export interface CassandraOptions {
  /** "host" or "host:port" (default port 9042); one reachable node is enough to discover the rest. */
  contactPoints: string[];
  /** The data centre this instance runs in; requests go to its nodes first (LOCAL_* levels). */
  localDataCenter: string;
  keyspace: string;
  username?: string;
  password?: string;
  /** Used when the migrations create the keyspace; never alters an existing one. */
  replication: Replication;
  /** Reads and writes; LOCAL_QUORUM in production (on one dev node with RF 1 it equals ONE). */
  consistency: ConsistencyName;
  /** Paxos level for lightweight transactions (default LOCAL_SERIAL). */
  serialConsistency?: "SERIAL" | "LOCAL_SERIAL";
  /** Apply the committed CQL migrations before returning (default true). */
  migrate?: boolean;
  /** TCP connect timeout per contact point (default 5 s). */
  connectTimeoutMs?: number;
}

/** An open, migrated Cassandra (or ScyllaDB) session and what the stores need to use it. */
export interface Cassandra {
  client: Client;
  keyspace: string;
  consistency: types.consistencies;
  serialConsistency: types.consistencies;
  /** Migration versions applied by this open. */
  migrated: string[];
  /** Lines worth logging at start-up (e.g. replication differs from the configuration). */
  warnings: string[];
  close(): Promise<void>;
}

/** One line per host the driver tried, e.g. `127.0.0.1:9042: connect ECONNREFUSED 127.0.0.1:9042`. */
function describeConnectError(error: unknown): string {
  if (error instanceof errors.NoHostAvailableError) {
    const inner = Object.entries((error.innerErrors ?? {}) as Record<string, unknown>);
    if (inner.length > 0) {
      return inner.map(([host, e]) => `${host}: ${String((e as Error)?.message ?? e).split("\n")[0]}`).join("; ");
    }
  }
  return String((error as Error)?.message ?? error).split("\n")[0]!;
}

/**
 * Connects to Cassandra/ScyllaDB, then (unless `migrate: false`) creates or updates the keyspace
 * from the committed CQL migrations.
 *
 * The driver's load balancing is its default: token-aware over the nodes of `localDataCenter`
 * only, so LOCAL_* consistency never waits on another data centre. Statements the stores mark
 * idempotent are retried on the next node when one dies mid-request.
 *
 * Timestamps are server-side (no client timestamp generator): edits and deletes are lightweight
 * transactions, whose write time comes from the coordinator's Paxos ballot, so plain writes use
 * the coordinators' clocks too. With client-side timestamps, an application clock running ahead
 * of the cluster could make an LWT delete older than the insert it deletes.
 *
 * Throws an Error naming the contact points, data centre and keyspace it tried when it cannot
 * connect or migrate.
 */
export async function openCassandra(options: CassandraOptions): Promise<Cassandra> {
  const consistency = CONSISTENCY_LEVELS[options.consistency];
  if (consistency === undefined) throw new RangeError(`unknown consistency level ${JSON.stringify(options.consistency)}`);
  const serialConsistency = options.serialConsistency === "SERIAL" ? types.consistencies.serial : types.consistencies.localSerial;
  if (options.contactPoints.length === 0) throw new RangeError("Cassandra: no contact points given");

  const clientOptions: ClientOptions = {
    contactPoints: options.contactPoints,
    localDataCenter: options.localDataCenter,
    queryOptions: { consistency, serialConsistency, prepare: true },
    socketOptions: { connectTimeout: options.connectTimeoutMs ?? 5_000, readTimeout: 12_000 },
    // CQL bigint as JavaScript bigint both ways (the app's ids are bigints): no conversion through
    // a decimal string and the driver's Long per id, on every write and every row read.
    encoding: { useBigIntAsLong: true },
    // Server-side timestamps; see the JSDoc above. The driver's types do not admit null here.
    policies: {
      timestampGeneration: null as unknown as undefined,
      // The driver's default backs off up to 10 minutes: after a data centre was down for two,
      // an instance would wait a minute or more to use it again. 10 s at most.
      reconnection: new policies.reconnection.ExponentialReconnectionPolicy(500, RECONNECT_MAX_DELAY_MS, false),
    },
    // No wait of the driver's own after DDL: it counts every peer, so with one node down each
    // statement would stall for the whole wait. The migrations wait for the nodes that are up
    // (schema-agreement.ts).
    protocolOptions: { maxSchemaAgreementWaitSeconds: 0 },
  };
  if (options.username !== undefined) {
    clientOptions.authProvider = new auth.PlainTextAuthProvider(options.username, options.password ?? "");
  }
  const client = new Client(clientOptions);
  const where = `contact points ${options.contactPoints.join(", ")} (local data centre ${JSON.stringify(options.localDataCenter)}${options.username !== undefined ? `, user ${JSON.stringify(options.username)}` : ""})`;
  try {
    await client.connect();
  } catch (error) {
    await client.shutdown().catch(() => {});
    throw new Error(`cannot connect to Cassandra at ${where}: ${describeConnectError(error)}`, { cause: error });
  }

  let migrated: string[] = [];
  let warnings: string[] = [];
  if (options.migrate !== false) {
    try {
      ({ applied: migrated, warnings } = await migrateCassandra(client, {
        keyspace: options.keyspace,
        replication: options.replication,
        consistency,
        serialConsistency,
      }));
    } catch (error) {
      await client.shutdown().catch(() => {});
      throw new Error(`cannot migrate Cassandra keyspace ${options.keyspace} at ${where}: ${describeConnectError(error)}`, { cause: error });
    }
  }

  let closing: Promise<void> | undefined;
  return {
    client,
    keyspace: options.keyspace,
    consistency,
    serialConsistency,
    migrated,
    warnings,
    close: () => (closing ??= client.shutdown()),
  };
}
