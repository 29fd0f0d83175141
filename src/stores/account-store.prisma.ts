import type { PrismaClient } from "./prisma/database.js";
import { isUniqueViolation } from "./prisma/prisma-errors.js";
import type { AccountStore, NewUser, UserRecord } from "./account-store.js";
import { UniqueViolationError } from "./store-errors.js";

const USER_FIELDS = { id: true, username: true, bot: true, botOwnerId: true, createdAt: true } as const;

/** {@link AccountStore} on Postgres through Prisma (embedded PGlite or a real server). */
export class PrismaAccountStore implements AccountStore {
  constructor(private readonly prisma: PrismaClient) {}

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

  getUsers(ids: readonly bigint[]): Promise<UserRecord[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.prisma.user.findMany({ where: { id: { in: [...ids] } }, select: USER_FIELDS });
  }

  listBots(ownerId: bigint): Promise<UserRecord[]> {
    return this.prisma.user.findMany({ where: { botOwnerId: ownerId }, orderBy: { id: "asc" }, select: USER_FIELDS });
  }

  async createSession(tokenHash: string, userId: bigint): Promise<void> {
    // One statement: Prisma's upsert with an empty update reads then inserts, and two
    // concurrent calls then both insert (a unique violation on real Postgres).
    await this.prisma.$executeRaw`INSERT INTO sessions (token_hash, user_id) VALUES (${tokenHash}, ${userId}) ON CONFLICT (token_hash) DO NOTHING`;
  }

  async findSessionUser(tokenHash: string): Promise<UserRecord | null> {
    const row = await this.prisma.session.findUnique({ where: { tokenHash }, select: { user: { select: USER_FIELDS } } });
    return row?.user ?? null;
  }

  async deleteSession(tokenHash: string): Promise<boolean> {
    const { count } = await this.prisma.session.deleteMany({ where: { tokenHash } });
    return count > 0;
  }

  async deleteSessionsOfUser(userId: bigint): Promise<number> {
    const { count } = await this.prisma.session.deleteMany({ where: { userId } });
    return count;
  }
}
