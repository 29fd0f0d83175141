/** True when `error` is Prisma's unique-constraint violation (P2002), whatever the driver adapter. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { code?: unknown; cause?: { code?: unknown }; message?: unknown };
  return e.code === "P2002" || e.cause?.code === "23505" || (typeof e.message === "string" && e.message.includes("Unique constraint failed"));
}
