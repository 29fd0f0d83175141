import { errors, types } from "cassandra-driver";
import { StoreUnavailableError } from "../store-errors.js";

/** Server answers that mean "not enough replicas could take part", not "your statement is wrong". */
const OUTAGE_CODES = new Set<number>([
  types.responseErrorCodes.unavailableException,
  types.responseErrorCodes.overloaded,
  types.responseErrorCodes.isBootstrapping,
  types.responseErrorCodes.writeTimeout,
  types.responseErrorCodes.readTimeout,
  types.responseErrorCodes.readFailure,
  types.responseErrorCodes.writeFailure,
]);

/** How long a client should wait before retrying: about what the cluster needs to notice a dead replica. */
const RETRY_AFTER_MS = 1_000;

/**
 * Whether a driver error is an outage of the cluster (a replica or the whole local data centre
 * down, or too slow) rather than a bad statement or a bug: no host reachable, a client-side
 * timeout, or a coordinator's Unavailable, Overloaded, IsBootstrapping, Read/WriteTimeout or
 * Read/WriteFailure.
 */
export function isCassandraOutage(error: unknown): boolean {
  if (error instanceof errors.NoHostAvailableError || error instanceof errors.OperationTimedOutError) return true;
  return error instanceof errors.ResponseError && OUTAGE_CODES.has(error.code);
}

/**
 * `error` as a {@link StoreUnavailableError} (with the driver's error as its cause) if it is a
 * Cassandra outage; otherwise `error` unchanged.
 */
export function translateCassandraError(error: unknown, store = "message history"): unknown {
  return isCassandraOutage(error) ? new StoreUnavailableError(store, RETRY_AFTER_MS, { cause: error }) : error;
}
