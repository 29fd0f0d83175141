import { readFileSync } from "node:fs";
import { parse, validate } from "graphql";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { checkOperationCost } from "../../src/gateway/query-cost-limit.js";
import { DEFAULT_RESOURCE_CAPS } from "../../src/resolvers/resource-caps.js";
import { schema } from "../../src/schema/index.js";

/**
 * Every operation of the client SDK, as its trusted-documents manifest has it (the text the
 * server runs), is valid and within the default cost limit with the default caps, with no
 * variables: page sizes count at their defaults or maximums.
 */
const manifest = JSON.parse(readFileSync(new URL("../../client/src/generated/persisted-documents.json", import.meta.url), "utf8")) as Record<string, string>;
const limits = { maxCost: loadConfig({}).maxQueryCost, caps: DEFAULT_RESOURCE_CAPS };

describe("the client SDK's operations", () => {
  it("are all in the manifest", () => {
    expect(Object.keys(manifest).length).toBeGreaterThanOrEqual(17);
  });

  it.each(Object.values(manifest).map((document) => [/(?:query|mutation|subscription) (\w+)/.exec(document)?.[1], document]))("%s is valid and within the cost limit", (_name, document) => {
    const parsed = parse(document!);
    expect(validate(schema, parsed).map((error) => error.message)).toEqual([]);
    expect(checkOperationCost(schema, parsed, undefined, {}, limits)?.message ?? null).toBeNull();
  });
});
