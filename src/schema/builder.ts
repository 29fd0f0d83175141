import { GraphQLError, valueFromASTUntyped } from "graphql";
import SchemaBuilder from "@pothos/core";
import RelayPlugin from "@pothos/plugin-relay";
import type { RequestContext } from "../context.js";

/** What the builder is parameterised with: the request context and the custom scalars. */
interface BuilderTypes {
  Context: RequestContext;
  Scalars: {
    ID: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date };
  };
  DefaultFieldNullability: false;
}

/** The builder's schema types (for typing refs outside their `builder.*` call). */
export type SchemaTypes = PothosSchemaTypes.ExtendDefaultTypes<BuilderTypes>;

/**
 * The one Pothos builder. Types live in one file per domain (user.ts, guild.ts, ...); index.ts
 * imports them and builds the schema. Ids are snowflakes exposed as plain `ID` strings (no Relay
 * global ids), and connection cursors are those ids too.
 */
export const builder = new SchemaBuilder<BuilderTypes>({
  plugins: [RelayPlugin],
  defaultFieldNullability: false,
  relay: {
    clientMutationId: "omit",
    cursorType: "ID",
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    pageInfoTypeOptions: {
      description: "Where a page of a connection stands in the whole list. Part of its page, not an entity: no `id` (caches keep it with the connection).",
    },
    // What every connection shares; each connection field describes its order, cursor and sizes.
    edgesFieldOptions: { description: "The page's items with their cursors, in the list's order." },
    pageInfoFieldOptions: { description: "Where this page stands: whether items exist before and after it, and its first and last cursors." },
    cursorFieldOptions: { description: "This item's place in the list (the connection field says what it is): pass it as `after` or `before` to page from here." },
    nodeFieldOptions: { description: "The item." },
    hasNextPageFieldOptions: { description: "True if items exist after this page (for a page that ends at `before`: true, the item there)." },
    hasPreviousPageFieldOptions: { description: "True if items exist before this page (for a page that starts at `after`: true, the item there)." },
    startCursorFieldOptions: { description: "The first item's cursor; null when the page is empty." },
    endCursorFieldOptions: { description: "The last item's cursor; null when the page is empty." },
    firstArgOptions: { description: "Page forward: at most this many items from the start of the list (or from `after`). Omitted: the field's default (it says it, and the maximum)." },
    lastArgOptions: { description: "Page backward: at most this many items from the end of the list (or from `before`), where the field allows it (it says). Omitted: no backward size." },
    afterArgOptions: { description: "Only items after this cursor (an edge's `cursor`, or `endCursor` for the next page). Omitted: from the start." },
    beforeArgOptions: { description: "Only items before this cursor (an edge's `cursor`, or `startCursor` for the previous page), where the field allows it (it says). Omitted: to the end." },
  },
});

/** A DateTime input: an ISO 8601 string, or BAD_USER_INPUT (graphql reports a GraphQLError with a code as the caller's input error). */
function parseDateTime(value: unknown): Date {
  const date = typeof value === "string" && value.length <= 64 ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) {
    throw new GraphQLError(`DateTime must be an ISO 8601 string such as 2026-01-31T12:00:00.000Z (got ${JSON.stringify(value)?.slice(0, 80)}).`, {
      extensions: { code: "BAD_USER_INPUT" },
    });
  }
  return date;
}

builder.scalarType("DateTime", {
  description: "A point in time, as an ISO 8601 string in UTC (e.g. 2026-01-31T12:00:00.000Z).",
  serialize: (value) => value.toISOString(),
  parseValue: parseDateTime,
  // Literals in a document are strings or wrong: a one-argument parseLiteral (graphql's default
  // takes the variables too, which graphql-jit warns about on every compile).
  parseLiteral: (node) => parseDateTime(valueFromASTUntyped(node)),
});

builder.queryType({ description: "Reads. All of them need a signed-in user or bot." });
builder.mutationType({ description: "Writes. All but register and login need a signed-in user or bot." });
builder.subscriptionType({
  description: "Live events over graphql-ws at /graphql. Authenticate with `authorization` in the connection_init payload.",
});
