-- Release 0's all-environments user sets (environment_id 0), which folds now keep beside each
-- environment's (src/metrics/user-sets.fold.ts) and project-wide reads over every environment
-- use. Sets are self-delimiting, so the environments' sets concatenated read as their union:
-- each bucket starts as that, and the next fold that touches it writes it as one set.
INSERT INTO "session_user_set" ("project_id", "release_id", "granularity", "bucket", "environment_id", "users", "version")
SELECT "project_id", 0, "granularity", "bucket", 0, string_agg("users", ''::bytea ORDER BY "environment_id"), 0
FROM "session_user_set"
WHERE "release_id" = 0 AND "environment_id" <> 0
GROUP BY "project_id", "granularity", "bucket"
ON CONFLICT DO NOTHING;
