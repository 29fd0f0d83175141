import { PrismaAccountStore } from "../../src/stores/account-store.prisma.js";
import { PrismaAuditLogStore } from "../../src/stores/audit-log-store.prisma.js";
import { PrismaChannelStore } from "../../src/stores/channel-store.prisma.js";
import { PrismaGuildStore } from "../../src/stores/guild-store.prisma.js";
import type { Database } from "../../src/stores/prisma/database.js";
import { openTestPglite, openTestPostgres } from "../support/databases.js";
import { requireService, TEST_POSTGRES_URL } from "../support/services.js";
import { guildStoreContract, type GuildStoreFixture } from "./guild-store.contract.js";

/** The Prisma adapters on a fresh database from `open`, closed (and dropped) after the suite. */
const prisma = (open: () => Promise<Database>) => async (): Promise<GuildStoreFixture> => {
  const db = await open();
  return {
    accounts: new PrismaAccountStore(db.prisma, db.reads),
    guilds: new PrismaGuildStore(db.prisma, db.reads),
    channels: new PrismaChannelStore(db.prisma, db.reads),
    auditLog: new PrismaAuditLogStore(db.prisma),
    inviteUses: async (code) => (await db.prisma.invite.findUnique({ where: { code } }))?.uses ?? null,
    timeoutsInForce: async (guildId) => {
      const rows = await db.prisma.$queryRaw<{ user_id: bigint; until: Date }[]>`
        SELECT user_id, until FROM member_timeouts WHERE guild_id = ${guildId} AND until > now()`;
      return new Map(rows.map((r) => [BigInt(r.user_id), r.until]));
    },
    close: () => db.close(),
  };
};
const postgres = { available: () => requireService("Postgres", TEST_POSTGRES_URL) };

guildStoreContract("Prisma on PGlite", prisma(openTestPglite));
guildStoreContract("Prisma on Postgres", prisma(openTestPostgres), postgres);
