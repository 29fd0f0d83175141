import fc from "fast-check";
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from "graphql";

/**
 * Schema-driven generators for the fuzz test (fuzz.test.ts): every root field of the schema, its
 * arguments generated from their GraphQL input types, and a small valid selection set for its
 * result type. Nothing here names an operation, so a field added to the schema is fuzzed without
 * touching this file; names only steer values (an argument called `channelId` gets channel ids of
 * the seeded world more often than user ids), they never decide what is generated.
 *
 * Values that depend on the seeded world (ids, usernames, invite codes) are symbolic ({@link Ref})
 * and resolved when the operation runs, so a counterexample fast-check prints and shrinks means
 * the same thing in any freshly seeded world.
 */

/** A value of the seeded world, by name (`channel.general`, `user.bob`, `invite.main`...). */
export class Ref {
  constructor(readonly key: string) {}
  [fc.toStringMethod](): string {
    return `ref(${this.key})`;
  }
}

/** A string made of literal parts and world values (`"hi <@" + ref(user.bob) + ">"`). */
export class Text {
  constructor(readonly parts: readonly (string | Ref)[]) {}
  [fc.toStringMethod](): string {
    return `text(${this.parts.map((p) => (typeof p === "string" ? fc.stringify(p) : p[fc.toStringMethod]())).join(" + ")})`;
  }
}

/** An enum value: a bare name in a literal, a string in variables. */
export class EnumValue {
  constructor(readonly name: string) {}
  [fc.toStringMethod](): string {
    return `enum(${this.name})`;
  }
}

/** An id written as an Int (unquoted in a literal, a JSON number in variables): GraphQL's ID accepts both. */
export class Digits {
  constructor(readonly of: Ref | string) {}
  [fc.toStringMethod](): string {
    return `digits(${typeof this.of === "string" ? this.of : this.of[fc.toStringMethod]()})`;
  }
}

export type Value = null | string | number | boolean | Ref | Text | EnumValue | Digits | Value[] | { [field: string]: Value };

/** One argument: its declared type (for the variable definition), value, and whether it is inlined as a literal. */
export interface ArgPlan {
  name: string;
  type: string;
  value: Value;
  inline: boolean;
}

export interface FieldSelection {
  /** Set on the root fields of an operation with several (`f0: sendMessage(...) f1: ...`). */
  alias?: string;
  field: string;
  args: ArgPlan[];
  sub: Selection[];
}
export interface FragmentSelection {
  on: string;
  sub: Selection[];
}
export type Selection = FieldSelection | FragmentSelection;

export interface RootField {
  mode: Mode;
  selection: FieldSelection;
}

/** One GraphQL operation: usually one root field, sometimes two (mutations then run one after the other). */
export interface Operation {
  kind: "query" | "mutation" | "subscription";
  /** The message (a key of CHANNEL_OF_MESSAGE) that `focus.message` and `focus.channel` stand for. */
  focus: string;
  roots: RootField[];
}

/** What the seeded world must be able to resolve, by kind: an id argument picks from these. */
export const WORLD_KEYS = {
  user: ["user.ada", "user.bob", "user.cy", "user.bot", "user.foreign"],
  guild: ["guild.main", "guild.foreign"],
  role: ["role.mods", "role.everyone", "role.foreign"],
  channel: ["channel.general", "channel.second", "channel.dm", "channel.group", "channel.foreign"],
  message: ["message.mention", "message.reply", "message.second", "message.dm", "message.foreign"],
  session: ["session.ada", "session.ada2", "session.bob", "session.foreign"],
  invite: ["invite.main", "invite.foreign"],
  username: ["username.ada", "username.bob", "username.cy", "username.bot"],
} as const;
/** The channel of each seeded message: a plausible operation names a message and its own channel together. */
export const CHANNEL_OF_MESSAGE: Record<string, string> = {
  "message.mention": "channel.general",
  "message.reply": "channel.general",
  "message.second": "channel.second",
  "message.dm": "channel.dm",
  "message.foreign": "channel.foreign",
};
const ALL_IDS = [...WORLD_KEYS.user, ...WORLD_KEYS.guild, ...WORLD_KEYS.role, ...WORLD_KEYS.channel, ...WORLD_KEYS.message, ...WORLD_KEYS.session];

/** The password every seeded person has (the one signUpFrom in hostile-client.ts registers with). */
export const WORLD_PASSWORD = "correct horse battery";

