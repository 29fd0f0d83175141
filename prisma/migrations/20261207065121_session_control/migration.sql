-- Sessions get a public id, a last-used time and a client hint (sessions you control, issue #9).

-- DropIndex
DROP INDEX "sessions_user_id_idx";

-- AlterTable: added nullable first so existing rows can be filled in below.
ALTER TABLE "sessions" ADD COLUMN     "client_hint" TEXT,
ADD COLUMN     "id" BIGINT,
ADD COLUMN     "last_used_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- Existing sessions: ids shaped like snowflakes (src/ids/snowflake.ts) made from created_at, so
-- they sort by creation time like every other id. The 42 high bits are the milliseconds since
-- the Concord epoch (2025-01-01, 1735689600000 ms; earlier rows count from 0); the 22 low bits,
-- where the app puts worker id and sequence, number the rows that share a millisecond (ties
-- ordered by token hash), so ids are unique for up to 4,194,304 sessions per millisecond. New
-- sessions are created after this runs, with later timestamps, so they cannot collide.
-- They were last seen when created: a session idle since then expires as it would have.
UPDATE "sessions" AS s
SET "id" = numbered.id, "last_used_at" = s."created_at"
FROM (
    SELECT "token_hash",
           (ms << 22) | (row_number() OVER (PARTITION BY ms ORDER BY "token_hash") - 1) AS id
    FROM (
        SELECT "token_hash",
               GREATEST(0, floor(extract(epoch FROM "created_at") * 1000)::bigint - 1735689600000) AS ms
        FROM "sessions"
    ) AS timed
) AS numbered
WHERE s."token_hash" = numbered."token_hash";

ALTER TABLE "sessions" ALTER COLUMN "id" SET NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "sessions_id_key" ON "sessions"("id");

-- CreateIndex
CREATE INDEX "sessions_user_id_last_used_at_idx" ON "sessions"("user_id", "last_used_at");
