-- DropIndex
DROP INDEX "session_state_started_idx";

-- CreateIndex
CREATE INDEX "session_state_started_idx" ON "session_state" USING BRIN ("started");
