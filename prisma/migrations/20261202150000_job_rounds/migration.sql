-- CreateTable
CREATE TABLE "job_round" (
    "job" TEXT NOT NULL,
    "round" BIGINT NOT NULL,
    "claimed_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "job_round_pkey" PRIMARY KEY ("job")
);
