-- CreateTable
CREATE TABLE "channel_broad_mentions" (
    "channel_id" BIGINT NOT NULL,
    "message_id" BIGINT NOT NULL,
    "everyone" BOOLEAN NOT NULL DEFAULT false,
    "here" BOOLEAN NOT NULL DEFAULT false,
    "role_ids" BIGINT[] DEFAULT ARRAY[]::BIGINT[],

    CONSTRAINT "channel_broad_mentions_pkey" PRIMARY KEY ("channel_id","message_id")
);
