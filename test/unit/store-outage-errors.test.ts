import { errors, types } from "cassandra-driver";
import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { createErrorMasker } from "../../src/gateway/errors.js";
import { createLogger } from "../../src/logger.js";
import { STATUS_OF_CODE } from "../../src/rest/rest-errors.js";
import { isCassandraOutage, translateCassandraError } from "../../src/stores/cassandra/unavailable.js";
import { StoreUnavailableError } from "../../src/stores/store-errors.js";

/**
 * A Cassandra outage (replicas down, a timeout, no node reachable) reaches the client as
 * UNAVAILABLE with `retryAfterMs`, so it retries; a bad statement or a bug stays an
 * INTERNAL_SERVER_ERROR.
 */

const code = types.responseErrorCodes;
const outages = [
  ["no host reachable", new errors.NoHostAvailableError({ "127.0.0.2:9042": new Error("ECONNREFUSED") })],
  ["client-side timeout", new errors.OperationTimedOutError("The host 127.0.0.2:9042 did not reply before timeout 12000 ms", "127.0.0.2:9042")],
  ["Unavailable", new errors.ResponseError(code.unavailableException, "Cannot achieve consistency level LOCAL_QUORUM")],
  ["write timeout", new errors.ResponseError(code.writeTimeout, "Operation timed out - received only 1 responses.")],
  ["read timeout", new errors.ResponseError(code.readTimeout, "Operation timed out - received only 1 responses.")],
  ["read failure", new errors.ResponseError(code.readFailure, "Operation failed")],
  ["overloaded", new errors.ResponseError(code.overloaded, "Overloaded")],
] as const;
const notOutages = [
  ["syntax error", new errors.ResponseError(code.syntaxError, "line 1:0 no viable alternative")],
  ["invalid request", new errors.ResponseError(code.invalid, "Undefined column name")],
  ["a bug", new TypeError("Cannot read properties of undefined")],
] as const;

function masker() {
  const lines: string[] = [];
  return { mask: createErrorMasker(createLogger("info", (line) => lines.push(line))), lines };
}

describe("store outages", () => {
  it.each(outages)("a Cassandra %s is an outage, wrapped with the driver's error as its cause", (_, error) => {
    expect(isCassandraOutage(error)).toBe(true);
    const translated = translateCassandraError(error);
    expect(translated).toBeInstanceOf(StoreUnavailableError);
    expect((translated as StoreUnavailableError).cause).toBe(error);
  });

  it.each(notOutages)("a %s is not an outage and passes unchanged", (_, error) => {
    expect(isCassandraOutage(error)).toBe(false);
    expect(translateCassandraError(error)).toBe(error);
  });

  it("reaches the client as UNAVAILABLE with retryAfterMs and the store's name, logged as a warning", () => {
    const { mask, lines } = masker();
    const cause = new errors.ResponseError(code.unavailableException, "Cannot achieve consistency level LOCAL_QUORUM");
    const error = new GraphQLError("wrapped", { path: ["sendMessage"], originalError: translateCassandraError(cause) as Error });
    const masked = mask(error) as GraphQLError;
    expect(masked.extensions).toEqual({ code: "UNAVAILABLE", retryAfterMs: 1_000, store: "message history" });
    expect(masked.message).toMatch(/briefly unavailable.*same nonce/);
    expect(masked.message).not.toContain("LOCAL_QUORUM");
    expect(masked.path).toEqual(["sendMessage"]);
    expect(lines.map((line) => JSON.parse(line).level)).toEqual(["warn"]);
  });

  it("leaves a bug an INTERNAL_SERVER_ERROR, logged as an error", () => {
    const { mask, lines } = masker();
    const masked = mask(new GraphQLError("wrapped", { originalError: new TypeError("boom") })) as GraphQLError;
    expect(masked.extensions).toEqual({ code: "INTERNAL_SERVER_ERROR" });
    expect(lines.map((line) => JSON.parse(line).level)).toEqual(["error"]);
  });

  it("is a 503 on the REST routes", () => {
    expect(STATUS_OF_CODE.UNAVAILABLE).toBe(503);
  });
});
