import { setTimeout as sleep } from "node:timers/promises";
import { types, type Client, type QueryOptions } from "cassandra-driver";
import { StoreUnavailableError } from "../store-errors.js";

const SERIAL_LEVELS = new Set<number>([types.consistencies.serial, types.consistencies.localSerial]);

/**
 * Whether `error` is a Paxos timeout: a lightweight transaction (or a SERIAL read) that the
 * coordinator gave up on, typically because several clients contended for the same partition.
 * Its outcome is unknown: the write may or may not have been applied. Looks through a
 * StoreUnavailableError to the driver's error it wraps.
 */
export function isPaxosTimeout(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return isPaxosTimeout(error.cause);
  const e = error as { code?: number; writeType?: string; consistencies?: number } | null;
  if (!e || typeof e.code !== "number") return false;
  if (e.code === types.responseErrorCodes.writeTimeout) return e.writeType === "CAS" || SERIAL_LEVELS.has(e.consistencies ?? -1);
  if (e.code === types.responseErrorCodes.readTimeout) return SERIAL_LEVELS.has(e.consistencies ?? -1);
  return false;
}


/**
 * Executes a lightweight transaction (`... IF ...`) or SERIAL read, retrying Paxos timeouts with
 * jittered, growing back-off (contention clears when contenders stop colliding). The driver's
 * retry policy never retries these (a CAS write timeout leaves the outcome unknown).
 *
 * Only for statements whose repetition is safe *and* whose callers read the answer rather than
 * trusting `wasApplied()` alone: a retry of a write that did apply comes back "not applied",
 * with the row as the first attempt left it (for example, our own id in a claim).
 *
 * @param attempts total tries, at least 1 (default 5); the last Paxos timeout is rethrown.
 */
export async function executeLwt(
  client: Client,
  cql: string,
  params: unknown[],
  options: QueryOptions,
  attempts = 5,
): Promise<types.ResultSet> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.execute(cql, params, options);
    } catch (error) {
      if (!isPaxosTimeout(error) || attempt >= attempts) throw error;
      await sleep(50 * 2 ** attempt * (0.5 + Math.random()));
    }
  }
}
