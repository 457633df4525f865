import type { Database, SqlSession } from '../../db/client.ts';

// Incidents: opened and resolved by the evaluator (src/jobs/alert-evaluator.ts), read by GraphQL.

export type IncidentStatus = 'OPEN' | 'RESOLVED';

export interface IncidentRow {
  id: number;
  ruleId: number;
  projectId: number;
  organizationId: number;
  releaseId: number;
  environment: string;
  status: IncidentStatus;
  value: number;
  threshold: number;
  baselineReleaseId: number | null;
  baselineValue: number | null;
  openedAt: Date;
  resolvedAt: Date | null;
  resolvedValue: number | null;
  lastValue: number;
  lastEvaluatedAt: Date;
}

export const INCIDENT_COLUMNS = `id, rule_id AS "ruleId", project_id AS "projectId",
  organization_id AS "organizationId", release_id AS "releaseId", environment, status, value,
  threshold, baseline_release_id AS "baselineReleaseId", baseline_value AS "baselineValue",
  opened_at AS "openedAt", resolved_at AS "resolvedAt", resolved_value AS "resolvedValue",
  last_value AS "lastValue", last_evaluated_at AS "lastEvaluatedAt"`;

export function selectIncidentsByIds(db: Database, ids: readonly number[]) {
  return db.prisma.$queryRawUnsafe<IncidentRow[]>(
    `/* selectIncidentsByIds */ SELECT ${INCIDENT_COLUMNS} FROM incident WHERE id = ANY($1::int[])`,
    ids,
  );
}

export function selectOpenIncidentsByRuleId(db: Database, ruleId: number) {
  return db.prisma.$queryRawUnsafe<IncidentRow[]>(
    `/* selectOpenIncidentsByRuleId */ SELECT ${INCIDENT_COLUMNS} FROM incident
     WHERE rule_id = $1 AND status = 'OPEN'`,
    ruleId,
  );
}

/**
 * A page of a project's incidents, newest first; ids grow with time, so they are the cursors.
 * `inverted` reads from the oldest end (Relay's `last`).
 */
/** A page of Project.incidents: newest first, or oldest first when paging backwards. */
export interface IncidentPage {
  status: IncidentStatus | null;
  after: number | null;
  before: number | null;
  limit: number;
  inverted: boolean;
}

export function selectIncidentsByProjectId(db: Database, q: IncidentPage & { projectId: number }) {
  return db.prisma.$queryRawUnsafe<IncidentRow[]>(
    `/* selectIncidentsByProjectId */ SELECT ${INCIDENT_COLUMNS} FROM incident
     WHERE project_id = $1 AND ($2::text IS NULL OR status = $2)
       AND ($3::int IS NULL OR id < $3) AND ($4::int IS NULL OR id > $4)
     ORDER BY id ${q.inverted ? 'ASC' : 'DESC'} LIMIT $5`,
    q.projectId,
    q.status,
    q.after,
    q.before,
    q.limit,
  );
}

export interface NewIncident {
  ruleId: number;
  projectId: number;
  organizationId: number;
  releaseId: number;
  environment: string;
  value: number;
  threshold: number;
  baselineReleaseId: number | null;
  baselineValue: number | null;
  at: Date;
}

export async function insertIncident(tx: SqlSession, i: NewIncident): Promise<IncidentRow> {
  const [row] = await tx.query<IncidentRow>(
    `/* insertIncident */
     INSERT INTO incident (rule_id, project_id, organization_id, release_id, environment, status,
       value, threshold, baseline_release_id, baseline_value, opened_at, last_value,
       last_evaluated_at)
     VALUES ($1, $2, $3, $4, $5, 'OPEN', $6, $7, $8, $9, $10, $6, $10)
     RETURNING ${INCIDENT_COLUMNS}`,
    [
      i.ruleId,
      i.projectId,
      i.organizationId,
      i.releaseId,
      i.environment,
      i.value,
      i.threshold,
      i.baselineReleaseId,
      i.baselineValue,
      i.at,
    ],
  );
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return row;
}

/** Resolves an open incident; null when it was not open any more. */
export async function updateIncidentResolved(
  tx: SqlSession,
  id: number,
  value: number,
  at: Date,
): Promise<IncidentRow | null> {
  const [row] = await tx.query<IncidentRow>(
    `/* updateIncidentResolved */
     UPDATE incident SET status = 'RESOLVED', resolved_at = $3, resolved_value = $2,
       last_value = $2, last_evaluated_at = $3
     WHERE id = $1 AND status = 'OPEN' RETURNING ${INCIDENT_COLUMNS}`,
    [id, value, at],
  );
  return row ?? null;
}

export async function updateIncidentsLastValue(
  db: Database,
  updates: Array<{ id: number; value: number }>,
  at: Date,
) {
  if (updates.length === 0) return;
  await db.prisma.$executeRawUnsafe(
    `/* updateIncidentsLastValue */
     UPDATE incident i SET last_value = u.value, last_evaluated_at = $3
     FROM unnest($1::int[], $2::float8[]) AS u(id, value) WHERE i.id = u.id`,
    updates.map((u) => u.id),
    updates.map((u) => u.value),
    at,
  );
}

/** The organization and slugs an incident payload names. */
export async function selectIncidentProject(db: Database, projectId: number) {
  const [project] = await db.prisma.$queryRawUnsafe<
    Array<{ organizationId: number; organizationSlug: string; projectSlug: string }>
  >(
    `/* selectIncidentProject */
     SELECT o.id AS "organizationId", o.slug AS "organizationSlug", p.slug AS "projectSlug"
     FROM project p JOIN organization o ON o.id = p.organization_id WHERE p.id = $1`,
    projectId,
  );
  return project ?? null;
}

export function selectReleaseVersionsByIds(db: Database, releaseIds: readonly number[]) {
  return db.prisma.$queryRawUnsafe<Array<{ id: number; version: string }>>(
    `/* selectReleaseVersionsByIds */ SELECT id, version FROM release WHERE id = ANY($1::int[])`,
    releaseIds,
  );
}