/** Where a value goes: the field or input type that owns it, and its name (for hints only). */
interface Hint {
  owner: string;
  name: string;
}

const refs = (keys: readonly string[]) => fc.constantFrom(...keys).map((key) => new Ref(key));

/** The world ids an argument most likely wants, from its name (and its owner's). */
function idKeysFor({ owner, name }: Hint): readonly string[] {
  const where = `${owner}.${name}`;
  if (/session/i.test(where)) return WORLD_KEYS.session;
  if (/^role/i.test(name)) return WORLD_KEYS.role;
  if (name === "targetId") return [...WORLD_KEYS.role, ...WORLD_KEYS.user];
  if (name === "parentId") return WORLD_KEYS.channel;
  if (/^(messages)\.(before|after|around)$/.test(where) || /message|reply|around/i.test(name)) return WORLD_KEYS.message;
  if (/^directMessages\.before$/.test(where)) return WORLD_KEYS.channel;
  if (/guild/i.test(name) || /^guild\.id$/.test(where)) return WORLD_KEYS.guild;
  if (/channel/i.test(name) || /^channel\.id$/.test(where)) return WORLD_KEYS.channel;
  if (/user|ids|bot|before|after/i.test(name)) return WORLD_KEYS.user;
  return ALL_IDS;
}

// ---------------------------------------------------------------------------------------------
// Scalars

/** Ids outside the snowflake range or not ids at all: each must be BAD_USER_INPUT (or a miss), never a database error. */
const HOSTILE_IDS = [
  ...["0", "1", "-1", "-0", "01", "9223372036854775806", "9223372036854775807"],
  // Past the int64 range, and past the uint64 one.
  ...["9223372036854775808", "18446744073709551615", "18446744073709551616", "99999999999999999999", "9".repeat(1000), "1".repeat(20_000)],
  // Not digits (or not only), and digits of other scripts.
  ...["", " ", " 1", "1 ", "+1", "1e5", "1.0", "0x1f", "abc", "null", "NaN", "١٢٣", "１２３", "1\u0000", "\uD800"],
];

/**
 * An id of the seeded world, most likely of the kind the argument wants; for messages and
 * channels most likely the operation's focus (a message and its channel), so that
 * `editMessage(input: { channelId, messageId })` names a message of that channel.
 */
function plausibleIdArb(hint: Hint): fc.Arbitrary<Value> {
  const keys = idKeysFor(hint);
  // The world's own ids mostly; someone else's (`*.foreign`) as often as any id of the wrong kind.
  const own = keys.filter((key) => !key.endsWith(".foreign"));
  const others = fc.oneof({ weight: 4, arbitrary: refs(own.length > 0 ? own : keys) }, { weight: 1, arbitrary: refs(ALL_IDS) });
  const focus = keys === WORLD_KEYS.message ? "focus.message" : keys === WORLD_KEYS.channel ? "focus.channel" : null;
  return focus ? fc.oneof({ weight: 6, arbitrary: fc.constant(new Ref(focus)) }, { weight: 5, arbitrary: others }) : others;
}

/** Ids that are not ids, are out of range, or are nobody's; and real ones written as Ints. */
const hostileIdArb = (hint: Hint): fc.Arbitrary<Value> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_IDS) },
    { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }).map(String) },
    { weight: 1, arbitrary: fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }).map(String) },
    { weight: 1, arbitrary: fc.oneof(refs(idKeysFor(hint)), fc.constantFrom("0", "9223372036854775807", "9223372036854775808")).map((of) => new Digits(of)) },
  );

/** Pieces of hostile text: NUL, lone surrogates, C0/C1 controls, bidi overrides and isolates, invisible characters, emoji, RTL, combining marks. */
const PIECES = [
  // NUL, lone surrogates, C0 and C1 controls (an ANSI colour, a CSI).
  ...["\u0000", "\uD800", "\uDBFF", "\uDC00", "\uDFFF", "\u0001", "\u0007", "\u0008", "\u001b[31m", "\u007f", "\u0080", "\u0085", "\u009b", "\u009f"],
  // Bidi embeddings, overrides and isolates, marks; zero-width and invisible characters.
  ...["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f"],
  ...["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u3164", "\u2800"],
  // Whitespace of every kind, combining marks, emoji sequences, right-to-left text, noncharacters.
  ...["\u00a0", "\u3000", "\u2028", " ", "\t", "\n", "\r\n", "e\u0301\u0302\u0303\u0304", "\u{1F469}\u{1F3FD}\u200D\u{1F4BB}", "\u{1F600}", "שלום", "مرحبا", "\ufffd", "\uffff", "\u{10FFFF}"],
  // Things that mean something somewhere else.
  ...["<@", ">", "`", "'", '"', "\\", "%s%n", "${x}", "' OR 1=1 --", "<script>", "../", "@everyone"],
];

