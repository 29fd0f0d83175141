import {
  getIntrospectionQuery,
  getNamedType,
  getNullableType,
  GraphQLID,
  GraphQLInt,
  GraphQLInterfaceType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  isListType,
  isObjectType,
  parse,
} from "graphql";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { checkOperationCost } from "../../src/gateway/query-cost-limit.js";
import { operationCost } from "../../src/gateway/query-cost.js";
import { DEFAULT_RESOURCE_CAPS, type ResourceCaps } from "../../src/resolvers/resource-caps.js";
import { COST_SIZE, listCost, pageCost, perItemRead, STORE_READ, type CostSize } from "../../src/schema/cost.js";
import { schema } from "../../src/schema/index.js";

const caps = DEFAULT_RESOURCE_CAPS;
const cost = (query: string, variables?: Record<string, unknown>, options: { caps?: ResourceCaps; operationName?: string } = {}) =>
  operationCost(schema, parse(query), options.operationName, variables, options.caps ?? caps).cost;

/** The README's catch-up page: a full chat row (author, reply with its author, mentions). */
const CHAT_ROW = `id content createdAt editedAt author { id username } replyTo { id content author { username } } mentions { id username }`;
const catchUp = (size: string) =>
  `query($c: ID!, $after: ID, $n: Int) { channel(id: $c) { messages(first: ${size}, after: $after) { pageInfo { hasNextPage endCursor } edges { node { ${CHAT_ROW} } } } } }`;
/** channel 1 + its page read + pageInfo 1, then per message: itself, author, reply, reply author (1 each) and 50 mentions. */
const CATCH_UP_COST = 1 + STORE_READ + 1 + 100 * (4 + 50);

