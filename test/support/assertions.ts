import { expect } from "vitest";
import type { GraphQLResponse, Subscription } from "./server.js";
import { ConcordError } from "../../src/errors.js";

/** Shared assertions of the API tests. */

export type Code = "UNAUTHENTICATED" | "FORBIDDEN" | "NOT_FOUND" | "BAD_USER_INPUT" | "CONFLICT" | "LIMIT_EXCEEDED";
export type User = { token: string; id: string; username: string };

/** Asserts the response failed with `code` (and `field` for BAD_USER_INPUT) and a message matching `message`. */
export function expectError(res: GraphQLResponse, code: Code, message: RegExp, field?: string): void {
  const error = res.errors?.[0];
  expect(error, `expected ${code}, got ${JSON.stringify(res)}`).toBeDefined();
  expect(error!.extensions?.code, JSON.stringify(error)).toBe(code);
  expect(error!.message).toMatch(message);
  if (code === "BAD_USER_INPUT") expect(error!.extensions?.field, JSON.stringify(error)).toBe(field);
  expect(res.data ?? null).toBeNull();
}

/** Waits until a subscription ended (completed, or rejected by the server) and returns its last payload. */
export async function ending(sub: Subscription, timeoutMs = 10_000): Promise<GraphQLResponse> {
  let rejected: unknown;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`subscription still open after ${timeoutMs} ms: ${JSON.stringify(sub.received)}`)), timeoutMs);
  });
  try {
    await Promise.race([sub.completed.catch((error: unknown) => void (rejected = error)), timeout]);
  } finally {
    clearTimeout(timer);
  }
  if (rejected !== undefined) return { errors: (Array.isArray(rejected) ? rejected : [rejected]) as GraphQLResponse["errors"] };
  return sub.received[sub.received.length - 1] ?? { errors: [] };
}

/** Retries `check` every 20 ms until it passes; after `timeoutMs` fails with its last error. */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** The BAD_USER_INPUT that `call` throws: its field and message (fails the test if it does not throw one). */
export function refusal(call: () => unknown): { field: unknown; message: string } {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(ConcordError);
    const { extensions, message } = error as ConcordError;
    expect(extensions.code).toBe("BAD_USER_INPUT");
    return { field: extensions.field, message };
  }
  return expect.fail("expected BAD_USER_INPUT");
}
