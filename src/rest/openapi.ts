import { getNamedType, isObjectType, Kind, parse, type FragmentDefinitionNode, type GraphQLNamedType, type GraphQLOutputType, type GraphQLSchema, type SelectionNode, type OperationDefinitionNode, type SelectionSetNode } from "graphql";
import { fragmentSchemas, inputSchema, valueSchema, type JsonSchema } from "./json-schema.js";
import { STATUS_OF_CODE } from "./rest-errors.js";
import type { RestRoute } from "./route.js";

/** Where the OpenAPI document is served. */
export const OPENAPI_PATH = "/v1/openapi.json";

const ERROR_BODY: JsonSchema = {
  type: "object",
  required: ["error"],
  additionalProperties: false,
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: {
        code: { type: "string", enum: Object.keys(STATUS_OF_CODE), description: "What went wrong, as GraphQL's extensions.code." },
        message: { type: "string", description: "For a person: what to do about it." },
        field: { type: "string", description: "BAD_USER_INPUT: the input that is wrong." },
        retryAfterMs: { type: "integer", description: "RATE_LIMITED: how long to wait, in milliseconds." },
      },
      additionalProperties: true,
    },
  },
};

/** Every error status a route may answer, with what it means. */
const ERROR_RESPONSES: Record<string, string> = {
  "400": "BAD_USER_INPUT (a path id, the query string or the body is wrong: not JSON, unknown or mistyped fields) or GRAPHQL_VALIDATION_FAILED. Nothing was written.",
  "401": "UNAUTHENTICATED: no token, or an invalid, revoked or expired one.",
  "403": "FORBIDDEN: you can see it but may not do this.",
  "404": "NOT_FOUND: it does not exist, or you may not see it (the same answer).",
  "409": "CONFLICT or LIMIT_EXCEEDED: valid, but it clashes with the current state or a cap. Nothing was written.",
  "411": "LENGTH_REQUIRED: a body without Content-Length.",
  "413": "PAYLOAD_TOO_LARGE: the body is over MAX_REQUEST_BYTES.",
  "415": "UNSUPPORTED_MEDIA_TYPE: a body that is not application/json.",
  "429": "RATE_LIMITED: wait Retry-After seconds. The budgets are GraphQL's: a REST call counts exactly as the same GraphQL call.",
  "500": "INTERNAL_SERVER_ERROR: our fault; it was logged.",
  "503": "UNAVAILABLE: a backend (the database or message history) is briefly down, or the instance is shutting down; retry after Retry-After seconds. A send with a nonce may be repeated with the same nonce.",
};
const BODY_ONLY = new Set(["411", "413", "415"]);

const RATE_LIMIT_HEADERS: Record<string, string> = {
  "X-RateLimit-Limit": "The tightest budget the call touched: its size.",
  "X-RateLimit-Remaining": "Calls left in it.",
  "X-RateLimit-Reset-After": "Seconds (with decimals) until it is whole again.",
  "X-RateLimit-Bucket": "Its name (see the README's rate limits).",
  "X-RateLimit-Scope": "user, ip or global.",
};

const RATE_LIMIT_HEADERS_REFS = Object.fromEntries(Object.keys(RATE_LIMIT_HEADERS).map((name) => [name, { $ref: `#/components/headers/${name}` }]));

interface ParsedRoute {
  operation: OperationDefinitionNode;
  fragments: Map<string, FragmentDefinitionNode>;
}

function parseRoute(route: RestRoute): ParsedRoute {
  const document = parse(route.document);
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length !== 1) throw new Error(`${route.operationId}: a REST route runs exactly one operation`);
  const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
  return { operation: operations[0]!, fragments };
}

