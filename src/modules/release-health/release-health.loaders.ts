import DataLoader from 'dataloader';
import type { Database } from '../../db/client.ts';
import { loaderFamily } from '../../graphql/loader-family.ts';
import { rangeKey, type TimeRange, totalsGranularity } from '../../graphql/time-range.ts';
import {
  type SessionCounts,
  type UserCounts,
  ZERO_SESSION_COUNTS,
  ZERO_USER_COUNTS,
} from '../../health/crash-free.ts';
import type { DurationCount } from '../../health/duration.ts';
import {
  type MetricGroupKey,
  type MetricsQuery,
  selectSessionDurations,
  selectSessionMetrics,
} from '../../metrics/session-metrics.queries.ts';
import { MinuteCache } from './minute-cache.ts';
import {
  type AdoptionStageRow,
  selectAdoptionStages,
  selectProjectsWithHealthData,
} from './release-health.queries.ts';

/** One group's counters and exact users. */
export interface HealthCounts {
  sessions: SessionCounts;
  users: UserCounts;
}

/** What a series point reads: counters, exact users and exited durations of one interval. */
export interface HealthData {
  sessions: SessionCounts;
  users: UserCounts;
  durations: DurationCount[];
}

/** What a health number covers: a project (or all), environments and a range. */
export interface HealthFilter {
  /** Restricts a release's numbers to one project; null sums every project. */
  projectId: number | null;
  environments: readonly string[] | null;
  range: TimeRange;
}

export interface SeriesFilter extends HealthFilter {
  intervalSeconds: number;
  intervalCount: number;
  granularity: 60 | 3600 | 86400;
}

const EMPTY: HealthData = { sessions: ZERO_SESSION_COUNTS, users: ZERO_USER_COUNTS, durations: [] };
const NO_COUNTS: HealthCounts = { sessions: ZERO_SESSION_COUNTS, users: ZERO_USER_COUNTS };

const filterKey = (s: HealthFilter) =>
  `${s.projectId}|${s.environments?.join('\u0000') ?? '*'}|${rangeKey(s.range)}`;

/** The metrics a batch reads: its ids, within the filter's project, environments and range. */
function metricsQuery(
  key: 'release' | 'project',
  ids: readonly number[],
  filter: HealthFilter,
  granularity: MetricsQuery['granularity'],
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
    groupBy: [key] as MetricGroupKey[],
    intervalSeconds,
  };
}

/** Totals per release or per project for one filter: one statement per batch, whatever its size. */
async function loadTotals(
  db: Database,
  key: 'release' | 'project',
  ids: readonly number[],
  filter: HealthFilter,
): Promise<HealthCounts[]> {
  const rows = await selectSessionMetrics(
    db,
    metricsQuery(key, ids, filter, totalsGranularity(filter.range)),
  );
  const byId = new Map(rows.map((m) => [key === 'release' ? m.releaseId : m.projectId, m]));
  return ids.map((id) => byId.get(id) ?? NO_COUNTS);
}

/** Exited durations per release or project for one filter, read only when a field asks. */
async function loadDurations(
  db: Database,
  key: 'release' | 'project',
  ids: readonly number[],
  filter: HealthFilter,
): Promise<DurationCount[][]> {
  const rows = await selectSessionDurations(
    db,
    metricsQuery(key, ids, filter, totalsGranularity(filter.range)),
  );
  const byId = new Map(
    rows.map((d) => [key === 'release' ? d.releaseId : d.projectId, d.durations]),
  );
  return ids.map((id) => byId.get(id) ?? []);
}

/** Series per release or project: one array entry per interval, empty intervals as zeros. */
async function loadSeries(
  db: Database,
  key: 'release' | 'project',
  ids: readonly number[],
  filter: SeriesFilter,
) {
  const query = metricsQuery(key, ids, filter, filter.granularity, filter.intervalSeconds);
  const [metrics, durations] = await Promise.all([
    selectSessionMetrics(db, query),
    selectSessionDurations(db, query),
  ]);
  const series = new Map<number, HealthData[]>(
    ids.map((id) => [id, Array.from({ length: filter.intervalCount }, () => ({ ...EMPTY }))]),
  );
  const slot = (r: {
    releaseId: number | null;
    projectId: number | null;
    interval: number | null;
  }) => series.get((key === 'release' ? r.releaseId : r.projectId) ?? -1)?.[r.interval ?? -1];
  for (const m of metrics) {
    const s = slot(m);
    if (s) Object.assign(s, { sessions: m.sessions, users: m.users });
  }
  for (const d of durations) {
    const s = slot(d);
    if (s) s.durations = d.durations;
  }
  return ids.map((id) => series.get(id) ?? []);
}

