/** True when `error` is Prisma's unique-constraint violation (P2002), whatever the driver adapter. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { code?: unknown; cause?: { code?: unknown }; message?: unknown };
  return e.code === "P2002" || e.cause?.code === "23505" || (typeof e.message === "string" && e.message.includes("Unique constraint failed"));
}

/** True when `error` is Prisma's foreign-key violation (P2003): the row a write refers to does not exist. */
export function isForeignKeyViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { code?: unknown; cause?: { code?: unknown }; message?: unknown };
  return e.code === "P2003" || e.cause?.code === "23503" || (typeof e.message === "string" && e.message.includes("Foreign key constraint violated"));
}
