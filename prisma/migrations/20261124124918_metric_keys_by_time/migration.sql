-- AlterTable
ALTER TABLE "session_counter" DROP CONSTRAINT "session_counter_pkey",
ADD CONSTRAINT "session_counter_pkey" PRIMARY KEY ("project_id", "release_id", "granularity", "bucket", "environment_id");

-- AlterTable
ALTER TABLE "session_duration" DROP CONSTRAINT "session_duration_pkey",
ADD CONSTRAINT "session_duration_pkey" PRIMARY KEY ("project_id", "release_id", "granularity", "bucket", "environment_id", "value");

-- AlterTable
ALTER TABLE "session_users" DROP CONSTRAINT "session_users_pkey",
ADD CONSTRAINT "session_users_pkey" PRIMARY KEY ("project_id", "release_id", "granularity", "bucket", "environment_id", "user_hash");
