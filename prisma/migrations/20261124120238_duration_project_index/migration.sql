-- CreateIndex
CREATE INDEX "session_duration_project_id_granularity_bucket_idx" ON "session_duration"("project_id", "granularity", "bucket");
