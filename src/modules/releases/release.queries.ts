import type { Database } from '../../db/client.ts';
import { type TimeRange, totalsGranularity } from '../../graphql/time-range.ts';
import { type MetricsRow, selectSessionMetrics } from '../../metrics/session-metrics.queries.ts';

export interface ReleaseRow {
  id: number;
  organizationId: number;
  version: string;
  createdAt: Date;
}

const COLUMNS = `r.id, r.organization_id AS "organizationId", r.version, r.created_at AS "createdAt"`;

export function selectReleasesByIds(db: Database, ids: readonly number[]): Promise<ReleaseRow[]> {
  return db.prisma.$queryRawUnsafe(
    `/* selectReleasesByIds */ SELECT ${COLUMNS} FROM release r WHERE r.id = ANY($1::int[])`,
    ids,
  );
}

/** Releases a project reported, optionally only versions containing `search`. */
export function selectReleasesByProjectId(
  db: Database,
  projectId: number,
  search: string | null,
): Promise<ReleaseRow[]> {
  return db.prisma.$queryRawUnsafe(
    `/* selectReleasesByProjectId */
     SELECT ${COLUMNS} FROM release r JOIN release_project rp ON rp.release_id = r.id
     WHERE rp.project_id = $1 AND ($2::text IS NULL OR strpos(lower(r.version), lower($2)) > 0)`,
    projectId,
    search,
  );
}

/** What a health order of the release list ranks by: one row per release of the project. */
export function selectReleaseRankings(
  db: Database,
  projectId: number,
  filter: { environments: readonly string[] | null; range: TimeRange; withUsers: boolean },
): Promise<MetricsRow[]> {
  return selectSessionMetrics(db, {
    projectIds: [projectId],
    environments: filter.environments ?? undefined,
    start: filter.range.start,
    end: filter.range.end,
    granularity: totalsGranularity(filter.range),
    groupBy: ['release'],
    withoutUsers: !filter.withUsers,
  });
}

export function selectReleasesByProjectVersions(
  db: Database,
  keys: ReadonlyArray<{ projectId: number; version: string }>,
): Promise<Array<ReleaseRow & { projectId: number }>> {
  return db.prisma.$queryRawUnsafe(
    `/* selectReleasesByProjectVersions */
     SELECT ${COLUMNS}, rp.project_id AS "projectId"
     FROM unnest($1::int[], $2::text[]) AS k(project_id, version)
     JOIN release_project rp ON rp.project_id = k.project_id
     JOIN release r ON r.id = rp.release_id AND r.version = k.version`,
    keys.map((k) => k.projectId),
    keys.map((k) => k.version),
  );
}

export function selectProjectIdsByReleaseIds(
  db: Database,
  releaseIds: readonly number[],
): Promise<Array<{ releaseId: number; projectId: number }>> {
  return db.prisma.$queryRawUnsafe(
    `/* selectProjectIdsByReleaseIds */
     SELECT release_id AS "releaseId", project_id AS "projectId" FROM release_project
     WHERE release_id = ANY($1::int[]) ORDER BY project_id`,
    releaseIds,
  );
}

/** First and last minute with sessions, per release (within a project when one is given). */
export function selectReleaseTimeBounds(
  db: Database,
  projectId: number | null,
  releaseIds: readonly number[],
): Promise<Array<{ releaseId: number; first: Date; last: Date }>> {
  return db.prisma.$queryRawUnsafe(
    `/* selectReleaseTimeBounds */
     SELECT release_id AS "releaseId", min(bucket) AS first, max(bucket) AS last
     FROM session_counter
     WHERE granularity = 60 AND release_id = ANY($1::int[]) AND ($2::int IS NULL OR project_id = $2)
     GROUP BY release_id`,
    releaseIds,
    projectId,
  );
}

/** Ids of the releases with these versions in these organizations (the `releases` filter). */
export async function selectReleaseIdsByVersions(
  db: Database,
  organizationIds: readonly number[],
  versions: readonly string[],
): Promise<number[]> {
  const rows = await db.prisma.$queryRawUnsafe<Array<{ id: number }>>(
    `/* selectReleaseIdsByVersions */
     SELECT id FROM release WHERE organization_id = ANY($1::int[]) AND version = ANY($2::text[])`,
    organizationIds,
    versions,
  );
  return rows.map((r) => r.id);
}
