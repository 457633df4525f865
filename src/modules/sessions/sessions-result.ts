import type { Database } from '../../db/client.ts';
import {
  type SessionCounts,
  type UserCounts,
  ZERO_SESSION_COUNTS,
  ZERO_USER_COUNTS,
} from '../../health/crash-free.ts';
import type { DurationCount } from '../../health/duration.ts';
import {
  type DurationRow,
  type MetricsQuery,
  type MetricsRow,
  selectSessionDurations,
  selectSessionMetrics,
} from '../../metrics/session-metrics.queries.ts';
import {
  type ReleaseRow,
  selectReleaseIdsByVersions,
  selectReleasesByIds,
} from '../releases/release.queries.ts';
import {
  SESSION_STATUSES,
  type SessionStatus,
  type SessionsValuesShape,
} from './sessions.values.ts';
import type { SessionsSpec } from './sessions-args.ts';
import { type GroupCounts, sortGroups } from './sessions-order.ts';

// Runs a checked sessions query: at most one statement for the `releases` filter, one for the
// totals, one for the releases the groups name, one for the series and one for durations of
// each, whatever the number of groups (spec §5). Groups come from the totals; the limit picks
// them; the series is read only for the picked ones unless adoption needs every group.

export interface SessionsGroupKey {
  projectId: number | null;
  release: string | null;
  environment: string | null;
  sessionStatus: SessionStatus | null;
}

export interface SessionsGroupShape {
  by: SessionsGroupKey;
  totals: SessionsValuesShape;
  /** One entry per interval; empty when the selection has no series value. */
  series: SessionsValuesShape[];
}

export interface SessionsResultShape {
  start: Date;
  end: Date;
  intervals: Date[];
  intervalSeconds: number;
  groups: SessionsGroupShape[];
  totalGroups: number;
  hasMoreGroups: boolean;
}

export interface SessionsTarget {
  projectIds: readonly number[];
  /** Where `releases` versions are looked up. */
  organizationIds: readonly number[];
  /** One result per project (batched Project.sessions), or one for all projects together. */
  perProject: boolean;
}

/** The key of the one result when `perProject` is false (project ids start at 1). */
export const ALL_PROJECTS = 0;

interface Counts {
  sessions: SessionCounts;
  users: UserCounts;
  durations: DurationCount[];
}

interface BaseGroup extends GroupCounts {
  key: string;
  scope: number;
}

const zeroCounts = (): Counts => ({
  sessions: ZERO_SESSION_COUNTS,
  users: ZERO_USER_COUNTS,
  durations: [],
});

type Row = Pick<MetricsRow, 'projectId' | 'releaseId' | 'environment'>;
const keyOf = (r: Row) => JSON.stringify([r.projectId, r.releaseId, r.environment]);
const unique = <T>(values: Iterable<T>) => [...new Set(values)];

