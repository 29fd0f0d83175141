import type { ExecutionResult } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { RequestContext } from "../context.js";
import { charge, perClient } from "../resolvers/rate-limit.js";

/**
 * The global per-client budget and the rate-limit response headers, for every operation that
 * goes through yoga's execute or subscribe: HTTP requests, SSE subscriptions, and queries and
 * mutations sent over a WebSocket (graphql-ws subscriptions have their own per-socket budgets,
 * see socket-guard.ts).
 *
 * Over HTTP, the response of an operation that touched a bucket carries X-RateLimit-Limit,
 * -Remaining, -Reset-After (seconds, with decimals), -Bucket and -Scope for the tightest budget
 * it touched; a RATE_LIMITED refusal also gets status 429 and Retry-After (whole seconds).
 * The headers travel in the result's `extensions.http`, which yoga turns into the response and
 * strips from the body.
 */
export function useRateLimits(): Plugin<RequestContext> {
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue;
      const refusal = await chargeOperation(ctx);
      if (refusal) {
        setResultAndStopExecution(withHttpHeaders(ctx, { errors: [refusal] }));
        return;
      }
      return {
        onExecuteDone({ result, setResult }) {
          if (!isAsyncIterable(result)) setResult(withHttpHeaders(ctx, result));
        },
      };
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue;
      const refusal = await chargeOperation(ctx);
      if (refusal) setResultAndStopExecution(withHttpHeaders(ctx, { errors: [refusal] }));
    },
  };
}

/** Charges the global bucket; the RATE_LIMITED error if it refuses, else null. */
async function chargeOperation(ctx: RequestContext) {
  try {
    await charge(ctx, perClient(ctx));
    return null;
  } catch (error) {
    return error as import("graphql").GraphQLError;
  }
}

/** The result with the rate-limit headers (and 429 for a refusal) when it answers an HTTP request. */
function withHttpHeaders(ctx: RequestContext, result: ExecutionResult): ExecutionResult {
  const state = ctx.rateLimit;
  if (ctx.client.transport !== "http" || !state) return result;
  const headers: Record<string, string> = {
    "X-RateLimit-Limit": String(state.limit),
    "X-RateLimit-Remaining": String(state.remaining),
    "X-RateLimit-Reset-After": (state.resetAfterMs / 1000).toFixed(3),
    "X-RateLimit-Bucket": state.bucket,
    "X-RateLimit-Scope": state.scope.toLowerCase(),
  };
  const refused = result.errors?.find((error) => error.extensions?.code === "RATE_LIMITED");
  const http: { headers: Record<string, string>; status?: number } = { headers };
  if (refused) {
    const retryAfterMs = Number(refused.extensions.retryAfterMs ?? state.resetAfterMs);
    headers["Retry-After"] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    http.status = 429;
  }
  return { ...result, extensions: { ...result.extensions, http } };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}
