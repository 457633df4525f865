import { resolveSeries } from '../../health/time-range.ts';
import type { HealthPoint } from './health.schema.ts';
import type { HealthData, HealthScope, SeriesScope } from './release-health.loaders.ts';

/**
 * The points of a `stats` field: the range aligned to the interval, one loader call for the whole
 * series, each interval stamped with its start. Throws InvalidArgumentError for a bad interval.
 */
export async function loadHealthSeries(
  scope: HealthScope,
  args: { interval?: string | null; display?: 'SESSIONS' | 'USERS' | null },
  load: (scope: SeriesScope) => Promise<HealthData[]>,
): Promise<HealthPoint[]> {
  const series = resolveSeries(scope.range, args.interval);
  const points = await load({
    ...scope,
    range: { ...scope.range, start: series.start, end: series.end },
    intervalSeconds: series.intervalSeconds,
    intervalCount: series.intervals.length,
    granularity: series.granularity,
  });
  return points.map((p, i) => ({
    sessions: p.sessions,
    users: p.users,
    // A series reads its durations with its counts: one statement for every point.
    durations: async () => p.durations,
    timestamp: series.intervals[i] as Date,
    display: args.display ?? 'SESSIONS',
  }));
}
