import type { UserRecord } from "../stores/account-store.js";
import type { ChannelRecord } from "../stores/channel-store.js";
import type { GuildRecord } from "../stores/guild-store.js";
import type { MessageRecord } from "../stores/message-store.js";
import type { OverwriteRecord, RoleRecord } from "../stores/permission-store.js";
import type { ConcordEvent, EventOf, EventType } from "./events.js";

/**
 * The wire format of {@link ConcordEvent} between instances (Redis pub/sub payloads).
 *
 * Plain JSON loses both of the event union's non-JSON types: a bigint id cannot be stringified
 * at all (and as a number it would lose precision above 2^53), and a Date turns into a string
 * that comes back as a string. So they travel as one-key tagged objects:
 *
 *   bigint 123n                             → {"$n":"123"}   (signed 64-bit range)
 *   Date 2026-01-02T03:04:05.678Z           → {"$d":"2026-01-02T03:04:05.678Z"}
 *
 * Tags are unambiguous because every other value in an event is a string, number, boolean,
 * null, array, or a record with fixed field names: text that merely looks like a tag (message
 * content `{"$n":"1"}`) is a JSON string and stays one. Encoding refuses an object that has a
 * `$n`/`$d` key of its own, so a tag can only ever come from a bigint or a Date.
 *
 * Decoding checks the result against the event union (known `type`, every field present with
 * its type); fields it does not know are kept, so an instance one release behind still accepts
 * events a newer one extended during a rolling deploy.
 *
 * Trace context: with tracing on, the publisher adds a top-level `"traceparent"` (W3C Trace
 * Context, `00-<trace id>-<span id>-<flags>`) so the receiving instances' fan-out joins the
 * sender's trace. It is part of the envelope, not of the event: {@link decodeEnvelope} hands it
 * back separately and {@link decodeEvent} drops it, so it never reaches a subscriber. An older
 * instance keeps it as an unknown field, which no subscription selects.
 */

/** Thrown for input that is not a well-formed event, or an event that cannot be encoded. */
export class EventCodecError extends Error {
  override name = "EventCodecError";
}

const BIGINT_TAG = "$n";
const DATE_TAG = "$d";
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const INTEGER_TEXT = /^-?(?:0|[1-9][0-9]{0,18})$/;
// Exactly what Date#toISOString produces (years 0000-9999, or ±YYYYYY beyond).
const ISO_TEXT = /^(?:\d{4}|[+-]\d{6})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const TRACEPARENT = "traceparent";
/** W3C Trace Context version 00: trace id and parent span id in lower-case hex, not all zeros (checked by the tracer). */
const TRACEPARENT_TEXT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The event as one JSON text, with the sender's W3C `traceparent` when given (tracing on);
 * throws {@link EventCodecError} if it holds something the format cannot carry.
 */
export function encodeEvent(event: ConcordEvent, traceparent?: string): string {
  const text = encodeFields(event);
  if (traceparent === undefined) return text;
  if (!TRACEPARENT_TEXT.test(traceparent)) throw new EventCodecError(`traceparent: ${JSON.stringify(traceparent)} is not a W3C traceparent`);
  if (Object.hasOwn(event, TRACEPARENT)) throw new EventCodecError(`an event with a "${TRACEPARENT}" field of its own would lose it`);
  return `${text.slice(0, -1)},"${TRACEPARENT}":"${traceparent}"}`;
}

function encodeFields(event: ConcordEvent): string {
  return JSON.stringify(event, function (this: Record<string, unknown>, key: string, value: unknown) {
    // `value` has already been through Date#toJSON; the holder still has the Date itself.
    const raw = this[key];
    if (raw instanceof Date) {
      if (Number.isNaN(raw.getTime())) throw new EventCodecError(`${key}: invalid Date`);
      return { [DATE_TAG]: raw.toISOString() };
    }
    if (typeof value === "bigint") {
      if (value < INT64_MIN || value > INT64_MAX) throw new EventCodecError(`${key}: ${value} is outside the signed 64-bit range`);
      return { [BIGINT_TAG]: value.toString() };
    }
    if (typeof value === "number" && !Number.isFinite(value)) {
      // JSON would silently write null.
      throw new EventCodecError(`${key}: ${value} is not a finite number`);
    }
    if (value !== null && typeof value === "object" && (Object.hasOwn(value, BIGINT_TAG) || Object.hasOwn(value, DATE_TAG))) {
      throw new EventCodecError(`${key || "event"}: an object with a "${BIGINT_TAG}" or "${DATE_TAG}" key would read back as a tag`);
    }
    return value;
  });
}

/** The event encoded by {@link encodeEvent}, with bigints and Dates restored; throws {@link EventCodecError} on anything else. */
export function decodeEvent(text: string): ConcordEvent {
  return decodeEnvelope(text).event;
}

