/** One side of a relationship, as its user sees it (Discord's relationship types). */
export type RelationshipKind = "FRIEND" | "INCOMING" | "OUTGOING" | "BLOCKED";

/** Who may open a DM with a user, and send into an existing one (`me.settings.allowDirectMessagesFrom`). */
export type DirectMessagePolicy = "EVERYONE" | "GUILD_MEMBERS" | "FRIENDS";

/** The policy of users who never chose one: friends and people they share a guild with. */
export const DEFAULT_DIRECT_MESSAGE_POLICY: DirectMessagePolicy = "GUILD_MEMBERS";

/** A user's relationship with another user, keyed by the other user's id. */
export interface RelationshipRecord {
  userId: bigint;
  otherId: bigint;
  kind: RelationshipKind;
  /** When it took this kind: the request, the friendship, the block. */
  since: Date;
}

/** One side of a pair: its kind and since when; null when that user has no relationship with the other. */
export type RelationshipSide = { kind: RelationshipKind; since: Date } | null;

/**
 * Both sides of a pair, from the point of view of the user who acts (`mine`) and of the other
 * (`theirs`). Consistent pairs only: FRIEND/FRIEND, OUTGOING/INCOMING, BLOCKED/(none or BLOCKED),
 * none/none.
 */
export interface PairState {
  mine: RelationshipSide;
  theirs: RelationshipSide;
}

/** The caps a write is checked against, atomically with it (see resolvers/resource-caps.ts). */
export interface RelationshipLimits {
  /** Friends a user may have. */
  maxFriends: number;
  /** Pending friend requests a user may have sent, and, separately, may have received. */
  maxPending: number;
  /** Users one user may have blocked. */
  maxBlocks: number;
}

/** Which cap refused a write, and whose it is (`mine`: the acting user's; `theirs`: the other user's). */
export interface RelationshipLimitRefusal {
  reason: "limit";
  cap: "friendsPerUser" | "pendingFriendRequests" | "blocksPerUser";
  whose: "mine" | "theirs";
  limit: number;
}

/** Why a write changed nothing. */
export type RelationshipRefusal =
  /** A block stands between the two users, in either direction (`before` says which). */
  | { reason: "blocked" }
  | { reason: "already-friends" }
  /** No pending request to accept, decline or withdraw. */
  | { reason: "no-request" }
  | { reason: "not-friends" }
  | { reason: "not-blocked" }
  /** One of the users does not exist (any more). */
  | { reason: "unknown-user" }
  | RelationshipLimitRefusal;

/**
 * The outcome of a write on a pair: what both sides were and are now. `changed` false means the
 * write found the pair already as asked (a repeated request, block or accept) and wrote nothing.
 * A refusal wrote nothing either.
 */
export type RelationshipWrite =
  | { status: "done"; changed: boolean; before: PairState; after: PairState }
  | ({ status: "refused"; before: PairState } & RelationshipRefusal);

/** What decides whether one user may direct-message another (see resolvers/direct-message-rules.ts). */
export interface DirectMessageStanding {
  /** The other user (the DM's other recipient, for a DM channel). */
  otherId: bigint;
  /** Both sides of the pair, from the sender's point of view. */
  pair: PairState;
  /** The other user's `allowDirectMessagesFrom`. */
  policy: DirectMessagePolicy;
  /** Whether the two share at least one guild. */
  sharesGuild: boolean;
}

/** Who hears about a user's presence, beyond their guilds (see resolvers/presence-announcer.ts). */
export interface PresenceCircle {
  /** The user's friends: told on their user topic. */
  friendIds: bigint[];
  /**
   * Users with a block between them and this user, either way, who share a guild with them:
   * they must not get this user's presence from a guild topic. Bounded by the user's guilds
   * (everyone else never hears it anyway).
   */
  hiddenFromIds: bigint[];
}

export interface UserSettingsRecord {
  allowDirectMessagesFrom: DirectMessagePolicy;
}

