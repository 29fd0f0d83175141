import type { DocumentNode, GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * Remembers each parsed document's validation result, keyed by the document alone: this server
 * validates every operation against one schema with one fixed set of rules, and yoga's parser
 * cache hands out the same DocumentNode for the same text, so a repeated operation skips
 * validation. It replaces yoga's own validation cache (`parserAndValidationCache: {
 * validationCache: false }`), which keys its entries by the rule names joined into one string on
 * every request (~33 names: about 2 % of a `sendMessage`'s CPU).
 *
 * Place it first: a hit sets the result before the other plugins' hooks run, and they still see
 * it (metrics count a cached failure like a fresh one). Entries go with their documents (WeakMap).
 */
export function useValidationCache(): Plugin {
  const results = new WeakMap<DocumentNode, readonly GraphQLError[] | readonly Error[]>();
  return {
    onValidate({ params, setResult }) {
      const cached = results.get(params.documentAST);
      if (cached) {
        setResult(cached);
        return;
      }
      return ({ result }) => {
        results.set(params.documentAST, result);
      };
    },
  };
}
