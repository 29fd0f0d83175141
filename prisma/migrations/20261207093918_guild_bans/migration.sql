-- CreateTable
CREATE TABLE "bans" (
    "guild_id" BIGINT NOT NULL,
    "user_id" BIGINT NOT NULL,
    "moderator_id" BIGINT,
    "reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "bans_pkey" PRIMARY KEY ("guild_id","user_id")
);

-- AddForeignKey
ALTER TABLE "bans" ADD CONSTRAINT "bans_guild_id_fkey" FOREIGN KEY ("guild_id") REFERENCES "guilds"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "bans" ADD CONSTRAINT "bans_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
