import { buildSchema, parse } from "graphql";
import { describe, expect, it } from "vitest";
import {
  deliver,
  groupKey,
  nextEnvelope,
  selectsViewerDependentFields,
  SharedPayload,
  SLOW_CONSUMER_CLOSE_CODE,
  type FanoutSocket,
} from "../../src/gateway/shared-fanout.js";
import { schema } from "../../src/schema/index.js";

/** A stand-in for a `ws` socket that records what would go on the wire. */
function fakeSocket(bufferedAmount = 0, open = true) {
  const sent: { data: Buffer; binary: boolean }[] = [];
  const closed: { code: number; reason: string }[] = [];
  const socket: FanoutSocket = {
    OPEN: 1,
    readyState: open ? 1 : 3,
    bufferedAmount,
    send(data, options) {
      sent.push({ data, binary: options.binary });
    },
    close(code, reason) {
      closed.push({ code, reason });
    },
  };
  return { socket, sent, closed };
}

describe("direct delivery of shared payloads", () => {
  it("writes exactly the message graphql-ws would have written, one buffer per envelope for all sockets", () => {
    const result = { data: { channelEvents: { __typename: "MessageCreated", message: { id: "1", content: 'quotes " \\ and ünïcode 🚀 "payload":"x"}' } } } };
    const payload = new SharedPayload(result);
    const buffers: Buffer[] = [];
    for (const id of ["1", "1", "op-2", 'weird "id"']) {
      const { socket, sent } = fakeSocket();
      expect(deliver({ socket, id, maxBufferedBytes: 1_000 }, nextEnvelope(id), payload)).toBe(true);
      expect(sent).toHaveLength(1);
      expect(sent[0]!.binary).toBe(false);
      expect(String(sent[0]!.data)).toBe(JSON.stringify({ id, type: "next", payload: result }));
      buffers.push(sent[0]!.data);
    }
    // Two sockets with the same operation id got the very same bytes: nothing built per socket.
    expect(buffers[1]).toBe(buffers[0]);
    expect(buffers[2]).not.toBe(buffers[0]);
  });

  it("closes a socket whose unsent bytes passed the limit with 4008 instead of queueing more", () => {
    const { socket, sent, closed } = fakeSocket(2_000_001);
    expect(deliver({ socket, id: "1", maxBufferedBytes: 2_000_000 }, nextEnvelope("1"), new SharedPayload({ data: {} }))).toBe(false);
    expect(sent).toEqual([]);
    expect(closed).toEqual([{ code: SLOW_CONSUMER_CLOSE_CODE, reason: expect.stringMatching(/too slow/i) }]);
  });

  it("writes nothing to a socket that is no longer open", () => {
    const { socket, sent, closed } = fakeSocket(0, false);
    expect(deliver({ socket, id: "1", maxBufferedBytes: 1_000 }, nextEnvelope("1"), new SharedPayload({ data: {} }))).toBe(false);
    expect(sent).toEqual([]);
    expect(closed).toEqual([]);
  });
});

describe("grouping", () => {
  it("marks operations that read viewer-dependent fields, at any depth and through fragments", () => {
    const dependent = [
      `subscription { userEvents { ... on ReadStateUpdated { readState { unreadCount } } } }`,
      `subscription($c: ID!) { channelEvents(channelId: $c) { ... on MessageCreated { message { author { presence } } } } }`,
      `subscription($c: ID!) { channelEvents(channelId: $c) { ...F } } fragment F on MessageCreated { message { channel { readState { mentionCount } } } }`,
      `subscription($g: ID!) { guildEvents(guildId: $g) { ... on MemberJoined { user { guilds { id } } } } }`,
    ];
    const shared = [
      `subscription($c: ID!) { channelEvents(channelId: $c) { __typename ... on MessageCreated { message { id content author { id username } } } } }`,
      `subscription($g: ID!) { guildEvents(guildId: $g) { ... on PresenceUpdated { user { id } status } ... on OnlineCountUpdated { onlineCount } } }`,
      `subscription($c: ID!) { channelEvents(channelId: $c) { ... on TypingStarted { user { username } expiresAt } } }`,
    ];
    for (const query of dependent) expect(selectsViewerDependentFields(schema, parse(query)), query).toBe(true);
    for (const query of shared) expect(selectsViewerDependentFields(schema, parse(query)), query).toBe(false);
    // An unrelated schema without the marker: nothing is viewer-dependent.
    expect(selectsViewerDependentFields(buildSchema(`type Query { a: Int }`), parse(`{ a }`))).toBe(false);
  });

  it("puts the viewer in the key only when the selection depends on it", () => {
    const base = { document: parse("subscription { x }"), operationName: null, variables: { c: "1" } };
    expect(groupKey({ ...base, viewerId: 1n, viewerDependent: false })).toBe(groupKey({ ...base, viewerId: 2n, viewerDependent: false }));
    expect(groupKey({ ...base, viewerId: 1n, viewerDependent: true })).not.toBe(groupKey({ ...base, viewerId: 2n, viewerDependent: true }));
    expect(groupKey({ ...base, viewerId: 1n, viewerDependent: false })).not.toBe(groupKey({ ...base, operationName: "Other", viewerId: 1n, viewerDependent: false }));
    // Another document (even of the same text) is another group; the same document is the same group.
    expect(groupKey({ ...base, viewerId: 1n, viewerDependent: false })).not.toBe(groupKey({ ...base, document: parse("subscription { x }"), viewerId: 1n, viewerDependent: false }));
    expect(groupKey({ ...base, viewerId: 1n, viewerDependent: false })).toBe(groupKey({ ...base, viewerId: 1n, viewerDependent: false }));
  });

  it("leaves out of the key the variables only the subscription field's own arguments read (channel, cursor), and keeps the rest", () => {
    const document = parse(
      `subscription($c: ID!, $after: String, $size: Int, $show: Boolean!) { channelEvents(channelId: $c, after: $after) @include(if: $show) { ...F } }
       fragment F on MessageCreated { message { author { avatar(size: $size) } } }`,
    );
    const key = (variables: Record<string, unknown>) => groupKey({ document, operationName: null, variables, viewerId: 1n, viewerDependent: false });
    const base = { c: "1", after: null, size: 64, show: true };
    // Another channel, another cursor, keys in another order: one group.
    expect(key({ ...base, c: "2", after: "cursor-9" })).toBe(key(base));
    expect(key({ show: true, size: 64, after: "x", c: "3" })).toBe(key(base));
    // A variable the selection reads (in a fragment) or a directive on the field reads: another group.
    expect(key({ ...base, size: 128 })).not.toBe(key(base));
    expect(key({ ...base, show: false })).not.toBe(key(base));
    // A variable used both in the field's arguments and in the selection counts.
    const both = parse(`subscription($c: ID!) { channelEvents(channelId: $c) { ... on MessageCreated { message { author { avatar(size: $c) } } } } }`);
    expect(groupKey({ document: both, operationName: null, variables: { c: "1" }, viewerId: 1n, viewerDependent: false })).not.toBe(
      groupKey({ document: both, operationName: null, variables: { c: "2" }, viewerId: 1n, viewerDependent: false }),
    );
  });
});
