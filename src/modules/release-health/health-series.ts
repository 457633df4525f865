import { resolveSeries } from '../../graphql/series.ts';
import type { HealthPoint } from './health.schema.ts';
import type { HealthData, HealthFilter, SeriesFilter } from './release-health.loaders.ts';

/**
 * The points of a `stats` field: the range aligned to the interval, one loader call for the whole
 * series, each interval stamped with its start. Throws InvalidArgumentError for a bad interval.
 */
export async function loadHealthSeries(
  filter: HealthFilter,
  args: { interval?: string | null; display?: 'SESSIONS' | 'USERS' | null },
  load: (filter: SeriesFilter) => Promise<HealthData[]>,
): Promise<HealthPoint[]> {
  const series = resolveSeries(filter.range, args.interval);
  const points = await load({
    ...filter,
    range: { ...filter.range, start: series.start, end: series.end },
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
