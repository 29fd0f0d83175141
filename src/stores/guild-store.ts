import type { AuditActor } from "./audit-log-store.js";
import type { ChannelRecord } from "./channel-store.js";

export interface GuildRecord {
  id: bigint;
  name: string;
  ownerId: bigint;
  /** Exact: maintained in the same transaction as each membership change. */
  memberCount: number;
  createdAt: Date;
}

export interface MemberRecord {
  guildId: bigint;
  userId: bigint;
  joinedAt: Date;
}

/** Which members {@link GuildStore.listMembers} returns: a range of user ids, read from one end. */
export interface MemberPageQuery {
  /** Only members whose user id is > afterUserId. */
  afterUserId?: bigint | null;
  /** Only members whose user id is < beforeUserId. */
  beforeUserId?: bigint | null;
  /** At most this many. */
  limit: number;
  /**
   * "first" (the default): the lowest user ids in range, ascending (paging forward).
   * "last": the highest user ids in range, descending (paging backward).
   */
  from?: "first" | "last";
}

export interface InviteRecord {
  code: string;
  guildId: bigint;
  inviterId: bigint;
  /** Null: unlimited. */
  maxUses: number | null;
  uses: number;
  /** Null: never expires. */
  expiresAt: Date | null;
  createdAt: Date;
}

/** A user barred from a guild until unbanned. */
export interface BanRecord {
  guildId: bigint;
  userId: bigint;
  /** Who banned them; null if unknown. */
  moderatorId: bigint | null;
  reason: string | null;
  createdAt: Date;
}

/** A member timed out: they may read, not send, until `until`. */
export interface TimeoutRecord {
  guildId: bigint;
  userId: bigint;
  until: Date;
  moderatorId: bigint | null;
  reason: string | null;
}

/** Outcome of {@link GuildStore.redeemInvite}. */
export type RedeemResult =
  | { status: "joined"; guild: GuildRecord; member: MemberRecord }
  | { status: "already-member"; guild: GuildRecord }
  | { status: "unknown" | "expired" | "exhausted" }
  /** The user is banned from the guild. */
  | { status: "banned" }
  /** The user already belongs to `maxGuildsPerUser` guilds. */
  | { status: "guild-limit"; limit: number };

/** What GuildStore.createGuild makes: the guild, its first channel and, implicitly, @everyone. */
export interface NewGuild {
  id: bigint;
  name: string;
  ownerId: bigint;
  firstChannel: { id: bigint; name: string };
  maxGuildsPerUser?: number;
  everyonePermissions?: bigint;
}

/**
 * Guilds, memberships, invites, bans and timeouts.
 *
 * Audit: the governance writes take an optional {@link AuditActor} and, given one, record their
 * own audit entry (what changed, before and after) in the same transaction, only when they
 * changed something. Without one they record nothing (system writes, store tests).
 */
export interface GuildStore {
  /**
   * Creates a guild owned by `ownerId`, makes the owner its first member and creates its first
   * text channel, and its @everyone role (id = the guild's id, position 0, with
   * `everyonePermissions`, by default what every member could do before roles existed), all or
   * nothing. With `maxGuildsPerUser`, an owner who already belongs to that
   * many guilds gets none: `LimitReachedError("guildsPerUser")`, nothing written. Memberships
   * of one user are counted and added one transaction at a time (here and in
   * {@link redeemInvite}), so concurrent creates and joins cannot pass the cap together.
   */
  createGuild(input: NewGuild): Promise<{ guild: GuildRecord; channel: ChannelRecord }>;

  /** The guilds among `ids` that exist, in no particular order. */
  getGuilds(ids: readonly bigint[]): Promise<GuildRecord[]>;

  /** Renames a guild; null if it does not exist. Audited as GUILD_UPDATE (name) when the name changed. */
  renameGuild(id: bigint, name: string, audit?: AuditActor): Promise<GuildRecord | null>;

  /**
   * Deletes a guild with its memberships, channels and invites; returns the ids of the deleted
   * channels (so their message history can be dropped), or null if the guild did not exist.
   */
  deleteGuild(id: bigint): Promise<{ channelIds: bigint[] } | null>;

  /** The membership of `userId` in `guildId`, or null. */
  getMember(guildId: bigint, userId: bigint): Promise<MemberRecord | null>;

  /** Ids of the guilds `userId` belongs to, oldest membership first. */
  listGuildIdsOfUser(userId: bigint): Promise<bigint[]>;

  /**
   * The guilds `userId` belongs to with their member counts, oldest membership first, in one
   * read (what presence needs on every connect: where to announce, and which guilds are large).
   */
  listGuildSizesOfUser(userId: bigint): Promise<{ guildId: bigint; memberCount: number }[]>;

