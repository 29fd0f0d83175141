import type { Plugin } from "graphql-yoga";
import { createLoaders, type RequestContext, type Services } from "../context.js";
import { limitExceeded } from "../errors.js";
import type { SocketGuard } from "./socket-guard.js";
import { streamOf } from "../metrics/live-counts.js";
import { metrics } from "../metrics/metrics.js";

/**
 * Subscriptions over HTTP (SSE) live as long as WebSocket ones, so they get the same treatment:
 * each stream counts as a connection of its user and address (MAX_SOCKETS_PER_USER,
 * MAX_SOCKETS_PER_ADDRESS) until it ends, and its loaders batch but do not cache (its context
 * lives as long as the stream: a cache would serve stale names and memberships and keep growing).
 */
export function useHttpStreams(services: Services, guard: SocketGuard): Plugin<RequestContext> {
  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue;
      if (ctx.client.transport !== "http") return;
      const release = guard.claimStream(ctx.viewer?.id ?? null, ctx.client.address);
      if (!release) {
        setResultAndStopExecution({
          errors: [limitExceeded("socketsPerUser", guard.maxSocketsPerUser, "MAX_SOCKETS_PER_USER", "Too many open connections and streams for this user or address; close one first.")],
        });
        return;
      }
      ctx.loaders = createLoaders(services, { cache: false, viewerId: ctx.viewer?.id ?? null });
      return {
        onSubscribeResult({ result }) {
          // A refusal (not a stream) ends here; a stream releases its place when it ends.
          if (!(typeof result === "object" && result !== null && Symbol.asyncIterator in result)) return void release();
          const stream = streamOf(args.document, args.operationName);
          metrics.liveSubscriptions.inc({ stream });
          return {
            onEnd: () => {
              metrics.liveSubscriptions.dec({ stream });
              release();
            },
          };
        },
      };
    },
  };
}
