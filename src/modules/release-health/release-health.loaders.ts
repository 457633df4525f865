import DataLoader from 'dataloader';
import type { Database } from '../../db/client.ts';
import { loaderFamily } from '../../graphql/loader-family.ts';
import type { SessionCounts, UserCounts } from '../../health/crash-free.ts';
import type { DurationCount } from '../../health/duration.ts';
import { rangeKey, type TimeRange } from '../../health/time-range.ts';
import { type Granularity, totalsGranularity } from '../../metrics/metric-store.ts';
import {
  selectSessionDurations,
  selectSessionMetrics,
} from '../../metrics/session-metrics.queries.ts';
import {
  durationsById,
  type HealthKey,
  healthQuery,
  NO_COUNTS,
  seriesById,
  totalsById,
} from './health-rows.ts';
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
  granularity: Granularity;
}

const filterKey = (s: HealthFilter) =>
  `${s.projectId}|${s.environments?.join('\u0000') ?? '*'}|${rangeKey(s.range)}`;

/** Totals per release or per project for one filter: one statement per batch, whatever its size. */
async function loadTotals(db: Database, key: HealthKey, ids: readonly number[], f: HealthFilter) {
  const query = healthQuery(key, ids, f, totalsGranularity(f.range));
  return totalsById(key, ids, await selectSessionMetrics(db, query));
}

/** Exited durations per release or project for one filter, read only when a field asks. */
async function loadDurations(
  db: Database,
  key: HealthKey,
  ids: readonly number[],
  f: HealthFilter,
) {
  const query = healthQuery(key, ids, f, totalsGranularity(f.range));
  return durationsById(key, ids, await selectSessionDurations(db, query));
}

/** Series per release or project: counters and durations side by side, two statements. */
async function loadSeries(db: Database, key: HealthKey, ids: readonly number[], f: SeriesFilter) {
  const query = healthQuery(key, ids, f, f.granularity, f.intervalSeconds);
  const [metrics, durations] = await Promise.all([
    selectSessionMetrics(db, query),
    selectSessionDurations(db, query),
  ]);
  return seriesById(key, ids, metrics, durations, f.intervalCount);
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
     * project and environments, dropped on any process's commit for the project (minute-cache.ts);
     * misses still batch into one statement.
     */
    projectDayCountsByProjectId: loaderFamily(
      (filter: HealthFilter) =>
        new DataLoader<number, HealthCounts, string>(
          async (ids) => {
            const key = filter.environments?.join('\u0000') ?? '*';
            const readSince = caches.projectDay.version;
            const cached = ids.map((id) => caches.projectDay.get(id, key, now));
            const missing = ids.filter((_, i) => cached[i] === undefined);
            const loaded =
              missing.length > 0 ? await loadTotals(db, 'project', missing, filter) : [];
            const fresh = new Map(missing.map((id, i) => [id, loaded[i] as HealthCounts]));
            for (const [id, value] of fresh) caches.projectDay.set(id, key, now, value, readSince);
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
