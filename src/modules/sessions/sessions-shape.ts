import {
  type SessionCounts,
  type UserCounts,
  ZERO_SESSION_COUNTS,
  ZERO_USER_COUNTS,
} from '../../health/crash-free.ts';
import type { DurationCount } from '../../health/duration.ts';
import type { ReleaseRow } from '../releases/release.queries.ts';
import type { SessionsRows } from './sessions.queries.ts';
import type { SessionsSpec } from './sessions-args.ts';
import { groupKeyOf, resultKeyOf, type SessionsPage } from './sessions-groups.ts';
import {
  SESSION_STATUS_GROUPS,
  type SessionStatusGroup,
  type SessionsValuesShape,
} from './sessions-values.ts';

// The response of a sessions query, from its pages and series rows: series points per group,
// adoption's denominator per interval, one group per status with SESSION_STATUS. Pure; tested in
// test/sessions/sessions-groups.test.ts.

export interface SessionsGroupKey {
  projectId: number | null;
  release: string | null;
  environment: string | null;
  sessionStatus: SessionStatusGroup | null;
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

interface Counts {
  sessions: SessionCounts;
  users: UserCounts;
  durations: DurationCount[];
}

const zeroCounts = (): Counts => ({
  sessions: ZERO_SESSION_COUNTS,
  users: ZERO_USER_COUNTS,
  durations: [],
});

/** Each group's counts per interval, by group key; intervals without rows are zeros. */
export function indexSeries(series: SessionsRows, intervalCount: number): Map<string, Counts[]> {
  const byKey = new Map<string, Counts[]>();
  const at = (row: Parameters<typeof groupKeyOf>[0] & { interval: number | null }) => {
    if (row.interval === null || row.interval < 0 || row.interval >= intervalCount) {
      return undefined;
    }
    const key = groupKeyOf(row);
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

/**
 * Adoption's denominator per interval: the sessions of every group of a result in each interval
 * (complete only when the series was read for every group, `need.seriesAdoption`).
 */
export function intervalSessions(
  resultKeys: readonly number[],
  series: SessionsRows,
  intervalCount: number,
): Map<number, number[]> {
  const sums = new Map(resultKeys.map((k) => [k, Array.from({ length: intervalCount }, () => 0)]));
  for (const row of series.rows) {
    const ofResult = sums.get(resultKeyOf(resultKeys, row));
    if (ofResult && row.interval !== null && row.interval >= 0 && row.interval < intervalCount) {
      ofResult[row.interval] = (ofResult[row.interval] ?? 0) + row.sessions.sessions;
    }
  }
  return sums;
}

/** Every result's response: its page's groups named by version, with totals and series. */
export function shapeSessionsResults(
  spec: SessionsSpec,
  pages: ReadonlyMap<number, SessionsPage>,
  series: SessionsRows,
  releases: ReadonlyMap<number, ReleaseRow>,
): Map<number, SessionsResultShape> {
  const resultKeys = [...pages.keys()];
  const seriesByKey = indexSeries(series, spec.intervals.length);
  const perInterval = intervalSessions(resultKeys, series, spec.intervals.length);
  const statuses = spec.byStatus ? SESSION_STATUS_GROUPS : [null];
  const results = new Map<number, SessionsResultShape>();
  for (const [resultKey, page] of pages) {
    const denominators = perInterval.get(resultKey) ?? [];
    const groups: SessionsGroupShape[] = [];
    for (const group of page.groups) {
      const points = spec.need.series
        ? (seriesByKey.get(group.key) ?? spec.intervals.map(zeroCounts))
        : [];
      for (const status of statuses) {
        groups.push({
          by: {
            projectId: spec.groupBy.includes('project') ? group.projectId : null,
            release:
              group.releaseId === null ? null : (releases.get(group.releaseId)?.version ?? null),
            environment: spec.groupBy.includes('environment') ? group.environment : null,
            sessionStatus: status,
          },
          totals: { ...group, status, allSessions: page.allSessions },
          series: points.map((p, i) => ({ ...p, status, allSessions: denominators[i] ?? 0 })),
        });
      }
    }
    results.set(resultKey, {
      start: spec.start,
      end: spec.end,
      intervals: spec.intervals,
      intervalSeconds: spec.intervalSeconds,
      groups,
      totalGroups: page.totalGroups * statuses.length,
      hasMoreGroups: spec.offset + page.groups.length < page.totalGroups,
    });
  }
  return results;
}
