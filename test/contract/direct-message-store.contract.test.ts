import { PrismaAccountStore } from "../../src/stores/account-store.prisma.js";
import { PrismaChannelStore } from "../../src/stores/channel-store.prisma.js";
import { PrismaDirectMessageStore } from "../../src/stores/direct-message-store.prisma.js";
import type { Database } from "../../src/stores/prisma/database.js";
import { openTestPglite, openTestPostgres } from "../support/databases.js";
import { requireService, TEST_POSTGRES_URL } from "../support/services.js";
import { directMessageStoreContract, type DirectMessageStoreFixture } from "./direct-message-store.contract.js";

/** The Prisma adapters on a fresh database from `open`, closed (and dropped) after the suite. */
const prisma = (open: () => Promise<Database>) => async (): Promise<DirectMessageStoreFixture> => {
  const db = await open();
  return {
    accounts: new PrismaAccountStore(db.prisma, db.reads),
    channels: new PrismaChannelStore(db.prisma, db.reads),
    directMessages: new PrismaDirectMessageStore(db.prisma),
    close: () => db.close(),
  };
};
const postgres = { available: () => requireService("Postgres", TEST_POSTGRES_URL) };

directMessageStoreContract("Prisma on PGlite", prisma(openTestPglite));
directMessageStoreContract("Prisma on Postgres", prisma(openTestPostgres), postgres);