/** Strings around every length limit (names 2-100, usernames 2-32, content 2,000, nonce 64, password 10-256), up to the body cap. */
const longStringArb = fc
  .tuple(fc.constantFrom("a", "é", "\u{1F600}", "\u200b", " ", "\u{1F469}\u{1F3FD}\u200D\u{1F4BB}", "e\u0301"), fc.constantFrom(1, 2, 9, 10, 31, 32, 33, 63, 64, 65, 99, 100, 101, 200, 201, 256, 257, 1999, 2000, 2001, 4000, 30_000, 99_000))
  .map(([unit, n]) => unit.repeat(n));

/** Any string, hostile or not; `short` leaves out the very long ones (list items: the body stays under the cap). */
const genericStringArb = (short = false): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: "grapheme-ascii", maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 10 }) },
    { weight: 4, arbitrary: fc.array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 6 })), { maxLength: 8 }).map((parts) => parts.join("")) },
    { weight: 1, arbitrary: fc.constantFrom("", " ", "   ", "\t\n", "\u200b\u200b", "\u00a0", "\u3164", "\u202e") },
    { weight: short ? 0 : 1, arbitrary: longStringArb },
  );

const usernameArb = fc.stringMatching(/^[A-Za-z0-9_.]{2,32}$/);
const wordsArb = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 _-]{1,30}$/);
const mentionOfArb = refs(WORLD_KEYS.user).map((r) => new Text(["<@", r, ">"]));
/** Concatenates strings and Texts into one Text. */
const joinText = (parts: readonly (string | Text)[]) => new Text(parts.flatMap((p) => (typeof p === "string" ? [p] : p.parts)));

/** Strings a well-behaved client would send, steered by the argument's name towards values that reach deep code paths. */
function plausibleStringArb({ name }: Hint): fc.Arbitrary<Value> {
  if (/username/i.test(name)) return fc.oneof(refs(WORLD_KEYS.username), usernameArb);
  if (/password/i.test(name)) return fc.oneof({ weight: 3, arbitrary: fc.constant(WORLD_PASSWORD) }, { weight: 1, arbitrary: fc.constantFrom("a much better passphrase", "wrong password!") });
  if (/code/i.test(name)) return fc.oneof({ weight: 4, arbitrary: refs(WORLD_KEYS.invite) }, { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9]{8}$/) });
  if (/nonce/i.test(name)) return fc.oneof(fc.constantFrom("n1", "n2", "n-\u{1F600}"), fc.stringMatching(/^[a-z0-9-]{1,20}$/));
  if (/content/i.test(name)) {
    return fc.oneof(
      { weight: 3, arbitrary: wordsArb },
      { weight: 2, arbitrary: fc.array(fc.oneof(mentionOfArb, wordsArb), { minLength: 1, maxLength: 4 }).map((parts) => joinText(parts.flatMap((p) => [p, " "]))) },
      { weight: 1, arbitrary: fc.constantFrom("he said \u2067שלום\u2069 ok", "Devs \u{1F469}\u{1F3FD}\u200D\u{1F4BB}", "e\u0301te\u0301", "line one\nline two") },
    );
  }
  return fc.oneof({ weight: 3, arbitrary: wordsArb }, { weight: 1, arbitrary: fc.constantFrom("general", "ab", "Devs \u{1F469}\u{1F3FD}\u200D\u{1F4BB}", "שלום עולם", "x".repeat(100)) });
}

