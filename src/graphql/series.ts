import {
  parseDuration,
  STATS_PERIODS,
  toIntervals,
  tooManyIntervals,
  validateInterval,
} from '../health/time-window.ts';
import type { Granularity } from '../metrics/session-metrics.queries.ts';
import { InvalidArgumentError } from './errors.ts';
import { seriesGranularity, type TimeRange } from './time-range.ts';

export interface Series {
  /** The range rounded out to whole intervals (spec §5.3 step 3). */
  start: Date;
  end: Date;
  intervals: Date[];
  intervalSeconds: number;
  granularity: Granularity;
}

/**
 * Resolves a series' interval: the given one (`1m` … `1d`), else the stats period's rollup
 * (Sentry's table), else 1 hour up to 2 days and 1 day beyond.
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
  } else if (range.period) {
    seconds = STATS_PERIODS[range.period].rollupSeconds;
  } else {
    seconds = range.end.getTime() - range.start.getTime() <= 2 * 86_400_000 ? 3600 : 86400;
  }
  const tooMany = tooManyIntervals(range.start, range.end, seconds);
  if (tooMany) throw new InvalidArgumentError('interval', tooMany);
  const aligned = toIntervals(range.start, range.end, seconds);
  return { ...aligned, intervalSeconds: seconds, granularity: seriesGranularity(seconds) };
}
