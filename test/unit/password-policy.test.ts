import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { refusal } from "../support/assertions.js";
import { isCommonPassword } from "../../src/auth/common-passwords.js";
import { checkNewPassword, checkPasswordText } from "../../src/auth/password-policy.js";


describe("checkNewPassword", () => {
  it("accepts a long, uncommon password that is not the username, unchanged (spaces kept)", () => {
    for (const ok of ["correct horse", "  ten ch  ", "Tr0ub4dor&3x", "p".repeat(256), "mot de passe très sûr", "😀".repeat(10)]) {
      expect(checkNewPassword(ok, "ada"), ok).toBe(ok);
    }
  });

  it("refuses fewer than 10 or more than 256 code points, saying how many were given", () => {
    expect(refusal(() => checkNewPassword("12345678", "ada"))).toEqual({ field: "password", message: expect.stringMatching(/^password must be at least 10 characters \(got 8\)/) });
    expect(refusal(() => checkNewPassword("", "ada")).message).toMatch(/at least 10 characters \(got 0\)/);
    // Code points, not UTF-16 units: nine emoji are 18 units but 9 characters.
    expect(refusal(() => checkNewPassword("😀".repeat(9), "ada")).message).toMatch(/got 9/);
    expect(refusal(() => checkNewPassword("p".repeat(257), "ada")).message).toBe("password must be at most 256 characters (got 257).");
  });

  it("refuses common passwords whatever their case, NFKC form or surrounding spaces, saying why", () => {
    for (const common of ["password123", "qwertyuiop", "QwertyUiop", "1234567890", " password123 ", "ｐａｓｓｗｏｒｄ１２３"]) {
      expect(refusal(() => checkNewPassword(common, "ada")), common).toEqual({
        field: "password",
        message: "password is one of the most common passwords, which attackers try first; choose another.",
      });
    }
  });

  it("refuses the username, ignoring case and surrounding spaces", () => {
    for (const same of ["Ada.Lovelace", "ada.lovelace", "ADA.LOVELACE", "  ada.lovelace "]) {
      expect(refusal(() => checkNewPassword(same, "Ada.Lovelace")), same).toEqual({ field: "password", message: "password must not be your username." });
    }
    expect(checkNewPassword("ada.lovelace!", "Ada.Lovelace")).toBe("ada.lovelace!");
  });

  it("refuses NUL, lone surrogates and control characters, under the field name it is given", () => {
    expect(refusal(() => checkNewPassword("long enough\u0000", "ada", "newPassword"))).toEqual({ field: "newPassword", message: expect.stringMatching(/NUL/) });
    expect(refusal(() => checkNewPassword("long enough\uD800", "ada", "newPassword")).message).toMatch(/lone surrogate/);
    expect(refusal(() => checkNewPassword("long\tenough", "ada")).message).toMatch(/control characters or line breaks \(found U\+0009\)/);
    expect(refusal(() => checkNewPassword("long enough\u0085", "ada")).message).toMatch(/U\+0085/);
  });
});

describe("checkPasswordText (login)", () => {
  it("lets old, short passwords through to verification but refuses what no stored password can be", () => {
    expect(checkPasswordText("1234567")).toBe("1234567");
    expect(checkPasswordText("")).toBe("");
    expect(refusal(() => checkPasswordText("\u0000")).field).toBe("password");
    expect(refusal(() => checkPasswordText("abc\uDC00")).message).toMatch(/lone surrogate/);
    expect(refusal(() => checkPasswordText("p".repeat(257))).message).toMatch(/at most 256/);
  });
});

describe("the shipped list of common passwords", () => {
  const file = readFileSync(new URL("../../src/auth/common-passwords.txt", import.meta.url), "utf8");
  const entries = file.split("\n").filter((line) => line !== "" && !line.startsWith("#"));

  it("holds only lower-case entries the length rule would otherwise allow, once each, and names its source and licence", () => {
    expect(entries.length).toBeGreaterThan(1000);
    expect(new Set(entries).size).toBe(entries.length);
    for (const entry of entries) {
      expect(entry).toBe(entry.toLowerCase());
      expect([...entry].length).toBeGreaterThanOrEqual(10);
    }
    expect(file).toMatch(/@zxcvbn-ts\/language-common/);
    expect(file).toMatch(/Permission is hereby granted/);
  });

  it("is what isCommonPassword consults", () => {
    expect(isCommonPassword(entries[0]!)).toBe(true);
    expect(isCommonPassword(entries.at(-1)!.toUpperCase())).toBe(true);
    expect(isCommonPassword("a passphrase nobody has used")).toBe(false);
  });
});
