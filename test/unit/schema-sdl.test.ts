import { readFile } from "node:fs/promises";
import { buildSchema, printSchema } from "graphql";
import { describe, expect, it } from "vitest";
import { schema } from "../../src/schema/index.js";

describe("schema.graphql", () => {
  it("matches the code-first schema (run `npm run codegen` after changing src/schema)", async () => {
    const committed = buildSchema(await readFile(new URL("../../schema.graphql", import.meta.url), "utf8"));
    expect(printSchema(committed)).toBe(printSchema(schema));
  });
});
