import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesPlugin } from "@escape.tech/graphql-armor-max-directives";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import type { Plugin } from "graphql-yoga";
import { useQueryCostLimit } from "./query-cost-limit.js";

/** The most tokens a document may have (graphql-armor refuses more at parse time). */
export const MAX_DOCUMENT_TOKENS = 2_000;

/**
 * Query shape limits, on HTTP and WebSocket alike, before any resolver runs: tokens, depth,
 * aliases and directives (graphql-armor, at parse/validation time) and cost (Concord's own model,
 * at execute/subscribe time when the variables are known: see query-cost.ts). Introspection is
 * exempt from depth and cost so GraphiQL and codegen keep working.
 */
export function useQueryLimits(limits: { maxDepth: number; maxCost: number }): Plugin[] {
  return [
    maxTokensPlugin({ n: MAX_DOCUMENT_TOKENS }),
    maxDepthPlugin({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true }),
    useQueryCostLimit({ maxCost: limits.maxCost }),
    maxAliasesPlugin({ n: 15 }),
    maxDirectivesPlugin({ n: 20 }),
  ] as Plugin[];
}
