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

  /** Records a session for `userId` under the hash of its token. Idempotent. */
  createSession(tokenHash: string, userId: bigint): Promise<void>;

  /** The user owning the session with this token hash; null if none or revoked. */
  findSessionUser(tokenHash: string): Promise<UserRecord | null>;

  /** Revokes one session; true if it existed. Idempotent. */
  deleteSession(tokenHash: string): Promise<boolean>;

  /** Revokes every session of a user (e.g. a bot's token reset); returns how many there were. */
  deleteSessionsOfUser(userId: bigint): Promise<number>;
}
