import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { Client, types } from "cassandra-driver";

/** How long a peer's CQL port may take to accept a connection before it counts as down. */
const PROBE_TIMEOUT_MS = 1_000;

/** True if something accepts a TCP connection on host:port within the timeout. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: PROBE_TIMEOUT_MS });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
    socket.once("error", () => resolve(false));
  });
}

/** A peer's CQL address from its system.peers row (rpc_address unless that is a wildcard). */
function peerAddress(row: types.Row): string {
  const rpc = row.get("rpc_address")?.toString() as string | undefined;
  return rpc && rpc !== "0.0.0.0" && rpc !== "::" ? rpc : String(row.get("peer"));
}

/**
 * Whether every node that is up agrees on the schema: system.local and system.peers read from
 * one node, and a peer whose version differs counts only if its CQL port answers. The driver's
 * own check (metadata.checkSchemaAgreement) counts every peer, so one node down would fail
 * every migration; a node that comes back pulls the schema it missed through gossip.
 */
export async function liveNodesAgreeOnSchema(client: Client): Promise<boolean> {
  const host = client.getState().getConnectedHosts()[0];
  const options = host ? { host, prepare: false } : { prepare: false };
  const local = (await client.execute("SELECT schema_version FROM system.local", [], options)).first();
  const peers = await client.execute("SELECT peer, rpc_address, schema_version FROM system.peers", [], options);
  const version = String(local?.get("schema_version"));
  // Every node of a cluster serves CQL on one port: the asked node's.
  const port = Number(/:(\d+)$/.exec(host?.address ?? "")?.[1] ?? 9042);
  for (const row of peers.rows) {
    const peerVersion = row.get("schema_version");
    if (peerVersion === null || peerVersion === undefined || String(peerVersion) === version) continue;
    if (await accepts(peerAddress(row), port)) return false;
  }
  return true;
}

/** Waits until every node that is up reports the same schema version ({@link liveNodesAgreeOnSchema}). */
export async function waitForSchemaAgreement(client: Client, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await liveNodesAgreeOnSchema(client)) return;
    if (Date.now() > deadline) {
      throw new Error(`Cassandra nodes did not agree on the schema within ${timeoutMs} ms: check that every node is up (nodetool describecluster)`);
    }
    await sleep(200);
  }
}
