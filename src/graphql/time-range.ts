import {
  DEFAULT_STATS_PERIOD,
  isStatsPeriod,
  parseDuration,
  STATS_PERIODS,
  type StatsPeriod,
} from '../health/time-window.ts';
import type { Granularity } from '../metrics/session-metrics.queries.ts';
import { InvalidArgumentError } from './errors.ts';

// Time ranges of health fields. Ranges are half-open, [start, end), over sessions' `started`
// times, resolved at the storage bucket as Sentry does: a bucket counts when its start lies in
// the range. Totals use minute buckets up to 6 hours, hour buckets up to 30 days, days beyond.

export interface TimeRange {
  start: Date;
  end: Date;
  /** The stats period it came from, when it came from one: it names the default series shape. */
  period: StatsPeriod | null;
}

export interface RangeArgs {
  period?: string | null;
  start?: Date | null;
  end?: Date | null;
}

export const PERIOD_DESCRIPTION = `A Sentry stats period: ${Object.keys(STATS_PERIODS).join(', ')}. Default ${DEFAULT_STATS_PERIOD}; not together with start/end.`;

/** Reads `period` or `start`/`end`; throws InvalidArgumentError naming the argument at fault. */
export function resolveRange(
  args: RangeArgs,
  now: Date,
  options: { anyPeriod?: boolean } = {},
): TimeRange {
  if (args.period && (args.start || args.end)) {
    throw new InvalidArgumentError('period', 'Give either period or start/end, not both.');
  }
  if (args.start || args.end) {
    if (!args.start) throw new InvalidArgumentError('start', 'end needs a start.');
    const end = args.end ?? now;
    if (args.start >= end) {
      throw new InvalidArgumentError('start', 'start must be before end.');
    }
    return { start: args.start, end, period: null };
  }
  const period = args.period ?? DEFAULT_STATS_PERIOD;
  if (isStatsPeriod(period)) {
    const { rollupSeconds, buckets } = STATS_PERIODS[period];
    return { start: new Date(now.getTime() - rollupSeconds * buckets * 1000), end: now, period };
  }
  const seconds = options.anyPeriod ? parseDuration(period) : null;
  if (seconds === null || seconds <= 0) {
    throw new InvalidArgumentError(
      'period',
      `Unknown period "${period}": use one of ${Object.keys(STATS_PERIODS).join(', ')}.`,
    );
  }
  return { start: new Date(now.getTime() - seconds * 1000), end: now, period: null };
}

/** [now − 24 h, now): the window of adoption and of the *_24H orders (spec §4.2). */
export function last24Hours(now: Date): TimeRange {
  return resolveRange({ period: '24h' }, now);
}

/** The bucket size totals over this range read from. */
export function totalsGranularity(range: TimeRange): Granularity {
  const seconds = (range.end.getTime() - range.start.getTime()) / 1000;
  if (seconds <= 6 * 3600) return 60;
  if (seconds <= 30 * 86400) return 3600;
  return 86400;
}

/** The largest bucket size that divides a series interval. */
export function seriesGranularity(intervalSeconds: number): Granularity {
  if (intervalSeconds % 86400 === 0) return 86400;
  if (intervalSeconds % 3600 === 0) return 3600;
  return 60;
}

export function rangeKey(range: TimeRange): string {
  return `${range.start.toISOString()}/${range.end.toISOString()}`;
}
