/** A person or a bot. */
export interface UserRecord {
  id: bigint;
  username: string;
  bot: boolean;
  /** Who created this bot; null for people. */
  botOwnerId: bigint | null;
  createdAt: Date;
}

export interface NewUser {
  id: bigint;
  username: string;
  /** Null for bots: they sign in with tokens only. */
  passwordHash: string | null;
  bot: boolean;
  botOwnerId: bigint | null;
}

/** A session as its owner may see it: never the token or its hash. */
export interface SessionRecord {
  /** Public id (a snowflake), what `revokeSession` takes. */
  id: bigint;
  userId: bigint;
  createdAt: Date;
  /** Accurate to about an hour: it is written at most that often per session. */
  lastUsedAt: Date;
  /** Sanitized description of the client that signed in (its User-Agent); null if none was sent. */
  clientHint: string | null;
}

export interface NewSession {
  id: bigint;
  tokenHash: string;
  userId: bigint;
  clientHint: string | null;
  createdAt: Date;
}

/**
 * Which sessions are alive: those last used after `usedAfter` AND created after
 * `createdAfter` (both strictly). The caller derives them from its expiry policy and clock
 * (see resolvers/session-expiry.ts); the store only compares.
 */
export interface SessionCutoffs {
  usedAfter: Date;
  createdAfter: Date;
}

/**
 * Users and their sessions (bearer tokens, stored as hashes).
 *
 * Usernames are unique case-insensitively ("Ada" and "ada" are the same name) and keep the case
 * they were registered with.
 */
export interface AccountStore {
  /**
   * Creates a user. Throws `UniqueViolationError("username")` if the name is taken; then nothing
   * is written.
   */
  createUser(user: NewUser): Promise<UserRecord>;

  /** The user with this username (any case) and their password hash; null if none. */
  findCredentials(username: string): Promise<{ user: UserRecord; passwordHash: string | null } | null>;

  /** The users among `ids` that exist, in no particular order (built for DataLoader batches). */
  getUsers(ids: readonly bigint[]): Promise<UserRecord[]>;

  /** The bots created by `ownerId`, oldest first. */
  listBots(ownerId: bigint): Promise<UserRecord[]>;

  /** How many bots `ownerId` has created (and not deleted). */
  countBots(ownerId: bigint): Promise<number>;

  /**
   * Records a session under the hash of its token. Idempotent by token hash: recording the same
   * token again changes nothing (the first record wins). Its last use starts at `createdAt`.
   */
  createSession(session: NewSession): Promise<void>;

  /** The session with this token hash and its user; null if none (never issued, revoked or deleted as expired). */
  findSession(tokenHash: string): Promise<{ session: SessionRecord; user: UserRecord } | null>;

  /**
   * Records that the session was used at `at`. Never moves the last use backwards (an older
   * `at` changes nothing), so concurrent or repeated calls are harmless. Unknown hashes are ignored.
   */
  touchSession(tokenHash: string, at: Date): Promise<void>;

  /**
   * The user's sessions that are still alive by `alive` (see {@link SessionCutoffs}), most
   * recently used first (ties: newest first), at most `limit` of them.
   */
  listSessions(userId: bigint, alive: SessionCutoffs, limit: number): Promise<SessionRecord[]>;

  /** Revokes one session; true if it existed. Idempotent. */
  deleteSession(tokenHash: string): Promise<boolean>;

  /**
   * Revokes the session with public id `id` if it belongs to `userId`, and returns its token
   * hash (to announce the revocation); null if the user has no such session. Idempotent.
   */
  deleteSessionById(userId: bigint, id: bigint): Promise<string | null>;

  /**
   * Revokes every session of a user (a bot's token reset), or every one but `keepTokenHash`
   * (revoking one's other sessions); returns how many were revoked. Idempotent.
   */
  deleteSessionsOfUser(userId: bigint, keepTokenHash?: string): Promise<number>;

  /** Deletes the user's sessions that are no longer alive by `alive`; returns how many. Idempotent. */
  deleteExpiredSessions(userId: bigint, alive: SessionCutoffs): Promise<number>;

  /**
   * Replaces a person's password hash only if the stored one is still `expected` (compare and
   * set), so that re-hashing an old hash after a login can never undo a password change made
   * meanwhile. True if replaced; false (nothing written) otherwise.
   */
  replacePasswordHash(userId: bigint, expected: string, next: string): Promise<boolean>;

  /**
   * Changes a person's password and revokes every other session, atomically: in one
   * transaction, the hash is replaced if the stored one is still `expected` (compare and set,
   * as in {@link replacePasswordHash}) and then every session of the user but `keepTokenHash` is
   * deleted. Returns how many sessions were revoked, or null if the stored hash was not
   * `expected` (then nothing is written).
   */
  changePassword(userId: bigint, expected: string, next: string, keepTokenHash: string): Promise<number | null>;
}
