import { describe, expect, it } from "vitest";
import { MAX_SNOWFLAKE } from "../../src/ids/snowflake.js";
import { decodeEnvelope, decodeEvent, encodeEvent, EventCodecError } from "../../src/pubsub/event-codec.js";
import type { ConcordEvent, EventType } from "../../src/pubsub/events.js";

const MAX = (1n << 63n) - 1n;
const createdAt = new Date("2026-01-02T03:04:05.678Z");
const user = { id: MAX, username: "Ada ✓ 👩‍💻", bot: false, botOwnerId: null, createdAt };
const bot = { id: 2n ** 53n + 1n, username: "helper", bot: true, botOwnerId: MAX - 1n, createdAt: new Date(0) };
const message = {
  id: MAX,
  channelId: 9_007_199_254_740_993n,
  authorId: MAX,
  content: '{"$n":"1"} {"$d":"2026-01-02T03:04:05.678Z"} \u0000 \u2028 "quoted" \\ 🚀 שלום 你好',
  editedAt: null,
  replyToId: null,
  mentionIds: [MAX, 1n, 0n],
  nonce: null,
};
const guild = { id: MAX, name: '{"$d":"x"}', ownerId: MAX, memberCount: 500_000, createdAt };
const channel = { id: MAX, kind: "GUILD_TEXT" as const, guildId: MAX, name: "général", position: 7, ownerId: null, parentId: MAX - 1n, topic: "ça va 🚀", rateLimitPerUser: 21_600, createdAt };
const groupDm = { id: 1n, kind: "GROUP_DM" as const, guildId: null, name: null, position: 0, ownerId: MAX, parentId: null, topic: null, rateLimitPerUser: 0, createdAt };
const role = { id: MAX, guildId: MAX, name: "@everyone", permissions: (1n << 63n) - 1n, position: 0, color: 0xffffff, hoist: true, mentionable: false, createdAt };
const overwrites = [
  { channelId: MAX, targetKind: "ROLE" as const, targetId: MAX, allow: 0n, deny: 1n << 10n },
  { channelId: MAX, targetKind: "MEMBER" as const, targetId: 1n, allow: (1n << 41n) - 1n, deny: 0n },
];

