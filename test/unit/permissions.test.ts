import { describe, expect, it } from "vitest";
import { channelPermissions, guildPermissions, highestPosition, timedOutUntil, type GuildAccess, type Overwrite, type RoleRank } from "../../src/permissions/compute.js";
import {
  ALL_PERMISSIONS,
  DEFAULT_EVERYONE_PERMISSIONS,
  GUILD_ONLY_PERMISSIONS,
  has,
  known,
  PERMISSION_NAMES,
  PERMISSIONS,
  toBits,
  toNames,
  type PermissionName,
} from "../../src/permissions/permission-set.js";

/**
 * compute.ts against Discord's documented model (developers/docs/topics/permissions, "Permission
 * Hierarchy" and compute_base_permissions / compute_overwrites):
 *   base = @everyone | every role; owner or ADMINISTRATOR → everything (overwrites never apply);
 *   then @everyone's overwrite, all role overwrites together (denies, then allows), the member's;
 *   no VIEW_CHANNEL → nothing; no SEND_MESSAGES → no MENTION_EVERYONE.
 */

const GUILD = 1000n; // also @everyone's role id
const OWNER = 1n;
const USER = 2n;
const OTHER = 3n;
const CHANNEL = 5000n;
const OTHER_CHANNEL = 5001n;
const MOD = 2001n;
const MUTED = 2002n;
const HELPER = 2003n;
const ADMIN = 2004n;
const GONE = 2999n; // a role id the guild no longer has

const bits = (...names: PermissionName[]) => toBits(names);
const { VIEW_CHANNEL, SEND_MESSAGES, READ_MESSAGE_HISTORY, MENTION_EVERYONE, MANAGE_MESSAGES, KICK_MEMBERS, BAN_MEMBERS, ADMINISTRATOR, MANAGE_CHANNELS } = PERMISSIONS;
const role = (id: bigint, permissions: bigint, position: number): [bigint, RoleRank] => [id, { permissions, position }];
const roleOverwrite = (targetId: bigint, allow: bigint, deny: bigint): Overwrite => ({ targetKind: "ROLE", targetId, allow, deny });
const memberOverwrite = (targetId: bigint, allow: bigint, deny: bigint): Overwrite => ({ targetKind: "MEMBER", targetId, allow, deny });

/** A guild: @everyone with `everyone`, MOD/MUTED/HELPER/ADMIN roles, and the given overwrites on CHANNEL. */
function guild(options: { everyone?: bigint; overwrites?: Overwrite[]; roles?: [bigint, RoleRank][]; timeouts?: [bigint, number][] } = {}): GuildAccess {
  return {
    guildId: GUILD,
    ownerId: OWNER,
    roles: new Map([
      role(GUILD, options.everyone ?? DEFAULT_EVERYONE_PERMISSIONS, 0),
      role(HELPER, MANAGE_MESSAGES, 1),
      role(MUTED, 0n, 2),
      role(MOD, KICK_MEMBERS | BAN_MEMBERS | MANAGE_MESSAGES, 3),
      role(ADMIN, ADMINISTRATOR, 4),
      ...(options.roles ?? []),
    ]),
    channels: new Map(),
    overwrites: new Map([[CHANNEL, options.overwrites ?? []]]),
    timeouts: new Map(options.timeouts ?? []),
  };
}

const DEFAULT = DEFAULT_EVERYONE_PERMISSIONS;
const DEFAULT_NAMES = toNames(DEFAULT);

