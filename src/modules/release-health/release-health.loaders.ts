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

export interface HealthScope {
  /** Restricts a release's numbers to one project; null sums every project. */
  projectId: number | null;
  environments: readonly string[] | null;
  range: TimeRange;
}

export interface SeriesScope extends HealthScope {
  intervalSeconds: number;
  intervalCount: number;
  granularity: 60 | 3600 | 86400;
}

const EMPTY: HealthData = { sessions: ZERO_SESSION_COUNTS, users: ZERO_USER_COUNTS, durations: [] };
const NO_COUNTS: HealthCounts = { sessions: ZERO_SESSION_COUNTS, users: ZERO_USER_COUNTS };

const scopeKey = (s: HealthScope) =>
  `${s.projectId}|${s.environments?.join('\u0000') ?? '*'}|${rangeKey(s.range)}`;

/** The metrics a batch reads: its ids, within the scope's project, environments and range. */
function metricsQuery(
  key: 'release' | 'project',
  ids: readonly number[],
  scope: HealthScope,
  granularity: MetricsQuery['granularity'],
  intervalSeconds?: number,
): MetricsQuery {
  return {
    ...(key === 'release'
      ? { releaseIds: ids, projectIds: scope.projectId === null ? undefined : [scope.projectId] }
      : { projectIds: ids }),
    environments: scope.environments ?? undefined,
    start: scope.range.start,
    end: scope.range.end,
    granularity,
    groupBy: [key] as MetricGroupKey[],
    intervalSeconds,
  };
}

/** Totals per release or per project for one scope: one statement per batch, whatever its size. */
async function loadTotals(
  db: Database,
  key: 'release' | 'project',
  ids: readonly number[],
  scope: HealthScope,
): Promise<HealthCounts[]> {
  const rows = await selectSessionMetrics(
    db,
    metricsQuery(key, ids, scope, totalsGranularity(scope.range)),
  );
  const byId = new Map(rows.map((m) => [key === 'release' ? m.releaseId : m.projectId, m]));
  return ids.map((id) => byId.get(id) ?? NO_COUNTS);
}

/** Exited durations per release or project for one scope, read only when a field asks. */
async function loadDurations(
  db: Database,
  key: 'release' | 'project',
  ids: readonly number[],
  scope: HealthScope,
): Promise<DurationCount[][]> {
  const rows = await selectSessionDurations(
    db,
    metricsQuery(key, ids, scope, totalsGranularity(scope.range)),
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
  scope: SeriesScope,
) {
  const query = metricsQuery(key, ids, scope, scope.granularity, scope.intervalSeconds);
  const [metrics, durations] = await Promise.all([
    selectSessionMetrics(db, query),
    selectSessionDurations(db, query),
  ]);
  const series = new Map<number, HealthData[]>(
    ids.map((id) => [id, Array.from({ length: scope.intervalCount }, () => ({ ...EMPTY }))]),
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
  // One loader per scope (per arguments), batching the ids of every field that shares it.
  const totals = (name: string, key: 'release' | 'project') =>
    loaderFamily(
      (scope: HealthScope) =>
        new DataLoader<number, HealthCounts, string>((ids) => loadTotals(db, key, ids, scope), {
          name,
          cacheKeyFn: String,
        }),
      scopeKey,
    );
  const durations = (name: string, key: 'release' | 'project') =>
    loaderFamily(
      (scope: HealthScope) =>
        new DataLoader<number, DurationCount[], string>(
          (ids) => loadDurations(db, key, ids, scope),
          { name, cacheKeyFn: String },
        ),
      scopeKey,
    );
  const series = (name: string, key: 'release' | 'project') =>
    loaderFamily(
      (scope: SeriesScope) =>
        new DataLoader<number, HealthData[], string>((ids) => loadSeries(db, key, ids, scope), {
          name,
          cacheKeyFn: String,
        }),
      (s) => `${scopeKey(s)}|${s.intervalSeconds}`,
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
      (scope: HealthScope) =>
        new DataLoader<number, HealthCounts, string>(
          async (ids) => {
            const key = scope.environments?.join('\u0000') ?? '*';
            const readSince = caches.projectDay.version;
            const cached = ids.map((id) => caches.projectDay.get(id, key, now));
            const missing = ids.filter((_, i) => cached[i] === undefined);
            const loaded =
              missing.length > 0 ? await loadTotals(db, 'project', missing, scope) : [];
            const fresh = new Map(missing.map((id, i) => [id, loaded[i] as HealthCounts]));
            for (const [id, value] of fresh) caches.projectDay.set(id, key, now, value, readSince);
            return ids.map((id, i) => cached[i] ?? fresh.get(id) ?? NO_COUNTS);
          },
          { name: 'projectDayCountsByProjectId', cacheKeyFn: String },
        ),
      scopeKey,
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
