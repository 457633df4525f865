import { InvalidArgumentError } from '../graphql/errors.ts';
import { type Granularity, seriesGranularity } from '../metrics/metric-store.ts';
import {
  DEFAULT_STATS_PERIOD,
  isStatsPeriod,
  parseDuration,
  STATS_PERIODS,
  type StatsPeriod,
  toIntervals,
  tooManyIntervals,
  validateInterval,
} from './time-window.ts';

// The range and interval rules of every health field, in one place: which time range a field's
// arguments mean, and which series intervals it gets. Ranges are half-open, [start, end), over
// sessions' `started` times, resolved at the storage bucket as Sentry does: a bucket counts when
// its start lies in the range (the bucket sizes are the metric store's, src/metrics/metric-store.ts).
// Stats periods, duration parsing and interval alignment are in ./time-window.ts.

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

/** A range as a cache key: epoch milliseconds (toISOString cost a releases table 175 calls). */
export function rangeKey(range: TimeRange): string {
  return `${range.start.getTime()}/${range.end.getTime()}`;
}

// Two default intervals, each its Sentry API's:
//  - the sessions query and ingest stats (Sentry's sessions and stats APIs): 1 hour, or 1 day
//    when the range holds more than 1000 hours;
//  - `stats` of a release or project (Sentry's release health): the stats period's rollup, or
//    for a start/end range 1 hour up to 2 days and 1 day beyond.

/** The sessions query's and ingest stats' default interval. */
export function sessionsDefaultInterval(range: TimeRange): string {
  return tooManyIntervals(range.start, range.end, 3600) ? '1d' : '1h';
}

/** A health `stats` series' default interval, in seconds. */
function statsDefaultIntervalSeconds(range: TimeRange): number {
  if (range.period) return STATS_PERIODS[range.period].rollupSeconds;
  return range.end.getTime() - range.start.getTime() <= 2 * 86_400_000 ? 3600 : 86400;
}

export interface Series {
  /** The range rounded out to whole intervals (spec §5.3 step 3). */
  start: Date;
  end: Date;
  intervals: Date[];
  intervalSeconds: number;
  granularity: Granularity;
}

/**
 * Resolves a series' interval: the given one (`1m` … `1d`), else the health stats default
 * (`statsDefaultIntervalSeconds`). Throws InvalidArgumentError naming `interval`.
 */
export function resolveSeries(range: TimeRange, interval: string | null | undefined): Series {
  let seconds: number;
  if (interval) {
    const parsed = parseDuration(interval);
    if (parsed === null) {
      throw new InvalidArgumentError(
        'interval',
        `Invalid interval "${interval}": use e.g. 1m, 5m, 1h, 1d.`,
      );
    }
    const problem = validateInterval(parsed);
    if (problem) throw new InvalidArgumentError('interval', problem);
    // Vigil's smallest storage bucket is one minute.
    if (parsed % 60 !== 0) {
      throw new InvalidArgumentError(
        'interval',
        'The interval has to be a whole number of minutes.',
      );
    }
    seconds = parsed;
  } else {
    seconds = statsDefaultIntervalSeconds(range);
  }
  const tooMany = tooManyIntervals(range.start, range.end, seconds);
  if (tooMany) throw new InvalidArgumentError('interval', tooMany);
  const aligned = toIntervals(range.start, range.end, seconds);
  return { ...aligned, intervalSeconds: seconds, granularity: seriesGranularity(seconds) };
}
