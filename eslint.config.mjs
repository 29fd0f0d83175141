import { readFileSync } from "node:fs";
import graphql from "@graphql-eslint/eslint-plugin";
import { buildSchema } from "graphql";

/**
 * ESLint lints the GraphQL schema only (`npm run lint:schema`; test/unit/schema-lint.test.ts runs
 * it in `npm test`): schema.graphql, the committed SDL of the code-first schema, which
 * test/unit/schema-sdl.test.ts keeps equal to src/schema. The rules are @graphql-eslint's
 * recommended and Relay sets, with every description required. Options below adapt a rule to a
 * code-first schema with plain snowflake ids; a rule switched off says why on its line.
 */

/**
 * Object types that are not entities, so have no `id` (their descriptions say what keys them;
 * test/unit/schema-ids.test.ts): answers and parts of one, the root types, and every live event
 * (a place in a stream, not a thing), read from the schema so a new event needs no edit here.
 */
const sdl = buildSchema(readFileSync(new URL("./schema.graphql", import.meta.url), "utf8"));
const liveEvents = sdl.getImplementations(sdl.getType("LiveEvent")).objects.map((type) => type.name);
const NOT_ENTITIES = ["AuthPayload", "AuditLogChange", "PageInfo", "Query", "Mutation", "Subscription", ...liveEvents];

export default [
  {
    files: ["schema.graphql"],
    languageOptions: {
      parser: graphql.parser,
      parserOptions: { graphQLConfig: { schema: "schema.graphql" } },
    },
    plugins: { "@graphql-eslint": graphql },
    rules: {
      ...graphql.configs["flat/schema-recommended"].rules,
      ...graphql.configs["flat/schema-relay"].rules,
      // Every type, field, argument, input field and enum value says what it is (issue #12).
      "@graphql-eslint/require-description": [
        "error",
        { types: true, rootField: true, FieldDefinition: true, InputValueDefinition: true, EnumValueDefinition: true, DirectiveDefinition: true },
      ],
      "@graphql-eslint/strict-id-in-types": [
        "error",
        // Relay's page types are not entities either.
        { acceptedIdNames: ["id"], acceptedIdTypes: ["ID"], exceptions: { types: NOT_ENTITIES, suffixes: ["Connection", "ConnectionEdge"] } },
      ],
      // It matches a plain string prefix, so it flags User.username and Invite.inviter, which do not repeat their type's name.
      "@graphql-eslint/no-typename-prefix": "off",
      // Ids are plain snowflakes, not Relay global ids (DESIGN.md): there is no Node interface to
      // implement. Lists that are not connections are capped on purpose (README, query cost).
      "@graphql-eslint/relay-edge-types": ["error", { withEdgeSuffix: true, shouldImplementNode: false, listTypeCanWrapOnlyEdgeType: false }],
    },
  },
];
