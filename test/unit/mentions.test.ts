import { describe, expect, it } from "vitest";
import { MAX_SNOWFLAKE } from "../../src/ids/snowflake.js";
import { MAX_MENTIONS, parseMentions } from "../../src/resolvers/mentions.js";

describe("parseMentions", () => {
  it("finds <@id> and <@!id> mentions in order of first appearance", () => {
    expect(parseMentions("hi <@30>, <@!10> and <@20>!")).toEqual([30n, 10n, 20n]);
    expect(parseMentions("<@1><@2>")).toEqual([1n, 2n]);
    expect(parseMentions("line one <@5>\nline two <@!6>")).toEqual([5n, 6n]);
  });

  it("keeps each user once, whichever form repeats them", () => {
    expect(parseMentions("<@7> <@2> <@!7> <@7> <@2>")).toEqual([7n, 2n]);
  });

  it("keeps each user once even when an id is written with leading zeros", () => {
    // <@05> names the same user as <@5>; mentionIds promise no duplicates.
    expect(parseMentions("<@5> <@05> <@!005>")).toEqual([5n]);
  });

  it("ignores text that only looks like a mention", () => {
    for (const text of ["", "@123", "<@>", "<@abc>", "<@ 12>", "<@12 >", "<#12>", "<@&12>", "<@!>", "<@-1>", "<@1.5>", "<12>", "<@@12>", "<@12"]) {
      expect(parseMentions(text), JSON.stringify(text)).toEqual([]);
    }
  });

  it("reads ids up to 19 digits exactly and ignores longer ones", () => {
    expect(parseMentions(`<@${MAX_SNOWFLAKE}>`)).toEqual([MAX_SNOWFLAKE]);
    expect(parseMentions("<@9007199254740993>")).toEqual([9_007_199_254_740_993n]);
    expect(parseMentions("<@12345678901234567890> <@3>")).toEqual([3n]);
  });

  it(`keeps at most ${MAX_MENTIONS} distinct users, the first ones; repeats do not count towards the limit`, () => {
    const ids = Array.from({ length: MAX_MENTIONS + 10 }, (_, i) => i + 1);
    const text = "<@1> ".repeat(100) + ids.map((id) => `<@${id}>`).join(" ");
    const result = parseMentions(text);
    expect(result).toHaveLength(MAX_MENTIONS);
    expect(result).toEqual(ids.slice(0, MAX_MENTIONS).map(BigInt));
  });
});