/** Strings that break rules: hostile characters, lengths at and past every limit, world values slightly off. */
function hostileStringArb({ name }: Hint, short: boolean): fc.Arbitrary<Value> {
  const generic = genericStringArb(short);
  if (/username/i.test(name)) return fc.oneof(refs(WORLD_KEYS.username).map((r) => new Text([r, "x"])), refs(WORLD_KEYS.username).map((r) => new Text([" ", r, "\u0000"])), generic);
  if (/password/i.test(name)) {
    return fc.oneof(
      { weight: 1, arbitrary: fc.constantFrom("12345678", "password123", "qwertyuiop", "x".repeat(257), `${WORLD_PASSWORD}\u0000`, `${WORLD_PASSWORD}\uD800`, `${WORLD_PASSWORD}\u0085`) },
      { weight: 1, arbitrary: refs(WORLD_KEYS.username) },
      { weight: 2, arbitrary: generic },
    );
  }
  if (/code/i.test(name)) return fc.oneof(refs(WORLD_KEYS.invite).map((r) => new Text([" ", r, "\u0000"])), refs(WORLD_KEYS.invite).map((r) => new Text([r, "\u202e"])), fc.stringMatching(/^[A-Za-z0-9]{33,40}$/), generic);
  if (/content/i.test(name)) {
    const oddMention = fc.constantFrom("<@0>", "<@-1>", "<@9223372036854775807>", "<@9223372036854775808>", `<@${"9".repeat(40)}>`, "<@!1>", "<@>", "<@<@1>>");
    return fc.oneof(
      { weight: 3, arbitrary: generic },
      { weight: 2, arbitrary: fc.array(fc.oneof(mentionOfArb, oddMention, fc.constantFrom(...PIECES)), { minLength: 1, maxLength: 8 }).map(joinText) },
      // More than the 50 mentions a message keeps.
      { weight: 1, arbitrary: fc.array(mentionOfArb, { minLength: 51, maxLength: 80 }).map((ms) => joinText(ms.flatMap((m) => [m, " "]))) },
    );
  }
  return generic;
}

const INT_EDGES = [0, -1, 1, 2, 10, 50, 99, 100, 101, 1000, 2_147_483_647, -2_147_483_648];

/** Ints in the range an argument accepts. */
function plausibleIntArb({ name }: Hint): fc.Arbitrary<Value> {
  if (/position/i.test(name)) return fc.integer({ min: 0, max: 3 });
  if (/expires/i.test(name)) return fc.constantFrom(60, 3600, 86_400);
  if (/maxUses/i.test(name)) return fc.constantFrom(1, 2, 10);
  return fc.constantFrom(1, 2, 10, 20, 50, 100);
}

/** Ints at and past the edges: 0, negatives, page caps (100/101), the limits of a 32-bit Int. */
function hostileIntArb({ name }: Hint): fc.Arbitrary<Value> {
  let edges: number[] = INT_EDGES;
  if (/position/i.test(name)) edges = [-1, 499, 500, 501, 2_147_483_647, -2_147_483_648];
  if (/expires/i.test(name)) edges = [0, 1, 59, 2_592_000, 2_592_001, -1, 2_147_483_647];
  if (/maxUses/i.test(name)) edges = [0, 1, 1_000_000, 1_000_001, -1, 2_147_483_647];
  return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...edges) }, { weight: 1, arbitrary: fc.constantFrom(...INT_EDGES) }, { weight: 1, arbitrary: fc.integer() });
}

/** Values of the wrong type for any position: GraphQL must refuse them (BAD_USER_INPUT in variables, validation in literals). */
const wrongTypeArb: fc.Arbitrary<Value> = fc.constantFrom<Value>(true, false, 1.5, -0.5, 0, 2_147_483_648, -2_147_483_649, 2 ** 53, 1e21, "1", "", "ONLINE", "true", {}, [], { bogus: 1 }, [[1]], [null]);

// ---------------------------------------------------------------------------------------------
// Input types

/**
 * How an operation's values are drawn. `plausible`: what a well-behaved client sends (world ids,
 * valid names, in-range numbers), so the fuzzer gets past validation into the deep paths and
 * changes the world the next operations run in. `hostile`: each value is plausible or hostile
 * (out of range, wrong characters, wrong type, null where not allowed), so one bad value among
 * good ones hits the validation of that field.
 */
export type Mode = "plausible" | "hostile";

interface ValueOptions {
  mode: Mode;
  /** Inside a list: no very long strings, so a list of a few hundred stays under the body cap. */
  short: boolean;
}

