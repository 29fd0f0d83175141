import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { generate } from "@graphql-codegen/cli";
import { parse, validate } from "graphql";
import { describe, expect, it } from "vitest";
import { PersistedQueries } from "../../src/gateway/persisted-queries.js";
import { loadTrustedDocuments, parseTrustedDocuments } from "../../src/gateway/trusted-documents.js";
import { createLogger } from "../../src/logger.js";
import { schema } from "../../src/schema/index.js";
import { documentHash } from "../../src/stores/persisted-query-store.js";

const ME = "query Me { me { id } }";

describe("parseTrustedDocuments", () => {
  it("keys each document by its SHA-256 as bare hex, from sha256:<hex> or bare-hex ids", () => {
    const other = "query Other { me { username } }";
    const documents = parseTrustedDocuments(JSON.stringify({ [`sha256:${documentHash(ME)}`]: ME, [documentHash(other)]: other }), "m.json");
    expect([...documents]).toEqual([
      [documentHash(ME), ME],
      [documentHash(other), other],
    ]);
  });

  it("refuses a manifest that is not an object of id -> text, or whose id is not its text's SHA-256, naming the entry", () => {
    const sha1 = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3";
    const cases: [string, RegExp][] = [
      ["[1, 2]", /^m\.json: expected a JSON object mapping/],
      ["{", /^m\.json: not JSON/],
      [JSON.stringify({ [documentHash(ME)]: 42 }), /entry "[0-9a-f]{64}": expected the document's text/],
      [JSON.stringify({ [documentHash(ME)]: " " }), /expected the document's text/],
      [JSON.stringify({ [documentHash("{ other }")]: ME }), /the key is not sha256:<hex> of its document's SHA-256 .*hashAlgorithm: "sha256"/],
      [JSON.stringify({ [documentHash(ME).toUpperCase()]: ME }), /the key is not/],
      [JSON.stringify({ [sha1]: ME }), new RegExp(`entry "${sha1}": the key is not`)],
      [JSON.stringify({ [`sha512:${documentHash(ME)}`]: ME }), /the key is not/],
    ];
    for (const [json, message] of cases) expect(() => parseTrustedDocuments(json, "m.json"), json).toThrow(message);
  });

  it("loadTrustedDocuments names a file it cannot read", async () => {
    await expect(loadTrustedDocuments("/nonexistent/persisted-documents.json")).rejects.toThrow("cannot read /nonexistent/persisted-documents.json: ENOENT");
  });
});

describe("a manifest from GraphQL Code Generator's client preset", () => {
  it("loads as written, and every document is served by the id the generated client sends (__meta__.hash)", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "concord-codegen-"));
    try {
      await writeFile(
        path.join(dir, "operations.graphql"),
        `query Me { me { id username } }
         mutation Send($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, content: $t }) { id content } }
         subscription Live($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageCreated { message { id } } } }`,
      );
      const files = await generate(
        {
          schema: path.resolve("schema.graphql"),
          documents: [path.join(dir, "operations.graphql")],
          generates: { [`${dir}/gql/`]: { preset: "client", presetConfig: { persistedDocuments: { hashAlgorithm: "sha256" }, fragmentMasking: false } } },
          silent: true,
        },
        false,
      );
      const manifest = files.find((file: { filename: string }) => file.filename.endsWith("persisted-documents.json"))!.content as string;
      const generated = files.find((file: { filename: string }) => file.filename.endsWith("graphql.ts"))!.content as string;
      const documents = parseTrustedDocuments(manifest, "persisted-documents.json");
      expect(documents.size).toBe(3);
      for (const document of documents.values()) expect(validate(schema, parse(document)), document).toEqual([]);

      // The ids the generated documents carry, as a client sends them (documentId, or APQ's sha256Hash).
      const ids = [...generated.matchAll(/"hash":"(sha256:[0-9a-f]{64})"/g)].map((match) => match[1]!);
      expect(ids).toHaveLength(3);
      const persisted = new PersistedQueries({ store: null, trusted: documents, trustedOnly: true, maxDocumentBytes: 1_000, logger: createLogger("error", () => {}) });
      for (const id of ids) {
        expect((await persisted.resolve({ documentId: id })).params.query).toBe(documents.get(id.slice("sha256:".length)));
        expect((await persisted.resolve({ extensions: { persistedQuery: { version: 1, sha256Hash: id } } })).params.query).toBeDefined();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
