import { describe, expect, it } from "vitest";
import { GraphQLError } from "graphql";
import { createErrorMasker } from "../../src/gateway/errors.js";
import { createLogger } from "../../src/logger.js";
import { isDatabaseUnavailable, isForeignKeyViolation, isUniqueViolation } from "../../src/stores/prisma/prisma-errors.js";

/** A failed $queryRaw/$executeRaw as Prisma 7 reports it through the pg and PGlite adapters (P2010). */
const rawQueryError = (sqlState: string) =>
  Object.assign(new Error(`Raw query failed. Code: \`${sqlState}\`.`), {
    code: "P2010",
    meta: { driverAdapterError: { name: "DriverAdapterError", cause: { originalCode: sqlState, originalMessage: "…" } } },
  });

describe("prisma-errors", () => {
  it("recognises the client's own codes", () => {
    expect(isUniqueViolation(Object.assign(new Error("x"), { code: "P2002" }))).toBe(true);
    expect(isForeignKeyViolation(Object.assign(new Error("x"), { code: "P2003" }))).toBe(true);
    expect(isUniqueViolation(Object.assign(new Error("x"), { code: "P2003" }))).toBe(false);
    expect(isForeignKeyViolation(Object.assign(new Error("x"), { code: "P2002" }))).toBe(false);
  });

  it("recognises a raw query's SQLSTATE (23505 unique, 23503 foreign key)", () => {
    expect(isUniqueViolation(rawQueryError("23505"))).toBe(true);
    expect(isForeignKeyViolation(rawQueryError("23503"))).toBe(true);
    expect(isUniqueViolation(rawQueryError("23503"))).toBe(false);
    expect(isForeignKeyViolation(rawQueryError("23505"))).toBe(false);
    expect(isForeignKeyViolation(rawQueryError("40001"))).toBe(false);
  });

  it("is false for anything else", () => {
    for (const value of [null, undefined, "23503", 42, new Error("boom"), { code: "P2010" }, { code: "P2010", meta: {} }]) {
      expect(isUniqueViolation(value)).toBe(false);
      expect(isForeignKeyViolation(value)).toBe(false);
    }
  });
});

describe("isDatabaseUnavailable", () => {
  const socketError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, syscall: "connect", errno: -111 });
  /** What Prisma 7 throws when the pg driver adapter reports `kind` (its DriverAdapterError, wrapped). */
  const adapterError = (cause: Record<string, unknown>) => Object.assign(new Error("Invalid `prisma.message.create()` invocation"), { code: "P2010", meta: { driverAdapterError: { name: "DriverAdapterError", cause } } });
  const serverError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: "FATAL" });

  it("recognises a server that is down, restarting or gone, whichever layer reports it", () => {
    for (const error of [
      socketError("ECONNREFUSED"),
      socketError("ECONNRESET"),
      new Error("Connection terminated unexpectedly"),
      new Error("timeout exceeded when trying to connect"),
      serverError("57P01", "terminating connection due to administrator command"),
      serverError("57P03", "the database system is starting up"),
      serverError("08006", "connection failure"),
      adapterError({ kind: "DatabaseNotReachable", host: "127.0.0.1", port: 5432 }),
      adapterError({ kind: "ConnectionClosed" }),
      adapterError({ kind: "postgres", originalCode: "57P01" }),
      Object.assign(new Error("Can't reach database server at 127.0.0.1:5432"), { code: "P1001" }),
      new Error("send failed", { cause: socketError("ECONNREFUSED") }),
    ]) {
      expect(isDatabaseUnavailable(error), String(error)).toBe(true);
    }
  });

  it("is false for the database's answers to a bad write and for anything else", () => {
    for (const error of [rawQueryError("23505"), rawQueryError("40001"), adapterError({ kind: "UniqueConstraintViolation" }), new Error("boom"), null, "ECONNREFUSED", { code: 42 }]) {
      expect(isDatabaseUnavailable(error), String(error)).toBe(false);
    }
  });

  it("makes the masker answer UNAVAILABLE with retryAfterMs, saying the outcome is unknown, where a bug gets INTERNAL_SERVER_ERROR", () => {
    const mask = createErrorMasker(createLogger("error", () => {}));
    const fromResolver = (original: Error) => new GraphQLError(original.message, { originalError: original, path: ["sendMessage"] });
    const unavailable = mask(fromResolver(socketError("ECONNREFUSED"))) as GraphQLError;
    expect(unavailable.extensions.code).toBe("UNAVAILABLE");
    expect(unavailable.extensions.retryAfterMs).toBeGreaterThan(0);
    expect(unavailable.extensions.store).toBe("database");
    expect(unavailable.message).toMatch(/may or may not have been saved/);
    expect(unavailable.message).not.toContain("127.0.0.1");
    expect(unavailable.path).toEqual(["sendMessage"]);
    expect((mask(fromResolver(new Error("boom"))) as GraphQLError).extensions.code).toBe("INTERNAL_SERVER_ERROR");
  });
});