/**
 * {@link decodeEvent}, also giving the sender's trace context: the `traceparent` it was encoded
 * with, or undefined (none, or one that is not well formed: a trace is never worth an event).
 */
export function decodeEnvelope(text: string): { event: ConcordEvent; traceparent: string | undefined } {
  if (typeof text !== "string") throw new EventCodecError(`expected a string, got ${typeof text}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, reviveTag);
  } catch (error) {
    if (error instanceof EventCodecError) throw error;
    throw new EventCodecError(`not JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(parsed)) throw new EventCodecError("expected an event object");
  let traceparent: string | undefined;
  if (Object.hasOwn(parsed, TRACEPARENT)) {
    const value = parsed[TRACEPARENT];
    if (typeof value === "string" && TRACEPARENT_TEXT.test(value)) traceparent = value;
    delete parsed[TRACEPARENT];
  }
  const type = parsed.type;
  if (typeof type !== "string" || !Object.hasOwn(EVENT_FIELDS, type)) {
    throw new EventCodecError(`unknown event type ${JSON.stringify(type)}`);
  }
  const added = ADDED_LATER[type as EventType];
  if (added) for (const [field, value] of Object.entries(added)) if (!Object.hasOwn(parsed, field)) parsed[field] = value;
  check(parsed, EVENT_FIELDS[type as EventType] as Fields, type);
  return { event: parsed as ConcordEvent, traceparent };
}

/**
 * Fields added to an event after its first release, with the value that means what the older
 * form meant. An instance one release behind publishes events without them during a rolling
 * deploy; filling them in keeps those events instead of dropping them as malformed.
 */
const ADDED_LATER: { [T in EventType]?: Partial<EventOf<T>> } = {
  // Before "all sessions but one" existed, every revocation kept nothing.
  SessionRevoked: { keepTokenHash: null },
  // Before blocks existed, presence was hidden from nobody.
  PresenceUpdated: { hiddenFrom: [] },
};

function reviveTag(_key: string, value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const isBigint = Object.hasOwn(value, BIGINT_TAG);
  if (!isBigint && !Object.hasOwn(value, DATE_TAG)) return value;
  if (Object.keys(value).length !== 1) throw new EventCodecError(`a tagged value has extra keys: ${Object.keys(value).join(", ")}`);
  if (isBigint) {
    const digits = value[BIGINT_TAG];
    if (typeof digits !== "string" || !INTEGER_TEXT.test(digits)) throw new EventCodecError(`bad bigint ${JSON.stringify(digits)}`);
    const n = BigInt(digits);
    if (n < INT64_MIN || n > INT64_MAX) throw new EventCodecError(`bigint ${digits} is outside the signed 64-bit range`);
    return n;
  }
  const iso = value[DATE_TAG];
  const date = typeof iso === "string" && ISO_TEXT.test(iso) ? new Date(iso) : null;
  // The round trip rejects dates that parse but do not exist (2026-02-30).
  if (!date || Number.isNaN(date.getTime()) || date.toISOString() !== iso) throw new EventCodecError(`bad date ${JSON.stringify(iso)}`);
  return date;
}

// What each event must contain. The mapped types make the compiler insist that every event
// type and every field of every record is listed, so the check cannot fall behind events.ts.
type Kind = "id" | "id?" | "string" | "string?" | "int" | "bool" | "date" | "date?" | "ids" | readonly string[] | Fields | ListOf;
interface Fields {
  readonly [field: string]: Kind;
}
type FieldsOf<T> = { readonly [K in keyof T]-?: Kind };
/** A list of records, each with these fields. */
class ListOf {
  constructor(readonly fields: Fields) {}
}

const USER: FieldsOf<UserRecord> = { id: "id", username: "string", bot: "bool", botOwnerId: "id?", createdAt: "date" };
const MESSAGE: FieldsOf<MessageRecord> = {
  id: "id",
  channelId: "id",
  authorId: "id",
  content: "string",
  editedAt: "date?",
  replyToId: "id?",
  mentionIds: "ids",
  nonce: "string?",
};
const CHANNEL: FieldsOf<ChannelRecord> = {
  id: "id",
  kind: ["GUILD_TEXT", "GUILD_CATEGORY", "DM", "GROUP_DM"],
  guildId: "id?",
  name: "string?",
  position: "int",
  ownerId: "id?",
  parentId: "id?",
  topic: "string?",
  rateLimitPerUser: "int",
  createdAt: "date",
};
const ROLE: FieldsOf<RoleRecord> = {
  id: "id",
  guildId: "id",
  name: "string",
  permissions: "id",
  position: "int",
  color: "int",
  hoist: "bool",
  mentionable: "bool",
  createdAt: "date",
};
const OVERWRITES = new ListOf({ channelId: "id", targetKind: ["ROLE", "MEMBER"], targetId: "id", allow: "id", deny: "id" } satisfies FieldsOf<OverwriteRecord>);
const GUILD: FieldsOf<GuildRecord> = { id: "id", name: "string", ownerId: "id", memberCount: "int", createdAt: "date" };
const REASON = ["LEFT", "KICKED", "BANNED", "GUILD_DELETED"] as const;
const STATUS = ["ONLINE", "IDLE", "DND", "INVISIBLE", "OFFLINE"] as const;

