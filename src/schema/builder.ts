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
