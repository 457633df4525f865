import type { Database, SqlSession } from '../db/client.ts';
import { UserFacts } from './user-facts.ts';

// Folds the user deltas ingest appends into the per-bucket user sets, for each release bucket,
// for the project's all-releases bucket of the same environment (release_id 0) and for its
// all-releases, all-environments bucket (release_id 0, environment_id 0: project-wide reads over
// every environment read one set a bucket). Reads add the deltas not yet folded, so folding
// changes no number; it keeps reads and storage proportional to buckets.
//
// Two statements and no transaction: read a batch of deltas with the sets they touch, merge in
// Node, then one statement writes the sets and deletes the deltas. Several folders (one per
// process) may run at once: a set is written only if its `version` is still the one read (no
// lost update), and deltas are deleted only if every set was written. A set written twice with
// the same users is unchanged (a union), so a fold that half-failed is simply done again.

/**
 * Deltas folded per statement. Every statement rewrites each set its deltas touch, and under steady
 * ingest every batch touches the same hot hour and day sets: at 2,000 the bench's 5 s of deltas
 * (about 8,000) took four rewrites of them, and folding cost a sixth of Vigil's CPU per session.
 */
export const USER_DELTA_BATCH = 20_000;
/** Rows merged between two turns of the event loop, so a large batch never holds requests up long. */
const ROWS_PER_TURN = 500;
const BATCH = USER_DELTA_BATCH;

interface KeyColumns {
  project_id: number;
  release_id: number;
  granularity: number;
  bucket: Date;
  environment_id: number;
}

interface FoldRow extends KeyColumns {
  kind: 'delta' | 'set';
  id: string | null;
  /** Base64. */
  bytes: string;
  version: string | null;
}

const keyOf = (r: KeyColumns) =>
  `${r.project_id}|${r.release_id}|${r.granularity}|${new Date(r.bucket).getTime()}|${r.environment_id}`;

/** Folds one batch of deltas; resolves with how many were folded (0: none left, or lost a race). */
export async function foldUserDeltas(session: SqlSession, batch = BATCH): Promise<number> {
  const rows = await session.query<FoldRow>(
    `/* readUserDeltas */
     WITH d AS (
       SELECT * FROM session_user_delta ORDER BY id LIMIT $1
     ), k AS (
       SELECT DISTINCT project_id, release_id, granularity, bucket, environment_id FROM d
       UNION
       SELECT DISTINCT project_id, 0, granularity, bucket, environment_id FROM d
       UNION
       SELECT DISTINCT project_id, 0, granularity, bucket, 0 FROM d
     )
     -- Bytes as base64 text, as reads take them: a third fewer than a bytea's hex.
     SELECT 'delta' AS kind, id::text, project_id, release_id, granularity, bucket, environment_id,
            encode(entries, 'base64') AS bytes, NULL AS version
     FROM d
     UNION ALL
     SELECT 'set', NULL, s.project_id, s.release_id, s.granularity, s.bucket, s.environment_id,
            encode(s.users, 'base64'), s.version::text
     FROM session_user_set s JOIN k USING (project_id, release_id, granularity, bucket, environment_id)`,
    [batch],
  );
  const ids: string[] = [];
  const sets = new Map<string, { key: KeyColumns; facts: UserFacts; version: string }>();
  const setOf = (key: KeyColumns) => {
    const k = keyOf(key);
    let entry = sets.get(k);
    if (!entry) {
      entry = { key, facts: new UserFacts(), version: '0' };
      sets.set(k, entry);
    }
    return entry;
  };
  for (const [i, row] of rows.entries()) {
    if (i > 0 && i % ROWS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
    // PostgreSQL's base64 breaks lines every 76 characters; Buffer skips them.
    const bytes = Buffer.from(row.bytes, 'base64');
    if (row.kind === 'set') {
      const entry = setOf(row);
      entry.facts.addEncoded(bytes);
      entry.version = row.version ?? '0';
      continue;
    }
    ids.push(row.id as string);
    setOf(row).facts.addEntries(bytes);
    setOf({ ...row, release_id: 0 }).facts.addEntries(bytes);
    setOf({ ...row, release_id: 0, environment_id: 0 }).facts.addEntries(bytes);
  }
  if (ids.length === 0) return 0;
  const written = [...sets.values()]
    .map(({ key, facts, version }) => ({
      project_id: key.project_id,
      release_id: key.release_id,
      granularity: key.granularity,
      bucket: key.bucket,
      environment_id: key.environment_id,
      version,
      users: Buffer.from(facts.encode()).toString('base64'),
    }))
    .sort(byKey);
  const [result] = await session.query<{ folded: number }>(
    `/* writeUserSets */
     WITH v AS (
       SELECT * FROM json_to_recordset($1::json) AS v(project_id int, release_id int,
         granularity int, bucket timestamptz, environment_id int, version bigint, users text)
     ), live AS (
       -- Deltas another folder already folded (or that are gone) must not be written again.
       SELECT count(*) AS n FROM session_user_delta WHERE id = ANY($2::bigint[])
     ), written AS (
       INSERT INTO session_user_set AS s (project_id, release_id, granularity, bucket,
         environment_id, users, version)
       SELECT project_id, release_id, granularity, bucket, environment_id, decode(users, 'base64'),
              version + 1
       FROM v WHERE (SELECT n FROM live) = $3
       ORDER BY project_id, release_id, granularity, bucket, environment_id
       ON CONFLICT (project_id, release_id, granularity, bucket, environment_id) DO UPDATE
         SET users = EXCLUDED.users, version = EXCLUDED.version
         WHERE s.version = EXCLUDED.version - 1
       RETURNING 1
     ), deleted AS (
       DELETE FROM session_user_delta WHERE id = ANY($2::bigint[])
         AND (SELECT count(*) FROM written) = $4
       RETURNING 1
     )
     SELECT count(*)::int AS folded FROM deleted`,
    [JSON.stringify(written), ids, ids.length, written.length],
  );
  return result?.folded ?? 0;
}

function byKey(a: KeyColumns, b: KeyColumns): number {
  return (
    a.project_id - b.project_id ||
    a.release_id - b.release_id ||
    a.granularity - b.granularity ||
    new Date(a.bucket).getTime() - new Date(b.bucket).getTime() ||
    a.environment_id - b.environment_id
  );
}

/** Folds every delta there is now (a test or the bench calls it; ingest folds on its own). */
export async function foldAllUserDeltas(db: Database, batch = BATCH): Promise<void> {
  await db.withSession(async (session) => {
    // A round that lost a race folds nothing; the next round reads afresh.
    for (let rounds = 0; rounds < 10_000; rounds++) {
      const folded = await foldUserDeltas(session, batch);
      if (folded === 0) {
        const [left] = await session.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM session_user_delta',
        );
        if ((left?.n ?? 0) === 0) return;
      }
    }
  });
}
