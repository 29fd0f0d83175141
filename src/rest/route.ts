import type { JsonSchema } from "./json-schema.js";

/** The HTTP methods the REST routes use. */
export type RestMethod = "GET" | "POST" | "PATCH" | "DELETE";

/** What a route handler receives: path parameters by name, the query string and the parsed JSON body. */
export interface RestRequest {
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  /** The JSON body (an object: checked against `body.inputType` before `variables` sees it); undefined for routes without one. */
  body: Record<string, unknown> | undefined;
}

/** A query-string parameter, for the OpenAPI document. */
export interface QueryParameter {
  name: string;
  description: string;
  schema: JsonSchema;
}

/**
 * One REST route: a GraphQL operation of the schema with its arguments taken from the path, the
 * query string and the body. It runs through the same yoga pipeline as a GraphQL request (auth,
 * cost, rate limits, error masking), so it answers exactly what that operation answers; and its
 * OpenAPI entry is derived from these fields and the schema, so the document cannot drift.
 */
export interface RestRoute {
  method: RestMethod;
  /** OpenAPI path template, e.g. `/v1/channels/{channelId}/messages`. */
  path: string;
  operationId: string;
  summary: string;
  description: string;
  /** Path parameters' descriptions, by name (every `{name}` of `path`). */
  pathParams: Readonly<Record<string, string>>;
  query?: readonly QueryParameter[];
  /** A JSON body: the fields of this GraphQL input type, less those the path supplies. */
  body?: { inputType: string; fromPath: readonly string[] };
  /** One operation; named fragments become named OpenAPI schemas (a fragment `Message` is `#/components/schemas/Message`). */
  document: string;
  /** The operation's variables; throws a ConcordError (BAD_USER_INPUT) for a bad query string. */
  variables(request: RestRequest): Record<string, unknown>;
  /**
   * Where the answer sits in `data`; with `edges`, the value there is a connection's edges and the
   * answer is their nodes, newest first. Absent: the answer has no body (204).
   */
  answer?: { path: readonly string[]; edges?: boolean };
}
