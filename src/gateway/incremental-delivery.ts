import { useDeferStream } from "@graphql-yoga/plugin-defer-stream";
import { BREAK, GraphQLError, visit, type ASTVisitor, type DocumentNode, type ValidationContext } from "graphql";
import type { Plugin } from "graphql-yoga";

const isIncremental = (name: string) => name === "defer" || name === "stream";

/** Documents seen, by identity: yoga's parser cache hands out the same DocumentNode for the same text. */
const seen = new WeakMap<DocumentNode, boolean>();

/**
 * Whether `document` asks for incremental delivery (`@defer` or `@stream` anywhere in it). Such a
 * document must run on graphql-js's executor (yoga's), which knows the directives: graphql-jit
 * would ignore them and answer in one piece. Memoized per document, so the hot path pays one
 * WeakMap lookup per operation.
 */
export function usesIncrementalDelivery(document: DocumentNode): boolean {
  let found = seen.get(document);
  if (found === undefined) {
    found = false;
    visit(document, {
      Directive(node) {
        if (isIncremental(node.name.value)) {
          found = true;
          return BREAK;
        }
        return undefined;
      },
    });
    seen.set(document, found);
  }
  return found;
}

/**
 * `@defer` and `@stream` (yoga's plugin: it adds the directives to the served schema and their
 * validation rules). Over HTTP a query using them is answered as `multipart/mixed` (or SSE with
 * `Accept: text/event-stream`), over graphql-ws as several `next` messages; each part is in the
 * incremental delivery format (`data`/`hasNext`, then `incremental` patches). The query's cost
 * is counted in full as without them (query-cost.ts), and the rate limit charged once. Not in
 * subscriptions (see {@link NoIncrementalSubscriptionsRule}).
 */
export function useIncrementalDelivery(): Plugin {
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(useDeferStream() as Plugin);
    },
    onValidate({ addValidationRule }) {
      addValidationRule(NoIncrementalSubscriptionsRule);
    },
  };
}

/**
 * Refuses `@defer` and `@stream` in subscriptions (GRAPHQL_VALIDATION_FAILED), in the operation or
 * in fragments it spreads: graphql-ws subscriptions run on the shared fan-out's graphql-js
 * executor (shared-fanout.ts), which would ignore them, while SSE would honour them, so the same
 * operation would be delivered differently by transport. Each event is small and whole anyway.
 */
export function NoIncrementalSubscriptionsRule(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(operation) {
      if (operation.operation !== "subscription") return;
      for (const node of [operation, ...context.getRecursivelyReferencedFragments(operation)]) {
        visit(node, {
          Directive(directive) {
            if (!isIncremental(directive.name.value)) return;
            context.reportError(new GraphQLError(`@${directive.name.value} is for queries and mutations: a subscription delivers each event whole.`, { nodes: directive }));
          },
        });
      }
    },
  };
}