/** The schema of a route's answer: the value at `answer.path` of the operation's result (the edges' nodes, newest first, with `edges`). */
function answerSchema(schema: GraphQLSchema, route: RestRoute, { operation, fragments }: ParsedRoute): JsonSchema {
  const answer = route.answer!;
  let type: GraphQLOutputType = operation.operation === "mutation" ? schema.getMutationType()! : schema.getQueryType()!;
  let selectionSet: SelectionSetNode | undefined = operation.selectionSet;
  for (const name of [...answer.path, ...(answer.edges ? ["node"] : [])]) {
    const parent: GraphQLNamedType = getNamedType(type);
    const selection: SelectionNode | undefined = selectionSet?.selections.find((s) => s.kind === Kind.FIELD && s.name.value === name);
    if (!isObjectType(parent) || selection?.kind !== Kind.FIELD) throw new Error(`${route.operationId}: the document does not select ${answer.path.join(".")}`);
    type = parent.getFields()[name]!.type;
    selectionSet = selection.selectionSet;
  }
  const value = valueSchema(schema, type, selectionSet, fragments);
  return answer.edges ? { type: "array", items: value } : value;
}

/** One operation object of the document. */
function operationObject(schema: GraphQLSchema, route: RestRoute): JsonSchema {
  const parsed = parseRoute(route);
  const parameters = [
    ...Object.entries(route.pathParams).map(([name, description]) => ({ name, in: "path", required: true, description, schema: { type: "string", pattern: "^[0-9]{1,19}$" } })),
    ...(route.query ?? []).map((q) => ({ name: q.name, in: "query", required: false, description: q.description, schema: q.schema })),
  ];
  const success = route.answer
    ? { "200": { description: "OK", headers: RATE_LIMIT_HEADERS_REFS, content: { "application/json": { schema: answerSchema(schema, route, parsed) } } } }
    : { "204": { description: "Done (no body).", headers: RATE_LIMIT_HEADERS_REFS } };
  const errors = Object.keys(ERROR_RESPONSES).filter((status) => route.body || !BODY_ONLY.has(status));
  const body = route.body && schema.getType(route.body.inputType);
  return {
    operationId: route.operationId,
    summary: route.summary,
    description: `${route.description}\n\nRuns the GraphQL operation:\n\n\`\`\`graphql\n${route.document}\n\`\`\``,
    tags: [route.path.split("/")[2]!],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body ? { requestBody: { required: true, content: { "application/json": { schema: inputSchema(body as never, route.body!.fromPath) } } } } : {}),
    responses: { ...success, ...Object.fromEntries(errors.map((status) => [status, { $ref: `#/components/responses/E${status}` }])) },
  };
}

/**
 * The OpenAPI 3.1 document of `routes`, derived from them and from the GraphQL schema: each
 * answer's schema is what its document selects, each body's is its input type less the path's
 * fields, and named fragments are shared components. Nothing is written by hand that could drift.
 */
export function openApiDocument(schema: GraphQLSchema, routes: readonly RestRoute[]): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const route of routes) {
    for (const [name, fragment] of parseRoute(route).fragments) fragments.set(name, fragment);
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operationObject(schema, route);
  }
  const errorResponse = (status: string) => ({
    description: ERROR_RESPONSES[status]!,
    ...(status === "503" ? { headers: { "Retry-After": { description: "Whole seconds to wait.", schema: { type: "integer" } } } } : {}),
    ...(status === "429" ? { headers: { ...RATE_LIMIT_HEADERS_REFS, "Retry-After": { description: "Whole seconds to wait.", schema: { type: "integer" } } } } : {}),
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
  });
  return {
    openapi: "3.1.0",
    info: {
      title: "Concord REST API",
      version: "1",
      description:
        "Discord-style routes over the same use cases as the GraphQL API at /graphql: the same token, permissions, error codes (here also as HTTP statuses), rate limits and field names. Live events: the graphql-ws socket at /graphql (also accepted at /gateway).",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "A session or bot token: `Authorization: Bearer <token>`." } },
      schemas: { ...fragmentSchemas(schema, fragments), Error: ERROR_BODY },
      headers: Object.fromEntries(Object.entries(RATE_LIMIT_HEADERS).map(([name, description]) => [name, { description, schema: { type: "string" } }])),
      responses: Object.fromEntries(Object.keys(ERROR_RESPONSES).map((status) => [`E${status}`, errorResponse(status)])),
    },
  };
}
