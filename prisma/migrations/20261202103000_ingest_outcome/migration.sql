-- CreateTable
CREATE TABLE "ingest_outcome" (
    "project_id" INTEGER NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "outcome" TEXT NOT NULL,
    "reason" TEXT NOT NULL DEFAULT '',
    "quantity" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "ingest_outcome_pkey" PRIMARY KEY ("project_id","bucket","outcome","reason")
);

-- CreateIndex
CREATE INDEX "ingest_outcome_bucket_idx" ON "ingest_outcome"("bucket");

-- Keep the items dropped so far (hour buckets), then drop the table they were kept in.
INSERT INTO "ingest_outcome" ("project_id", "bucket", "outcome", "reason", "quantity")
SELECT "project_id", "bucket", 'dropped', "reason", "count" FROM "rejected_item";

-- DropTable
DROP TABLE "rejected_item";
