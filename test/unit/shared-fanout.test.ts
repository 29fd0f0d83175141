import { buildSchema, parse } from "graphql";
import { describe, expect, it } from "vitest";
import { groupKey, selectsViewerDependentFields, sendShared, SharedPayload, SLOW_CONSUMER_CLOSE_CODE, type SendableSocket } from "../../src/gateway/shared-fanout.js";
import { schema } from "../../src/schema/index.js";

/** A stand-in for a `ws` socket that records what would go on the wire. */
function fakeSocket(bufferedAmount = 0) {
  const sent: { data: string | Buffer; binary: boolean }[] = [];
  const closed: { code: number; reason: string }[] = [];
  const socket = {
    bufferedAmount,
    send(data: string | Buffer, options?: { binary: boolean } | ((err?: Error) => void), cb?: (err?: Error) => void) {
      sent.push({ data, binary: typeof options === "object" ? options.binary : false });
      (typeof options === "function" ? options : cb)?.();
    },
    close(code: number, reason: string) {
      closed.push({ code, reason });
    },
  } as SendableSocket;
  return { socket, sent, closed };
}

describe("shared payloads on the wire", () => {
  it("sends envelope + shared bytes that parse to exactly what graphql-ws would have sent", () => {
    const { socket, sent } = fakeSocket();
    sendShared(socket, 1_000_000);
    const result = { data: { channelEvents: { __typename: "MessageCreated", message: { id: "1", content: 'quotes " \\ and ünïcode 🚀 "payload":"x"}' } } } };
    const shared = new SharedPayload(result);
    for (const id of ["1", "op-2", 'weird "id"']) {
      let called = false;
      socket.send(JSON.stringify({ id, type: "next", payload: shared }), () => (called = true));
      expect(called).toBe(true);
      const wire = sent.at(-1)!;
      expect(Buffer.isBuffer(wire.data)).toBe(true);
      expect(wire.binary).toBe(false);
      expect(JSON.parse(String(wire.data))).toEqual({ id, type: "next", payload: result });
    }
    // The payload was serialized once for all three sockets' worth of sends.
    expect(shared.bytes).toBe(shared.bytes);
  });

  it("leaves every other message alone, even one that merely contains the placeholder text", () => {
    const { socket, sent } = fakeSocket();
    sendShared(socket, 1_000_000);
    const plain = JSON.stringify({ id: "1", type: "next", payload: { data: { x: "__concord_shared_payload__" } } });
    socket.send(plain);
    socket.send('{"type":"connection_ack"}');
    expect(sent.map((s) => s.data)).toEqual([plain, '{"type":"connection_ack"}']);
  });

  it("closes a socket whose unsent bytes passed the limit with 4008 instead of queueing more", () => {
    const { socket, sent, closed } = fakeSocket(2_000_001);
    sendShared(socket, 2_000_000);
    let called = false;
    socket.send('{"type":"next"}', () => (called = true));
    expect(sent).toEqual([]);
    expect(called).toBe(true);
    expect(closed).toEqual([{ code: SLOW_CONSUMER_CLOSE_CODE, reason: expect.stringMatching(/too slow/i) }]);
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
    const base = { query: "subscription { x }", operationName: null, variables: { c: "1" } };
    expect(groupKey({ ...base, viewerId: 1n, viewerDependent: false })).toBe(groupKey({ ...base, viewerId: 2n, viewerDependent: false }));
    expect(groupKey({ ...base, viewerId: 1n, viewerDependent: true })).not.toBe(groupKey({ ...base, viewerId: 2n, viewerDependent: true }));
    expect(groupKey({ ...base, viewerId: 1n, viewerDependent: false })).not.toBe(groupKey({ ...base, variables: { c: "2" }, viewerId: 1n, viewerDependent: false }));
    expect(groupKey({ ...base, viewerId: 1n, viewerDependent: false })).not.toBe(groupKey({ ...base, operationName: "Other", viewerId: 1n, viewerDependent: false }));
  });
});
