import type { Database } from '../../db/client.ts';
import { DAY, healthDataSince } from '../../metrics/metric-store.ts';

export interface AdoptionStageRow {
  projectId: number;
  releaseId: number;
  environment: string;
  adoptedAt: Date | null;
  unadoptedAt: Date | null;
}

/** Stage history rows for (project, release, environment name) keys. */
export function selectAdoptionStages(
  db: Database,
  keys: ReadonlyArray<{ projectId: number; releaseId: number; environment: string }>,
): Promise<AdoptionStageRow[]> {
  return db.query(
    `/* selectAdoptionStages */
     SELECT re.project_id AS "projectId", re.release_id AS "releaseId", e.name AS environment,
            re.adopted_at AS "adoptedAt", re.unadopted_at AS "unadoptedAt"
     FROM unnest($1::int[], $2::int[], $3::text[]) AS k(project_id, release_id, environment)
     JOIN environment e ON e.project_id = k.project_id AND e.name = k.environment
     JOIN release_environment re ON re.project_id = k.project_id AND re.release_id = k.release_id
       AND re.environment_id = e.id`,
    [keys.map((k) => k.projectId), keys.map((k) => k.releaseId), keys.map((k) => k.environment)],
  );
}

/** Projects with a session since `healthDataSince(now)` (spec §4.1 "has health data"). */
export async function selectProjectsWithHealthData(
  db: Database,
  projectIds: readonly number[],
  now: Date,
): Promise<number[]> {
  const rows = await db.prisma.$queryRawUnsafe<Array<{ project_id: number }>>(
    `/* selectProjectsWithHealthData */
     SELECT DISTINCT project_id FROM session_counter
     WHERE project_id = ANY($1::int[]) AND release_id = 0 AND granularity = $2
       AND bucket >= $3 AND bucket <= $4`,
    projectIds,
    DAY,
    healthDataSince(now),
    now,
  );
  return rows.map((r) => r.project_id);
}
