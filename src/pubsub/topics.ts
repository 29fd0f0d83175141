/**
 * Typed topic names. A topic is a string on the wire (a Redis channel name), but code only
 * builds them here, so a typo cannot silently subscribe to nothing.
 */
export type Topic = `channel:${string}` | `guild:${string}` | `user:${string}` | "revocations" | "permissions";

export const topics = {
  /** Messages of one channel, and its deletion. */
  channel: (channelId: bigint): Topic => `channel:${channelId}`,
  /** Structure and membership of one guild. */
  guild: (guildId: bigint): Topic => `guild:${guildId}`,
  /** What concerns one user on every session: joins, leaves, kicks, new DMs, revoked tokens. */
  user: (userId: bigint): Topic => `user:${userId}`,
  /** Every revoked session of the fleet (SessionRevoked), for each instance's credential cache. */
  revocations: "revocations" as Topic,
  /** Every permission change of the fleet (PermissionsChanged), for each instance's permission cache. */
  permissions: "permissions" as Topic,
};
