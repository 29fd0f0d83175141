import { addTypenameSelectionDocumentTransform } from "@graphql-codegen/client-preset";
import type { CodegenConfig } from "@graphql-codegen/cli";

/**
 * GraphQL Code Generator: `npm run codegen`.
 * - schema.graphql: the SDL of the code-first (Pothos) schema, committed so API changes show up
 *   in review and frontend teams can point their own codegen at it.
 * - src/generated/graphql-types.ts: TypeScript types of the schema, for typed clients in tests
 *   and benchmarks.
 * - client/src/generated/: the client SDK's typed documents (client preset; documents with
 *   `__typename` everywhere, as Apollo's cache asks for them, and their trusted-documents
 *   manifest persisted-documents.json), and cache-metadata.ts (possible types, entities,
 *   connections) from which the cache configuration is built.
 */
const config: CodegenConfig = {
  schema: "./src/schema/index.ts",
  generates: {
    "./schema.graphql": { plugins: ["schema-ast"], config: { includeDirectives: true } },
    "./src/generated/graphql-types.ts": {
      plugins: ["typescript"],
      config: { scalars: { DateTime: "string", ID: "string" }, enumsAsTypes: true, avoidOptionals: { field: true } },
    },
    "./client/src/generated/": {
      documents: "./client/src/operations/*.graphql",
      preset: "client",
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: "sha256" } },
      documentTransforms: [addTypenameSelectionDocumentTransform],
      config: { scalars: { DateTime: "string", ID: "string" }, enumsAsTypes: true, useTypeImports: true, importExtension: ".js" },
    },
    "./client/src/generated/cache-metadata.ts": { plugins: ["./client/codegen/cache-metadata-plugin.ts"] },
  },
};

export default config;