describe("permission-set", () => {
  it("uses Discord's documented bit values", () => {
    const discord: Record<PermissionName, bigint> = {
      CREATE_INSTANT_INVITE: 0x1n,
      KICK_MEMBERS: 0x2n,
      BAN_MEMBERS: 0x4n,
      ADMINISTRATOR: 0x8n,
      MANAGE_CHANNELS: 0x10n,
      MANAGE_GUILD: 0x20n,
      VIEW_AUDIT_LOG: 0x80n,
      VIEW_CHANNEL: 0x400n,
      SEND_MESSAGES: 0x800n,
      MANAGE_MESSAGES: 0x2000n,
      READ_MESSAGE_HISTORY: 0x10000n,
      MENTION_EVERYONE: 0x20000n,
      MANAGE_ROLES: 0x10000000n,
      MODERATE_MEMBERS: 0x10000000000n,
    };
    expect(PERMISSIONS).toEqual(discord);
    expect(PERMISSIONS.VIEW_CHANNEL).toBe(1024n);
    expect(PERMISSIONS.ADMINISTRATOR).toBe(8n);
    expect(PERMISSIONS.MANAGE_ROLES).toBe(268435456n);
    expect(PERMISSIONS.MODERATE_MEMBERS).toBe(1099511627776n);
  });

  it("ALL_PERMISSIONS is every defined flag; the defaults and guild-only sets are the documented ones", () => {
    expect(toNames(ALL_PERMISSIONS)).toEqual(PERMISSION_NAMES);
    expect(ALL_PERMISSIONS).toBe(PERMISSION_NAMES.reduce((set, name) => set | PERMISSIONS[name], 0n));
    // The value the roles migration gives existing guilds' @everyone.
    expect(DEFAULT_EVERYONE_PERMISSIONS).toBe(199681n);
    expect(toNames(DEFAULT_EVERYONE_PERMISSIONS).sort()).toEqual(
      ["CREATE_INSTANT_INVITE", "VIEW_CHANNEL", "SEND_MESSAGES", "READ_MESSAGE_HISTORY", "MENTION_EVERYONE"].sort(),
    );
    expect(toNames(GUILD_ONLY_PERMISSIONS).sort()).toEqual(
      ["KICK_MEMBERS", "BAN_MEMBERS", "ADMINISTRATOR", "MANAGE_GUILD", "VIEW_AUDIT_LOG", "MODERATE_MEMBERS"].sort(),
    );
  });

  it("toBits and toNames round-trip every subset, names in PERMISSION_NAMES order", () => {
    expect(toBits([])).toBe(0n);
    expect(toNames(0n)).toEqual([]);
    for (const name of PERMISSION_NAMES) {
      expect(toNames(toBits([name]))).toEqual([name]);
    }
    // A few mixed subsets, given out of order and with a duplicate.
    const subsets: PermissionName[][] = [
      ["SEND_MESSAGES", "VIEW_CHANNEL"],
      ["MODERATE_MEMBERS", "CREATE_INSTANT_INVITE", "MANAGE_ROLES", "MODERATE_MEMBERS"],
      [...PERMISSION_NAMES].reverse(),
    ];
    for (const subset of subsets) {
      const set = toBits(subset);
      expect(toNames(set)).toEqual(PERMISSION_NAMES.filter((n) => subset.includes(n)));
      expect(toBits(toNames(set))).toBe(set);
    }
  });

  it("toNames ignores bits Concord does not define", () => {
    const unknown = (1n << 6n) | (1n << 12n) | (1n << 45n) | (1n << 62n);
    expect(toNames(unknown)).toEqual([]);
    expect(toNames(unknown | VIEW_CHANNEL)).toEqual(["VIEW_CHANNEL"]);
  });

  it("known drops undefined bits and anything above bit 62, keeps defined ones", () => {
    const unknown = (1n << 6n) | (1n << 12n) | (1n << 45n) | (1n << 62n);
    expect(known(unknown)).toBe(0n);
    expect(known(unknown | VIEW_CHANNEL | PERMISSIONS.MODERATE_MEMBERS)).toBe(VIEW_CHANNEL | PERMISSIONS.MODERATE_MEMBERS);
    expect(known(ALL_PERMISSIONS)).toBe(ALL_PERMISSIONS);
    expect(known((1n << 63n) - 1n)).toBe(ALL_PERMISSIONS);
    expect(known(1n << 63n)).toBe(0n);
    expect(known(0n)).toBe(0n);
  });

  it("has is true only when every required flag is set", () => {
    expect(has(VIEW_CHANNEL | SEND_MESSAGES, VIEW_CHANNEL)).toBe(true);
    expect(has(VIEW_CHANNEL | SEND_MESSAGES, VIEW_CHANNEL | SEND_MESSAGES)).toBe(true);
    expect(has(VIEW_CHANNEL, VIEW_CHANNEL | SEND_MESSAGES)).toBe(false);
    expect(has(0n, 0n)).toBe(true);
  });
});

