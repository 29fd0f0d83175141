import { describe, expect, it } from "vitest";
import { MAX_SNOWFLAKE } from "../../src/ids/snowflake.js";
import { MAX_MENTIONS, mayMentionBroadly, parseBroadMentions, parseMentions } from "../../src/resolvers/mentions.js";

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

describe("parseBroadMentions", () => {
  it("finds <@&id> role mentions in order of first appearance, each once (by number)", () => {
    expect(parseBroadMentions("hey <@&30> and <@&10>, <@&030> <@&10>").roleIds).toEqual([30n, 10n]);
    expect(parseBroadMentions("<@&1><@&2>")).toEqual({ everyone: false, here: false, roleIds: [1n, 2n] });
  });

  it("finds @everyone and @here as words, not inside addresses or longer words", () => {
    expect(parseBroadMentions("@everyone look")).toEqual({ everyone: true, here: false, roleIds: [] });
    expect(parseBroadMentions("ping @here!")).toEqual({ everyone: false, here: true, roleIds: [] });
    expect(parseBroadMentions("(@here) and @everyone.")).toEqual({ everyone: true, here: true, roleIds: [] });
    for (const text of ["mail me@everyone.example", "@everyoneelse", "@@here", "@heres", "everyone here", "@ everyone"]) {
      const parsed = parseBroadMentions(text);
      expect(parsed.everyone || parsed.here, JSON.stringify(text)).toBe(false);
    }
  });

  it("ignores what only looks like a role mention, and ids beyond 64 bits", () => {
    for (const text of ["<@&>", "<@& 1>", "<@&abc>", "<@&-1>", "<@1>", "<@!1>", "<&1>", "<@&12345678901234567890>", "<@&9223372036854775808>"]) {
      expect(parseBroadMentions(text).roleIds, JSON.stringify(text)).toEqual([]);
    }
    expect(parseBroadMentions("<@&9223372036854775807>").roleIds).toEqual([MAX_SNOWFLAKE]);
  });

  it(`keeps at most ${MAX_MENTIONS} distinct roles`, () => {
    const text = Array.from({ length: MAX_MENTIONS + 5 }, (_, i) => `<@&${i + 1}>`).join(" ");
    expect(parseBroadMentions(text).roleIds).toHaveLength(MAX_MENTIONS);
  });

  it("mayMentionBroadly is false only for texts where nothing broad can be found", () => {
    for (const text of ["@everyone", "x @here", "<@&1>", "me@everyone.example"]) expect(mayMentionBroadly(text), text).toBe(true);
    for (const text of ["hello", "<@1>", "everyone here", "@ever"]) {
      expect(mayMentionBroadly(text), text).toBe(false);
      expect(parseBroadMentions(text)).toEqual({ everyone: false, here: false, roleIds: [] });
    }
  });
});
