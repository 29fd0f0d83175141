import type { CodegenConfig } from "@graphql-codegen/cli";

/**
 * GraphQL Code Generator: `npm run codegen`.
 * - schema.graphql: the SDL of the code-first (Pothos) schema, committed so API changes show up
 *   in review and frontend teams can point their own codegen at it.
 * - src/generated/graphql-types.ts: TypeScript types of the schema, for typed clients in tests
 *   and benchmarks.
 */
const config: CodegenConfig = {
  schema: "./src/schema/index.ts",
  generates: {
    "./schema.graphql": { plugins: ["schema-ast"], config: { includeDirectives: true } },
    "./src/generated/graphql-types.ts": {
      plugins: ["typescript"],
      config: { scalars: { DateTime: "string", ID: "string" }, enumsAsTypes: true, avoidOptionals: { field: true } },
    },
  },
};

export default config;
