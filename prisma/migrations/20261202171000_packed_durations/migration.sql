-- Durations packed (issue 14, storage): one `session_duration` row per bucket holds all of that
-- bucket's value counts, instead of one row per value (docs/design.md § The metric store). Each
-- row's header and primary-key entry is paid once per bucket, not once per distinct duration.
-- `value_counts` is a sequence of 16-byte pairs, the value (float8, big-endian as float8send)
-- then its count (int8, as int8send), sorted by value; src/metrics/duration-counts.ts reads it.

-- CreateTable
CREATE TABLE "session_duration_packed" (
    "project_id" INTEGER NOT NULL,
    "release_id" INTEGER NOT NULL,
    "environment_id" INTEGER NOT NULL,
    "granularity" INTEGER NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "value_counts" BYTEA NOT NULL
);

-- The value counts stored so far, packed per bucket (in key order: the index below is built once).
INSERT INTO "session_duration_packed"
SELECT "project_id", "release_id", "environment_id", "granularity", "bucket",
       string_agg(float8send("value") || int8send("count"), ''::bytea ORDER BY "value")
FROM "session_duration"
WHERE "count" <> 0
GROUP BY "project_id", "release_id", "granularity", "bucket", "environment_id"
ORDER BY "project_id", "release_id", "granularity", "bucket", "environment_id";

-- DropTable
DROP TABLE "session_duration";

ALTER TABLE "session_duration_packed" RENAME TO "session_duration";

-- AddPrimaryKey
ALTER TABLE "session_duration" ADD CONSTRAINT "session_duration_pkey" PRIMARY KEY ("project_id","release_id","granularity","bucket","environment_id");

-- CreateIndex
CREATE INDEX "session_duration_project_id_granularity_bucket_idx" ON "session_duration"("project_id", "granularity", "bucket");
