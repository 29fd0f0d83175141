import { readFileSync } from "node:fs";
import { parse, validate, type OperationDefinitionNode } from "graphql";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { EXAMPLE_OPERATIONS } from "../../src/gateway/graphiql-examples.js";
import { checkOperationCost } from "../../src/gateway/query-cost-limit.js";
import { DEFAULT_RESOURCE_CAPS } from "../../src/resolvers/resource-caps.js";
import { createYoga } from "graphql-yoga";
import { useIncrementalDelivery } from "../../src/gateway/incremental-delivery.js";
import { schema as built } from "../../src/schema/index.js";

/**
 * Every GraphQL operation the README shows, and every GraphiQL example, is valid against the
 * schema and within the default cost limit with the default caps. Variables are left out, so
 * page sizes and id lists count at their defaults or maximums: what a copy-paste would cost.
 */

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
/** The schema as served: the built one, plus the @defer and @stream directives yoga's plugin adds. */
const schema = createYoga({ schema: built, plugins: [useIncrementalDelivery()] }).getEnveloped({}).schema;
const limits = { maxCost: loadConfig({}).maxQueryCost, caps: DEFAULT_RESOURCE_CAPS };

/** Top-level `{ ... }`-balanced operations of a GraphQL snippet holding one or several. */
function splitOperations(text: string): string[] {
  const operations: string[] = [];
  let depth = 0;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      // Skip string values: braces inside them do not count.
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
    } else if (c === "{") {
      if (depth === 0 && start < 0) start = text.lastIndexOf("\n", i) + 1;
      depth++;
    } else if (c === "}" && --depth === 0) {
      operations.push(text.slice(start, i + 1).trim());
      start = -1;
    }
  }
  return operations;
}

/** The GraphQL documents in the README's code blocks: graphql blocks, curl bodies and graphql-ws examples. */
function readmeOperations(): string[] {
  const found: string[] = [];
  for (const [, language, body] of README.matchAll(/```(\w*)\n([\s\S]*?)```/g)) {
    if (language === "graphql") found.push(...splitOperations(body!));
    for (const [, json] of body!.matchAll(/"query":"((?:[^"\\]|\\.)*)"/g)) found.push(JSON.parse(`"${json}"`) as string);
    for (const [, template] of body!.matchAll(/query:\s*`([^`]*)`/g)) found.push(template!);
  }
  return found;
}

describe("documented operations", () => {
  const operations = readmeOperations();

  it("finds the README's operations (curl, graphql-ws, bots, presence and read states)", () => {
    expect(operations.length).toBeGreaterThanOrEqual(15);
    expect(operations.some((op) => op.includes("subscription($c: ID!, $after: String)"))).toBe(true);
    expect(operations.some((op) => op.includes("messages(first: 100"))).toBe(true);
  });

  it.each(readmeOperations().map((op) => [op.replace(/\s+/g, " ").slice(0, 90), op]))("README: %s", (_name, operation) => {
    const document = parse(operation);
    expect(validate(schema, document).map((e) => e.message)).toEqual([]);
    const error = checkOperationCost(schema, document, undefined, {}, limits);
    expect(error?.message ?? null).toBeNull();
  });

  it("passes every GraphiQL example operation", () => {
    const document = parse(EXAMPLE_OPERATIONS);
    expect(validate(schema, document).map((e) => e.message)).toEqual([]);
    const names = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === "OperationDefinition").map((d) => d.name!.value);
    expect(names).toContain("History");
    for (const name of names) expect(checkOperationCost(schema, document, name, {}, limits)?.message ?? null, name).toBeNull();
  });
});
