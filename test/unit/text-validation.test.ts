import { describe, expect, it } from "vitest";
import { refusal } from "../support/assertions.js";
import { nameText, storable, text } from "../../src/resolvers/validate.js";
import { bidiProblem, findInvisibleInName, findUnstorable, hasVisibleCharacter } from "../../src/text/unicode.js";


const content = (value: string) => text("content", value, 1, 2000, { multiline: true });

describe("findUnstorable", () => {
  it("finds NUL and lone surrogates at their index, and passes surrogate pairs", () => {
    expect(findUnstorable("plain text, émoji 😀 and 𝄞")).toBe(-1);
    expect(findUnstorable("")).toBe(-1);
    expect(findUnstorable("ab\u0000c")).toBe(2);
    expect(findUnstorable("\uD800")).toBe(0); // lead alone, at the end
    expect(findUnstorable("x\uD800y")).toBe(1); // lead followed by a non-trail
    expect(findUnstorable("x\uDC00")).toBe(1); // trail alone
    expect(findUnstorable("😀\uDE00")).toBe(2); // a pair, then a stray trail
    expect(findUnstorable("\uDE00\uD83D")).toBe(0); // reversed pair
  });
});

describe("storable (every string input)", () => {
  it("refuses NUL and lone surrogates with the field and a reason, and returns other strings unchanged", () => {
    expect(storable("nonce", "  a b  ")).toBe("  a b  ");
    expect(refusal(() => storable("username", "\u0000"))).toEqual({ field: "username", message: expect.stringMatching(/NUL/) });
    expect(refusal(() => storable("nonce", "n-\uD800"))).toEqual({ field: "nonce", message: expect.stringMatching(/lone surrogate \(U\+D800 at position 2\)/) });
  });
});

describe("text (message content, nonces)", () => {
  it("accepts ordinary multilingual text, emoji and line breaks in content", () => {
    for (const ok of ["hello", "héllo wörld", "שלום עולם", "مرحبا", "日本語", "\u{1F468}\u200D\u{1F469}\u200D\u{1F467} family", "a\nb\tc", "\u2764\uFE0F", "1", "."]) expect(content(ok)).toBe(ok);
  });

  it("refuses NUL and lone surrogates before anything else", () => {
    expect(refusal(() => content("hi\u0000"))).toMatchObject({ field: "content", message: expect.stringMatching(/NUL/) });
    expect(refusal(() => content("hi \uDFFF"))).toMatchObject({ field: "content", message: expect.stringMatching(/lone surrogate/) });
  });

  it("refuses C1 controls (U+0080–U+009F) and C0 controls but tab and newline, naming the character", () => {
    for (const [input, name] of [["a\u0085b", "U+0085"], ["a\u009bb", "U+009B"], ["a\u0080", "U+0080"], ["a\rb", "U+000D"], ["a\u0007b", "U+0007"], ["a\u007fb", "U+007F"]] as const) {
      expect(refusal(() => content(input)), input).toEqual({ field: "content", message: expect.stringContaining(`control characters (found ${name})`) });
    }
  });

  it("refuses line breaks, tabs and Unicode line separators on one line (nonces)", () => {
    for (const input of ["a\nb", "a\tb", "a\u2028b", "a\u2029b"]) {
      expect(refusal(() => text("nonce", input, 1, 64)).message, JSON.stringify(input)).toMatch(/control characters or line breaks/);
    }
  });

  it("refuses text with no visible character: zero-width characters, U+FEFF, U+2060, fillers, blank braille, marks", () => {
    for (const input of ["\u200b", "\u200b\u200c\u200d", "\u2060\u2060", " \ufeff\u200b ", "\u3164\u3164", "\u2800", "\u034f", "\u0301", "\u{E0041}\u{E0042}", "\u00ad"]) {
      expect(refusal(() => content(input)), JSON.stringify(input)).toEqual({ field: "content", message: "content must contain a visible character, not only spaces or invisible characters." });
    }
    // Whitespace only is empty after trimming: the length rule says so.
    expect(refusal(() => content(" \n\t \u3000")).message).toMatch(/1 to 2000 characters after trimming \(got 0\)/);
    // One visible character is enough; the invisible ones around it are the writer's business.
    expect(content("\u200bhi\u200b")).toBe("\u200bhi\u200b");
  });

  it("counts length in code points after trimming", () => {
    expect(text("nonce", "😀".repeat(64), 1, 64)).toHaveLength(128);
    expect(refusal(() => text("nonce", "😀".repeat(65), 1, 64)).message).toMatch(/1 to 64 characters after trimming \(got 65\)/);
  });
});

