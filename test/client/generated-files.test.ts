import { readFile } from "node:fs/promises";
import path from "node:path";
import { generate } from "@graphql-codegen/cli";
import { describe, expect, it } from "vitest";
import codegenConfig from "../../codegen.js";
import { CONCORD_CLOSE_CODES, connectionFields, possibleTypes, valueTypes } from "../../client/src/index.js";
import { CLOSE_CODES } from "../../src/gateway/close-codes.js";

/**
 * The client SDK's generated files (typed documents, trusted-documents manifest, cache metadata)
 * are what `npm run codegen` makes from the operations and the schema today, and what they say
 * about the schema still holds.
 */
describe("client/src/generated", () => {
  it("is up to date (run `npm run codegen` after changing client/src/operations or the schema)", async () => {
    const generates = Object.fromEntries(Object.entries(codegenConfig.generates).filter(([target]) => target.startsWith("./client/")));
    expect(Object.keys(generates).length).toBeGreaterThan(0);
    // The committed SDL (itself checked against the code-first schema), and plugins loaded through vitest's TypeScript loader.
    const files = await generate({ ...codegenConfig, schema: path.resolve("schema.graphql"), generates, silent: true, pluginLoader: (name: string) => import(name) }, false);
    expect(files.map((file: { filename: string }) => path.relative(process.cwd(), path.resolve(file.filename))).sort()).toEqual([
      "client/src/generated/cache-metadata.ts",
      "client/src/generated/gql.ts",
      "client/src/generated/graphql.ts",
      "client/src/generated/index.ts",
      "client/src/generated/persisted-documents.json",
    ]);
    for (const file of files as { filename: string; content: string }[]) {
      expect(await readFile(file.filename, "utf8"), `${file.filename} is stale: run npm run codegen`).toBe(file.content);
    }
  }, 120_000);

  it("knows every union and interface, and the only object types without an id are plain values", () => {
    expect(possibleTypes.ChannelEvent).toEqual(["EventsMissed", "MessageCreated", "MessageDeleted", "MessageUpdated", "ResyncRequired", "Subscribed", "TypingStarted"]);
    expect(Object.keys(possibleTypes)).toEqual(["ChannelEvent", "GuildEvent", "LiveEvent", "MessageEvent", "UserEvent"]);
    expect(possibleTypes.MessageEvent).toEqual(["ChannelResyncRequired", "ChannelUnwatched", "ChannelWatched", "MessageCreated", "MessageDeleted", "MessageUpdated", "Subscribed"]);
    // A new type here is one a normalized cache cannot key: give it an id, or add it here knowingly.
    expect(valueTypes).toEqual(["AuditLogChange", "AuthPayload", "PageInfo"]);
    expect(connectionFields.Channel).toEqual({ messages: ["around"] });
  });

  it("classifies the server's close codes as the server documents them", () => {
    expect(CONCORD_CLOSE_CODES).toEqual(CLOSE_CODES);
  });
});
