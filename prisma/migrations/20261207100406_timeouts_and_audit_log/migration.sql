-- CreateTable
CREATE TABLE "member_timeouts" (
    "guild_id" BIGINT NOT NULL,
    "user_id" BIGINT NOT NULL,
    "until" TIMESTAMPTZ(3) NOT NULL,
    "moderator_id" BIGINT,
    "reason" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "member_timeouts_pkey" PRIMARY KEY ("guild_id","user_id")
);

-- CreateTable
CREATE TABLE "audit_log_entries" (
    "id" BIGINT NOT NULL,
    "guild_id" BIGINT NOT NULL,
    "actor_id" BIGINT NOT NULL,
    "action" TEXT NOT NULL,
    "target_kind" TEXT NOT NULL,
    "target_id" TEXT NOT NULL,
    "changes" JSONB NOT NULL DEFAULT '[]',
    "reason" TEXT,

    CONSTRAINT "audit_log_entries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "member_timeouts_guild_id_until_idx" ON "member_timeouts"("guild_id", "until");

-- CreateIndex
CREATE INDEX "audit_log_entries_guild_id_id_idx" ON "audit_log_entries"("guild_id", "id");

-- CreateIndex
CREATE INDEX "audit_log_entries_guild_id_actor_id_id_idx" ON "audit_log_entries"("guild_id", "actor_id", "id");

-- AddForeignKey
ALTER TABLE "member_timeouts" ADD CONSTRAINT "member_timeouts_guild_id_fkey" FOREIGN KEY ("guild_id") REFERENCES "guilds"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "member_timeouts" ADD CONSTRAINT "member_timeouts_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_log_entries" ADD CONSTRAINT "audit_log_entries_guild_id_fkey" FOREIGN KEY ("guild_id") REFERENCES "guilds"("id") ON DELETE CASCADE ON UPDATE CASCADE;
