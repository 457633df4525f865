import type { Database } from '../../db/client.ts';

export interface EnvironmentRow {
  id: number;
  projectId: number;
  name: string;
}

/** Named environments of projects; '' (sessions without one) is not an environment to list. */
export function selectEnvironmentsByProjectIds(
  db: Database,
  projectIds: readonly number[],
): Promise<EnvironmentRow[]> {
  return db.prisma.$queryRawUnsafe(
    `/* selectEnvironmentsByProjectIds */
     SELECT id, project_id AS "projectId", name FROM environment
     WHERE project_id = ANY($1::int[]) AND name <> '' ORDER BY name`,
    projectIds,
  );
}
