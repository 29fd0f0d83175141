import { costLimitPlugin } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesPlugin } from "@escape.tech/graphql-armor-max-directives";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import type { Plugin } from "graphql-yoga";

/**
 * Query shape limits (graphql-armor), applied at parse/validation time on HTTP and WebSocket
 * alike, before any resolver runs. Introspection is exempt from depth and cost so GraphiQL and
 * codegen keep working.
 */
export function useQueryLimits(limits: { maxDepth: number; maxCost: number }): Plugin[] {
  return [
    maxTokensPlugin({ n: 2_000 }),
    maxDepthPlugin({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true }),
    costLimitPlugin({ maxCost: limits.maxCost, ignoreIntrospection: true, flattenFragments: true }),
    maxAliasesPlugin({ n: 15 }),
    maxDirectivesPlugin({ n: 20 }),
  ] as Plugin[];
}