/**
 * Relationships (friends, friend requests, blocks), and who may reach whom: the DM policy each
 * user chose and the questions DMs and presence ask, each in one read.
 *
 * Every write on a pair is atomic and serialised with every other write involving either user
 * (both users are locked, always in id order, so concurrent writes cannot deadlock), and caps are
 * counted under the same locks, so:
 * - two users sending each other a request at the same time end as friends (the second request
 *   finds the first and accepts it);
 * - accepting a request withdrawn or declined meanwhile creates no friendship (`no-request`);
 * - a block wins over a concurrent accept: whichever runs first, the pair ends blocked and not
 *   friends;
 * - concurrent requests or accepts cannot pass a cap together.
 * Writes are idempotent where repeating them is harmless: a repeated request, accept or block
 * returns `changed: false` and writes nothing.
 */
export interface RelationshipStore {
  /**
   * `userId` asks `otherId` to be friends: a pending request (OUTGOING for them, INCOMING for the
   * other), or, if the other had already asked them, a friendship at once (Discord does the same).
   * Refused when a block stands either way (`blocked`), when they are friends already, and at the
   * caps: the user's friends (no room to accept), the user's sent requests, the other's received
   * requests; and for the accepting path, both users' friends.
   */
  sendFriendRequest(userId: bigint, otherId: bigint, limits: RelationshipLimits): Promise<RelationshipWrite>;

  /**
   * `userId` accepts the request `otherId` sent: both become FRIEND. `no-request` if there is no
   * such request now (withdrawn, declined, or turned into a block meanwhile); `changed: false` if
   * they are friends already. Refused when either user is at the friend cap.
   */
  acceptFriendRequest(userId: bigint, otherId: bigint, limits: RelationshipLimits): Promise<RelationshipWrite>;

  /** Removes a pending request between the two, either way (declining one received, withdrawing one sent); else `no-request`. */
  removeFriendRequest(userId: bigint, otherId: bigint): Promise<RelationshipWrite>;

  /** Ends a friendship, on both sides; else `not-friends`. */
  removeFriend(userId: bigint, otherId: bigint): Promise<RelationshipWrite>;

  /**
   * `userId` blocks `otherId`: the user's side becomes BLOCKED and any friendship or request
   * between them is removed from both sides (the other's own block of the user, if any, stays).
   * `changed: false` if already blocked; refused at the user's block cap.
   */
  block(userId: bigint, otherId: bigint, limits: RelationshipLimits): Promise<RelationshipWrite>;

  /** Lifts `userId`'s block of `otherId` (the other's block, if any, stays); else `not-blocked`. */
  unblock(userId: bigint, otherId: bigint): Promise<RelationshipWrite>;

  /** The user's relationships ordered by the other user's id, strictly after `afterOtherId` when given; at most `limit`. */
  list(userId: bigint, page: { afterOtherId: bigint | null; limit: number }): Promise<RelationshipRecord[]>;

  /** Both sides of the pairs of `userId` with each of `otherIds` (none/none for strangers), in one read. */
  between(userId: bigint, otherIds: readonly bigint[]): Promise<Map<bigint, PairState>>;

  /** The user's friends and the guildmates a block hides their presence from, in one read (every connect and presence change). */
  presenceCircle(userId: bigint): Promise<PresenceCircle>;

  /**
   * What decides whether `userId` may direct-message the other user, in one read: the other user
   * given, or the other recipient of the one-to-one DM `channelId` (null if the channel has no
   * other recipient).
   */
  directMessageStanding(userId: bigint, target: { otherId: bigint } | { channelId: bigint }): Promise<DirectMessageStanding | null>;

  /** The user's settings (defaults when they never changed one). */
  getSettings(userId: bigint): Promise<UserSettingsRecord>;

  /** Changes the user's settings (only the fields given) and returns them all. Idempotent. */
  updateSettings(userId: bigint, patch: Partial<UserSettingsRecord>): Promise<UserSettingsRecord>;
}
