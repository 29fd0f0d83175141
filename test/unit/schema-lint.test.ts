import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

/**
 * The schema linter in `npm test` (so in CI): ESLint with @graphql-eslint's schema rules, as
 * eslint.config.mjs sets them, on schema.graphql (which schema-sdl.test.ts keeps equal to the
 * code-first schema). `npm run lint:schema` runs the same from the command line.
 */

describe("schema lint", () => {
  it("finds nothing in schema.graphql", async () => {
    const eslint = new ESLint({ cwd: new URL("../..", import.meta.url).pathname });
    const [result] = await eslint.lintFiles(["schema.graphql"]);
    const problems = result!.messages.map((m) => `schema.graphql:${m.line}:${m.column} ${m.ruleId ?? "fatal"}: ${m.message}`);
    expect(problems).toEqual([]);
    // The rules are on: a config that lost them would find nothing too.
    const config = (await eslint.calculateConfigForFile("schema.graphql")) as { rules?: Record<string, unknown> } | undefined;
    expect(Object.keys(config?.rules ?? {})).toEqual(expect.arrayContaining(["@graphql-eslint/require-description", "@graphql-eslint/strict-id-in-types", "@graphql-eslint/relay-arguments"]));
  }, 60_000);
});
