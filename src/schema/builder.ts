import { GraphQLError } from "graphql";
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
  },
});

builder.scalarType("DateTime", {
  description: "A point in time, as an ISO 8601 string in UTC (e.g. 2026-01-31T12:00:00.000Z).",
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    const date = typeof value === "string" && value.length <= 64 ? new Date(value) : new Date(Number.NaN);
    // A GraphQLError with a code: graphql reports it as the caller's input error, as it is.
    if (Number.isNaN(date.getTime())) {
      throw new GraphQLError(`DateTime must be an ISO 8601 string such as 2026-01-31T12:00:00.000Z (got ${JSON.stringify(value)?.slice(0, 80)}).`, {
        extensions: { code: "BAD_USER_INPUT" },
      });
    }
    return date;
  },
});

builder.queryType({ description: "Reads. All of them need a signed-in user or bot." });
builder.mutationType({ description: "Writes. All but register and login need a signed-in user or bot." });
builder.subscriptionType({
  description: "Live events over graphql-ws at /graphql. Authenticate with `authorization` in the connection_init payload.",
});
