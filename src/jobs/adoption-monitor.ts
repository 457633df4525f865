import { publishProjectsChanged } from '../cache/data-changes.ts';
import type { Database } from '../db/client.ts';
import { ADOPTION_WINDOW_MS, isAdopted, nextAdoption } from '../health/adoption.ts';
import { startRoundJob } from './job-round.ts';

// Adoption stages (spec §4.3): Sentry recomputes them hourly; Vigil every minute, from the
// sessions started in the last 6 hours, so a stage lags reality by a minute at most. Each run
// is two statements however many releases there are, and runs in one process per round.

interface CandidateRow {
  project_id: number;
  release_id: number;
  environment_id: number;
  sessions: number;
  total: number;
  adopted_at: Date | null;
  unadopted_at: Date | null;
}

/** Moves every (project, release, environment) to its current stage; returns how many changed. */
export async function updateAdoptionStages(db: Database, now: Date): Promise<number> {
  const since = new Date(now.getTime() - ADOPTION_WINDOW_MS);
  // Releases with sessions in the window, and adopted ones that may have lost them all.
  const rows = await db.prisma.$queryRawUnsafe<CandidateRow[]>(
    `/* selectAdoptionCandidates */
     WITH w AS (
       SELECT c.project_id, c.release_id, c.environment_id, sum(c.sessions)::float8 AS sessions
       FROM session_counter c JOIN environment e ON e.id = c.environment_id AND e.name <> ''
       WHERE c.granularity = 60 AND c.bucket >= $1 AND c.bucket < $2 AND c.release_id <> 0
       GROUP BY 1, 2, 3
     ), t AS (
       SELECT project_id, environment_id, sum(sessions) AS total FROM w GROUP BY 1, 2
     )
     SELECT coalesce(w.project_id, re.project_id) AS project_id,
            coalesce(w.release_id, re.release_id) AS release_id,
            coalesce(w.environment_id, re.environment_id) AS environment_id,
            coalesce(w.sessions, 0) AS sessions, coalesce(t.total, 0)::float8 AS total,
            re.adopted_at, re.unadopted_at
     FROM w JOIN t USING (project_id, environment_id)
     FULL JOIN release_environment re ON re.project_id = w.project_id
       AND re.release_id = w.release_id AND re.environment_id = w.environment_id
     WHERE w.sessions IS NOT NULL OR (re.adopted_at IS NOT NULL AND re.unadopted_at IS NULL)`,
    since,
    now,
  );
  const changed = rows.flatMap((row) => {
    const prev = { adoptedAt: row.adopted_at, unadoptedAt: row.unadopted_at };
    const next = nextAdoption(prev, isAdopted(row.sessions, row.total), now);
    const same = next.adoptedAt === prev.adoptedAt && next.unadoptedAt === prev.unadoptedAt;
    return same ? [] : [{ ...row, ...next }];
  });
  if (changed.length === 0) return 0;
  await db.prisma.$executeRawUnsafe(
    `/* upsertAdoptionStages */
     INSERT INTO release_environment AS re (project_id, release_id, environment_id, adopted_at, unadopted_at)
     SELECT * FROM unnest($1::int[], $2::int[], $3::int[], $4::timestamptz[], $5::timestamptz[])
     ON CONFLICT (project_id, release_id, environment_id) DO UPDATE SET
       adopted_at = EXCLUDED.adopted_at, unadopted_at = EXCLUDED.unadopted_at`,
    changed.map((r) => r.project_id),
    changed.map((r) => r.release_id),
    changed.map((r) => r.environment_id),
    changed.map((r) => r.adoptedAt),
    changed.map((r) => r.unadoptedAt),
  );
  await publishProjectsChanged(
    db,
    changed.map((r) => r.project_id),
  );
  return changed.length;
}

/**
 * Runs `updateAdoptionStages` once per round of `everyMs` across every process on the database
 * (job-round.ts); a failed run is logged and the next round tries again.
 */
export function startAdoptionMonitor(
  db: Database,
  options: { everyMs?: number; clock?: () => Date; onError: (error: unknown) => void },
) {
  const { everyMs = 60_000, clock, onError } = options;
  return startRoundJob(db, 'adoption', (now) => updateAdoptionStages(db, now), {
    everyMs,
    clock,
    onError,
  });
}
