import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { findUnsafeString } from "../../src/resolvers/input-safety.js";

const SEND = parse(`mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`);

describe("findUnsafeString", () => {
  it("finds nothing in ordinary operations, with or without variables", () => {
    expect(findUnsafeString(SEND, { input: { channelId: "1", content: "héllo 😀 שלום", nonce: "n-1", tags: [1, true, null, { x: "y" }] } })).toBeNull();
    expect(findUnsafeString(parse(`{ me { id } }`), undefined)).toBeNull();
    expect(findUnsafeString(parse(`query { channel(id: "1") { messages(last: 5) { edges { cursor } } } }`), null)).toBeNull();
  });

  it("names a variable holding NUL or a lone surrogate, nested objects and lists included", () => {
    expect(findUnsafeString(SEND, { input: { channelId: "1", content: "ok", nonce: "n-\uD800" } })).toEqual({
      path: "variables.input.nonce",
      problem: "LONE_SURROGATE",
      message: "variables.input.nonce contains a lone surrogate (U+D800 at position 2), which is not valid Unicode; send well-formed text.",
    });
    expect(findUnsafeString(SEND, { u: "\u0000" })).toMatchObject({ path: "variables.u", problem: "NUL", message: "variables.u must not contain NUL characters (U+0000)." });
    expect(findUnsafeString(SEND, { ids: ["1", "2", "3\uDC00"] })?.path).toBe("variables.ids[2]");
    expect(findUnsafeString(SEND, { a: { b: [{ c: 1 }, { "odd key": "\u0000" }] } })?.path).toBe('variables.a.b[1]["odd key"]');
    expect(findUnsafeString(SEND, { a: "fine", b: "😀 pairs are fine" })).toBeNull();
  });

  it("survives variables nested far deeper than any recursion could go", () => {
    let deep: unknown = "\u0000";
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const found = findUnsafeString(SEND, { deep });
    expect(found?.problem).toBe("NUL");
    expect(found?.path.startsWith("variables.deep[0][0]")).toBe(true);
  });

  it("names literals by field path and argument path, aliases, fragments and variable defaults included", () => {
    expect(findUnsafeString(parse(`mutation { login(input: { username: "\\u0000", password: "x" }) { token } }`), {})?.path).toBe("login(input.username)");
    expect(findUnsafeString(parse(`{ c: channel(id: "1") { messages(around: "9\\u0000") { edges { cursor } } } }`), {})?.path).toBe("c.messages(around)");
    expect(findUnsafeString(parse(`{ users(ids: ["1", "\\u0000"]) { id } }`), {})?.path).toBe("users(ids[1])");
    expect(findUnsafeString(parse(`query($n: String = "\\u0000") { me { id } }`), {})?.path).toBe("$n");
    expect(findUnsafeString(parse(`{ ...F } fragment F on Query { guild(id: "\\u0000") { id } }`), {})?.path).toBe("...F.guild(id)");
    expect(findUnsafeString(parse(`{ ... on Query { guild(id: "\\u0000") { id } } }`), {})?.path).toBe("guild(id)");
    // Block strings too.
    expect(findUnsafeString(parse(`mutation { joinGuild(code: """a\u0000b""") { id } }`), {})?.path).toBe("joinGuild(code)");
  });

  it("looks at the variables before the document", () => {
    const doc = parse(`mutation($u: String!) { login(input: { username: $u, password: "\\u0000" }) { token } }`);
    expect(findUnsafeString(doc, { u: "\uD800" })?.path).toBe("variables.u");
    expect(findUnsafeString(doc, { u: "ada" })?.path).toBe("login(input.password)");
  });
});