  /**
   * Those of `userIds` who share at least one guild with `userId` (`userId` itself included if
   * listed and a member of any guild), in no particular order. One query, whatever the guild sizes.
   */
  filterGuildmates(userId: bigint, userIds: readonly bigint[]): Promise<bigint[]>;

  /** Members by user id within the bounds of `page`, read from the end it names; see {@link MemberPageQuery}. */
  listMembers(guildId: bigint, page: MemberPageQuery): Promise<MemberRecord[]>;

  /**
   * Stores a new invite. The code is chosen by the caller and must be unique. A guild that does
   * not exist (deleted since the caller checked it) gets none: `MissingReferenceError("guild")`.
   */
  createInvite(invite: Omit<InviteRecord, "uses" | "createdAt">, audit?: AuditActor): Promise<InviteRecord>;

  /** A guild's invites, newest first, strictly older than `beforeCode`'s invite when given; at most `limit`. Expired and used-up ones included. */
  listInvites(guildId: bigint, page: { beforeCreatedAt: Date | null; beforeCode: string | null; limit: number }): Promise<InviteRecord[]>;

  /** One invite by code, or null. */
  getInvite(code: string): Promise<InviteRecord | null>;

  /** Deletes an invite of `guildId`; false if it has no such invite (idempotent). Audited as INVITE_DELETE. */
  revokeInvite(guildId: bigint, code: string, audit?: AuditActor): Promise<boolean>;

  /**
   * Joins `userId` to the invite's guild, atomically: checks expiry (against `now`), the user's
   * guild count (with `options.maxGuildsPerUser`, serialised per user as in {@link createGuild})
   * and max uses, counts the use, adds the membership and bumps the member count. Using an
   * invite for a guild one already belongs to changes nothing and does not count as a use;
   * neither does a refusal.
   */
  redeemInvite(code: string, userId: bigint, now: Date, options?: { maxGuildsPerUser?: number }): Promise<RedeemResult>;

  /**
   * Bans a user from a guild, in one transaction under the guild row's lock: writes the ban and,
   * if they were a member, removes the membership (with its roles) and decrements the member
   * count. Joins take the same lock before they commit (see {@link redeemInvite}), so a join
   * racing a ban either lands first and is removed by it, or is refused as "banned". Banning a
   * banned user changes nothing and returns the ban that stands (idempotent). Null if there is
   * no such guild or no such user (nothing written). Audited as MEMBER_BAN_ADD (a new ban only).
   */
  banMember(input: { guildId: bigint; userId: bigint; moderatorId: bigint; reason: string | null }, audit?: AuditActor): Promise<{ ban: BanRecord; removedMember: boolean; guild: GuildRecord } | null>;

  /** Lifts a ban; false if there was none. Audited as MEMBER_BAN_REMOVE. */
  unbanMember(guildId: bigint, userId: bigint, audit?: AuditActor): Promise<boolean>;

  /**
   * Times a member out until `until` (replacing any timeout they had), or lifts their timeout
   * (`until` null, or not after `now`). Only a current member can be timed out; the timeout then stays through
   * leaving and rejoining until it passes. "not-member" (nothing written) if `userId` is not a
   * member and `until` is not null. Audited as MEMBER_UPDATE (communication_disabled_until),
   * only when it changed. Idempotent.
   */
  setMemberTimeout(input: { guildId: bigint; userId: bigint; until: Date | null; moderatorId: bigint; reason: string | null; now: Date }, audit?: AuditActor): Promise<{ timeout: TimeoutRecord | null } | "not-member">;

  /** A guild's bans ordered by user id, strictly after `afterUserId` when given; at most `limit`. */
  listBans(guildId: bigint, page: { afterUserId: bigint | null; limit: number }): Promise<BanRecord[]>;

  /**
   * Makes `toUserId` the owner of a guild owned by `fromUserId`, if they are a member: one
   * conditional write, so two transfers racing cannot both succeed. Null (nothing written) if the
   * guild is gone, is no longer owned by `fromUserId`, or `toUserId` is not a member.
   */
  transferOwnership(guildId: bigint, fromUserId: bigint, toUserId: bigint, audit?: AuditActor): Promise<GuildRecord | null>;

  /**
   * Removes a membership and decrements the member count; false if there was none. With an
   * actor (a kick), audited as MEMBER_KICK; a member leaving is not audited.
   */
  removeMember(guildId: bigint, userId: bigint, audit?: AuditActor): Promise<boolean>;
}
