-- Distinct users as sets per bucket instead of one row per (bucket, user) (issue 14): exact up to
-- 4 096 users, a HyperLogLog sketch beyond (docs/design.md § Distinct users). Ingest appends
-- `session_user_delta` rows; Vigil folds them into `session_user_set` (release_id 0: all releases).

-- CreateTable
CREATE TABLE "session_user_set" (
    "project_id" INTEGER NOT NULL,
    "release_id" INTEGER NOT NULL,
    "environment_id" INTEGER NOT NULL,
    "granularity" INTEGER NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "users" BYTEA NOT NULL,
    "version" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "session_user_set_pkey" PRIMARY KEY ("project_id","release_id","granularity","bucket","environment_id")
);

-- CreateTable
CREATE TABLE "session_user_delta" (
    "id" BIGSERIAL NOT NULL,
    "project_id" INTEGER NOT NULL,
    "release_id" INTEGER NOT NULL,
    "environment_id" INTEGER NOT NULL,
    "granularity" INTEGER NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "entries" BYTEA NOT NULL,

    CONSTRAINT "session_user_delta_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "session_user_set_project_id_granularity_bucket_idx" ON "session_user_set"("project_id", "granularity", "bucket");

-- CreateIndex
CREATE INDEX "session_user_delta_project_id_granularity_bucket_idx" ON "session_user_delta"("project_id", "granularity", "bucket");

-- The users stored so far become deltas (hash, then a byte of fact flags); Vigil folds them.
INSERT INTO "session_user_delta" ("project_id", "release_id", "environment_id", "granularity", "bucket", "entries")
SELECT "project_id", "release_id", "environment_id", "granularity", "bucket",
       string_agg(int8send("user_hash") || set_byte('\x00'::bytea, 0,
         "errored"::int | ("crashed"::int << 1) | ("abnormal"::int << 2) | ("unhandled"::int << 3)
         | ("anr"::int << 4) | ("anr_foreground"::int << 5)), ''::bytea)
FROM "session_users"
GROUP BY "project_id", "release_id", "environment_id", "granularity", "bucket";

-- DropTable
DROP TABLE "session_users";
