import { describe, expect, it } from "vitest";
import { isForeignKeyViolation, isUniqueViolation } from "../../src/stores/prisma/prisma-errors.js";

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
