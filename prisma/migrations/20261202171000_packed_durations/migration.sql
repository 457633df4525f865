-- Durations packed (issue 14, storage): one `session_duration` row per bucket holds all of that
-- bucket's value counts, instead of one row per value (docs/design.md § The metric store). Each
-- row's header and primary-key entry is paid once per bucket, not once per distinct duration.
-- `value_counts` is a sequence of 16-byte pairs, the value (float8, big-endian as float8send)
-- then its count (int8, as int8send), sorted by value; src/metrics/duration-counts.ts reads it.

-- The rows stored one per value move aside, with their index names, until converted below.
ALTER TABLE "session_duration" RENAME TO "session_duration_by_value";
ALTER TABLE "session_duration_by_value" RENAME CONSTRAINT "session_duration_pkey" TO "session_duration_by_value_pkey";
DROP INDEX "session_duration_project_id_granularity_bucket_idx";

-- CreateTable
CREATE TABLE "session_duration" (
    "project_id" INTEGER NOT NULL,
    "release_id" INTEGER NOT NULL,
    "environment_id" INTEGER NOT NULL,
    "granularity" INTEGER NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "value_counts" BYTEA NOT NULL
);

-- Packed per bucket, zero counts left out; in key order, so the indexes below are built once.
INSERT INTO "session_duration"
SELECT "project_id", "release_id", "environment_id", "granularity", "bucket",
       string_agg(float8send("value") || int8send("count"), ''::bytea ORDER BY "value")
FROM "session_duration_by_value"
WHERE "count" <> 0
GROUP BY "project_id", "release_id", "granularity", "bucket", "environment_id"
ORDER BY "project_id", "release_id", "granularity", "bucket", "environment_id";

-- DropTable
DROP TABLE "session_duration_by_value";

-- AddPrimaryKey
ALTER TABLE "session_duration" ADD CONSTRAINT "session_duration_pkey" PRIMARY KEY ("project_id","release_id","granularity","bucket","environment_id");

-- CreateIndex
CREATE INDEX "session_duration_project_id_granularity_bucket_idx" ON "session_duration"("project_id", "granularity", "bucket");