function scalarArb(name: string, hint: Hint, { mode, short }: ValueOptions): fc.Arbitrary<Value> {
  const either = (plausible: fc.Arbitrary<Value>, hostile: fc.Arbitrary<Value>) => (mode === "plausible" ? plausible : fc.oneof({ weight: 3, arbitrary: plausible }, { weight: 2, arbitrary: hostile }));
  switch (name) {
    case "ID":
      return either(plausibleIdArb(hint), hostileIdArb(hint));
    case "String":
      return either(plausibleStringArb(hint), hostileStringArb(hint, short));
    case "Int":
      return either(plausibleIntArb(hint), hostileIntArb(hint));
    case "Float":
      return either(plausibleIntArb(hint), fc.double({ noNaN: true, noDefaultInfinity: true }));
    case "Boolean":
      return fc.boolean();
    default:
      // Custom scalars (DateTime): valid ISO strings, and anything else when hostile.
      return either(fc.date({ min: new Date(0), max: new Date(4102444800000), noInvalidDate: true }).map((d) => d.toISOString()), genericStringArb(short));
  }
}

const arbCache = new Map<string, fc.Arbitrary<Value>>();

/** A value for `type`: null sometimes where allowed; when hostile, rarely null where not allowed, or of the wrong type. */
export function valueArb(type: GraphQLInputType, hint: Hint, options: ValueOptions): fc.Arbitrary<Value> {
  const key = `${String(type)}|${hint.owner}.${hint.name}|${options.mode}|${options.short}`;
  const cached = arbCache.get(key);
  if (cached) return cached;
  const inner = innerValueArb(type, hint, options);
  const hostile = options.mode === "hostile";
  const arb = isNonNullType(type)
    ? hostile
      ? fc.oneof({ weight: 30, arbitrary: inner }, { weight: 1, arbitrary: wrongTypeArb }, { weight: 1, arbitrary: fc.constant(null) })
      : inner
    : fc.oneof({ weight: 30, arbitrary: inner }, { weight: 6, arbitrary: fc.constant(null) }, { weight: hostile ? 1 : 0, arbitrary: wrongTypeArb });
  arbCache.set(key, arb);
  return arb;
}

function innerValueArb(type: GraphQLInputType, hint: Hint, options: ValueOptions): fc.Arbitrary<Value> {
  if (isNonNullType(type)) return innerValueArb(type.ofType, hint, options);
  if (isListType(type)) {
    const item = valueArb(type.ofType, hint, { ...options, short: true });
    if (options.mode === "plausible") return fc.oneof({ weight: 1, arbitrary: fc.constant<Value>([]) }, { weight: 6, arbitrary: fc.array(item, { minLength: 1, maxLength: 3 }) });
    return fc.oneof(
      { weight: 2, arbitrary: fc.constant<Value>([]) },
      { weight: 3, arbitrary: item.map((x) => [x]) },
      { weight: 3, arbitrary: fc.array(item, { minLength: 2, maxLength: 12 }) },
      { weight: 1, arbitrary: fc.array(item, { minLength: 99, maxLength: 300 }) },
      // Input coercion: a single value where a list is expected means a list of one.
      { weight: 1, arbitrary: item },
    );
  }
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields());
    const model: Record<string, fc.Arbitrary<Value>> = {};
    for (const field of fields) model[field.name] = valueArb(field.type, { owner: type.name, name: field.name }, options);
    const required = fields.filter((f) => isNonNullType(f.type) && f.defaultValue === undefined).map((f) => f.name);
    const valid = fc.record(model, { requiredKeys: required }) as fc.Arbitrary<Value>;
    if (options.mode === "plausible") return valid;
    return fc.oneof(
      { weight: 20, arbitrary: valid },
      // A required field perhaps missing, an unknown field added.
      { weight: 1, arbitrary: fc.record(model, { requiredKeys: [] }) as fc.Arbitrary<Value> },
      { weight: 1, arbitrary: valid.map((v) => ({ ...(v as Record<string, Value>), bogus: "x" })) },
    );
  }
  if (isEnumType(type)) {
    const values = fc.constantFrom(...type.getValues().map((v) => new EnumValue(v.name)));
    if (options.mode === "plausible") return values;
    return fc.oneof({ weight: 10, arbitrary: values }, { weight: 1, arbitrary: fc.constantFrom(new EnumValue("NOT_A_VALUE"), new EnumValue("online")) });
  }
  return scalarArb(type.name, hint, options);
}

