-- CreateTable
CREATE TABLE "session_state" (
    "project_id" INTEGER NOT NULL,
    "sid" UUID NOT NULL,
    "release_id" INTEGER NOT NULL,
    "environment_id" INTEGER NOT NULL,
    "started" TIMESTAMPTZ(3) NOT NULL,
    "user_hash" BIGINT,
    "init_seen" BOOLEAN NOT NULL DEFAULT false,
    "errored" BOOLEAN NOT NULL DEFAULT false,
    "crashed" BOOLEAN NOT NULL DEFAULT false,
    "abnormal" BOOLEAN NOT NULL DEFAULT false,
    "unhandled" BOOLEAN NOT NULL DEFAULT false,
    "last_seq" BIGINT,
    "last_timestamp" TIMESTAMPTZ(3),
    "last_status" TEXT,
    "duration" DOUBLE PRECISION,

    CONSTRAINT "session_state_pkey" PRIMARY KEY ("project_id","sid")
);

-- CreateTable
CREATE TABLE "session_counter" (
    "project_id" INTEGER NOT NULL,
    "release_id" INTEGER NOT NULL,
    "environment_id" INTEGER NOT NULL,
    "granularity" INTEGER NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "sessions" INTEGER NOT NULL DEFAULT 0,
    "errored_all" INTEGER NOT NULL DEFAULT 0,
    "crashed" INTEGER NOT NULL DEFAULT 0,
    "abnormal" INTEGER NOT NULL DEFAULT 0,
    "unhandled" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "session_counter_pkey" PRIMARY KEY ("project_id","release_id","environment_id","granularity","bucket")
);

-- CreateTable
CREATE TABLE "session_users" (
    "project_id" INTEGER NOT NULL,
    "release_id" INTEGER NOT NULL,
    "environment_id" INTEGER NOT NULL,
    "granularity" INTEGER NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "user_hash" BIGINT NOT NULL,
    "errored" BOOLEAN NOT NULL DEFAULT false,
    "crashed" BOOLEAN NOT NULL DEFAULT false,
    "abnormal" BOOLEAN NOT NULL DEFAULT false,
    "unhandled" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "session_users_pkey" PRIMARY KEY ("project_id","release_id","environment_id","granularity","bucket","user_hash")
);

-- CreateTable
CREATE TABLE "session_duration" (
    "project_id" INTEGER NOT NULL,
    "release_id" INTEGER NOT NULL,
    "environment_id" INTEGER NOT NULL,
    "granularity" INTEGER NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "session_duration_pkey" PRIMARY KEY ("project_id","release_id","environment_id","granularity","bucket","value")
);

-- CreateTable
CREATE TABLE "aggregate_receipt" (
    "project_id" INTEGER NOT NULL,
    "digest" TEXT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "aggregate_receipt_pkey" PRIMARY KEY ("project_id","digest")
);

-- CreateTable
CREATE TABLE "rejected_item" (
    "project_id" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "rejected_item_pkey" PRIMARY KEY ("project_id","reason","bucket")
);

-- CreateTable
CREATE TABLE "release_environment" (
    "project_id" INTEGER NOT NULL,
    "release_id" INTEGER NOT NULL,
    "environment_id" INTEGER NOT NULL,
    "adopted_at" TIMESTAMPTZ(3),
    "unadopted_at" TIMESTAMPTZ(3),

    CONSTRAINT "release_environment_pkey" PRIMARY KEY ("project_id","release_id","environment_id")
);

-- CreateIndex
CREATE INDEX "session_state_started_idx" ON "session_state"("started");

-- CreateIndex
CREATE INDEX "session_counter_project_id_granularity_bucket_idx" ON "session_counter"("project_id", "granularity", "bucket");

-- CreateIndex
CREATE INDEX "session_users_project_id_granularity_bucket_idx" ON "session_users"("project_id", "granularity", "bucket");

-- CreateIndex
CREATE INDEX "aggregate_receipt_received_at_idx" ON "aggregate_receipt"("received_at");
