import { Kind, parse, visit, type FieldNode, type FragmentDefinitionNode, type GraphQLResolveInfo } from "graphql";
import { describe, expect, it } from "vitest";
import { selectsPath } from "../../src/schema/selection.js";

/** What selectsPath reads of the resolve info of the operation's `messages` fields. */
function infoOf(query: string): GraphQLResolveInfo {
  const document = parse(query);
  const fieldNodes: FieldNode[] = [];
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  visit(document, { Field: (node) => void (node.name.value === "messages" && fieldNodes.push(node)) });
  return { fieldNodes, fragments } as unknown as GraphQLResolveInfo;
}

const AUTHOR = ["edges", "node", "author"];

describe("selectsPath", () => {
  it("finds a plain selection, and only along the whole path", () => {
    expect(selectsPath(infoOf(`{ channel(id: 1) { messages { edges { node { id author { id } } } } } }`), AUTHOR)).toBe(true);
    expect(selectsPath(infoOf(`{ channel(id: 1) { messages { edges { node { id content } } } } }`), AUTHOR)).toBe(false);
    expect(selectsPath(infoOf(`{ channel(id: 1) { messages { edges { node { replyTo { author { id } } } } } } }`), AUTHOR)).toBe(false);
    expect(selectsPath(infoOf(`{ channel(id: 1) { messages { pageInfo { hasPreviousPage } } } }`), AUTHOR)).toBe(false);
  });

  it("looks through aliases, inline fragments and named fragments at every level", () => {
    expect(selectsPath(infoOf(`{ channel(id: 1) { messages { e: edges { n: node { who: author { id } } } } } }`), AUTHOR)).toBe(true);
    expect(selectsPath(infoOf(`{ channel(id: 1) { messages { ... on ChannelMessagesConnection { edges { node { ... { author { id } } } } } } } }`), AUTHOR)).toBe(true);
    expect(selectsPath(infoOf(`{ channel(id: 1) { messages { edges { ...Row } } } } fragment Row on ChannelMessagesConnectionEdge { node { ...Msg } } fragment Msg on Message { author { username } }`), AUTHOR)).toBe(true);
    expect(selectsPath(infoOf(`{ channel(id: 1) { messages { edges { ...Row } } } } fragment Row on ChannelMessagesConnectionEdge { node { id } }`), AUTHOR)).toBe(false);
  });

  it("counts a field under @skip or @include as selected (a fetch ahead, never a different answer)", () => {
    expect(selectsPath(infoOf(`query($no: Boolean!) { channel(id: 1) { messages { edges { node { author @include(if: $no) { id } } } } } }`), AUTHOR)).toBe(true);
  });
});
