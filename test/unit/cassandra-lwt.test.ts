import { errors, types, type Client } from "cassandra-driver";
import { describe, expect, it } from "vitest";
import { executeLwt, isPaxosTimeout } from "../../src/stores/cassandra/lwt.js";
import { translateCassandraError } from "../../src/stores/cassandra/unavailable.js";

/** A driver error as the protocol reader builds it for a write or read timeout. */
function timeout(code: number, consistency: number, writeType?: string): errors.ResponseError {
  const error = new errors.ResponseError(code, "Server timeout during write query");
  Object.assign(error, { consistencies: consistency, writeType });
  return error;
}
const casTimeout = () => timeout(types.responseErrorCodes.writeTimeout, types.consistencies.localSerial, "CAS");
const plainWriteTimeout = () => timeout(types.responseErrorCodes.writeTimeout, types.consistencies.localQuorum, "SIMPLE");
const serialReadTimeout = () => timeout(types.responseErrorCodes.readTimeout, types.consistencies.serial);

/** A client whose execute throws the queued errors, then answers with `result`. */
function flakyClient(failures: Error[], result: types.ResultSet) {
  const calls: unknown[][] = [];
  const client = {
    execute: async (...args: unknown[]) => {
      calls.push(args);
      const next = failures.shift();
      if (next) throw next;
      return result;
    },
  } as unknown as Client;
  return { client, calls };
}
const ok = { rows: [], wasApplied: () => true } as unknown as types.ResultSet;

describe("Cassandra lightweight transactions", () => {
  it("recognizes Paxos timeouts (CAS writes, SERIAL reads) and nothing else", () => {
    expect(isPaxosTimeout(casTimeout())).toBe(true);
    expect(isPaxosTimeout(serialReadTimeout())).toBe(true);
    expect(isPaxosTimeout(plainWriteTimeout())).toBe(false);
    expect(isPaxosTimeout(timeout(types.responseErrorCodes.readTimeout, types.consistencies.localQuorum))).toBe(false);
    expect(isPaxosTimeout(new errors.ResponseError(types.responseErrorCodes.syntaxError, "line 1"))).toBe(false);
    expect(isPaxosTimeout(new Error("Server timeout"))).toBe(false);
    expect(isPaxosTimeout(null)).toBe(false);
  });

  it("sees a Paxos timeout through the store's outage error that wraps it", () => {
    expect(isPaxosTimeout(translateCassandraError(casTimeout()))).toBe(true);
    expect(isPaxosTimeout(translateCassandraError(plainWriteTimeout()))).toBe(false);
  });

  it("retries a contended LWT until it answers, passing the same statement and options each time", async () => {
    const { client, calls } = flakyClient([casTimeout(), serialReadTimeout()], ok);
    const options = { prepare: true, serialConsistency: types.consistencies.localSerial };
    await expect(executeLwt(client, "INSERT ... IF NOT EXISTS", [1], options)).resolves.toBe(ok);
    expect(calls).toHaveLength(3);
    expect(calls.every((c) => c[0] === "INSERT ... IF NOT EXISTS" && c[2] === options)).toBe(true);
  });

  it("rethrows any other error at once, and the last Paxos timeout after the given attempts", async () => {
    const other = flakyClient([plainWriteTimeout()], ok);
    await expect(executeLwt(other.client, "UPDATE ... IF x = ?", [], {})).rejects.toThrow(/Server timeout/);
    expect(other.calls).toHaveLength(1);

    const contended = flakyClient([casTimeout(), casTimeout(), casTimeout()], ok);
    await expect(executeLwt(contended.client, "UPDATE ... IF x = ?", [], {}, 2)).rejects.toMatchObject({ writeType: "CAS" });
    expect(contended.calls).toHaveLength(2);
  });
});
