import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import type { GraphQLResponse, TestServer } from "../support/server.js";

/**
 * A client that can pretend to come from any address: the abuse tier's servers trust one proxy
 * hop (TRUST_PROXY_HOPS=1), so `X-Forwarded-For` picks the address per-IP limits count.
 */
export interface HttpAnswer<T = any> {
  status: number;
  headers: Headers;
  body: GraphQLResponse<T>;
}

let addresses = 0;
/** A documentation-range address no other test uses. */
export function freshAddress(): string {
  addresses++;
  return `198.51.${Math.floor(addresses / 250) % 250}.${(addresses % 250) + 1}`;
}

/** POSTs one operation as `address`, with `token` if given; returns status, headers and body. */
export async function post<T = any>(server: TestServer, query: string, variables: Record<string, unknown> = {}, options: { token?: string; address?: string } = {}): Promise<HttpAnswer<T>> {
  const res = await fetch(server.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-forwarded-for": options.address ?? "192.0.2.1",
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as GraphQLResponse<T> };
}

let users = 0;
/** Registers a user from an address of its own (so registrations never hit the per-IP budget). */
export async function signUpFrom(server: TestServer, prefix = "abuser"): Promise<{ token: string; id: string; username: string; address: string }> {
  const address = freshAddress();
  const username = `${prefix}_${process.pid}_${++users}`;
  const res = await post(server, `mutation($u: String!) { register(input: { username: $u, password: "correct horse battery" }) { token user { id } } }`, { u: username }, { address });
  if (!res.body.data) throw new Error(`sign-up failed: ${JSON.stringify(res.body.errors)}`);
  return { token: res.body.data.register.token, id: res.body.data.register.user.id, username, address };
}

/** A graphql-ws client from `address` (the upgrade request carries X-Forwarded-For). */
export function wsFrom(server: TestServer, token: string | undefined, address = "192.0.2.1", extra: Partial<Parameters<typeof createClient>[0]> = {}): Client {
  class ForwardedWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { "x-forwarded-for": address } });
    }
  }
  return createClient({
    url: server.wsUrl,
    webSocketImpl: ForwardedWebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    onNonLazyError: () => {},
    ...extra,
  });
}

/** The first error of a response; fails loudly when there is none. */
export function firstError(body: GraphQLResponse): { message: string; extensions?: Record<string, unknown> } {
  const error = body.errors?.[0];
  if (!error) throw new Error(`expected an error, got ${JSON.stringify(body)}`);
  return error;
}

/** The env of a server with every default limit on, behind one trusted proxy. */
export const DEFAULT_LIMITS_ENV = { RATE_LIMITS: "on", TRUST_PROXY_HOPS: "1" } as const;
