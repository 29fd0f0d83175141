import type { PreparedReads, PrismaClient } from "./prisma/database.js";
import { bigintOf, nullableBigintOf } from "./prisma/prepared-reads.js";
import { readBatcher } from "./read-batcher.js";
import { isUniqueViolation } from "./prisma/prisma-errors.js";
import type { AccountStore, NewSession, NewUser, SessionCutoffs, SessionRecord, UserRecord } from "./account-store.js";
import { UniqueViolationError } from "./store-errors.js";

const USER_FIELDS = { id: true, username: true, bot: true, botOwnerId: true, createdAt: true } as const;
const SESSION_FIELDS = { id: true, userId: true, createdAt: true, lastUsedAt: true, clientHint: true } as const;

/** A `users` row as {@link PreparedReads} returns it. */
interface UserRow {
  id: string | bigint;
  username: string;
  bot: boolean;
  bot_owner_id: string | bigint | null;
  created_at: Date;
}
const GET_USERS = "SELECT id, username, bot, bot_owner_id, created_at FROM users WHERE id = ANY($1::bigint[])";

const toUser = (row: UserRow): UserRecord => ({ id: bigintOf(row.id), username: row.username, bot: row.bot, botOwnerId: nullableBigintOf(row.bot_owner_id), createdAt: row.created_at });

/** A session joined with its user, as {@link PreparedReads} returns it. */
interface SessionRow extends UserRow {
  token_hash: string;
  session_id: string | bigint;
  session_created_at: Date;
  last_used_at: Date;
  client_hint: string | null;
}
/** Sessions by token hash, each with its user: every request and socket of a token not cached yet. */
const GET_SESSIONS = `SELECT s.token_hash, s.id AS session_id, s.created_at AS session_created_at, s.last_used_at, s.client_hint,
    u.id, u.username, u.bot, u.bot_owner_id, u.created_at
  FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ANY($1::text[])`;

/**
 * {@link AccountStore} on Postgres through Prisma (embedded PGlite or a real server); `getUsers`,
 * which every page of messages makes for its authors, and `findSession`, which every socket and
 * every request of an uncached token makes, are prepared reads (see prepared-reads.ts).
 */
export class PrismaAccountStore implements AccountStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly reads: PreparedReads,
  ) {}

  async createUser(user: NewUser): Promise<UserRecord> {
    try {
      return await this.prisma.user.create({
        data: { ...user, usernameKey: user.username.toLowerCase() },
        select: USER_FIELDS,
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new UniqueViolationError("username");
      throw error;
    }
  }

  async findCredentials(username: string) {
    const row = await this.prisma.user.findUnique({
      where: { usernameKey: username.toLowerCase() },
      select: { ...USER_FIELDS, passwordHash: true },
    });
    if (!row) return null;
    const { passwordHash, ...user } = row;
    return { user, passwordHash };
  }

  async getUsers(ids: readonly bigint[]): Promise<UserRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.reads.rows<UserRow>("users.by-ids", GET_USERS, [ids.map(String)]);
    return rows.map(toUser);
  }

  listBots(ownerId: bigint): Promise<UserRecord[]> {
    return this.prisma.user.findMany({ where: { botOwnerId: ownerId }, orderBy: { id: "asc" }, select: USER_FIELDS });
  }

  countBots(ownerId: bigint): Promise<number> {
    return this.prisma.user.count({ where: { botOwnerId: ownerId } });
  }

  async createSession(session: NewSession): Promise<void> {
    const { id, tokenHash, userId, clientHint, createdAt } = session;
    // One statement: Prisma's upsert with an empty update reads then inserts, and two
    // concurrent calls then both insert (a unique violation on real Postgres).
    await this.prisma.$executeRaw`INSERT INTO sessions (token_hash, id, user_id, client_hint, created_at, last_used_at)
      VALUES (${tokenHash}, ${id}, ${userId}, ${clientHint}, ${createdAt}, ${createdAt}) ON CONFLICT (token_hash) DO NOTHING`;
  }

  /** Concurrent lookups (a connect storm) are answered by one query per turn of the event loop. */
  findSession(tokenHash: string): Promise<{ session: SessionRecord; user: UserRecord } | null> {
    return this.sessionsByToken(tokenHash);
  }

  private readonly sessionsByToken = readBatcher(
    async (tokenHashes: string[]) => {
      const rows = await this.reads.rows<SessionRow>("sessions.by-token", GET_SESSIONS, [tokenHashes]);
      return new Map(
        rows.map((row) => {
          const user = toUser(row);
          const session: SessionRecord = { id: bigintOf(row.session_id), userId: user.id, createdAt: row.session_created_at, lastUsedAt: row.last_used_at, clientHint: row.client_hint };
          return [row.token_hash, { session, user }];
        }),
      );
    },
    () => null,
  );

  async touchSession(tokenHash: string, at: Date): Promise<void> {
    await this.prisma.session.updateMany({ where: { tokenHash, lastUsedAt: { lt: at } }, data: { lastUsedAt: at } });
  }

  listSessions(userId: bigint, alive: SessionCutoffs, limit: number): Promise<SessionRecord[]> {
    return this.prisma.session.findMany({
      where: { userId, ...aliveWhere(alive) },
      orderBy: [{ lastUsedAt: "desc" }, { id: "desc" }],
      take: limit,
      select: SESSION_FIELDS,
    });
  }

  async deleteSession(tokenHash: string): Promise<boolean> {
    const { count } = await this.prisma.session.deleteMany({ where: { tokenHash } });
    return count > 0;
  }

  async deleteSessionById(userId: bigint, id: bigint): Promise<string | null> {
    // One statement, so the hash returned is exactly the row this call deleted.
    const rows = await this.prisma.$queryRaw<{ token_hash: string }[]>`DELETE FROM sessions WHERE id = ${id} AND user_id = ${userId} RETURNING token_hash`;
    return rows[0]?.token_hash ?? null;
  }

  async deleteSessionsOfUser(userId: bigint, keepTokenHash?: string): Promise<number> {
    const { count } = await this.prisma.session.deleteMany({ where: { userId, ...(keepTokenHash === undefined ? {} : { tokenHash: { not: keepTokenHash } }) } });
    return count;
  }

  async deleteExpiredSessions(userId: bigint, alive: SessionCutoffs): Promise<number> {
    const { count } = await this.prisma.session.deleteMany({
      where: { userId, OR: [{ lastUsedAt: { lte: alive.usedAfter } }, { createdAt: { lte: alive.createdAfter } }] },
    });
    return count;
  }

  async replacePasswordHash(userId: bigint, expected: string, next: string): Promise<boolean> {
    const { count } = await this.prisma.user.updateMany({ where: { id: userId, passwordHash: expected }, data: { passwordHash: next } });
    return count > 0;
  }

  changePassword(userId: bigint, expected: string, next: string, keepTokenHash: string): Promise<number | null> {
    return this.prisma.$transaction(async (tx) => {
      // The conditional update locks the user's row, so two changes cannot both pass the check.
      const { count: changed } = await tx.user.updateMany({ where: { id: userId, passwordHash: expected }, data: { passwordHash: next } });
      if (changed === 0) return null;
      const { count } = await tx.session.deleteMany({ where: { userId, tokenHash: { not: keepTokenHash } } });
      return count;
    });
  }
}

/** Sessions alive by the cutoffs (see {@link SessionCutoffs}). */
function aliveWhere(alive: SessionCutoffs) {
  return { lastUsedAt: { gt: alive.usedAfter }, createdAt: { gt: alive.createdAfter } };
}
