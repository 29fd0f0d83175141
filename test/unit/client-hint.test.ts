import { describe, expect, it } from "vitest";
import { clientHintOf, MAX_CLIENT_HINT_LENGTH, sanitizeClientHint } from "../../src/auth/client-hint.js";

describe("sanitizeClientHint", () => {
  it("keeps an ordinary User-Agent as it is", () => {
    const ua = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    expect(sanitizeClientHint(ua)).toBe(ua);
    expect(sanitizeClientHint("Concord Desktop 1.4 — Windows 11 🪟")).toBe("Concord Desktop 1.4 — Windows 11 🪟");
  });

  it("turns controls, bidi overrides, zero-width characters and lone surrogates into single spaces", () => {
    expect(sanitizeClientHint("evil\u0000\r\nX-Injected: 1")).toBe("evil X-Injected: 1");
    expect(sanitizeClientHint("phone \u202Eevil\u202C app")).toBe("phone evil app");
    expect(sanitizeClientHint("a\u200B\u200Db\u0085c\u2028d")).toBe("a b c d");
    expect(sanitizeClientHint("x\uD800y\uDC00z 😀")).toBe("x y z 😀");
    expect(sanitizeClientHint("  spaced   out\t")).toBe("spaced out");
  });

  it("is null for nothing readable or for anything that is not a string", () => {
    for (const value of [undefined, null, "", "   ", "\u0000\u202E\u200B", 42, { client: "x" }]) expect(sanitizeClientHint(value), JSON.stringify(value)).toBeNull();
  });

  it("cuts long values to the cap in code points, marking the cut, without splitting an emoji's surrogate pair", () => {
    const cut = sanitizeClientHint("😀".repeat(5_000))!;
    expect([...cut]).toHaveLength(MAX_CLIENT_HINT_LENGTH);
    expect(cut.endsWith("…")).toBe(true);
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect(sanitizeClientHint("a".repeat(MAX_CLIENT_HINT_LENGTH))).toBe("a".repeat(MAX_CLIENT_HINT_LENGTH));
  });

  it("takes the first of repeated headers", () => {
    expect(sanitizeClientHint(["first/1.0", "second/2.0"])).toBe("first/1.0");
  });
});

describe("clientHintOf", () => {
  it("prefers the graphql-ws `client` connection param, then the User-Agent", () => {
    const headers = { "user-agent": "node" };
    expect(clientHintOf(headers, { client: "Concord iOS 3.2" })).toBe("Concord iOS 3.2");
    expect(clientHintOf(headers, { client: "  " })).toBe("node");
    expect(clientHintOf(headers, { client: 7 })).toBe("node");
    expect(clientHintOf(headers)).toBe("node");
    expect(clientHintOf(undefined)).toBeNull();
  });
});
