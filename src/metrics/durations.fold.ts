import type { Database, SqlSession } from '../db/client.ts';
import { GRANULARITIES } from './metric-store.ts';

// Folds the duration deltas ingest appends (minute buckets) into `session_duration` at every
// granularity. One statement moves a batch: it deletes the deltas and adds them to the value
// counts, so a read's snapshot sees each delta either unfolded or folded, never both or neither.
// Several folders (one per process) may run at once: SKIP LOCKED gives each its own deltas, and
// counts are upserted in key order, so folds do not deadlock; ingest never writes these rows.

/** Deltas folded per statement (up to three upserts each): under the bench, tens of thousands arrive per 5 s. */
export const DURATION_DELTA_BATCH = 20_000;
const BATCH = DURATION_DELTA_BATCH;

/** Folds one batch; resolves with how many deltas it folded (0: none left to take). */
export async function foldDurationDeltas(session: SqlSession, batch = BATCH): Promise<number> {
  const [result] = await session.query<{ folded: number }>(
    `/* foldDurationDeltas */
     WITH moved AS (
       DELETE FROM session_duration_delta WHERE id IN (
         SELECT id FROM session_duration_delta ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING project_id, release_id, environment_id, bucket, value, count
     ), written AS (
       INSERT INTO session_duration AS d (project_id, release_id, environment_id, granularity,
         bucket, value, count)
       SELECT m.project_id, m.release_id, m.environment_id, g.granularity,
              date_bin(make_interval(secs => g.granularity), m.bucket, timestamptz 'epoch'),
              m.value, sum(m.count)
       FROM moved m CROSS JOIN unnest($2::int[]) AS g(granularity)
       GROUP BY 1, 2, 3, 4, 5, 6
       HAVING sum(m.count) <> 0
       ORDER BY 1, 2, 3, 4, 5, 6
       ON CONFLICT (project_id, release_id, environment_id, granularity, bucket, value)
       DO UPDATE SET count = d.count + EXCLUDED.count
     )
     SELECT count(*)::int AS folded FROM moved`,
    [batch, GRANULARITIES],
  );
  return result?.folded ?? 0;
}

/** Folds every duration delta there is now (tests and the bench; ingest folds on its own). */
export async function foldAllDurationDeltas(db: Database, batch = BATCH): Promise<void> {
  await db.withSession(async (session) => {
    while ((await foldDurationDeltas(session, batch)) > 0) {}
  });
}
