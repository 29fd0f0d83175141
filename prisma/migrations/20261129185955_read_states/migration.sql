-- CreateTable
CREATE TABLE "read_states" (
    "user_id" BIGINT NOT NULL,
    "channel_id" BIGINT NOT NULL,
    "last_read_message_id" BIGINT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "read_states_pkey" PRIMARY KEY ("user_id","channel_id")
);

-- CreateTable
CREATE TABLE "mentions" (
    "user_id" BIGINT NOT NULL,
    "channel_id" BIGINT NOT NULL,
    "message_id" BIGINT NOT NULL,

    CONSTRAINT "mentions_pkey" PRIMARY KEY ("user_id","channel_id","message_id")
);

-- CreateIndex
CREATE INDEX "read_states_channel_id_idx" ON "read_states"("channel_id");

-- CreateIndex
CREATE INDEX "mentions_channel_id_message_id_idx" ON "mentions"("channel_id", "message_id");