interface Case {
  name: string;
  access: GuildAccess;
  userId?: bigint;
  roleIds?: bigint[];
  /** Guild-level permissions expected (names, any order). */
  guild: PermissionName[];
  /** Permissions expected in CHANNEL. */
  channel: PermissionName[];
}

const cases: Case[] = [
  // Base permissions.
  { name: "a plain member has @everyone's permissions", access: guild(), guild: DEFAULT_NAMES, channel: DEFAULT_NAMES },
  {
    name: "roles add to @everyone (their union)",
    access: guild(),
    roleIds: [HELPER, MOD],
    guild: [...DEFAULT_NAMES, "MANAGE_MESSAGES", "KICK_MEMBERS", "BAN_MEMBERS"],
    channel: [...DEFAULT_NAMES, "MANAGE_MESSAGES", "KICK_MEMBERS", "BAN_MEMBERS"],
  },
  {
    name: "a role with no permissions adds nothing",
    access: guild(),
    roleIds: [MUTED],
    guild: DEFAULT_NAMES,
    channel: DEFAULT_NAMES,
  },
  {
    name: "role ids the guild no longer has are ignored",
    access: guild(),
    roleIds: [GONE, HELPER],
    guild: [...DEFAULT_NAMES, "MANAGE_MESSAGES"],
    channel: [...DEFAULT_NAMES, "MANAGE_MESSAGES"],
  },
  {
    name: "the owner has everything, whatever @everyone and the overwrites say",
    access: guild({ everyone: 0n, overwrites: [roleOverwrite(GUILD, 0n, ALL_PERMISSIONS), memberOverwrite(OWNER, 0n, ALL_PERMISSIONS)] }),
    userId: OWNER,
    roleIds: [],
    guild: PERMISSION_NAMES,
    channel: PERMISSION_NAMES,
  },
  {
    name: "ADMINISTRATOR through a role gives everything; overwrites do not apply",
    access: guild({ overwrites: [roleOverwrite(GUILD, 0n, VIEW_CHANNEL), roleOverwrite(ADMIN, 0n, ALL_PERMISSIONS), memberOverwrite(USER, 0n, VIEW_CHANNEL)] }),
    roleIds: [ADMIN],
    guild: PERMISSION_NAMES,
    channel: PERMISSION_NAMES,
  },
  {
    name: "ADMINISTRATOR on @everyone makes every member an administrator",
    access: guild({ everyone: ADMINISTRATOR, overwrites: [roleOverwrite(GUILD, 0n, VIEW_CHANNEL)] }),
    guild: PERMISSION_NAMES,
    channel: PERMISSION_NAMES,
  },
  {
    name: "an ADMINISTRATOR allow in an overwrite grants nothing (guild-only flag)",
    access: guild({ overwrites: [roleOverwrite(GUILD, ADMINISTRATOR, 0n), memberOverwrite(USER, ADMINISTRATOR | KICK_MEMBERS, 0n)] }),
    guild: DEFAULT_NAMES,
    channel: DEFAULT_NAMES,
  },
  // The @everyone overwrite.
  {
    name: "@everyone overwrite denies SEND_MESSAGES (and so MENTION_EVERYONE)",
    access: guild({ overwrites: [roleOverwrite(GUILD, 0n, SEND_MESSAGES)] }),
    guild: DEFAULT_NAMES,
    channel: ["CREATE_INSTANT_INVITE", "VIEW_CHANNEL", "READ_MESSAGE_HISTORY"],
  },
  {
    name: "@everyone overwrite allows MANAGE_MESSAGES",
    access: guild({ overwrites: [roleOverwrite(GUILD, MANAGE_MESSAGES, 0n)] }),
    guild: DEFAULT_NAMES,
    channel: [...DEFAULT_NAMES, "MANAGE_MESSAGES"],
  },
  {
    name: "@everyone overwrite denying VIEW_CHANNEL hides the channel: nothing at all",
    access: guild({ overwrites: [roleOverwrite(GUILD, 0n, VIEW_CHANNEL)] }),
    roleIds: [MOD],
    guild: [...DEFAULT_NAMES, "KICK_MEMBERS", "BAN_MEMBERS", "MANAGE_MESSAGES"],
    channel: [],
  },
  // Role overwrites.
  {
    name: "a role overwrite re-allows what @everyone's overwrite denied (a private channel for a role)",
    access: guild({ overwrites: [roleOverwrite(GUILD, 0n, VIEW_CHANNEL), roleOverwrite(MOD, VIEW_CHANNEL, 0n)] }),
    roleIds: [MOD],
    guild: [...DEFAULT_NAMES, "KICK_MEMBERS", "BAN_MEMBERS", "MANAGE_MESSAGES"],
    channel: [...DEFAULT_NAMES, "KICK_MEMBERS", "BAN_MEMBERS", "MANAGE_MESSAGES"],
  },
  {
    name: "the private channel stays hidden from members without that role",
    access: guild({ overwrites: [roleOverwrite(GUILD, 0n, VIEW_CHANNEL), roleOverwrite(MOD, VIEW_CHANNEL, 0n)] }),
    roleIds: [HELPER],
    guild: [...DEFAULT_NAMES, "MANAGE_MESSAGES"],
    channel: [],
  },
  {
    name: "a role overwrite denies what @everyone's overwrite allowed",
    access: guild({ overwrites: [roleOverwrite(GUILD, MANAGE_MESSAGES, 0n), roleOverwrite(MUTED, 0n, SEND_MESSAGES | MANAGE_MESSAGES)] }),
    roleIds: [MUTED],
    guild: DEFAULT_NAMES,
    channel: ["CREATE_INSTANT_INVITE", "VIEW_CHANNEL", "READ_MESSAGE_HISTORY"],
  },
  {
    name: "role overwrites combine: one role's deny and another's allow of the same flag → allowed",
    access: guild({ overwrites: [roleOverwrite(MUTED, 0n, SEND_MESSAGES), roleOverwrite(HELPER, SEND_MESSAGES, 0n)] }),
    roleIds: [MUTED, HELPER],
    guild: [...DEFAULT_NAMES, "MANAGE_MESSAGES"],
    channel: [...DEFAULT_NAMES, "MANAGE_MESSAGES"],
  },
  {
    name: "role overwrites combine regardless of role position or order (allow still wins)",
    access: guild({ overwrites: [roleOverwrite(HELPER, SEND_MESSAGES, 0n), roleOverwrite(MOD, 0n, SEND_MESSAGES)] }),
    roleIds: [MOD, HELPER],
    guild: [...DEFAULT_NAMES, "KICK_MEMBERS", "BAN_MEMBERS", "MANAGE_MESSAGES"],
    channel: [...DEFAULT_NAMES, "KICK_MEMBERS", "BAN_MEMBERS", "MANAGE_MESSAGES"],
  },
  {
    name: "role overwrites of roles the member does not have do not apply",
    access: guild({ overwrites: [roleOverwrite(MUTED, 0n, SEND_MESSAGES), roleOverwrite(MOD, MANAGE_CHANNELS, 0n)] }),
    roleIds: [HELPER],
    guild: [...DEFAULT_NAMES, "MANAGE_MESSAGES"],
    channel: [...DEFAULT_NAMES, "MANAGE_MESSAGES"],
  },
  {
    name: "a role overwrite's guild-only flags are ignored, allow and deny",
    access: guild({ overwrites: [roleOverwrite(MOD, PERMISSIONS.MANAGE_GUILD | PERMISSIONS.VIEW_AUDIT_LOG, KICK_MEMBERS | BAN_MEMBERS)] }),
    roleIds: [MOD],
    guild: [...DEFAULT_NAMES, "KICK_MEMBERS", "BAN_MEMBERS", "MANAGE_MESSAGES"],
    channel: [...DEFAULT_NAMES, "KICK_MEMBERS", "BAN_MEMBERS", "MANAGE_MESSAGES"],
  },
  // Member overwrites.
  {
    name: "the member overwrite beats a role overwrite (deny after a role's allow)",
    access: guild({ overwrites: [roleOverwrite(HELPER, MANAGE_CHANNELS, 0n), memberOverwrite(USER, 0n, MANAGE_CHANNELS | SEND_MESSAGES)] }),
    roleIds: [HELPER],
    guild: [...DEFAULT_NAMES, "MANAGE_MESSAGES"],
    channel: ["CREATE_INSTANT_INVITE", "VIEW_CHANNEL", "READ_MESSAGE_HISTORY", "MANAGE_MESSAGES"],
  },
  {
    name: "the member overwrite beats a role overwrite (allow after a role's deny)",
    access: guild({ overwrites: [roleOverwrite(GUILD, 0n, VIEW_CHANNEL), roleOverwrite(MUTED, 0n, VIEW_CHANNEL | SEND_MESSAGES), memberOverwrite(USER, VIEW_CHANNEL | SEND_MESSAGES, 0n)] }),
    roleIds: [MUTED],
    guild: DEFAULT_NAMES,
    channel: DEFAULT_NAMES,
  },
  {
    name: "another member's overwrite does not apply",
    access: guild({ overwrites: [memberOverwrite(OTHER, 0n, VIEW_CHANNEL)] }),
    guild: DEFAULT_NAMES,
    channel: DEFAULT_NAMES,
  },
  {
    name: "a member overwrite's guild-only flags are ignored",
    access: guild({ overwrites: [memberOverwrite(USER, KICK_MEMBERS | PERMISSIONS.MODERATE_MEMBERS, 0n)] }),
    guild: DEFAULT_NAMES,
    channel: DEFAULT_NAMES,
  },
  {
    name: "a member overwrite cannot take a guild-only flag the member's roles give",
    access: guild({ overwrites: [memberOverwrite(USER, 0n, KICK_MEMBERS | BAN_MEMBERS | MANAGE_MESSAGES)] }),
    roleIds: [MOD],
    guild: [...DEFAULT_NAMES, "KICK_MEMBERS", "BAN_MEMBERS", "MANAGE_MESSAGES"],
    channel: [...DEFAULT_NAMES, "KICK_MEMBERS", "BAN_MEMBERS"],
  },
  {
    name: "a MEMBER overwrite whose target id equals a role id the member has is not a role overwrite",
    access: guild({ overwrites: [memberOverwrite(HELPER, 0n, VIEW_CHANNEL)] }),
    roleIds: [HELPER],
    guild: [...DEFAULT_NAMES, "MANAGE_MESSAGES"],
    channel: [...DEFAULT_NAMES, "MANAGE_MESSAGES"],
  },
  {
    name: "a ROLE overwrite whose target id equals the user's id is not a member overwrite",
    access: guild({ overwrites: [roleOverwrite(USER, 0n, VIEW_CHANNEL)] }),
    guild: DEFAULT_NAMES,
    channel: DEFAULT_NAMES,
  },
  // Implicit denials.
  {
    name: "no VIEW_CHANNEL in the guild: nothing in any channel, even what roles give",
    access: guild({ everyone: SEND_MESSAGES | READ_MESSAGE_HISTORY }),
    roleIds: [HELPER],
    guild: ["SEND_MESSAGES", "READ_MESSAGE_HISTORY", "MANAGE_MESSAGES"],
    channel: [],
  },
  {
    name: "a member overwrite denying VIEW_CHANNEL takes everything, even an allow in the same overwrite",
    access: guild({ overwrites: [memberOverwrite(USER, MANAGE_CHANNELS | SEND_MESSAGES, VIEW_CHANNEL)] }),
    roleIds: [HELPER],
    guild: [...DEFAULT_NAMES, "MANAGE_MESSAGES"],
    channel: [],
  },
  {
    name: "MENTION_EVERYONE without SEND_MESSAGES is denied implicitly",
    access: guild({ everyone: VIEW_CHANNEL | MENTION_EVERYONE | READ_MESSAGE_HISTORY }),
    guild: ["VIEW_CHANNEL", "READ_MESSAGE_HISTORY", "MENTION_EVERYONE"],
    channel: ["VIEW_CHANNEL", "READ_MESSAGE_HISTORY"],
  },
  {
    name: "MENTION_EVERYONE allowed by an overwrite while SEND_MESSAGES is denied is still denied",
    access: guild({ overwrites: [memberOverwrite(USER, MENTION_EVERYONE, SEND_MESSAGES)] }),
    guild: DEFAULT_NAMES,
    channel: ["CREATE_INSTANT_INVITE", "VIEW_CHANNEL", "READ_MESSAGE_HISTORY"],
  },
  {
    name: "an overwrite can grant VIEW_CHANNEL that the guild level lacks",
    access: guild({ everyone: SEND_MESSAGES, overwrites: [roleOverwrite(HELPER, VIEW_CHANNEL, 0n)] }),
    roleIds: [HELPER],
    guild: ["SEND_MESSAGES", "MANAGE_MESSAGES"],
    channel: ["VIEW_CHANNEL", "SEND_MESSAGES", "MANAGE_MESSAGES"],
  },
  // Unknown bits.
  {
    name: "bits Concord does not define, in roles or overwrites, are never reported",
    access: guild({ everyone: DEFAULT | (1n << 6n) | (1n << 50n), overwrites: [roleOverwrite(GUILD, (1n << 12n) | (1n << 62n), 0n)] }),
    guild: DEFAULT_NAMES,
    channel: DEFAULT_NAMES,
  },
];

