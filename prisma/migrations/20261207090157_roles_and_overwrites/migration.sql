-- CreateEnum
CREATE TYPE "OverwriteTarget" AS ENUM ('ROLE', 'MEMBER');

-- AlterEnum
ALTER TYPE "ChannelKind" ADD VALUE 'GUILD_CATEGORY';

-- AlterTable
ALTER TABLE "channels" ADD COLUMN     "parent_id" BIGINT,
ADD COLUMN     "rate_limit_per_user" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "topic" TEXT;

-- CreateTable
CREATE TABLE "roles" (
    "id" BIGINT NOT NULL,
    "guild_id" BIGINT NOT NULL,
    "name" TEXT NOT NULL,
    "permissions" BIGINT NOT NULL,
    "position" INTEGER NOT NULL,
    "color" INTEGER NOT NULL DEFAULT 0,
    "hoist" BOOLEAN NOT NULL DEFAULT false,
    "mentionable" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "roles_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "member_roles" (
    "guild_id" BIGINT NOT NULL,
    "user_id" BIGINT NOT NULL,
    "role_id" BIGINT NOT NULL,

    CONSTRAINT "member_roles_pkey" PRIMARY KEY ("guild_id","user_id","role_id")
);

-- CreateTable
CREATE TABLE "permission_overwrites" (
    "channel_id" BIGINT NOT NULL,
    "target_kind" "OverwriteTarget" NOT NULL,
    "target_id" BIGINT NOT NULL,
    "allow" BIGINT NOT NULL DEFAULT 0,
    "deny" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "permission_overwrites_pkey" PRIMARY KEY ("channel_id","target_kind","target_id")
);

-- CreateIndex
CREATE INDEX "roles_guild_id_position_idx" ON "roles"("guild_id", "position");

-- CreateIndex
CREATE INDEX "member_roles_role_id_idx" ON "member_roles"("role_id");

-- AddForeignKey
ALTER TABLE "roles" ADD CONSTRAINT "roles_guild_id_fkey" FOREIGN KEY ("guild_id") REFERENCES "guilds"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "member_roles" ADD CONSTRAINT "member_roles_guild_id_user_id_fkey" FOREIGN KEY ("guild_id", "user_id") REFERENCES "members"("guild_id", "user_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "member_roles" ADD CONSTRAINT "member_roles_role_id_fkey" FOREIGN KEY ("role_id") REFERENCES "roles"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "permission_overwrites" ADD CONSTRAINT "permission_overwrites_channel_id_fkey" FOREIGN KEY ("channel_id") REFERENCES "channels"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Every guild has @everyone: its id is the guild's id, its position 0. Existing guilds get it
-- with what members could do before roles existed: view channels, read history, send messages,
-- create invites and mention @everyone (CREATE_INSTANT_INVITE 1 | VIEW_CHANNEL 1024 |
-- SEND_MESSAGES 2048 | READ_MESSAGE_HISTORY 65536 | MENTION_EVERYONE 131072 = 199681).
INSERT INTO "roles" ("id", "guild_id", "name", "permissions", "position")
SELECT "id", "id", '@everyone', 199681, 0 FROM "guilds"
ON CONFLICT ("id") DO NOTHING;