/** Runs the query; the map has a result for every requested scope, data or not. */
export async function runSessionsQuery(
  db: Database,
  spec: SessionsSpec,
  target: SessionsTarget,
): Promise<Map<number, SessionsResultShape>> {
  const scopes = target.perProject ? unique(target.projectIds) : [ALL_PROJECTS];
  // Several projects are told apart by grouping by project too; one needs no split.
  const split = scopes.length > 1;
  const scopeOf = (r: Row) => (split ? (r.projectId ?? ALL_PROJECTS) : (scopes[0] ?? ALL_PROJECTS));
  const releaseIds = spec.releases
    ? await selectReleaseIdsByVersions(db, target.organizationIds, spec.releases)
    : undefined;
  const query: MetricsQuery = {
    projectIds: target.projectIds,
    releaseIds,
    environments: spec.environments ?? undefined,
    start: spec.start,
    end: spec.end,
    granularity: spec.granularity,
    groupBy: split && !spec.dims.includes('project') ? ['project', ...spec.dims] : spec.dims,
    withoutUsers: !spec.need.users,
  };
  const noData =
    target.projectIds.length === 0 || releaseIds?.length === 0 || spec.environments?.length === 0;
  const [totals, totalDurations] = noData
    ? [[], []]
    : await Promise.all([
        selectSessionMetrics(db, query),
        spec.need.totalsDurations ? selectSessionDurations(db, query) : [],
      ]);

  const groups = new Map<number, Map<string, BaseGroup>>(scopes.map((s) => [s, new Map()]));
  const add = (row: Row): BaseGroup | undefined => {
    const scoped = groups.get(scopeOf(row));
    if (!scoped) return undefined;
    const key = keyOf(row);
    let group = scoped.get(key);
    if (!group) {
      group = { key, scope: scopeOf(row), ...row, ...zeroCounts() };
      scoped.set(key, group);
    }
    return group;
  };
  for (const row of totals) {
    const group = add(row);
    if (group) Object.assign(group, { sessions: row.sessions, users: row.users });
  }
  for (const row of totalDurations) {
    const group = add(row);
    if (group) group.durations = row.durations;
  }
  if (spec.dims.length === 0) {
    // Without a grouping there is always exactly one group, zeros when nothing was seen.
    for (const scope of scopes) {
      if (groups.get(scope)?.size === 0) {
        add({ projectId: split ? scope : null, releaseId: null, environment: null });
      }
    }
  }

  // The versions groups are named by, and their dates for RELEASE_DATE: one statement.
  const releaseIdsSeen = unique(totals.flatMap((r) => (r.releaseId === null ? [] : [r.releaseId])));
  const releases = new Map<number, ReleaseRow>(
    releaseIdsSeen.length > 0
      ? (await selectReleasesByIds(db, releaseIdsSeen)).map((r) => [r.id, r])
      : [],
  );

  const pages = new Map<number, { page: BaseGroup[]; total: number; allSessions: number }>();
  for (const [scope, scoped] of groups) {
    const all = [...scoped.values()];
    const allSessions = all.reduce((n, g) => n + g.sessions.sessions, 0);
    const sorted = sortGroups(all, spec, releases, allSessions);
    const page = sorted.slice(spec.offset, spec.offset + spec.limit);
    pages.set(scope, { page, total: sorted.length, allSessions });
  }
  const picked = [...pages.values()].flatMap((p) => p.page);
  const series =
    spec.need.series && totals.length > 0
      ? await readSeries(db, spec, query, picked)
      : { rows: [], durations: [] };
  const seriesByKey = indexSeries(series, spec.intervals.length);

  // Adoption per interval: the scope's sessions in each interval (every group when asked for).
  const intervalSessions = new Map(scopes.map((scope) => [scope, spec.intervals.map(() => 0)]));
  for (const row of series.rows) {
    const sums = intervalSessions.get(scopeOf(row));
    if (sums && row.interval !== null && row.interval < sums.length) {
      sums[row.interval] = (sums[row.interval] ?? 0) + row.sessions.sessions;
    }
  }

  const results = new Map<number, SessionsResultShape>();
  for (const [scope, { page, total, allSessions }] of pages) {
    const perInterval = intervalSessions.get(scope) ?? [];
    const statuses = spec.byStatus ? SESSION_STATUSES : [null];
    const shaped: SessionsGroupShape[] = [];
    for (const group of page) {
      const points = spec.need.series
        ? (seriesByKey.get(group.key) ?? spec.intervals.map(zeroCounts))
        : [];
      for (const status of statuses) {
        shaped.push({
          by: {
            projectId: spec.dims.includes('project') ? group.projectId : null,
            release:
              group.releaseId === null ? null : (releases.get(group.releaseId)?.version ?? null),
            environment: spec.dims.includes('environment') ? group.environment : null,
            sessionStatus: status,
          },
          totals: { ...group, status, allSessions },
          series: points.map((p, i) => ({ ...p, status, allSessions: perInterval[i] ?? 0 })),
        });
      }
    }
    results.set(scope, {
      start: spec.start,
      end: spec.end,
      intervals: spec.intervals,
      intervalSeconds: spec.intervalSeconds,
      groups: shaped,
      totalGroups: total * statuses.length,
      hasMoreGroups: spec.offset + page.length < total,
    });
  }
  return results;
}

interface SeriesRows {
  rows: MetricsRow[];
  durations: DurationRow[];
}

async function readSeries(
  db: Database,
  spec: SessionsSpec,
  totalsQuery: MetricsQuery,
  picked: BaseGroup[],
): Promise<SeriesRows> {
  if (picked.length === 0) return { rows: [], durations: [] };
  const query: MetricsQuery = { ...totalsQuery, intervalSeconds: spec.intervalSeconds };
  if (!spec.need.seriesAdoption) {
    // Only the picked groups' rows are needed: filter to their projects, releases, environments.
    const grouped = new Set(query.groupBy);
    if (grouped.has('project')) query.projectIds = unique(picked.map((g) => g.projectId ?? 0));
    if (grouped.has('release')) query.releaseIds = unique(picked.map((g) => g.releaseId ?? 0));
    if (grouped.has('environment')) {
      query.environments = unique(picked.map((g) => g.environment ?? ''));
    }
  }
  const [rows, durations] = await Promise.all([
    selectSessionMetrics(db, query),
    spec.need.seriesDurations ? selectSessionDurations(db, query) : [],
  ]);
  return { rows, durations };
}

/** Each group's counts per interval, by group key; intervals without rows are zeros. */
function indexSeries(series: SeriesRows, intervalCount: number): Map<string, Counts[]> {
  const byKey = new Map<string, Counts[]>();
  const at = (row: Row & { interval: number | null }) => {
    if (row.interval === null || row.interval < 0 || row.interval >= intervalCount)
      return undefined;
    const key = keyOf(row);
    let points = byKey.get(key);
    if (!points) {
      points = Array.from({ length: intervalCount }, zeroCounts);
      byKey.set(key, points);
    }
    return points[row.interval];
  };
  for (const row of series.rows) {
    const point = at(row);
    if (point) Object.assign(point, { sessions: row.sessions, users: row.users });
  }
  for (const row of series.durations) {
    const point = at(row);
    if (point) point.durations = row.durations;
  }
  return byKey;
}
