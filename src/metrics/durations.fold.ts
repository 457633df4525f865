import type { Database, SqlSession } from '../db/client.ts';
import { PAIR_BYTES, packPairSql } from './duration-counts.ts';
import { GRANULARITIES } from './metric-store.ts';

// Folds the duration deltas ingest appends (minute buckets) into `session_duration` at every
// granularity. One statement moves a batch: it deletes the deltas and merges them into each
// bucket's packed value counts (src/metrics/duration-counts.ts), so a read's snapshot sees each
// delta either unfolded or folded, never both or neither. Several folders (one per process) may
// run at once: SKIP LOCKED gives each its own deltas, the upsert locks each bucket's row while it
// merges, and rows are upserted in key order, so folds do not deadlock; ingest never writes them.

/**
 * Deltas folded per statement (up to three upserts each). Each statement merges every hour and day
 * row its deltas touch, at about 3 µs a stored pair: under the bench about 45,000 deltas arrive per
 * 5 s, and at 20,000 a batch the same large rows were merged three times a round.
 */
export const DURATION_DELTA_BATCH = 100_000;
const BATCH = DURATION_DELTA_BATCH;

/** Reads the int8 count of the pair starting at byte `at` (1-based) of `bytes`, in plain SQL. */
const countAt = (bytes: string, at: string) =>
  `('x' || encode(substr(${bytes}, ${at} + 8, 8), 'hex'))::bit(64)::int8`;

/**
 * A stored row's pairs merged with the batch's: counts of equal values add up, a value whose
 * count reaches zero is dropped. Plain SQL (PGlite has no extensions); the value's bytes are
 * compared, never decoded, which orders them as the values since none is negative. `|| ''`
 * decompresses a large (TOASTed) row once: each `substr` of it would otherwise decompress it
 * again (a 1 682-pair row merged in 5.4 ms instead of 0.4 ms).
 */
const MERGE = `(
  SELECT coalesce(string_agg(p.value || int8send(p.count), ''::bytea ORDER BY p.value), ''::bytea)
  FROM (
    SELECT substr(x.bytes, i, 8) AS value, sum(${countAt('x.bytes', 'i')})::int8 AS count
    FROM (VALUES (d.value_counts || ''::bytea), (EXCLUDED.value_counts)) AS x(bytes)
    CROSS JOIN generate_series(1, length(x.bytes), ${PAIR_BYTES}) AS i
    GROUP BY 1
  ) p
  WHERE p.count <> 0)`;

/** Folds one batch; resolves with how many deltas it folded (0: none left to take). */
export async function foldDurationDeltas(session: SqlSession, batch = BATCH): Promise<number> {
  const [result] = await session.query<{ folded: number }>(
    `/* foldDurationDeltas */
     WITH moved AS (
       DELETE FROM session_duration_delta WHERE id IN (
         SELECT id FROM session_duration_delta ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING project_id, release_id, environment_id, bucket, value, count
     ), summed AS (
       SELECT m.project_id, m.release_id, m.environment_id, g.granularity,
              date_bin(make_interval(secs => g.granularity), m.bucket, timestamptz 'epoch') AS bucket,
              m.value, sum(m.count) AS count
       FROM moved m CROSS JOIN unnest($2::int[]) AS g(granularity)
       GROUP BY 1, 2, 3, 4, 5, 6
       HAVING sum(m.count) <> 0
     ), written AS (
       INSERT INTO session_duration AS d (project_id, release_id, environment_id, granularity,
         bucket, value_counts)
       SELECT project_id, release_id, environment_id, granularity, bucket,
              string_agg(${packPairSql('value', 'count')}, ''::bytea ORDER BY value)
       FROM summed
       GROUP BY project_id, release_id, granularity, bucket, environment_id
       ORDER BY project_id, release_id, granularity, bucket, environment_id
       ON CONFLICT (project_id, release_id, granularity, bucket, environment_id)
       DO UPDATE SET value_counts = ${MERGE}
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
