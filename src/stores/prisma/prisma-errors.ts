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