describe("bidi formatting in content", () => {
  it("allows marks anywhere, and embeddings and isolates closed in order on the same line", () => {
    for (const ok of [
      "\u200fשלום\u200f",
      "he said \u2067שלום\u2069 and left",
      "\u202bمرحبا\u202c",
      "\u2066a \u2067b \u202bc\u202c\u2069\u2069 d",
      "line one \u2068x\u2069\nline two \u2067y\u2069",
    ]) {
      expect(bidiProblem(ok), JSON.stringify(ok)).toBeNull();
      expect(content(ok)).toBe(ok.trim());
    }
  });

  it("refuses overrides, even closed: they reverse the letters after them", () => {
    expect(refusal(() => content("invoice\u202efdp.exe\u202c")).message).toBe("content must not contain U+202E (right-to-left override): it reverses the text after it.");
    expect(refusal(() => content("\u202dabc\u202c")).message).toMatch(/U\+202D \(left-to-right override\)/);
  });

  it("refuses an embedding or isolate left open at the end of the text or of a line", () => {
    expect(refusal(() => content("hello \u2067שלום")).message).toBe(
      "content must close U+2067 (right-to-left isolate) with U+2069 (pop directional isolate) on the same line.",
    );
    expect(refusal(() => content("\u202bone\ntwo\u202c")).message).toMatch(/close U\+202B .* with U\+202C .* on the same line/);
    expect(refusal(() => content("a\u2066b\u2028c\u2069")).message).toMatch(/same line/);
  });

  it("refuses closers with nothing to close, and closers out of order", () => {
    expect(refusal(() => content("abc\u2069")).message).toMatch(/U\+2069 \(pop directional isolate\) with no isolate to close/);
    expect(refusal(() => content("abc\u202c")).message).toMatch(/with no embedding to close/);
    expect(refusal(() => content("\u202ba\u2066b\u202c\u2069")).message).toMatch(/must close U\+2066 \(left-to-right isolate\) before U\+202C/);
  });
});

describe("nameText (guild, channel and user names)", () => {
  const guildName = (value: string) => nameText("name", value, 2, 100);

  it("accepts names in any script, with emoji, including joined emoji, skin tones, keycaps and flags", () => {
    for (const ok of [
      "Rust Learners",
      "Café ☕",
      "日本語の部屋",
      "Gaming \u{1F3AE}\u2764\uFE0F", // heart with emoji presentation
      "Devs \u{1F469}\u{1F3FD}\u200D\u{1F4BB}", // woman, skin tone, joiner, laptop
      "Fire \u2764\uFE0F\u200D\u{1F525}", // heart on fire
      "Keycap 1\uFE0F\u20E3",
      "Flags \u{1F1EB}\u{1F1F7} \u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}", // France, Scotland
      "Famille \u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}",
    ]) {
      expect(guildName(ok), ok).toBe(ok);
    }
  });

  it("refuses invisible and direction characters, naming the first", () => {
    for (const [input, found] of [
      ["Ad\u200bmins", "U+200B"],
      ["Admins\u2060", "U+2060"],
      ["\u202bAdmins\u202c", "U+202B"],
      ["Adm\u2067ins\u2069", "U+2067"],
      ["\u200fAdmins", "U+200F"],
      ["Ad\u00admins", "U+00AD"],
      ["a\u200db", "U+200D"], // a joiner between letters, not emoji
      ["ab\u{E0041}", "U+E0041"], // tag characters outside a flag
      ["ab\ufe0f\ufe0f", "U+FE0F"], // a second selector has nothing to apply to
      ["\u3164Admins", "U+3164"],
    ] as const) {
      expect(refusal(() => guildName(input)), JSON.stringify(input)).toEqual({
        field: "name",
        message: `name must not contain invisible or text-direction characters (found ${found}).`,
      });
    }
  });

  it("refuses C1 controls, overrides and names with nothing visible", () => {
    expect(refusal(() => guildName("ab\u0085")).message).toMatch(/control characters or line breaks \(found U\+0085\)/);
    expect(refusal(() => guildName("\u202eevil")).message).toMatch(/U\+202E/);
    expect(refusal(() => guildName("\u2800\u2800")).message).toMatch(/visible character/);
  });

  it("is what findInvisibleInName and hasVisibleCharacter say", () => {
    expect(findInvisibleInName("plain")).toBeNull();
    expect(findInvisibleInName("x\u200by")).toBe(0x200b);
    expect(hasVisibleCharacter("\u200b \u2800")).toBe(false);
    expect(hasVisibleCharacter("\u200b!")).toBe(true);
  });
});