function argsArb(owner: string, args: readonly GraphQLArgument[], mode: Mode, omitOptional: number): fc.Arbitrary<ArgPlan[]> {
  if (args.length === 0) return fc.constant([]);
  return fc
    .tuple(
      ...args.map((arg) => {
        const required = isNonNullType(arg.type) && arg.defaultValue === undefined;
        const plan = fc.record({ value: valueArb(arg.type, { owner, name: arg.name }, { mode, short: false }), inline: fc.boolean() }).map(({ value, inline }) => ({ name: arg.name, type: String(arg.type), value, inline }) as ArgPlan);
        return required ? plan.map((p): ArgPlan | null => p) : fc.oneof({ weight: Math.round(omitOptional * 10), arbitrary: fc.constant(null) }, { weight: Math.round((1 - omitOptional) * 10), arbitrary: plan });
      }),
    )
    .map((plans) => plans.filter((p): p is ArgPlan => p !== null));
}

// ---------------------------------------------------------------------------------------------
// Selection sets

/** Connection plumbing (edges, node, pageInfo) costs no depth, so `messages { edges { node { id } } }` is reachable. */
const isPlumbing = (type: GraphQLNamedType) => /(Connection|Edge)$/.test(type.name);

const selectionCache = new Map<string, fc.Arbitrary<Selection[]>>();

/**
 * A valid selection set for an output type: some of its scalar fields, and up to `depth` levels
 * of object fields (each with its arguments generated too); `__typename` where nothing else fits.
 */
export function selectionArb(type: GraphQLNamedType, depth: number, mode: Mode): fc.Arbitrary<Selection[]> {
  const key = `${type.name}|${depth}|${mode}`;
  const cached = selectionCache.get(key);
  if (cached) return cached;
  let arb: fc.Arbitrary<Selection[]>;
  const typename: Selection = { field: "__typename", args: [], sub: [] };
  if (isUnionType(type) || isInterfaceType(type)) {
    const members = isUnionType(type) ? type.getTypes() : [];
    arb = fc
      .subarray(members as GraphQLObjectType[], { maxLength: Math.min(3, members.length) })
      .chain((chosen): fc.Arbitrary<Selection[]> =>
        chosen.length === 0 ? fc.constant([]) : fc.tuple(...chosen.map((member) => selectionArb(member, depth, mode).map((sub): Selection => ({ on: member.name, sub })))),
      )
      .map((fragments) => [typename, ...fragments]);
  } else if (isObjectType(type)) {
    const fields = Object.values(type.getFields());
    const leaves = fields.filter((f) => isLeafType(getNamedType(f.type)));
    const objects = depth > 0 ? fields.filter((f) => !isLeafType(getNamedType(f.type))) : [];
    const leafArb = fc.subarray(leaves, { minLength: Math.min(1, leaves.length), maxLength: Math.min(4, leaves.length) });
    const objectArb = fc.subarray(objects, { maxLength: Math.min(2, objects.length) });
    arb = fc
      .tuple(leafArb, objectArb)
      .chain(([ls, os]): fc.Arbitrary<Selection[]> => {
        const chosen = [...ls, ...os];
        if (chosen.length === 0) return fc.constant([typename]);
        return fc.tuple(...chosen.map((field) => fieldSelectionArb(field, depth, mode, 0.6)));
      });
  } else {
    arb = fc.constant([]);
  }
  selectionCache.set(key, arb);
  return arb;
}

function fieldSelectionArb(field: GraphQLField<unknown, unknown>, depth: number, mode: Mode, omitOptional: number): fc.Arbitrary<FieldSelection> {
  const named = getNamedType(field.type);
  const sub: fc.Arbitrary<Selection[]> = isLeafType(named) ? fc.constant([]) : selectionArb(named, isPlumbing(named) ? depth : depth - 1, mode);
  return fc.tuple(argsArb(field.name, field.args, mode, omitOptional), sub).map(([args, s]) => ({ field: field.name, args, sub: s }));
}

/**
 * One operation on one root field of `kind`, drawn from every field the schema has: arguments
 * from their types, as variables or literals, and a selection up to two object levels deep;
 * plausible or hostile about as often (see {@link Mode}).
 */
