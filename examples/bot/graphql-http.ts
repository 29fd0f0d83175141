/**
 * Queries and mutations over plain HTTP (fetch), with the bot's token. Kept tiny on purpose: any
 * GraphQL client works the same way.
 */

/** A GraphQL error as Concord sends it: `extensions.code` says what happened. */
export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

/** Thrown when an operation answers with errors; `code` is the first one's `extensions.code`. */
export class ConcordRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ConcordRequestError";
  }
}

/** Runs one operation; resolves with `data`, rejects with {@link ConcordRequestError} on any error. */
export async function request<T>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: GraphQLErrorShape[] };
  const error = body.errors?.[0];
  if (error) throw new ConcordRequestError(error.extensions?.code ?? "UNKNOWN", error.message);
  return body.data as T;
}