describe("operationCost on Concord's schema", () => {
  it("counts a page size given as a literal and as a variable the same", () => {
    expect(cost(catchUp("100"))).toBe(CATCH_UP_COST);
    expect(cost(catchUp("$n"), { n: 100 })).toBe(CATCH_UP_COST);
    expect(cost(catchUp("$n"), { n: 10 })).toBe(1 + STORE_READ + 1 + 10 * 54);
  });

  it("uses the variable's default, then the field's default page size, when no value is sent", () => {
    const withDefault = `query($n: Int = 30) { channel(id: "1") { messages(last: $n) { edges { node { id } } } } }`;
    expect(cost(withDefault)).toBe(1 + STORE_READ + 30);
    expect(cost(withDefault, { n: 80 })).toBe(1 + STORE_READ + 80);
    // No value, no default: the resolver's default (50 for history).
    expect(cost(`query($n: Int) { channel(id: "1") { messages(last: $n) { edges { node { id } } } } }`)).toBe(1 + STORE_READ + 50);
    expect(cost(`{ channel(id: "1") { messages { edges { node { id } } } } }`)).toBe(1 + STORE_READ + 50);
  });

  it("counts sizes the resolver refuses (over the max, not integers) at the max, so its clearer error wins", () => {
    const page = `query($n: Int) { channel(id: "1") { messages(first: $n) { edges { node { id } } } } }`;
    expect(cost(page, { n: 1_000_000 })).toBe(1 + STORE_READ + 100);
    expect(cost(page, { n: "lots" })).toBe(1 + STORE_READ + 100);
    expect(cost(`{ channel(id: "1") { messages(first: 10, last: 70) { edges { node { id } } } } }`)).toBe(1 + STORE_READ + 70);
  });

  it("counts unpaginated lists at their configured cap and per-item reads per item", () => {
    const sidebar = `query($g: ID!) { guild(id: $g) { channels { name readState { unreadCount mentionCount } } } }`;
    // guild 1 + channels read, then per channel: itself 1, its read state 1 + a read.
    expect(cost(sidebar)).toBe(1 + STORE_READ + 500 * (2 + STORE_READ));
    expect(cost(sidebar, {}, { caps: { ...caps, channelsPerGuild: 20 } })).toBe(1 + STORE_READ + 20 * (2 + STORE_READ));
    expect(cost(`{ me { bots { id } guilds { id } } }`)).toBe(1 + STORE_READ + caps.botsPerUser + STORE_READ + caps.guildsPerUser);
    expect(cost(`{ channel(id: "1") { recipients { id } typing { user { id } } } }`)).toBe(1 + caps.groupDmMembers + STORE_READ + 20 * 2);
  });

  it("refuses the issue's guild-wide history and read states at 500 channels", () => {
    const query = `query($g: ID!) { guild(id: $g) { channels { messages(last: 40) { edges { node { id content author { username } } } } readState { unreadCount } } } }`;
    const report = operationCost(schema, parse(query), undefined, {}, caps);
    expect(report.cost).toBe(1 + STORE_READ + 500 * (1 + STORE_READ + 40 * 2 + 1 + STORE_READ));
    expect(report.cost).toBeGreaterThan(loadConfig({}).maxQueryCost);
    expect(report.heaviest).toMatchObject({ path: "guild.channels", items: 500 });
  });

  it("counts id-list arguments by their length (literal or variable), at most 100", () => {
    expect(cost(`{ users(ids: ["1", "2", "3"]) { id } }`)).toBe(3);
    expect(cost(`query($ids: [ID!]!) { presence(userIds: $ids) { user { id } status } }`, { ids: ["1", "2", "3", "4", "5"] })).toBe(10);
    expect(cost(`query($ids: [ID!]!) { presence(userIds: $ids) { user { id } } }`)).toBe(200);
    expect(cost(`{ users(ids: "7") { id } }`)).toBe(1);
  });

  it("walks named and inline fragments, nested, as if written out", () => {
    const inline = cost(catchUp("100"));
    const fragments = `query($c: ID!) { channel(id: $c) { ...Page } }
      fragment Page on Channel { messages(first: 100) { pageInfo { hasNextPage endCursor } edges { node { ...Row ... on Message { mentions { id username } } } } } }
      fragment Row on Message { id content createdAt editedAt ...Author replyTo { id content author { username } } }
      fragment Author on Message { author { id username } }`;
    expect(cost(fragments)).toBe(inline);
  });

  it("merges selections under one response key as execution does, and counts a different alias again", () => {
    expect(cost(`{ me { guilds { id } guilds { name } } }`)).toBe(1 + STORE_READ + 200);
    expect(cost(`{ me { ...A ...A guilds { id } } } fragment A on User { guilds { name } }`)).toBe(1 + STORE_READ + 200);
    expect(cost(`{ me { mine: guilds { id } guilds { name } } }`)).toBe(1 + 2 * (STORE_READ + 200));
  });

  it("stays linear when fragments spread fragments twice (40 levels would be 2^40 spreads unmerged)", () => {
    const fragments = Array.from({ length: 40 }, (_, i) => `fragment F${i} on User { ...F${i + 1} ...F${i + 1} }`).join(" ");
    const started = performance.now();
    expect(cost(`{ me { ...F0 } } ${fragments} fragment F40 on User { guilds { id } }`)).toBe(1 + STORE_READ + 200);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it("counts the costliest member of a union: each event is one type", () => {
    const typing = `subscription { channelEvents(channelId: "1") { ... on TypingStarted { user { id } } } }`;
    const created = `subscription { channelEvents(channelId: "1") { ... on MessageCreated { message { id mentions { id } } } } }`;
    const both = `subscription { channelEvents(channelId: "1") { __typename ... on TypingStarted { user { id } } ... on MessageCreated { message { id mentions { id } } } } }`;
    expect(cost(typing)).toBe(2);
    expect(cost(created)).toBe(2 + 50);
    expect(cost(both)).toBe(2 + 50);
  });

  it("honours @skip and @include, literal or variable", () => {
    const query = `query($full: Boolean!) { channel(id: "1") { id messages(last: 100) @include(if: $full) { edges { node { id } } } } }`;
    expect(cost(query, { full: true })).toBe(1 + STORE_READ + 100);
    expect(cost(query, { full: false })).toBe(1);
    expect(cost(`{ me { id guilds @skip(if: true) { id } } }`)).toBe(1);
  });

  it("chooses the named operation of a document, and knows when variables mattered", () => {
    const document = parse(`query Cheap { me { id } } query Dear($n: Int) { channel(id: "1") { messages(first: $n) { edges { node { id } } } } }`);
    expect(operationCost(schema, document, "Cheap", {}, caps)).toEqual({ cost: 1, heaviest: null, dependsOnVariables: false });
    expect(operationCost(schema, document, "Dear", { n: 5 }, caps)).toMatchObject({ cost: 1 + STORE_READ + 5, dependsOnVariables: true });
    // An unknown operation is execution's to report.
    expect(operationCost(schema, document, "Nope", {}, caps).cost).toBe(0);
  });

  it("lets introspection through for free", () => {
    expect(cost(getIntrospectionQuery())).toBe(0);
    expect(cost(`{ __type(name: "Guild") { fields { name type { name } } } me { __typename id } }`)).toBe(1);
  });

  it("declares a size on every list field of the schema (connection edges take their connection's)", () => {
    const connections = new Set<string>();
    const lists: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith("__")) continue;
      for (const field of Object.values(type.getFields())) {
        const size = field.extensions?.[COST_SIZE] as CostSize | undefined;
        if (size?.kind === "page" && !isListType(getNullableType(field.type))) connections.add(getNamedType(field.type).name);
        else if (isListType(getNullableType(field.type)) && !size) lists.push(`${type.name}.${field.name}`);
      }
    }
    const undeclared = lists.filter((name) => !connections.has(name.split(".")[0]!));
    expect(undeclared, "give these lists listCost/pageCost/idListCost (src/schema/cost.ts)").toEqual([]);
  });
});

