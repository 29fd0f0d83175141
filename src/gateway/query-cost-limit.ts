import { GraphQLError, type DocumentNode, type ExecutionArgs, type GraphQLSchema } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { RequestContext } from "../context.js";
import { DEFAULT_RESOURCE_CAPS, type ResourceCaps } from "../resolvers/resource-caps.js";
import { operationCost, type CostReport } from "./query-cost.js";

/** The highest cost accepted and the caps unpaginated lists are counted at. */
export interface CostLimits {
  maxCost: number;
  caps: Readonly<ResourceCaps>;
}

/**
 * Costs that hold whatever the variables, per schema, document and operation (and caps): clients
 * repeat the same few documents, and yoga hands back the same parsed document for the same text.
 */
const memo = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, CostReport>>>();

/** The caps as part of a memo key, built once per caps object (one per instance), not per request. */
const capsKeys = new WeakMap<Readonly<ResourceCaps>, string>();
function capsKey(caps: Readonly<ResourceCaps>): string {
  let key = capsKeys.get(caps);
  if (key === undefined) capsKeys.set(caps, (key = `\u0000${caps.channelsPerGuild},${caps.guildsPerUser},${caps.botsPerUser},${caps.groupDmMembers},${caps.rolesPerGuild}`));
  return key;
}

function costOf(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: unknown, caps: Readonly<ResourceCaps>): CostReport {
  let byDocument = memo.get(schema);
  if (!byDocument) memo.set(schema, (byDocument = new WeakMap()));
  let byOperation = byDocument.get(document);
  const key = operationName ? `${operationName}\u0000${capsKey(caps)}` : capsKey(caps);
  const known = byOperation?.get(key);
  if (known) return known;
  const report = operationCost(schema, document, operationName, (variables ?? {}) as Record<string, unknown>, caps);
  if (!report.dependsOnVariables) {
    if (!byOperation) byDocument.set(document, (byOperation = new Map()));
    byOperation.set(key, report);
  }
  return report;
}

const number = (n: number) => n.toLocaleString("en-US");

/**
 * Null when the operation costs at most `limits.maxCost`; otherwise the error to answer with
 * instead of running it: GRAPHQL_VALIDATION_FAILED with `cost` and `limit` in its extensions and
 * a message that says what to shrink.
 * `variables` are the request's raw variables. For callers outside the envelop pipeline
 * (subscriptions over graphql-ws); the pipeline itself uses {@link useQueryCostLimit}.
 */
export function checkOperationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: unknown,
  limits: CostLimits,
): GraphQLError | null {
  const { cost, heaviest } = costOf(schema, document, operationName, variables, limits.caps);
  if (cost <= limits.maxCost) return null;
  const largest = heaviest
    ? ` Most of it is ${heaviest.path}: ${number(heaviest.items)} items at ${number(heaviest.each)} each${heaviest.total > heaviest.items * heaviest.each ? `, ${number(heaviest.total)} in all` : ""}.`
    : "";
  return new GraphQLError(
    `This query costs ${number(cost)}, above the limit of ${number(limits.maxCost)}.${largest} ` +
      "Ask for smaller pages (first/last) or fewer nested lists, or split it into several queries: " +
      "lists without page arguments count at their cap (e.g. Guild.channels as " +
      `${number(limits.caps.channelsPerGuild)}, User.guilds as ${number(limits.caps.guildsPerUser)}).`,
    { extensions: { code: "GRAPHQL_VALIDATION_FAILED", cost, limit: limits.maxCost } },
  );
}

/** The caps the use cases enforce, from the request context (defaults outside a Concord context). */
function capsOf(context: unknown): Readonly<ResourceCaps> {
  return (context as Partial<RequestContext> | undefined)?.services?.settings?.caps ?? DEFAULT_RESOURCE_CAPS;
}

/**
 * Refuses operations costing more than `maxCost` before anything runs. It checks at execute and
 * subscribe time, not validation, because only then are the variables known (page sizes given
 * as `$first` count like literals); queries and mutations over graphql-ws go through the same
 * `execute`. Lists are counted at the caps of the request's context, the very values the use
 * cases enforce, so the two cannot disagree.
 */
export function useQueryCostLimit(options: { maxCost: number }): Plugin {
  const check = (args: ExecutionArgs, stop: (result: { errors: GraphQLError[] }) => void) => {
    const error = checkOperationCost(args.schema, args.document, args.operationName, args.variableValues, {
      maxCost: options.maxCost,
      caps: capsOf(args.contextValue),
    });
    if (!error) return;
    // Over HTTP, the status yoga gives its own validation errors (400 for graphql-response+json,
    // 200 for plain JSON); yoga keeps `http` out of the response. A socket has no status.
    if ((args.contextValue as { request?: unknown } | undefined)?.request) error.extensions.http = { status: 400, spec: true };
    stop({ errors: [error] });
  };
  return {
    onExecute: ({ args, setResultAndStopExecution }) => check(args, setResultAndStopExecution),
    onSubscribe: ({ args, setResultAndStopExecution }) => check(args, setResultAndStopExecution),
  };
}
