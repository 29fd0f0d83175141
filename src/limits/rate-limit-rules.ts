/**
 * The rate-limit buckets: what each one counts, for whom, and its default budget. Defaults follow
 * the spirit of Discord's public API (per-route buckets, a global per-client limit, 5 messages
 * per 5 s per channel); every one is configurable with `RATE_LIMIT_<SETTING>=<points>/<window>`
 * (e.g. `RATE_LIMIT_SEND_MESSAGE_CHANNEL=5/5s`), and `RATE_LIMITS=off` turns them all off.
 *
 * Windows are whole seconds: the Redis limiter stores them as key expiries in seconds, and the
 * memory limiter must behave the same on the zero-setup start as Redis does on a fleet.
 */

/** Who a bucket counts: a signed-in user (or bot), or the client's IP address when anonymous. */
export type RateLimitScope = "USER" | "IP" | "GLOBAL";

export interface RateLimitRule {
  /** Calls allowed per window. */
  points: number;
  /** Window length in whole seconds, counted from the first call of a window (fixed window). */
  windowSeconds: number;
}

export interface BucketDefinition {
  /** What a call is, in the plural, for refusals ("at most 5 messages in one channel per 5 seconds"). */
  what: string;
  /** The suffix of the environment variable: `RATE_LIMIT_<setting>`. */
  setting: string;
  default: RateLimitRule;
  /** Whether a refusal is an error (the default) or silently absorbed (typing indicators). */
  absorb?: boolean;
  /** What the bucket counts, for the README and error messages. */
  counts: string;
}

/**
 * Every bucket. Names are what clients see in `extensions.bucket` and the `X-RateLimit-Bucket`
 * header; they are stable API.
 */