const sorted = (names: readonly PermissionName[]) => [...new Set(names)].sort();

describe("guildPermissions and channelPermissions (Discord's hierarchy)", () => {
  it.each(cases)("$name", ({ access, userId = USER, roleIds = [], guild: expectedGuild, channel: expectedChannel }) => {
    const guildBits = guildPermissions(access, userId, roleIds);
    expect(sorted(toNames(guildBits))).toEqual(sorted(expectedGuild));
    expect(known(guildBits)).toBe(guildBits);
    const channelBits = channelPermissions(access, userId, roleIds, CHANNEL);
    expect(sorted(toNames(channelBits))).toEqual(sorted(expectedChannel));
    expect(known(channelBits)).toBe(channelBits);
  });

  it("a channel without overwrites gets the guild-level permissions (with the implicit denials)", () => {
    const access = guild({ overwrites: [roleOverwrite(GUILD, 0n, VIEW_CHANNEL)] });
    expect(channelPermissions(access, USER, [MOD], OTHER_CHANNEL)).toBe(guildPermissions(access, USER, [MOD]));
    expect(channelPermissions(access, USER, [MOD], CHANNEL)).toBe(0n);
    // An empty list is the same as none.
    const empty: GuildAccess = { ...access, overwrites: new Map([[CHANNEL, []]]) };
    expect(channelPermissions(empty, USER, [MOD], CHANNEL)).toBe(guildPermissions(access, USER, [MOD]));
  });

  it("overwrites of one channel do not leak into another", () => {
    const access: GuildAccess = {
      ...guild(),
      overwrites: new Map([
        [CHANNEL, [roleOverwrite(GUILD, 0n, VIEW_CHANNEL)]],
        [OTHER_CHANNEL, [memberOverwrite(USER, MANAGE_CHANNELS, 0n)]],
      ]),
    };
    expect(channelPermissions(access, USER, [], CHANNEL)).toBe(0n);
    expect(channelPermissions(access, USER, [], OTHER_CHANNEL)).toBe(DEFAULT | MANAGE_CHANNELS);
  });

  it("applies in Discord's order: @everyone, then roles, then member (each later step wins)", () => {
    // Each step flips the previous one's decision on SEND_MESSAGES.
    const steps: [Overwrite[], boolean][] = [
      [[roleOverwrite(GUILD, 0n, SEND_MESSAGES)], false],
      [[roleOverwrite(GUILD, 0n, SEND_MESSAGES), roleOverwrite(HELPER, SEND_MESSAGES, 0n)], true],
      [[roleOverwrite(GUILD, 0n, SEND_MESSAGES), roleOverwrite(HELPER, SEND_MESSAGES, 0n), memberOverwrite(USER, 0n, SEND_MESSAGES)], false],
      [[roleOverwrite(GUILD, SEND_MESSAGES, 0n), roleOverwrite(HELPER, 0n, SEND_MESSAGES), memberOverwrite(USER, SEND_MESSAGES, 0n)], true],
    ];
    for (const [overwrites, canSend] of steps) {
      // The overwrites' order in the list does not matter, only their kind.
      for (const list of [overwrites, [...overwrites].reverse()]) {
        const result = channelPermissions(guild({ everyone: VIEW_CHANNEL | SEND_MESSAGES, overwrites: list }), USER, [HELPER], CHANNEL);
        expect(has(result, SEND_MESSAGES), JSON.stringify(list, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).toBe(canSend);
      }
    }
  });

  it("within one overwrite, allow wins over deny of the same flag (deny applied first)", () => {
    const access = guild({ overwrites: [memberOverwrite(USER, MANAGE_CHANNELS, MANAGE_CHANNELS)] });
    expect(has(channelPermissions(access, USER, [], CHANNEL), MANAGE_CHANNELS)).toBe(true);
  });

  it("a guild with no @everyone role (never stored so) gives members only their roles", () => {
    const access: GuildAccess = { guildId: GUILD, ownerId: OWNER, roles: new Map([role(HELPER, VIEW_CHANNEL, 1)]), channels: new Map(), overwrites: new Map(), timeouts: new Map() };
    expect(guildPermissions(access, USER, [])).toBe(0n);
    expect(guildPermissions(access, USER, [HELPER])).toBe(VIEW_CHANNEL);
  });
});

describe("timeouts", () => {
  const NOW = 1_000_000;
  const until = NOW + 60_000;

  it("a timed-out member keeps only VIEW_CHANNEL and READ_MESSAGE_HISTORY, in the guild and in every channel", () => {
    const access = guild({ timeouts: [[USER, until]], overwrites: [memberOverwrite(USER, SEND_MESSAGES | MANAGE_MESSAGES, 0n)] });
    expect(guildPermissions(access, USER, [MOD], NOW)).toBe(VIEW_CHANNEL | READ_MESSAGE_HISTORY);
    // A member overwrite allowing SEND_MESSAGES does not lift the timeout.
    expect(channelPermissions(access, USER, [MOD], CHANNEL, NOW)).toBe(VIEW_CHANNEL | READ_MESSAGE_HISTORY);
  });

  it("ends on time, without anyone touching the cache", () => {
    const access = guild({ timeouts: [[USER, until]] });
    expect(has(channelPermissions(access, USER, [], CHANNEL, until - 1), SEND_MESSAGES)).toBe(false);
    expect(has(channelPermissions(access, USER, [], CHANNEL, until), SEND_MESSAGES)).toBe(true);
    expect(timedOutUntil(access, USER, until - 1)).toBe(until);
    expect(timedOutUntil(access, USER, until)).toBeNull();
  });

  it("does not hide a channel the member could not see anyway, nor touch the owner or administrators", () => {
    const hidden = guild({ timeouts: [[USER, until]], overwrites: [memberOverwrite(USER, 0n, VIEW_CHANNEL)] });
    expect(channelPermissions(hidden, USER, [], CHANNEL, NOW)).toBe(0n);
    const access = guild({ timeouts: [[OWNER, until], [USER, until]] });
    expect(guildPermissions(access, OWNER, [], NOW)).toBe(ALL_PERMISSIONS);
    expect(guildPermissions(access, USER, [ADMIN], NOW)).toBe(ALL_PERMISSIONS);
    expect(guildPermissions(access, OTHER, [], NOW)).toBe(guildPermissions(guild(), OTHER, [], NOW));
  });
});

describe("highestPosition", () => {
  const access = guild();
  it.each([
    { name: "only @everyone", roleIds: [] as bigint[], expected: 0 },
    { name: "@everyone listed explicitly", roleIds: [GUILD], expected: 0 },
    { name: "one role", roleIds: [HELPER], expected: 1 },
    { name: "the highest of several, in any order", roleIds: [HELPER, MOD, MUTED], expected: 3 },
    { name: "deleted role ids ignored", roleIds: [GONE, MUTED], expected: 2 },
    { name: "only deleted role ids", roleIds: [GONE], expected: 0 },
  ])("$name → $expected", ({ roleIds, expected }) => {
    expect(highestPosition(access, USER, roleIds)).toBe(expected);
  });

  it("the owner stands above every role, whatever roles they hold", () => {
    expect(highestPosition(access, OWNER, [])).toBe(Number.POSITIVE_INFINITY);
    expect(highestPosition(access, OWNER, [ADMIN])).toBeGreaterThan(highestPosition(access, USER, [ADMIN]));
  });

  it("an administrator still ranks by position (ADMINISTRATOR does not lift the hierarchy)", () => {
    expect(highestPosition(access, USER, [ADMIN])).toBe(4);
  });
});
