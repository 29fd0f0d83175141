import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "../../src/auth/password.js";
import { hashToken, newToken, parseBearer } from "../../src/auth/token.js";

// The cheapest cost the config allows (PASSWORD_HASH_COST >= 10), so the suite stays fast.
const COST = 10;

describe("hashPassword / verifyPassword", () => {
  it("verifies the right password and rejects wrong ones", async () => {
    const stored = await hashPassword("correct horse battery staple", COST);
    expect(stored).toMatch(/^scrypt\$10\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword("correct horse battery staple", stored)).toBe(true);
    for (const wrong of ["correct horse battery stapl", "Correct horse battery staple", "", "correct horse battery staple "]) {
      expect(await verifyPassword(wrong, stored), JSON.stringify(wrong)).toBe(false);
    }
  });

  it("salts each hash: the same password hashes differently, and each hash verifies", async () => {
    const [a, b] = await Promise.all([hashPassword("same", COST), hashPassword("same", COST)]);
    expect(a).not.toBe(b);
    expect(a.split("$")[4]).not.toBe(b.split("$")[4]);
    expect(await verifyPassword("same", a)).toBe(true);
    expect(await verifyPassword("same", b)).toBe(true);
  });

  it("reads the cost from the stored hash, so hashes made at another cost still verify", async () => {
    const stored = await hashPassword("pw", 11);
    expect(stored.startsWith("scrypt$11$")).toBe(true);
    expect(await verifyPassword("pw", stored)).toBe(true);
  });

  it("normalises Unicode, so composed and decomposed spellings are the same password", async () => {
    const stored = await hashPassword("caf\u00e9", COST);
    expect(await verifyPassword("cafe\u0301", stored)).toBe(true);
  });

  it("returns false for a stored hash with a wrong scheme, missing parts or a tampered key", async () => {
    const stored = await hashPassword("pw", COST);
    const parts = stored.split("$");
    const malformed = [
      "",
      "not a hash",
      "bcrypt$10$8$1$c2FsdA$aGFzaA",
      parts.slice(0, 5).join("$"),
      [...parts.slice(0, 4), "", parts[5]].join("$"),
      [...parts.slice(0, 5), ""].join("$"),
      [...parts.slice(0, 5), parts[5]!.slice(0, 20)].join("$"), // truncated key
      [...parts.slice(0, 5), (parts[5]![0] === "A" ? "B" : "A") + parts[5]!.slice(1)].join("$"),
    ];
    for (const bad of malformed) expect(await verifyPassword("pw", bad), JSON.stringify(bad)).toBe(false);
  });

  it("returns false, without throwing, when the stored cost parameters are not usable numbers", async () => {
    const stored = await hashPassword("pw", COST);
    const [, , r, p, salt, key] = stored.split("$");
    for (const logN of ["abc", "1.5", "-1", "40"]) {
      await expect(verifyPassword("pw", ["scrypt", logN, r, p, salt, key].join("$")), `logN ${logN}`).resolves.toBe(false);
    }
  });
});

describe("tokens", () => {
  it("newToken makes distinct prefixed base64url tokens that parseBearer accepts", () => {
    const tokens = Array.from({ length: 50 }, () => newToken());
    expect(new Set(tokens).size).toBe(50);
    for (const token of tokens) {
      expect(token).toMatch(/^cnc_[A-Za-z0-9_-]{43}$/);
      expect(parseBearer(token)).toBe(token);
      expect(parseBearer(`Bearer ${token}`)).toBe(token);
    }
  });

  it("parseBearer takes the token with or without a Bearer prefix, any case, around whitespace", () => {
    const token = "cnc_abcdefghijklmnopqrstuvwxyz012345";
    for (const value of [token, `Bearer ${token}`, `bearer ${token}`, `BEARER    ${token}`, `  Bearer ${token}  `, `Bearer\t${token}`, `\n${token}\n`]) {
      expect(parseBearer(value), JSON.stringify(value)).toBe(token);
    }
  });

  it("parseBearer returns null for anything else", () => {
    const junk: unknown[] = [
      undefined,
      null,
      42,
      { authorization: "Bearer cnc_abcdefghijklmnop" },
      ["cnc_abcdefghijklmnop"],
      "",
      "Bearer",
      "Bearer ",
      "Bearer short",
      "Basic dXNlcjpwYXNzd29yZA==",
      "Bearer cnc_abc.def.ghijklmnop",
      "Bearer cnc_abcdefgh ijklmnop",
      "Bearer Bearer cnc_abcdefghijklmnop",
      "a".repeat(15),
      "a".repeat(201),
      "cnc_abcdefghijkl+/=",
    ];
    for (const value of junk) expect(parseBearer(value), JSON.stringify(value)).toBeNull();
    expect(parseBearer("a".repeat(16))).toBe("a".repeat(16));
    expect(parseBearer("a".repeat(200))).toBe("a".repeat(200));
  });

  it("hashToken is SHA-256 in hex: stable, and different for different tokens", () => {
    expect(hashToken("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const token = newToken();
    expect(hashToken(token)).toBe(hashToken(token));
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(token)).not.toBe(hashToken(newToken()));
    expect(hashToken(token)).not.toContain(token);
  });
});
