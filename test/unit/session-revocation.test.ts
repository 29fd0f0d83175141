import { describe, expect, it } from "vitest";
import { decodeEvent, encodeEvent } from "../../src/pubsub/event-codec.js";
import { ALL_SESSIONS, revokes, type Revocation } from "../../src/resolvers/session-revocation.js";

describe("revokes: which sessions one SessionRevoked event covers", () => {
  const logout: Revocation = { userId: 1n, tokenHash: "a1", keepTokenHash: null };
  const everything: Revocation = { userId: 1n, tokenHash: ALL_SESSIONS, keepTokenHash: null };
  const othersOf: Revocation = { userId: 1n, tokenHash: ALL_SESSIONS, keepTokenHash: "a2" };

  it("one token: only the session opened with that token", () => {
    expect(revokes(logout, 1n, "a1")).toBe(true);
    expect(revokes(logout, 1n, "a2")).toBe(false);
    expect(revokes(logout, 1n, null)).toBe(false);
  });

  it("all of a user's sessions: every one of theirs, whatever the token (known or not), nobody else's", () => {
    for (const token of ["a1", "a2", null]) expect(revokes(everything, 1n, token), String(token)).toBe(true);
    expect(revokes(everything, 2n, "b1")).toBe(false);
  });

  it("all but one: every session of the user except the kept token", () => {
    expect(revokes(othersOf, 1n, "a1")).toBe(true);
    expect(revokes(othersOf, 1n, "a3")).toBe(true);
    expect(revokes(othersOf, 1n, null), "a session whose token is unknown is not the kept one").toBe(true);
    expect(revokes(othersOf, 1n, "a2")).toBe(false);
    expect(revokes(othersOf, 2n, "b1")).toBe(false);
  });

  it("every form crosses instances intact (the revocations topic over Redis)", () => {
    for (const revocation of [logout, everything, othersOf]) {
      const event = { type: "SessionRevoked", ...revocation } as const;
      expect(decodeEvent(encodeEvent(event))).toEqual(event);
    }
  });
});
