-- Durations appended, then folded (issue 14): ingest appends one row per minute bucket and value
-- a transaction moves; Vigil folds them into `session_duration` at every granularity
-- (docs/design.md § Durations: append, then fold). Reads add the rows not folded yet.

-- CreateTable
CREATE TABLE "session_duration_delta" (
    "id" BIGSERIAL NOT NULL,
    "project_id" INTEGER NOT NULL,
    "release_id" INTEGER NOT NULL,
    "environment_id" INTEGER NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "session_duration_delta_pkey" PRIMARY KEY ("id")
);