const EVENT_FIELDS: { readonly [T in EventType]: FieldsOf<Omit<EventOf<T>, "type">> } = {
  MessageCreated: { channelId: "id", message: MESSAGE, author: USER },
  MessageUpdated: { channelId: "id", eventId: "id", message: MESSAGE, author: USER },
  MessageDeleted: { channelId: "id", eventId: "id", messageId: "id" },
  EventsMissed: { channelId: "id" },
  LiveGap: { topic: "string" },
  TypingStarted: { channelId: "id", user: USER, expiresAt: "date" },
  ChannelDeleted: { channelId: "id", guildId: "id?" },
  ChannelCreated: { guildId: "id", channel: CHANNEL, overwrites: OVERWRITES },
  ChannelUpdated: { guildId: "id", channel: CHANNEL, overwrites: OVERWRITES, previousOverwrites: OVERWRITES },
  RoleCreated: { guildId: "id", role: ROLE },
  RoleUpdated: { guildId: "id", role: ROLE },
  RoleDeleted: { guildId: "id", roleId: "id" },
  MemberRolesUpdated: { guildId: "id", userId: "id", roleIds: "ids" },
  MemberTimeoutUpdated: { guildId: "id", userId: "id", until: "date?" },
  PermissionsChanged: { guildId: "id", userId: "id?" },
  GuildUpdated: { guild: GUILD },
  GuildDeleted: { guildId: "id" },
  MemberJoined: { guildId: "id", user: USER },
  MemberLeft: { guildId: "id", userId: "id", reason: REASON },
  PresenceUpdated: { guildId: "id?", user: USER, status: STATUS, at: "date", hiddenFrom: "ids" },
  OnlineCountUpdated: { guildId: "id", onlineCount: "int" },
  GuildJoined: { userId: "id", guild: GUILD },
  GuildLeft: { userId: "id", guildId: "id", reason: REASON },
  DirectMessageOpened: { userId: "id", channel: CHANNEL },
  SessionRevoked: { userId: "id", tokenHash: "string", keepTokenHash: "string?" },
  ReadStateUpdated: { userId: "id", channelId: "id", lastReadMessageId: "id" },
  RelationshipChanged: { userId: "id", user: USER, kind: ["FRIEND", "INCOMING", "OUTGOING", "BLOCKED", "NONE"], since: "date?" },
  GroupRecipientAdded: { userId: "id", channelId: "id", user: USER },
  GroupRecipientRemoved: { userId: "id", channelId: "id", user: USER, reason: ["LEFT", "REMOVED"] },
  DirectMessageUpdated: { userId: "id", channel: CHANNEL },
  DirectMessageClosed: { userId: "id", channelId: "id" },
};

function check(value: Record<string, unknown>, fields: Fields, path: string): void {
  for (const [field, kind] of Object.entries(fields)) {
    const at = `${path}.${field}`;
    if (!Object.hasOwn(value, field)) throw new EventCodecError(`${at} is missing`);
    const v = value[field];
    if (kind instanceof ListOf) {
      if (!Array.isArray(v)) throw new EventCodecError(`${at}: expected a list`);
      v.forEach((item: unknown, i) => {
        if (!isPlainObject(item)) throw new EventCodecError(`${at}[${i}]: expected an object`);
        check(item, kind.fields, `${at}[${i}]`);
      });
      continue;
    }
    if (typeof kind !== "string") {
      if (isStringList(kind)) {
        if (typeof v !== "string" || !kind.includes(v)) throw new EventCodecError(`${at}: expected one of ${kind.join(", ")}`);
      } else {
        if (!isPlainObject(v)) throw new EventCodecError(`${at}: expected an object`);
        check(v, kind, at);
      }
      continue;
    }
    const nullable = kind.endsWith("?");
    if (nullable && v === null) continue;
    const ok = (() => {
      switch (kind) {
        case "id":
        case "id?":
          return typeof v === "bigint";
        case "string":
        case "string?":
          return typeof v === "string";
        case "date":
        case "date?":
          return v instanceof Date;
        case "int":
          return Number.isSafeInteger(v);
        case "bool":
          return typeof v === "boolean";
        case "ids":
          return Array.isArray(v) && v.every((item) => typeof item === "bigint");
      }
    })();
    if (!ok) throw new EventCodecError(`${at}: expected ${kind.replace("?", " or null")}`);
  }
}

function isStringList(kind: readonly string[] | Fields): kind is readonly string[] {
  return Array.isArray(kind);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Date);
}