export const BUCKETS = {
  global: {
    what: "operations",
    setting: "GLOBAL",
    default: { points: 50, windowSeconds: 1 },
    counts: "every operation (HTTP request, WebSocket query or mutation, SSE subscription) per user, or per IP address when anonymous",
  },
  "message.send.channel": {
    what: "messages in one channel",
    setting: "SEND_MESSAGE_CHANNEL",
    default: { points: 5, windowSeconds: 5 },
    counts: "sendMessage per user per channel",
  },
  "message.send.person": {
    what: "messages",
    setting: "SEND_MESSAGE_PERSON",
    default: { points: 10, windowSeconds: 5 },
    counts: "sendMessage per person, all channels together",
  },
  "message.send.bot": {
    what: "messages",
    setting: "SEND_MESSAGE_BOT",
    default: { points: 50, windowSeconds: 1 },
    counts: "sendMessage per bot, all channels together",
  },
  "message.change": {
    what: "edits and deletes",
    setting: "CHANGE_MESSAGE",
    default: { points: 10, windowSeconds: 5 },
    counts: "editMessage and deleteMessage per user",
  },
  "login.ip": {
    what: "sign-in attempts from one address",
    setting: "LOGIN_IP",
    default: { points: 20, windowSeconds: 60 },
    counts: "login attempts per IP address",
  },
  "login.failures": {
    what: "failed sign-ins to one account from one address",
    setting: "LOGIN_FAILURES",
    default: { points: 5, windowSeconds: 900 },
    counts:
      "failed logins per username and IP address: after this many in the window, each further failure blocks the pair for twice as long as the last (5 s, 10 s, 20 s … up to the window)",
  },
  "login.username": {
    what: "failed sign-ins to one account",
    setting: "LOGIN_USERNAME_FAILURES",
    default: { points: 30, windowSeconds: 3600 },
    counts: "failed logins per username from any address (slows a distributed guessing attack; the account's other sessions keep working)",
  },
  register: {
    what: "sign-ups from one address",
    setting: "REGISTER",
    default: { points: 10, windowSeconds: 3600 },
    counts: "register per IP address",
  },
  "bot.create": {
    what: "new bots",
    setting: "CREATE_BOT",
    default: { points: 5, windowSeconds: 3600 },
    counts: "createBot per user",
  },
  "guild.create": {
    what: "new guilds",
    setting: "CREATE_GUILD",
    default: { points: 10, windowSeconds: 3600 },
    counts: "createGuild per user",
  },
  "guild.manage": {
    what: "guild and channel changes",
    setting: "MANAGE_GUILD",
    default: { points: 30, windowSeconds: 60 },
    counts: "updateGuild, deleteGuild, createChannel, updateChannel, deleteChannel and kickMember per user",
  },
  "invite.create": {
    what: "new invites",
    setting: "CREATE_INVITE",
    default: { points: 20, windowSeconds: 600 },
    counts: "createInvite per user",
  },
  "guild.join": {
    what: "guild joins",
    setting: "JOIN_GUILD",
    default: { points: 20, windowSeconds: 600 },
    counts: "joinGuild per user",
  },
  "dm.open": {
    what: "DMs opened",
    setting: "OPEN_DM",
    default: { points: 20, windowSeconds: 600 },
    counts: "openDirectMessage per user",
  },
  "dm.group.daily": {
    what: "new group DMs",
    setting: "GROUP_DM_DAILY",
    default: { points: 20, windowSeconds: 86_400 },
    counts: "group DMs a user may create per day",
  },
  "dm.manage": {
    what: "group DM changes",
    setting: "MANAGE_GROUP_DM",
    default: { points: 30, windowSeconds: 60 },
    counts: "addGroupRecipient, removeGroupRecipient and renameGroupDirectMessage per user",
  },
  "relationship.request": {
    what: "friend requests",
    setting: "FRIEND_REQUEST",
    default: { points: 20, windowSeconds: 600 },
    counts: "sendFriendRequest per user",
  },
  typing: {
    what: "typing notices",
    setting: "TYPING",
    default: { points: 10, windowSeconds: 10 },
    absorb: true,
    counts: "startTyping per user; calls over the budget are absorbed (they succeed and announce nothing)",
  },
  presence: {
    what: "status changes",
    setting: "SET_PRESENCE",
    default: { points: 5, windowSeconds: 20 },
    counts: "setPresence per user",
  },
  "account.secret": {
    what: "password changes and token resets",
    setting: "ACCOUNT_SECRET",
    default: { points: 5, windowSeconds: 3600 },
    counts: "changePassword and resetBotToken per user",
  },
} as const satisfies Record<string, BucketDefinition>;

export type BucketName = keyof typeof BUCKETS;

/** The budgets in force: every bucket's rule, after configuration. */
export type RateLimitRules = Record<BucketName, RateLimitRule>;

/** The default rule of every bucket. */
export function defaultRules(): RateLimitRules {
  return Object.fromEntries(Object.entries(BUCKETS).map(([name, def]) => [name, { ...def.default }])) as RateLimitRules;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/**
 * Parses `<points>/<window>`, the window a number with a unit of s, m, h or d (`5/5s`,
 * `20/1m`, `20/1d`); returns null when malformed or outside 1..1,000,000 points and 1 s..7 d.
 */
export function parseRule(text: string): RateLimitRule | null {
  const match = /^\s*(\d{1,7})\s*\/\s*(\d{1,6})\s*([smhd])\s*$/.exec(text);
  if (!match) return null;
  const points = Number(match[1]);
  const windowSeconds = Number(match[2]) * UNIT_SECONDS[match[3]!]!;
  if (points < 1 || points > 1_000_000 || windowSeconds < 1 || windowSeconds > 7 * 86_400) return null;
  return { points, windowSeconds };
}

/** The written form of a rule, as `parseRule` reads it (for the README and log lines). */
export function formatRule(rule: RateLimitRule): string {
  for (const [unit, seconds] of [["d", 86_400], ["h", 3_600], ["m", 60]] as const) {
    if (rule.windowSeconds % seconds === 0) return `${rule.points}/${rule.windowSeconds / seconds}${unit}`;
  }
  return `${rule.points}/${rule.windowSeconds}s`;
}