/** One of each event type, at the edges: largest ids, Dates, nulls, unicode, text that looks like a tag. */
const examples: { [T in EventType]: Extract<ConcordEvent, { type: T }> } = {
  MessageCreated: { type: "MessageCreated", channelId: MAX, message, author: user },
  MessageUpdated: {
    type: "MessageUpdated",
    channelId: MAX,
    eventId: MAX,
    message: { ...message, editedAt: new Date("9999-12-31T23:59:59.999Z"), replyToId: MAX, nonce: '{"$n":"2"}' },
    author: bot,
  },
  MessageDeleted: { type: "MessageDeleted", channelId: MAX, eventId: 1n, messageId: MAX },
  EventsMissed: { type: "EventsMissed", channelId: MAX },
  LiveGap: { type: "LiveGap", topic: "guild:1" },
  ChannelDeleted: { type: "ChannelDeleted", channelId: MAX, guildId: null },
  ChannelCreated: { type: "ChannelCreated", guildId: MAX, channel, overwrites },
  ChannelUpdated: { type: "ChannelUpdated", guildId: MAX, channel: { ...channel, name: "{}", kind: "GUILD_CATEGORY", parentId: null }, overwrites: [], previousOverwrites: overwrites },
  RoleCreated: { type: "RoleCreated", guildId: MAX, role },
  RoleUpdated: { type: "RoleUpdated", guildId: MAX, role: { ...role, name: '{"$n":"1"}', position: 249 } },
  RoleDeleted: { type: "RoleDeleted", guildId: MAX, roleId: 1n },
  MemberRolesUpdated: { type: "MemberRolesUpdated", guildId: MAX, userId: MAX, roleIds: [MAX, 1n] },
  MemberTimeoutUpdated: { type: "MemberTimeoutUpdated", guildId: MAX, userId: MAX, until: createdAt },
  PermissionsChanged: { type: "PermissionsChanged", guildId: MAX, userId: null },
  GuildUpdated: { type: "GuildUpdated", guild },
  GuildDeleted: { type: "GuildDeleted", guildId: MAX },
  MemberJoined: { type: "MemberJoined", guildId: MAX, user: bot },
  MemberLeft: { type: "MemberLeft", guildId: MAX, userId: MAX, reason: "KICKED" },
  GuildJoined: { type: "GuildJoined", userId: MAX, guild },
  GuildLeft: { type: "GuildLeft", userId: MAX, guildId: MAX, reason: "GUILD_DELETED" },
  DirectMessageOpened: { type: "DirectMessageOpened", userId: MAX, channel: groupDm },
  SessionRevoked: { type: "SessionRevoked", userId: MAX, tokenHash: "*", keepTokenHash: "f".repeat(64) },
  TypingStarted: { type: "TypingStarted", channelId: MAX, user, expiresAt: new Date("2026-01-02T03:04:15.678Z") },
  PresenceUpdated: { type: "PresenceUpdated", guildId: MAX, user: bot, status: "DND", at: createdAt, hiddenFrom: [MAX, 1n] },
  OnlineCountUpdated: { type: "OnlineCountUpdated", guildId: MAX, onlineCount: 499_999 },
  ReadStateUpdated: { type: "ReadStateUpdated", userId: MAX, channelId: 1n, lastReadMessageId: MAX },
  RelationshipChanged: { type: "RelationshipChanged", userId: MAX, user, kind: "NONE", since: null },
  GroupRecipientAdded: { type: "GroupRecipientAdded", userId: 1n, channelId: MAX, user: bot },
  GroupRecipientRemoved: { type: "GroupRecipientRemoved", userId: MAX, channelId: 1n, user, reason: "REMOVED" },
  DirectMessageUpdated: { type: "DirectMessageUpdated", userId: MAX, channel: { ...groupDm, name: '{"$d":"x"} 🚀' } },
  DirectMessageClosed: { type: "DirectMessageClosed", userId: MAX, channelId: MAX },
};

