import type { Database } from '../../db/client.ts';
import type { TimeRange } from '../../health/time-range.ts';
import { counterSpans } from '../../metrics/counter-spans.ts';
import { totalsGranularity } from '../../metrics/metric-store.ts';
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

/** A window of the release list, ranked in the database (`pageableSort` in release-list.ts). */
export interface ReleasePageQuery {
  search: string | null;
  /** DATE ranks by creation; the session orders by sessions in `range` (null: none, last). */
  sort: 'DATE' | 'SESSIONS';
  environments: readonly string[] | null;
  range: TimeRange;
  /** The request's time: which counter rows the ranking reads (counterSpans). */
  now: Date;
  /** The window [offset, offset + limit) of the list, 0-based. */
  offset: number;
  limit: number;
}

/** A release of a ranked window, with where its tie group starts in the whole list. */
export interface RankedReleaseRow extends ReleaseRow {
  /** 0-based position of the first release with the same rank; ties are ordered in Vigil. */
  groupStart: number;
  /** Releases in the whole (filtered) list (the same on every row). */
  total: number;
}

/**
 * The releases whose tie group overlaps the window, ranked; `total` counts the whole list. One
 * row with a null id when nothing overlaps, so the total still arrives. The ranking sums only
 * `sessions` (not every counter and no user set), the one number the session orders need, over
 * the fewest counter rows that give it exactly (counterSpans: whole days as day rows).
 */
export async function selectReleasePageByProjectId(
  db: Database,
  projectId: number,
  q: ReleasePageQuery,
): Promise<{ rows: RankedReleaseRow[]; total: number }> {
  const params: unknown[] = [projectId, q.search, q.offset, q.limit];
  let ranking = '';
  let rank = 'r.created_at';
  if (q.sort === 'SESSIONS') {
    const spans = counterSpans(q.range, totalsGranularity(q.range), q.now);
    params.push(
      spans.map((s) => s.granularity),
      spans.map((s) => s.start),
      spans.map((s) => s.end),
      spans.map((s) => s.sign),
    );
    if (q.environments) params.push(q.environments);
    ranking = `WITH ranking AS (
       SELECT m.release_id, nullif(sum(s.sign * m.sessions), 0)::bigint AS sessions
       FROM unnest($5::int[], $6::timestamptz[], $7::timestamptz[], $8::int[])
         AS s(granularity, start_at, end_at, sign)
       -- OFFSET 0 keeps each span its own index range (flattened, the planner scans the table).
       CROSS JOIN LATERAL (
         SELECT m.release_id, m.sessions FROM session_counter m
         ${q.environments ? 'JOIN environment e ON e.id = m.environment_id' : ''}
         -- release 0 is the project's all-releases row where a table keeps one (§ Distinct users).
         WHERE m.project_id = $1 AND m.release_id <> 0 AND m.granularity = s.granularity
           AND m.bucket >= s.start_at AND m.bucket < s.end_at
           ${q.environments ? 'AND e.name = ANY($9::text[])' : ''}
         OFFSET 0) m
       GROUP BY m.release_id
     ), `;
    rank = 'ranking.sessions';
  }
  // Ranked on ids alone in one window pass (rank, and the count through each tie group); only
  // the window's rows are joined to their releases.
  // On the driver: Prisma's raw-result handling cost more CPU than this statement's rows.
  const rows = await db.query<Omit<RankedReleaseRow, 'id'> & { id: number | null }>(
    `/* selectReleasePageByProjectId */
     ${ranking || 'WITH '}ranked AS (
       SELECT r.id, (rank() OVER w)::int - 1 AS "groupStart", (count(*) OVER w)::int AS through
       FROM release r JOIN release_project rp ON rp.release_id = r.id
       ${ranking ? 'LEFT JOIN ranking ON ranking.release_id = r.id' : ''}
       WHERE rp.project_id = $1 AND ($2::text IS NULL OR strpos(lower(r.version), lower($2)) > 0)
       WINDOW w AS (ORDER BY ${rank} DESC NULLS LAST)
     ), page AS (
       SELECT * FROM ranked WHERE "groupStart" < $3::int + $4::int AND through > $3::int
     )
     SELECT r.id, r.organization_id AS "organizationId", r.version, r.created_at AS "createdAt",
            page."groupStart", (SELECT count(*) FROM ranked)::int AS total
     FROM (SELECT 1) one LEFT JOIN page ON true LEFT JOIN release r ON r.id = page.id
     ORDER BY page."groupStart"`,
    params,
  );
  return {
    rows: rows.filter((r): r is RankedReleaseRow => r.id !== null),
    total: rows[0]?.total ?? 0,
  };
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
