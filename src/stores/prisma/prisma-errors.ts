/** True when `error` is Prisma's unique-constraint violation (P2002), whatever the driver adapter. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { code?: unknown; cause?: { code?: unknown }; message?: unknown };
  return e.code === "P2002" || e.cause?.code === "23505" || rawQueryCode(error) === "23505" || (typeof e.message === "string" && e.message.includes("Unique constraint failed"));
}

/** True when `error` is Prisma's foreign-key violation (P2003): the row a write refers to does not exist. */
export function isForeignKeyViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { code?: unknown; cause?: { code?: unknown }; message?: unknown };
  return e.code === "P2003" || e.cause?.code === "23503" || rawQueryCode(error) === "23503" || (typeof e.message === "string" && e.message.includes("Foreign key constraint violated"));
}

/**
 * The SQLSTATE of a failed $queryRaw/$executeRaw: Prisma reports those as P2010, not P2002/P2003,
 * with the database's code in `meta.driverAdapterError.cause.originalCode` (pg and PGlite alike).
 */
function rawQueryCode(error: object): unknown {
  const e = error as { code?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } };
  return e.code === "P2010" ? e.meta?.driverAdapterError?.cause?.originalCode : undefined;
}

/** Socket errors of a database connection that could not be made or was cut. */
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH"]);
/** Prisma's own codes for an unreachable server, a cut connection and a pool timeout. */
const PRISMA_CODES = new Set(["P1001", "P1002", "P1017", "P2024"]);
/** The driver adapter's kinds for the same (see @prisma/adapter-pg's convertDriverError). */
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);
/** SQLSTATEs of a server going away or not there yet: class 08 (connection), 57P01-57P03 (shut down, crashed, starting). */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123])$/;
/** What node-postgres says when a connection dies or cannot be had. */
const UNAVAILABLE_MESSAGE = /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Can't reach database server|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to/i;

/**
 * True when `error` says the database could not be reached or the connection was lost (server
 * down, restarting, crashed, network cut), whichever layer reports it: node-postgres, the Prisma
 * driver adapter (also in a raw query's `meta`), or Prisma itself; causes are followed. Such a
 * failure is an outage, not a bug: a write that met it may or may not have been committed.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const e = queue.shift();
    if (typeof e !== "object" || e === null || seen.has(e)) continue;
    seen.add(e);
    const fields = e as { code?: unknown; kind?: unknown; originalCode?: unknown; message?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } };
    if (typeof fields.code === "string" && (SOCKET_CODES.has(fields.code) || PRISMA_CODES.has(fields.code) || UNAVAILABLE_SQLSTATE.test(fields.code))) return true;
    if (typeof fields.kind === "string" && ADAPTER_KINDS.has(fields.kind)) return true;
    if (typeof fields.originalCode === "string" && UNAVAILABLE_SQLSTATE.test(fields.originalCode)) return true;
    if (typeof fields.message === "string" && UNAVAILABLE_MESSAGE.test(fields.message)) return true;
    queue.push(fields.cause, fields.meta?.driverAdapterError);
  }
  return false;
}
