import { useDeferStream } from "@graphql-yoga/plugin-defer-stream";
import { BREAK, visit, type DocumentNode } from "graphql";
import type { Plugin } from "graphql-yoga";

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
        if (node.name.value === "defer" || node.name.value === "stream") {
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
 * is counted in full as without them (query-cost.ts), and the rate limit charged once.
 */
export function useIncrementalDelivery(): Plugin {
  return useDeferStream() as Plugin;
}