export interface ReleaseHealthCaches {
  projectDay: MinuteCache<HealthCounts>;
}

export function createReleaseHealthCaches(): ReleaseHealthCaches {
  return { projectDay: new MinuteCache() };
}

export function createReleaseHealthLoaders(db: Database, now: Date, caches: ReleaseHealthCaches) {
  // One loader per filter (per arguments), batching the ids of every field that shares it.
  const totals = (name: string, key: 'release' | 'project') =>
    loaderFamily(
      (filter: HealthFilter) =>
        new DataLoader<number, HealthCounts, string>((ids) => loadTotals(db, key, ids, filter), {
          name,
          cacheKeyFn: String,
        }),
      filterKey,
    );
  const durations = (name: string, key: 'release' | 'project') =>
    loaderFamily(
      (filter: HealthFilter) =>
        new DataLoader<number, DurationCount[], string>(
          (ids) => loadDurations(db, key, ids, filter),
          { name, cacheKeyFn: String },
        ),
      filterKey,
    );
  const series = (name: string, key: 'release' | 'project') =>
    loaderFamily(
      (filter: SeriesFilter) =>
        new DataLoader<number, HealthData[], string>((ids) => loadSeries(db, key, ids, filter), {
          name,
          cacheKeyFn: String,
        }),
      (s) => `${filterKey(s)}|${s.intervalSeconds}`,
    );
  return {
    releaseHealthByReleaseId: totals('releaseHealthByReleaseId', 'release'),
    releaseDurationsByReleaseId: durations('releaseDurationsByReleaseId', 'release'),
    releaseSeriesByReleaseId: series('releaseSeriesByReleaseId', 'release'),
    projectHealthByProjectId: totals('projectHealthByProjectId', 'project'),
    projectDurationsByProjectId: durations('projectDurationsByProjectId', 'project'),
    /**
     * A project's side of adoption: its counts over the last 24 h, computed once a minute per
     * project and environments (minute-cache.ts); misses still batch into one statement.
     */
    projectDayCountsByProjectId: loaderFamily(
      (filter: HealthFilter) =>
        new DataLoader<number, HealthCounts, string>(
          async (ids) => {
            const key = filter.environments?.join('\u0000') ?? '*';
            const cached = ids.map((id) => caches.projectDay.get(id, key, now));
            const missing = ids.filter((_, i) => cached[i] === undefined);
            const loaded =
              missing.length > 0 ? await loadTotals(db, 'project', missing, filter) : [];
            const fresh = new Map(missing.map((id, i) => [id, loaded[i] as HealthCounts]));
            for (const [id, value] of fresh) caches.projectDay.set(id, key, now, value);
            return ids.map((id, i) => cached[i] ?? fresh.get(id) ?? NO_COUNTS);
          },
          { name: 'projectDayCountsByProjectId', cacheKeyFn: String },
        ),
      filterKey,
    ),
    projectSeriesByProjectId: series('projectSeriesByProjectId', 'project'),
    projectHasHealthData: new DataLoader<number, boolean>(
      async (ids) => {
        const found = new Set(await selectProjectsWithHealthData(db, ids, now));
        return ids.map((id) => found.has(id));
      },
      { name: 'projectHasHealthData' },
    ),
    adoptionStageByKey: new DataLoader<
      { projectId: number; releaseId: number; environment: string },
      AdoptionStageRow | null,
      string
    >(
      async (keys) => {
        const rows = await selectAdoptionStages(db, keys);
        const k = (r: { projectId: number; releaseId: number; environment: string }) =>
          `${r.projectId}|${r.releaseId}|${r.environment}`;
        const byKey = new Map(rows.map((r) => [k(r), r]));
        return keys.map((key) => byKey.get(k(key)) ?? null);
      },
      {
        name: 'adoptionStageByKey',
        cacheKeyFn: (r) => `${r.projectId}|${r.releaseId}|${r.environment}`,
      },
    ),
  };
}