describe("operationCost on interfaces (a small schema)", () => {
  const Item: GraphQLInterfaceType = new GraphQLInterfaceType({ name: "Item", fields: { id: { type: GraphQLID } } });
  const Cheap = new GraphQLObjectType({ name: "Cheap", interfaces: [Item], fields: { id: { type: GraphQLID }, note: { type: GraphQLString } } });
  const Dear: GraphQLObjectType = new GraphQLObjectType({
    name: "Dear",
    interfaces: [Item],
    fields: () => ({
      id: { type: GraphQLID },
      parts: { type: new GraphQLList(Cheap), extensions: { ...listCost(7), ...perItemRead(3) } },
    }),
  });
  const small = new GraphQLSchema({
    types: [Cheap, Dear],
    query: new GraphQLObjectType({
      name: "Query",
      fields: {
        items: { type: new GraphQLNonNull(new GraphQLList(Item)), args: { first: { type: GraphQLInt, defaultValue: 4 } }, extensions: pageCost({ default: 10, max: 20 }) },
        undeclared: { type: new GraphQLList(Cheap) },
      },
    }),
  });
  const costOf = (query: string, variables: Record<string, unknown> = {}) => operationCost(small, parse(query), undefined, variables, caps).cost;

  it("counts the costliest implementation of an interface per item", () => {
    // Per item: itself 1, and for Dear 3 (read) + 7 parts.
    expect(costOf(`{ items(first: 2) { id ... on Cheap { note } ... on Dear { parts { id } } } }`)).toBe(2 * (1 + 3 + 7));
    expect(costOf(`{ items(first: 2) { id ... on Cheap { note } } }`)).toBe(2);
    expect(costOf(`{ items(first: 2) { ...P } } fragment P on Item { ... on Dear { parts { id } } }`)).toBe(2 * (1 + 3 + 7));
  });

  it("takes an argument's declared default when neither it nor a variable is given", () => {
    expect(costOf(`{ items { id } }`)).toBe(4);
    expect(costOf(`query($n: Int) { items(first: $n) { id } }`, { n: 20 })).toBe(20);
  });

  it("counts a list without a declared size at 100 (a test above keeps Concord's declared)", () => {
    expect(costOf(`{ undeclared { id } }`)).toBe(100);
  });
});

describe("checkOperationCost", () => {
  const limits = { maxCost: loadConfig({}).maxQueryCost, caps };

  it("passes the README's catch-up page, with a literal or a variable page size", () => {
    expect(checkOperationCost(schema, parse(catchUp("100")), undefined, {}, limits)).toBeNull();
    expect(checkOperationCost(schema, parse(catchUp("$n")), undefined, { n: 100 }, limits)).toBeNull();
  });

  it("refuses with GRAPHQL_VALIDATION_FAILED, the cost, the limit and what to shrink, never 'Syntax Error'", () => {
    const query = `{ me { guilds { channels { id } } } }`;
    const error = checkOperationCost(schema, parse(query), undefined, {}, limits);
    expect(error).not.toBeNull();
    const expected = 1 + STORE_READ + 200 * (1 + STORE_READ + 500);
    expect(error!.extensions).toMatchObject({ code: "GRAPHQL_VALIDATION_FAILED", cost: expected, limit: 10_000 });
    expect(error!.message).toBe(
      `This query costs ${expected.toLocaleString("en-US")}, above the limit of 10,000. Most of it is me.guilds: 200 items at 511 each. ` +
        "Ask for smaller pages (first/last) or fewer nested lists, or split it into several queries: " +
        "lists without page arguments count at their cap (e.g. Guild.channels as 500, User.guilds as 200).",
    );
    expect(error!.message).not.toMatch(/Syntax Error/);
  });

  it("uses the variables of each request, also for a document it has seen", () => {
    const document = parse(catchUp("$n"));
    const twoPages = parse(`query($n: Int) { a: channel(id: "1") { ...P } b: channel(id: "2") { ...P } } fragment P on Channel { messages(first: $n) { edges { node { ${CHAT_ROW} } } } }`);
    expect(checkOperationCost(schema, document, undefined, { n: 100 }, limits)).toBeNull();
    expect(checkOperationCost(schema, twoPages, undefined, { n: 100 }, limits)?.extensions.cost).toBe(2 * (1 + STORE_READ + 100 * 54));
    expect(checkOperationCost(schema, twoPages, undefined, { n: 50 }, limits)).toBeNull();
    expect(checkOperationCost(schema, twoPages, undefined, { n: 100 }, limits)).not.toBeNull();
  });

  it("counts lists at the caps it is given, even for a document it has costed before", () => {
    const document = parse(`{ me { guilds { id } } }`);
    expect(checkOperationCost(schema, document, undefined, {}, { maxCost: 150, caps })).not.toBeNull();
    expect(checkOperationCost(schema, document, undefined, {}, { maxCost: 150, caps: { ...caps, guildsPerUser: 100 } })).toBeNull();
  });
});
