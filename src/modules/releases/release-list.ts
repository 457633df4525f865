import { ratio } from '../../health/crash-free.ts';
import { last24Hours, type TimeRange } from '../../health/time-range.ts';
import type { MetricsRow } from '../../metrics/session-metrics.queries.ts';
import {
  DEFAULT_HEALTH_TARGET,
  type HealthTargetValues,
  healthStatus,
  STATUS_RANK,
} from '../health-targets/health-status.ts';
import type { ReleaseRow } from './release.queries.ts';
import { compareVersions } from './release-version.ts';

// The release list of a project, in Sentry's orders (spec §4.4). Pure: the loader reads the
// releases and, for a health order, one grouped statement over every release of the project
// (release.queries.ts); the page's own health then comes through the batched loaders.

export const RELEASE_SORTS = [
  'DATE',
  'SESSIONS',
  'USERS',
  'CRASH_FREE_SESSIONS',
  'CRASH_FREE_USERS',
  'SESSIONS_24H',
  'USERS_24H',
  'ADOPTION',
  'HEALTH_STATUS',
] as const;
export type ReleaseSort = (typeof RELEASE_SORTS)[number];

/** The number a health order ranks by (larger first); null ranks last. */
const SORT_VALUE: Record<
  Exclude<ReleaseSort, 'DATE'>,
  (m: MetricsRow, o: Pick<ReleaseListOptions, 'healthTarget'>) => number | null
> = {
  SESSIONS: (m) => (m.sessions.sessions > 0 ? m.sessions.sessions : null),
  USERS: (m) => (m.users.users > 0 ? m.users.users : null),
  // Sentry orders by crash rate, most crashing first: the least crash-free release leads.
  CRASH_FREE_SESSIONS: (m) => ratio(m.sessions.crashed, m.sessions.sessions),
  CRASH_FREE_USERS: (m) => ratio(m.users.crashed, m.users.users),
  SESSIONS_24H: (m) => (m.sessions.sessions > 0 ? m.sessions.sessions : null),
  USERS_24H: (m) => (m.users.users > 0 ? m.users.users : null),
  // Adoption shares one denominator within a project, so it ranks like sessions in 24 h.
  ADOPTION: (m) => (m.sessions.sessions > 0 ? m.sessions.sessions : null),
  // Worst first: CRITICAL, WARNING, HEALTHY, NOT_ENOUGH_DATA (src/modules/health-targets).
  HEALTH_STATUS: (m, o) =>
    m.sessions.sessions > 0
      ? STATUS_RANK[healthStatus(m, o.healthTarget ?? DEFAULT_HEALTH_TARGET)]
      : null,
};

const USER_SORTS = new Set<ReleaseSort>([
  'USERS',
  'USERS_24H',
  'CRASH_FREE_USERS',
  'HEALTH_STATUS',
]);

export interface ReleaseListOptions {
  projectId: number;
  search: string | null;
  sort: ReleaseSort;
  environments: readonly string[] | null;
  range: TimeRange;
  now: Date;
  /** What HEALTH_STATUS ranks against. @default DEFAULT_HEALTH_TARGET */
  healthTarget?: HealthTargetValues;
}

/** Newest first: by version when both parse as versions, else by creation. */
function newestFirst(a: ReleaseRow, b: ReleaseRow): number {
  return (
    compareVersions(b.version, a.version) ||
    b.createdAt.getTime() - a.createdAt.getTime() ||
    b.id - a.id
  );
}

/** The range a health order ranks over: the last 24 h for the 24 h orders and adoption. */
export function rankingRange(o: Pick<ReleaseListOptions, 'sort' | 'range' | 'now'>): TimeRange {
  const last24h = o.sort === 'SESSIONS_24H' || o.sort === 'USERS_24H' || o.sort === 'ADOPTION';
  return last24h ? last24Hours(o.now) : o.range;
}

/** Whether the order needs distinct users (the costly half of the ranking statement). */
export const ranksByUsers = (sort: ReleaseSort) => USER_SORTS.has(sort);

/**
 * Sorts a project's releases (in place) in the list's order: DATE by creation, a health order
 * by its value in `metrics` (one row per release; releases without a row come last).
 */
export function sortReleases(
  releases: ReleaseRow[],
  metrics: readonly MetricsRow[],
  o: Pick<ReleaseListOptions, 'sort' | 'healthTarget'>,
): ReleaseRow[] {
  if (o.sort === 'DATE') {
    return releases.sort(
      (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || newestFirst(a, b),
    );
  }
  const rankOf = SORT_VALUE[o.sort];
  const values = new Map(metrics.map((m) => [m.releaseId, rankOf(m, o)]));
  return releases.sort((a, b) => {
    const va = values.get(a.id) ?? null;
    const vb = values.get(b.id) ?? null;
    if (va !== vb) {
      if (va === null) return 1;
      if (vb === null) return -1;
      return vb - va;
    }
    return newestFirst(a, b);
  });
}

// Paging in the database. The orders by creation and by sessions rank in SQL, so the loader
// reads only the page's window and the tie groups it cuts through, with the list's size
// (selectReleasePageByProjectId); ties are ordered here, by version, as sortReleases does. The
// orders with users (sketches merged in Vigil) and the rate orders keep the whole list.

/** What the database ranks a release list by, or null when Vigil must rank every release. */
export function pageableSort(sort: ReleaseSort): 'DATE' | 'SESSIONS' | null {
  if (sort === 'DATE') return 'DATE';
  // Each ranks by the sessions of its range; ADOPTION shares one denominator (SORT_VALUE).
  if (sort === 'SESSIONS' || sort === 'SESSIONS_24H' || sort === 'ADOPTION') return 'SESSIONS';
  return null;
}

/** Releases of a ranked window: `start` is the list position of `releases[0]`. */
export interface ReleasePage {
  start: number;
  releases: ReleaseRow[];
  totalCount: number;
}

/**
 * Orders a window's rows as the whole list would: by their tie group's position, then newest
 * first within a group (for DATE, a group is one creation instant).
 */
export function orderReleasePage(
  rows: ReadonlyArray<ReleaseRow & { groupStart: number }>,
  totalCount: number,
): ReleasePage {
  const sorted = [...rows].sort((a, b) => a.groupStart - b.groupStart || newestFirst(a, b));
  return {
    start: sorted[0]?.groupStart ?? 0,
    releases: sorted.map(({ groupStart: _, ...row }) => row),
    totalCount,
  };
}

/**
 * The part of the list a window [offset, offset + limit) shows, or null when the page read does
 * not hold all of it (then the caller reads the whole list).
 */
export function releasesInWindow(
  page: ReleasePage,
  offset: number,
  limit: number,
): ReleaseRow[] | null {
  const end = Math.min(offset + limit, page.totalCount);
  if (end <= offset) return [];
  if (offset < page.start || end > page.start + page.releases.length) return null;
  return page.releases.slice(offset - page.start, end - page.start);
}
