import { PrismaAccountStore } from "../../src/stores/account-store.prisma.js";
import { PrismaChannelStore } from "../../src/stores/channel-store.prisma.js";
import { PrismaGuildStore } from "../../src/stores/guild-store.prisma.js";
import type { Database } from "../../src/stores/prisma/database.js";
import { openTestPglite, openTestPostgres } from "../support/databases.js";
import { requireService, TEST_POSTGRES_URL } from "../support/services.js";
import { channelStoreContract, type ChannelStoreFixture } from "./channel-store.contract.js";

/** The Prisma adapters on a fresh database from `open`, closed (and dropped) after the suite. */
const prisma = (open: () => Promise<Database>) => async (): Promise<ChannelStoreFixture> => {
  const db = await open();
  return {
    accounts: new PrismaAccountStore(db.prisma, db.reads),
    guilds: new PrismaGuildStore(db.prisma, db.reads),
    channels: new PrismaChannelStore(db.prisma, db.reads),
    close: () => db.close(),
  };
};
const postgres = { available: () => requireService("Postgres", TEST_POSTGRES_URL) };

channelStoreContract("Prisma on PGlite", prisma(openTestPglite));
channelStoreContract("Prisma on Postgres", prisma(openTestPostgres), postgres);
