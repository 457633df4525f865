-- Release 0 of session_counter is the sum of every release of the project per bucket and
-- environment (as release 0 of session_user_set is their union): ingest writes it from now on,
-- and this fills it in for the buckets already stored.
INSERT INTO "session_counter" ("project_id", "release_id", "environment_id", "granularity", "bucket",
  "sessions", "errored_all", "crashed", "abnormal", "unhandled", "anr", "anr_foreground")
SELECT "project_id", 0, "environment_id", "granularity", "bucket", sum("sessions"),
       sum("errored_all"), sum("crashed"), sum("abnormal"), sum("unhandled"), sum("anr"),
       sum("anr_foreground")
FROM "session_counter"
WHERE "release_id" <> 0
GROUP BY "project_id", "environment_id", "granularity", "bucket";