describe("event codec", () => {
  it("uses the snowflake's largest value as the 64-bit edge", () => {
    expect(MAX).toBe(MAX_SNOWFLAKE);
  });

  it.each(Object.values(examples).map((event) => [event.type, event] as const))("round-trips %s with exact types", (_type, event) => {
    const text = encodeEvent(event);
    expect(typeof text).toBe("string");
    const back = decodeEvent(text);
    expect(back).toEqual(event);
    // Beyond structural equality: every leaf has the same runtime type (bigint stays bigint, Date stays Date).
    const walk = (a: unknown, b: unknown, path: string): void => {
      expect(typeof b, path).toBe(typeof a);
      if (a instanceof Date) {
        expect(b, path).toBeInstanceOf(Date);
        expect((b as Date).getTime(), path).toBe(a.getTime());
      } else if (a !== null && typeof a === "object") {
        for (const [key, value] of Object.entries(a)) walk(value, (b as Record<string, unknown>)[key], `${path}.${key}`);
      } else {
        expect(b, path).toBe(a);
      }
    };
    walk(event, back, event.type);
  });

  it("writes bigints as tagged digit strings and Dates as tagged ISO strings", () => {
    const text = encodeEvent(examples.MessageDeleted);
    expect(JSON.parse(text)).toEqual({ type: "MessageDeleted", channelId: { $n: MAX.toString() }, eventId: { $n: "1" }, messageId: { $n: "9223372036854775807" } });
    expect(JSON.parse(encodeEvent(examples.GuildUpdated)).guild.createdAt).toEqual({ $d: "2026-01-02T03:04:05.678Z" });
  });

  it("keeps negative and zero bigints (the bus carries any signed 64-bit id)", () => {
    const event: ConcordEvent = { type: "MessageDeleted", channelId: 0n, eventId: 0n, messageId: -(1n << 63n) };
    expect(decodeEvent(encodeEvent(event))).toEqual(event);
  });

  it("keeps text that looks like a tag as text", () => {
    for (const content of ['{"$n":"1"}', '{"$d":"2026-01-02T03:04:05.678Z"}', "$n", '{"$n":"1","$d":"x"}']) {
      const event: ConcordEvent = { ...examples.MessageCreated, message: { ...message, content } };
      const back = decodeEvent(encodeEvent(event)) as typeof event;
      expect(back.message.content).toBe(content);
    }
  });

  it("refuses to encode what would not read back the same", () => {
    const withMessage = (patch: Record<string, unknown>) =>
      ({ ...examples.MessageCreated, message: { ...message, ...patch } }) as unknown as ConcordEvent;
    expect(() => encodeEvent(withMessage({ editedAt: new Date(Number.NaN) }))).toThrow(EventCodecError);
    expect(() => encodeEvent(withMessage({ id: 1n << 63n }))).toThrow(/64-bit/);
    expect(() => encodeEvent({ ...examples.ChannelCreated, channel: { ...channel, position: Number.POSITIVE_INFINITY } })).toThrow(/finite/);
    expect(() => encodeEvent(withMessage({ extra: { $n: "1" } }))).toThrow(/tag/);
  });

  it("decodes unknown extra fields as they are (a newer instance may have added one)", () => {
    const text = encodeEvent(examples.MessageDeleted).replace(/}$/, ',"hint":"new"}');
    expect(decodeEvent(text)).toEqual({ ...examples.MessageDeleted, hint: "new" });
  });

  const valid = JSON.parse(encodeEvent(examples.MessageCreated)) as Record<string, unknown>;
  const variant = (patch: (event: Record<string, any>) => void) => {
    const copy = structuredClone(valid) as Record<string, any>;
    patch(copy);
    return JSON.stringify(copy);
  };
  it.each([
    ["empty input", ""],
    ["not JSON", "{type: MessageDeleted}"],
    ["truncated JSON", encodeEvent(examples.MessageCreated).slice(0, -5)],
    ["JSON that is not an object", "[1,2]"],
    ["null", "null"],
    ["a bare tag", '{"$n":"1"}'],
    ["no type", '{"channelId":{"$n":"1"},"messageId":{"$n":"2"}}'],
    ["unknown type", '{"type":"MessageExploded","channelId":{"$n":"1"}}'],
    ["inherited type name", '{"type":"toString"}'],
    ["a missing field", '{"type":"MessageDeleted","channelId":{"$n":"1"}}'],
    ["an id as a plain number", '{"type":"MessageDeleted","channelId":1,"messageId":{"$n":"2"}}'],
    ["an id as a plain string", '{"type":"MessageDeleted","channelId":"1","messageId":{"$n":"2"}}'],
    ["a bigint tag with a non-digit", '{"type":"MessageDeleted","channelId":{"$n":"1x"},"messageId":{"$n":"2"}}'],
    ["a bigint tag with a number", '{"type":"MessageDeleted","channelId":{"$n":1},"messageId":{"$n":"2"}}'],
    ["a bigint tag with leading zeros", '{"type":"MessageDeleted","channelId":{"$n":"01"},"messageId":{"$n":"2"}}'],
    ["a bigint beyond 64 bits", '{"type":"MessageDeleted","channelId":{"$n":"9223372036854775808"},"messageId":{"$n":"2"}}'],
    ["a tag with an extra key", '{"type":"MessageDeleted","channelId":{"$n":"1","x":1},"messageId":{"$n":"2"}}'],
    ["a date that does not exist", variant((e) => (e.author.createdAt = { $d: "2026-02-30T00:00:00.000Z" }))],
    ["a date that is not ISO", variant((e) => (e.author.createdAt = { $d: "Jan 2, 2026" }))],
    ["a date as a plain string", variant((e) => (e.author.createdAt = "2026-01-02T03:04:05.678Z"))],
    ["a date as a bigint", variant((e) => (e.author.createdAt = { $n: "1" }))],
    ["a nested record missing", variant((e) => delete e.author)],
    ["a nested field of the wrong type", variant((e) => (e.message.content = 5))],
    ["null where not nullable", variant((e) => (e.message.content = null))],
    ["an id list with a number", variant((e) => (e.message.mentionIds = [1]))],
    ["a boolean as a string", variant((e) => (e.author.bot = "false"))],
    ["a bad enum value", '{"type":"MemberLeft","guildId":{"$n":"1"},"userId":{"$n":"2"},"reason":"EXPELLED"}'],
    ["a record list that is not a list", JSON.stringify({ ...JSON.parse(encodeEvent(examples.ChannelCreated)), overwrites: { targetKind: "ROLE" } })],
    ["a bad record in a list", JSON.stringify({ ...JSON.parse(encodeEvent(examples.ChannelCreated)), overwrites: [{ ...JSON.parse(encodeEvent(examples.ChannelCreated)).overwrites[0], targetKind: "EVERYONE" }] })],
    ["a list item that is not a record", JSON.stringify({ ...JSON.parse(encodeEvent(examples.ChannelCreated)), overwrites: [1] })],
    ["a fractional count", JSON.stringify({ ...JSON.parse(encodeEvent(examples.GuildUpdated)), guild: { ...JSON.parse(encodeEvent(examples.GuildUpdated)).guild, memberCount: 1.5 } })],
  ])("throws EventCodecError on %s", (_what, text) => {
    expect(() => decodeEvent(text)).toThrow(EventCodecError);
  });

  it("throws on input that is not a string", () => {
    expect(() => decodeEvent(undefined as unknown as string)).toThrow(EventCodecError);
  });
});

