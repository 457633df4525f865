import type { Database } from '../../db/client.ts';
import type { HealthTargetRow, HealthTargetValues } from './health-status.ts';

const COLUMNS = `id, project_id AS "projectId", environment,
  crash_free_sessions_target AS "crashFreeSessionsTarget",
  crash_free_sessions_critical AS "crashFreeSessionsCritical",
  crash_free_users_target AS "crashFreeUsersTarget",
  crash_free_users_critical AS "crashFreeUsersCritical",
  min_sessions AS "minSessions", min_users AS "minUsers", updated_at AS "updatedAt"`;

export function selectHealthTargetsByProjectIds(db: Database, ids: readonly number[]) {
  return db.prisma.$queryRawUnsafe<HealthTargetRow[]>(
    `/* selectHealthTargetsByProjectIds */ SELECT ${COLUMNS} FROM health_target
     WHERE project_id = ANY($1::int[]) ORDER BY environment`,
    ids,
  );
}

export async function upsertHealthTarget(
  db: Database,
  projectId: number,
  environment: string,
  v: HealthTargetValues,
  at: Date,
) {
  const [row] = await db.prisma.$queryRawUnsafe<HealthTargetRow[]>(
    `/* upsertHealthTarget */
     INSERT INTO health_target (project_id, environment, crash_free_sessions_target,
       crash_free_sessions_critical, crash_free_users_target, crash_free_users_critical,
       min_sessions, min_users, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (project_id, environment) DO UPDATE SET
       crash_free_sessions_target = EXCLUDED.crash_free_sessions_target,
       crash_free_sessions_critical = EXCLUDED.crash_free_sessions_critical,
       crash_free_users_target = EXCLUDED.crash_free_users_target,
       crash_free_users_critical = EXCLUDED.crash_free_users_critical,
       min_sessions = EXCLUDED.min_sessions, min_users = EXCLUDED.min_users,
       updated_at = EXCLUDED.updated_at
     RETURNING ${COLUMNS}`,
    projectId,
    environment,
    v.crashFreeSessionsTarget,
    v.crashFreeSessionsCritical,
    v.crashFreeUsersTarget,
    v.crashFreeUsersCritical,
    v.minSessions,
    v.minUsers,
    at,
  );
  if (!row) throw new Error('upsert … RETURNING gave no row');
  return row;
}

export async function deleteHealthTarget(db: Database, projectId: number, environment: string) {
  const rows = await db.prisma.$queryRawUnsafe<Array<{ id: number }>>(
    `/* deleteHealthTarget */ DELETE FROM health_target
     WHERE project_id = $1 AND environment = $2 RETURNING id`,
    projectId,
    environment,
  );
  return rows.length > 0;
}