export function operationArb(schema: GraphQLSchema, kind: Operation["kind"]): fc.Arbitrary<Operation> {
  const root = kind === "query" ? schema.getQueryType() : kind === "mutation" ? schema.getMutationType() : schema.getSubscriptionType();
  if (!root) throw new Error(`the schema has no ${kind} type`);
  const fields = Object.values(root.getFields());
  const focus = fc.constantFrom(...Object.keys(CHANNEL_OF_MESSAGE).filter((key) => !key.endsWith(".foreign")));
  const rootField = fc.oneof(...fields.flatMap((field) => (["plausible", "hostile"] as const).map((mode) => fieldSelectionArb(field, 2, mode, 0.3).map((selection): RootField => ({ mode, selection })))));
  // A subscription has exactly one root field.
  const roots = kind === "subscription" ? rootField.map((r) => [r]) : fc.oneof({ weight: 6, arbitrary: rootField.map((r) => [r]) }, { weight: 1, arbitrary: fc.tuple(rootField, rootField) });
  return fc.tuple(focus, roots).map(([f, rs]): Operation => ({
    kind,
    focus: f,
    roots: rs.length === 1 ? rs : rs.map((r, i) => ({ ...r, selection: { ...r.selection, alias: `f${i}` } })),
  }));
}

/** The root fields of a kind, for coverage reports. */
export function rootFields(schema: GraphQLSchema, kind: Operation["kind"]): string[] {
  const root = kind === "query" ? schema.getQueryType() : kind === "mutation" ? schema.getMutationType() : schema.getSubscriptionType();
  return root ? Object.keys(root.getFields()) : [];
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** Resolves world references to the strings of this run's world. */
export type Resolver = (ref: Ref) => string;

/** A GraphQL string literal (JSON's escapes are GraphQL's; a lone surrogate becomes an escape GraphQL refuses, which is a client error). */
const stringLiteral = (s: string) => JSON.stringify(s);

function toVariable(value: Value, resolve: Resolver): unknown {
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Ref) return resolve(value);
  if (value instanceof Text) return value.parts.map((p) => (typeof p === "string" ? p : resolve(p))).join("");
  if (value instanceof EnumValue) return value.name;
  if (value instanceof Digits) return Number(typeof value.of === "string" ? value.of : resolve(value.of));
  if (Array.isArray(value)) return value.map((v) => toVariable(v, resolve));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toVariable(v, resolve)]));
}

function toLiteral(value: Value, resolve: Resolver): string {
  if (value === null) return "null";
  if (typeof value === "string") return stringLiteral(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value instanceof Ref || value instanceof Text) return stringLiteral(toVariable(value, resolve) as string);
  if (value instanceof EnumValue) return value.name;
  if (value instanceof Digits) return typeof value.of === "string" ? value.of : resolve(value.of);
  if (Array.isArray(value)) return `[${value.map((v) => toLiteral(v, resolve)).join(", ")}]`;
  return `{ ${Object.entries(value)
    .map(([k, v]) => `${k}: ${toLiteral(v, resolve)}`)
    .join(", ")} }`;
}

/** The document and variables of an operation, with world references resolved. */
export function render(operation: Operation, resolveInWorld: Resolver): { document: string; variables: Record<string, unknown> } {
  const resolve: Resolver = (ref) =>
    ref.key === "focus.message" ? resolveInWorld(new Ref(operation.focus)) : ref.key === "focus.channel" ? resolveInWorld(new Ref(CHANNEL_OF_MESSAGE[operation.focus]!)) : resolveInWorld(ref);
  const definitions: string[] = [];
  const variables: Record<string, unknown> = {};
  const renderArgs = (args: ArgPlan[]) => {
    if (args.length === 0) return "";
    const parts = args.map((arg) => {
      if (arg.inline) return `${arg.name}: ${toLiteral(arg.value, resolve)}`;
      const name = `v${definitions.length}`;
      definitions.push(`$${name}: ${arg.type}`);
      variables[name] = toVariable(arg.value, resolve);
      return `${arg.name}: $${name}`;
    });
    return `(${parts.join(", ")})`;
  };
  const renderSelections = (selections: Selection[]): string => {
    if (selections.length === 0) return "";
    return ` { ${selections.map((s) => ("on" in s ? `... on ${s.on}${renderSelections(s.sub)}` : `${s.alias ? `${s.alias}: ` : ""}${s.field}${renderArgs(s.args)}${renderSelections(s.sub)}`)).join(" ")} }`;
  };
  const body = renderSelections(operation.roots.map((r) => r.selection));
  const header = definitions.length > 0 ? `(${definitions.join(", ")})` : "";
  return { document: `${operation.kind} Fuzz${header}${body}`, variables };
}
