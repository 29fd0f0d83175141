import type { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { PersistedQueries, type OperationParams } from "../../src/gateway/persisted-queries.js";
import { createLogger } from "../../src/logger.js";
import { documentHash } from "../../src/stores/persisted-query-store.js";
import { MemoryPersistedQueryStore } from "../../src/stores/persisted-query-store.memory.js";

const QUERY = "query Me { me { id } }";
const TRUSTED = "query Guilds { me { guilds { id name } } }";
const apq = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

function setup(options: { apq?: boolean; trustedOnly?: boolean; maxDocumentBytes?: number } = {}) {
  const store = options.apq === false ? null : new MemoryPersistedQueryStore({ ttlMs: 60_000, maxEntries: 100 });
  const persisted = new PersistedQueries({
    store,
    trusted: new Map([[documentHash(TRUSTED), TRUSTED]]),
    trustedOnly: options.trustedOnly ?? false,
    maxDocumentBytes: options.maxDocumentBytes ?? 1_000,
    logger: createLogger("error", () => {}),
  });
  return { store, persisted };
}

/** The refusal `resolve` rejects with: its message, code, HTTP status and other extensions. */
async function refusal(persisted: PersistedQueries, params: OperationParams) {
  const error = (await persisted.resolve(params).then(
    () => expect.fail("expected a refusal"),
    (e: unknown) => e,
  )) as GraphQLError;
  const { code, http, ...rest } = error.extensions as { code: string; http?: { status: number } };
  return { message: error.message, code, status: http?.status, extensions: rest };
}

describe("PersistedQueries.resolve", () => {
  it("hands an operation without an id back untouched (the same object), and says it need not be asked", async () => {
    const { persisted } = setup();
    const params = { query: QUERY, variables: { a: 1 }, extensions: { headers: {} } };
    expect(persisted.concerns(params)).toBe(false);
    expect((await persisted.resolve(params)).params).toBe(params);
    expect(persisted.concerns({ query: QUERY, extensions: apq(documentHash(QUERY)) })).toBe(true);
    expect(persisted.concerns({ documentId: "x" })).toBe(true);
  });

  it("APQ: a hash alone is PersistedQueryNotFound (404) until the text was registered, then runs the stored text", async () => {
    const { persisted } = setup();
    const hash = documentHash(QUERY);
    expect(await refusal(persisted, { extensions: apq(hash) })).toEqual({ message: "PersistedQueryNotFound", code: "PERSISTED_QUERY_NOT_FOUND", status: 404, extensions: {} });

    const registering = await persisted.resolve({ query: QUERY, operationName: "Me", extensions: apq(hash) });
    expect(registering.params).toEqual({ query: QUERY, operationName: "Me", extensions: undefined });
    expect(registering.registration).toEqual({ hash, document: QUERY });
    // Not stored until the caller registers it (after validation).
    expect(await refusal(persisted, { extensions: apq(hash) })).toMatchObject({ code: "PERSISTED_QUERY_NOT_FOUND" });
    await persisted.register(registering.registration!);

    const hit = await persisted.resolve({ extensions: { ...apq(hash), headers: { a: "b" } }, variables: { x: 1 } });
    expect(hit).toEqual({ params: { query: QUERY, variables: { x: 1 }, extensions: { headers: { a: "b" } } } });
    // graphql-ws requires `query` to be a string: "" with a hash is a lookup.
    expect((await persisted.resolve({ query: "", extensions: apq(hash) })).params.query).toBe(QUERY);
  });

  it("APQ: text whose SHA-256 is not the hash is refused and nothing is registered", async () => {
    const { persisted, store } = setup();
    const wrong = documentHash("{ other }");
    expect(await refusal(persisted, { query: QUERY, extensions: apq(wrong) })).toMatchObject({ code: "PERSISTED_QUERY_MISMATCH", status: 400 });
    expect(await store!.get(wrong)).toBeNull();
    expect(await store!.get(documentHash(QUERY))).toBeNull();
  });

  it("APQ: refuses to register a document over maxDocumentBytes (counted in UTF-8) with LIMIT_EXCEEDED", async () => {
    const { persisted } = setup({ maxDocumentBytes: 100 });
    const fits = `{ me { id } } # ${"x".repeat(100 - 16)}`;
    expect(Buffer.byteLength(fits)).toBe(100);
    expect((await persisted.resolve({ query: fits, extensions: apq(documentHash(fits)) })).registration).toBeDefined();
    const tooLarge = `{ me { id } } # ${"é".repeat(42)}x`; // 59 characters, 101 bytes
    expect(await refusal(persisted, { query: tooLarge, extensions: apq(documentHash(tooLarge)) })).toEqual({
      message: "This document is 101 bytes; persisted queries may be at most 100. Send it without extensions.persistedQuery.",
      code: "LIMIT_EXCEEDED",
      status: 400,
      extensions: { resource: "persistedQueryBytes", limit: 100, setting: "APQ_MAX_DOCUMENT_BYTES" },
    });
  });

  it("refuses a malformed persistedQuery extension or documentId with BAD_USER_INPUT naming the field", async () => {
    const { persisted } = setup();
    const hash = documentHash(QUERY);
    const cases: [OperationParams, string][] = [
      [{ query: QUERY, extensions: { persistedQuery: { version: 2, sha256Hash: hash } } }, "extensions.persistedQuery.version"],
      [{ query: QUERY, extensions: { persistedQuery: "abc" } }, "extensions.persistedQuery.version"],
      [{ query: QUERY, extensions: apq(hash.toUpperCase()) }, "extensions.persistedQuery.sha256Hash"],
      [{ query: QUERY, extensions: apq(`${hash}0`) }, "extensions.persistedQuery.sha256Hash"],
      [{ documentId: 42 }, "documentId"],
      [{ documentId: "x".repeat(201) }, "documentId"],
      [{ documentId: documentHash(TRUSTED), extensions: apq(hash) }, "documentId"],
    ];
    for (const [params, field] of cases) expect(await refusal(persisted, params), JSON.stringify(params)).toMatchObject({ code: "BAD_USER_INPUT", status: 400, extensions: { field } });
  });

  it("APQ off: a hash is PersistedQueryNotSupported, except the id of a trusted document", async () => {
    const { persisted } = setup({ apq: false });
    expect(await refusal(persisted, { query: QUERY, extensions: apq(documentHash(QUERY)) })).toMatchObject({ message: "PersistedQueryNotSupported", code: "PERSISTED_QUERY_NOT_SUPPORTED" });
    expect((await persisted.resolve({ extensions: apq(documentHash(TRUSTED)) })).params.query).toBe(TRUSTED);
  });

  it("trusted documents: served by hash or documentId, whatever text came along; an unknown documentId is refused", async () => {
    const { persisted } = setup();
    const id = documentHash(TRUSTED);
    expect(await persisted.resolve({ documentId: id, variables: { v: 1 } })).toEqual({ params: { query: TRUSTED, variables: { v: 1 }, extensions: undefined } });
    expect(await persisted.resolve({ query: "{ somethingElse }", extensions: apq(id) })).toEqual({ params: { query: TRUSTED, extensions: undefined } });
    expect(await refusal(persisted, { documentId: documentHash(QUERY) })).toMatchObject({ code: "PERSISTED_QUERY_NOT_IN_LIST", status: 404 });
  });

  it("trusted documents only: the manifest's documents run (by id or by their exact text), anything else is refused and never stored", async () => {
    const { persisted, store } = setup({ trustedOnly: true });
    const id = documentHash(TRUSTED);
    expect(persisted.concerns({ query: QUERY })).toBe(true);
    expect((await persisted.resolve({ extensions: apq(id) })).params.query).toBe(TRUSTED);
    expect((await persisted.resolve({ query: TRUSTED })).params.query).toBe(TRUSTED);
    expect(await refusal(persisted, { query: QUERY })).toMatchObject({ code: "PERSISTED_QUERY_NOT_IN_LIST", status: 403 });
    expect(await refusal(persisted, { extensions: apq(documentHash(QUERY)) })).toMatchObject({ code: "PERSISTED_QUERY_NOT_IN_LIST", status: 404 });
    expect(await refusal(persisted, { query: QUERY, extensions: apq(documentHash(QUERY)) })).toMatchObject({ code: "PERSISTED_QUERY_NOT_IN_LIST" });
    expect(await store!.get(documentHash(QUERY))).toBeNull();
    // No query at all is yoga's to answer ("Must provide query string").
    expect((await persisted.resolve({ variables: {} })).params).toEqual({ variables: {} });
  });
});
