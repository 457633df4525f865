-- ANR facts (issue 10): sessions that ended abnormal with abnormal_mechanism anr_foreground or
-- anr_background, per session (state), per bucket (counters) and per user and bucket (users).
-- AlterTable
ALTER TABLE "session_counter" ADD COLUMN     "anr" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "anr_foreground" BIGINT NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "session_state" ADD COLUMN     "anr" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "anr_foreground" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "session_users" ADD COLUMN     "anr" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "anr_foreground" BOOLEAN NOT NULL DEFAULT false;
