import type { Database } from '../../db/client.ts';
import type { AlertMetric, Comparison } from './alert-metric.ts';

// Alert rules as rows. Rules are soft-deleted so that incidents keep the rule they came from.

export type AlertRuleKind = 'THRESHOLD' | 'REGRESSION';
export type ReleaseSelect = 'ALL' | 'NEWEST_ADOPTED' | 'NAMED';

export interface AlertRuleFields {
  projectId: number;
  name: string;
  kind: AlertRuleKind;
  metric: AlertMetric;
  comparison: Comparison;
  threshold: number;
  resolveThreshold: number;
  windowSeconds: number;
  minSessions: number;
  minUsers: number;
  environment: string | null;
  releaseSelect: ReleaseSelect;
  releaseVersion: string | null;
}

export interface AlertRuleRow extends AlertRuleFields {
  id: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

const COLUMNS = `id, project_id AS "projectId", name, kind, metric, comparison, threshold,
  resolve_threshold AS "resolveThreshold", window_seconds AS "windowSeconds",
  min_sessions AS "minSessions", min_users AS "minUsers", environment,
  release_select AS "releaseSelect", release_version AS "releaseVersion",
  created_at AS "createdAt", updated_at AS "updatedAt", deleted_at AS "deletedAt"`;

export function selectAlertRulesByIds(db: Database, ids: readonly number[]) {
  return db.prisma.$queryRawUnsafe<AlertRuleRow[]>(
    `/* selectAlertRulesByIds */ SELECT ${COLUMNS} FROM alert_rule WHERE id = ANY($1::int[])`,
    ids,
  );
}

export function selectAlertRulesByProjectIds(db: Database, projectIds: readonly number[]) {
  return db.prisma.$queryRawUnsafe<AlertRuleRow[]>(
    `/* selectAlertRulesByProjectIds */ SELECT ${COLUMNS} FROM alert_rule
     WHERE project_id = ANY($1::int[]) AND deleted_at IS NULL ORDER BY id`,
    projectIds,
  );
}

export async function insertAlertRule(db: Database, f: AlertRuleFields, now: Date) {
  const [row] = await db.prisma.$queryRawUnsafe<AlertRuleRow[]>(
    `/* insertAlertRule */
     INSERT INTO alert_rule (project_id, name, kind, metric, comparison, threshold,
       resolve_threshold, window_seconds, min_sessions, min_users, environment, release_select,
       release_version, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
     RETURNING ${COLUMNS}`,
    f.projectId,
    ...ruleValues(f),
    now,
  );
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return row;
}

/** The rule's own columns, $2 to $13 of both the insert and the update. */
function ruleValues(f: AlertRuleFields) {
  return [
    f.name,
    f.kind,
    f.metric,
    f.comparison,
    f.threshold,
    f.resolveThreshold,
    f.windowSeconds,
    f.minSessions,
    f.minUsers,
    f.environment,
    f.releaseSelect,
    f.releaseVersion,
  ];
}

export async function updateAlertRule(db: Database, id: number, f: AlertRuleFields, now: Date) {
  const [row] = await db.prisma.$queryRawUnsafe<AlertRuleRow[]>(
    `/* updateAlertRule */
     UPDATE alert_rule SET name = $2, kind = $3, metric = $4, comparison = $5, threshold = $6,
       resolve_threshold = $7, window_seconds = $8, min_sessions = $9, min_users = $10,
       environment = $11, release_select = $12, release_version = $13, updated_at = $14
     WHERE id = $1 AND deleted_at IS NULL RETURNING ${COLUMNS}`,
    id,
    ...ruleValues(f),
    now,
  );
  return row ?? null;
}

export async function updateAlertRuleDeleted(db: Database, id: number, now: Date) {
  const [row] = await db.prisma.$queryRawUnsafe<AlertRuleRow[]>(
    `/* updateAlertRuleDeleted */
     UPDATE alert_rule SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL
     RETURNING ${COLUMNS}`,
    id,
    now,
  );
  return row ?? null;
}

/**
 * Claims the rules not yet evaluated in `round` and not leased by another process, in one
 * statement: SKIP LOCKED and the round check make each rule one process's per round.
 */
export function claimDueAlertRules(db: Database, round: number, now: Date, leaseUntil: Date) {
  return db.prisma.$queryRawUnsafe<AlertRuleRow[]>(
    `/* claimDueAlertRules */
     UPDATE alert_rule SET evaluated_round = $1, lease_until = $3
     WHERE id IN (
       SELECT id FROM alert_rule
       WHERE deleted_at IS NULL AND (evaluated_round IS NULL OR evaluated_round < $1)
         AND (lease_until IS NULL OR lease_until <= $2)
       ORDER BY id FOR UPDATE SKIP LOCKED)
     RETURNING ${COLUMNS}`,
    round,
    now,
    leaseUntil,
  );
}

export function releaseAlertRuleLeases(db: Database, ids: readonly number[]) {
  return db.prisma.$executeRawUnsafe(
    `/* releaseAlertRuleLeases */ UPDATE alert_rule SET lease_until = NULL WHERE id = ANY($1::int[])`,
    ids,
  );
}

// What the evaluator reads besides metrics (alert-readings.ts).

export interface AdoptedRow {
  releaseId: number;
  environment: string;
  adoptedAt: Date;
}

/** Releases adopted at `at` and still adopted then, newest adoption first, per environment. */
export function selectAdoptedReleases(
  db: Database,
  projectId: number,
  environment: string | null,
  at: Date,
) {
  return db.prisma.$queryRawUnsafe<AdoptedRow[]>(
    `/* selectAdoptedReleases */
     SELECT re.release_id AS "releaseId", e.name AS environment, re.adopted_at AS "adoptedAt"
     FROM release_environment re JOIN environment e ON e.id = re.environment_id
     WHERE re.project_id = $1 AND re.adopted_at IS NOT NULL AND re.adopted_at <= $2
       AND ($3::text IS NULL OR e.name = $3)
     ORDER BY e.name, re.adopted_at DESC, re.release_id DESC`,
    projectId,
    at,
    environment,
  );
}

/** The release of `version` the project reported (a NAMED rule's release). */
export function selectReleaseIdByVersion(db: Database, projectId: number, version: string) {
  return db.prisma.$queryRawUnsafe<Array<{ id: number }>>(
    `/* selectReleaseIdByVersion */
     SELECT r.id FROM release r JOIN release_project rp ON rp.release_id = r.id
     WHERE rp.project_id = $1 AND r.version = $2`,
    projectId,
    version,
  );
}
