/**
 * Permissions as a 64-bit bitset with Discord's documented bit positions, so bot authors and
 * client developers read Concord's numbers the way they read Discord's. Only the flags Concord
 * has features for are defined; the others' bits are never set (a stored value with unknown
 * bits keeps them, but they grant nothing).
 */
export const PERMISSIONS = {
  CREATE_INSTANT_INVITE: 1n << 0n,
  KICK_MEMBERS: 1n << 1n,
  BAN_MEMBERS: 1n << 2n,
  ADMINISTRATOR: 1n << 3n,
  MANAGE_CHANNELS: 1n << 4n,
  MANAGE_GUILD: 1n << 5n,
  VIEW_AUDIT_LOG: 1n << 7n,
  VIEW_CHANNEL: 1n << 10n,
  SEND_MESSAGES: 1n << 11n,
  MANAGE_MESSAGES: 1n << 13n,
  READ_MESSAGE_HISTORY: 1n << 16n,
  MENTION_EVERYONE: 1n << 17n,
  MANAGE_ROLES: 1n << 28n,
  MODERATE_MEMBERS: 1n << 40n,
} as const;

export type PermissionName = keyof typeof PERMISSIONS;

/** The flags in a fixed order (the enum's order in GraphQL, and in lists Concord returns). */
export const PERMISSION_NAMES = Object.keys(PERMISSIONS) as PermissionName[];

/** Every flag Concord defines: what ADMINISTRATOR and the owner have. */
export const ALL_PERMISSIONS: bigint = PERMISSION_NAMES.reduce((set, name) => set | PERMISSIONS[name], 0n);

/**
 * What @everyone of a new guild may do: what every member could do before roles existed (view,
 * read history, send, invite, mention @everyone), Discord's defaults for those flags.
 */
export const DEFAULT_EVERYONE_PERMISSIONS: bigint =
  PERMISSIONS.CREATE_INSTANT_INVITE | PERMISSIONS.VIEW_CHANNEL | PERMISSIONS.SEND_MESSAGES | PERMISSIONS.READ_MESSAGE_HISTORY | PERMISSIONS.MENTION_EVERYONE;

/** Flags that only make sense for a whole guild; channel overwrites cannot grant or deny them. */
export const GUILD_ONLY_PERMISSIONS: bigint =
  PERMISSIONS.KICK_MEMBERS | PERMISSIONS.BAN_MEMBERS | PERMISSIONS.ADMINISTRATOR | PERMISSIONS.MANAGE_GUILD | PERMISSIONS.VIEW_AUDIT_LOG | PERMISSIONS.MODERATE_MEMBERS;

/** The largest value a bitset may have: the flags are the low 63 bits of a signed 64-bit column. */
const MAX_BITS = (1n << 63n) - 1n;

/** True if `set` has every flag of `required`. */
export function has(set: bigint, required: bigint): boolean {
  return (set & required) === required;
}

/** The bitset of a list of flag names. */
export function toBits(names: Iterable<PermissionName>): bigint {
  let bits = 0n;
  for (const name of names) bits |= PERMISSIONS[name];
  return bits;
}

/** The defined flags set in `bits`, in {@link PERMISSION_NAMES} order. */
export function toNames(bits: bigint): PermissionName[] {
  return PERMISSION_NAMES.filter((name) => (bits & PERMISSIONS[name]) !== 0n);
}

/** Keeps only the flags Concord defines (a stored value may carry bits from a later version). */
export function known(bits: bigint): bigint {
  return bits & ALL_PERMISSIONS & MAX_BITS;
}