describe("the trace context in the envelope", () => {
  const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

  it("carries the sender's traceparent next to the event, and hands it back apart from it", () => {
    const text = encodeEvent(examples.MessageCreated, traceparent);
    expect(JSON.parse(text)).toMatchObject({ type: "MessageCreated", traceparent });
    expect(decodeEnvelope(text)).toEqual({ event: examples.MessageCreated, traceparent });
    // Subscribers never see it: it is not part of the event.
    expect(decodeEvent(text)).toEqual(examples.MessageCreated);
    expect(decodeEvent(text)).not.toHaveProperty("traceparent");
  });

  it("writes nothing of it without tracing, exactly as before", () => {
    expect(encodeEvent(examples.MessageDeleted)).not.toContain("traceparent");
    expect(decodeEnvelope(encodeEvent(examples.MessageDeleted))).toEqual({ event: examples.MessageDeleted, traceparent: undefined });
  });

  it("refuses to encode a malformed traceparent, and ignores one it receives (the event still counts)", () => {
    expect(() => encodeEvent(examples.MessageDeleted, "00-xyz-1-01")).toThrow(EventCodecError);
    const forged = encodeEvent(examples.MessageDeleted).replace(/}$/, ',"traceparent":"<script>"}');
    expect(decodeEnvelope(forged)).toEqual({ event: examples.MessageDeleted, traceparent: undefined });
  });
});

describe("events from an instance one release behind", () => {
  it("fills in fields added since (SessionRevoked without keepTokenHash keeps nothing), instead of dropping the event", () => {
    const old = JSON.stringify({ type: "SessionRevoked", userId: { $n: "42" }, tokenHash: "*" });
    expect(decodeEvent(old)).toEqual({ type: "SessionRevoked", userId: 42n, tokenHash: "*", keepTokenHash: null });
  });

  it("reads a PresenceUpdated without hiddenFrom as hidden from nobody", () => {
    const old = encodeEvent(examples.PresenceUpdated).replace(/,"hiddenFrom":\[[^\]]*\]/, "");
    expect(old).not.toContain("hiddenFrom");
    expect(decodeEvent(old)).toEqual({ ...examples.PresenceUpdated, hiddenFrom: [] });
  });

  it("refuses a RelationshipChanged of an unknown kind", () => {
    const bad = encodeEvent(examples.RelationshipChanged).replace('"NONE"', '"ENEMY"');
    expect(() => decodeEvent(bad)).toThrow(EventCodecError);
  });
});
