import { ZERO_SESSION_COUNTS, ZERO_USER_COUNTS } from '../../health/crash-free.ts';
import type { DurationCount } from '../../health/duration.ts';
import type {
  DurationRow,
  Granularity,
  MetricsQuery,
  MetricsRow,
} from '../../metrics/session-metrics.queries.ts';
import type { HealthCounts, HealthData, HealthFilter } from './release-health.loaders.ts';

// From a batch of release or project ids to the statement that reads them, and from its rows back
// to one answer per id, aligned with the ids (DataLoader's contract). Pure; tested in
// test/release-health/health-rows.test.ts.

/** What a batch's ids are: releases (Release.health) or projects (Project.health). */
export type HealthKey = 'release' | 'project';

/** A key with no data: zero counts (rates come out null), never an error. */
export const NO_COUNTS: HealthCounts = { sessions: ZERO_SESSION_COUNTS, users: ZERO_USER_COUNTS };

/** The statement of a batch: its ids, within the filter's project, environments and range. */
export function healthQuery(
  key: HealthKey,
  ids: readonly number[],
  filter: HealthFilter,
  granularity: Granularity,
  intervalSeconds?: number,
): MetricsQuery {
  return {
    ...(key === 'release'
      ? { releaseIds: ids, projectIds: filter.projectId === null ? undefined : [filter.projectId] }
      : { projectIds: ids }),
    environments: filter.environments ?? undefined,
    start: filter.range.start,
    end: filter.range.end,
    granularity,
    groupBy: [key],
    intervalSeconds,
  };
}

const idOf = (key: HealthKey, r: { releaseId: number | null; projectId: number | null }) =>
  (key === 'release' ? r.releaseId : r.projectId) ?? -1;

/** Each id's totals, zeros for an id without rows. */
export function totalsById(
  key: HealthKey,
  ids: readonly number[],
  rows: readonly MetricsRow[],
): HealthCounts[] {
  const byId = new Map(rows.map((m) => [idOf(key, m), m]));
  return ids.map((id) => {
    const row = byId.get(id);
    return row ? { sessions: row.sessions, users: row.users } : NO_COUNTS;
  });
}

/** Each id's exited durations, none for an id without rows. */
export function durationsById(
  key: HealthKey,
  ids: readonly number[],
  rows: readonly DurationRow[],
): DurationCount[][] {
  const byId = new Map(rows.map((d) => [idOf(key, d), d.durations]));
  return ids.map((id) => byId.get(id) ?? []);
}

/** Each id's series: one entry per interval, intervals without rows as zeros. */
export function seriesById(
  key: HealthKey,
  ids: readonly number[],
  metrics: readonly MetricsRow[],
  durations: readonly DurationRow[],
  intervalCount: number,
): HealthData[][] {
  const empty = (): HealthData => ({ ...NO_COUNTS, durations: [] });
  const series = new Map(ids.map((id) => [id, Array.from({ length: intervalCount }, empty)]));
  const slot = (r: MetricsRow | DurationRow) => series.get(idOf(key, r))?.[r.interval ?? -1];
  for (const m of metrics) {
    const point = slot(m);
    if (point) Object.assign(point, { sessions: m.sessions, users: m.users });
  }
  for (const d of durations) {
    const point = slot(d);
    if (point) point.durations = d.durations;
  }
  return ids.map((id) => series.get(id) ?? []);
}
