// Time ranges, stats periods and series intervals; no I/O. All ranges are half-open
// [start, end): a session started exactly at `end` belongs to the next range. Flooring is in UTC
// epoch time, so day buckets start at 00:00Z. shared/spec/sentry-reference.md §3.4.3, §5.3.

const SECOND_MS = 1000;
const ONE_DAY_SECONDS = 86_400;
const MIN_INTERVAL_SECONDS = 10;

/** At most this many intervals in one series (Sentry's sessions API). */
export const MAX_INTERVALS = 1000;
/** At most this many values (groups × intervals) in one response (Sentry's metrics layer). */
export const MAX_POINTS = 10_000;

export type StatsPeriod = '1h' | '24h' | '1d' | '48h' | '2d' | '7d' | '14d' | '30d' | '90d';

export interface StatsPeriodShape {
  rollupSeconds: number;
  buckets: number;
}

// shared/spec/sentry-reference.md §3.4.3
export const STATS_PERIODS: Readonly<Record<StatsPeriod, StatsPeriodShape>> = Object.freeze({
  '1h': { rollupSeconds: 3600, buckets: 1 },
  '24h': { rollupSeconds: 3600, buckets: 24 },
  '1d': { rollupSeconds: 3600, buckets: 24 },
  '48h': { rollupSeconds: 3600, buckets: 48 },
  '2d': { rollupSeconds: 3600, buckets: 48 },
  '7d': { rollupSeconds: 86_400, buckets: 7 },
  '14d': { rollupSeconds: 86_400, buckets: 14 },
  '30d': { rollupSeconds: 86_400, buckets: 30 },
  '90d': { rollupSeconds: 259_200, buckets: 30 },
});

export const DEFAULT_STATS_PERIOD: StatsPeriod = '24h';

export function isStatsPeriod(text: string): text is StatsPeriod {
  return Object.hasOwn(STATS_PERIODS, text);
}

const UNIT_SECONDS: Readonly<Record<string, number>> = {
  '': 1,
  s: 1,
  m: 60,
  h: 3600,
  d: 86_400,
  w: 604_800,
};

/**
 * Seconds in a Sentry duration such as `10s`, `30m`, `6h`, `14d`, `2w`; bare digits are seconds,
 * as in Sentry's `parse_stats_period`. Null when malformed (sign, decimals, spaces, upper-case
 * unit) or beyond exact integer range.
 */
export function parseDuration(text: string): number | null {
  const match = /^(\d+)([smhdw]?)$/.exec(text);
  if (!match) return null;
  const seconds = Number(match[1]) * (UNIT_SECONDS[match[2] ?? ''] ?? 1);
  return Number.isSafeInteger(seconds) ? seconds : null;
}

/** Sentry's message for an unusable series interval (§5.3 step 1, same order), or null. */
export function validateInterval(seconds: number): string | null {
  if (!(seconds >= MIN_INTERVAL_SECONDS) || seconds % MIN_INTERVAL_SECONDS !== 0) {
    return 'The interval has to be a multiple of the minimum interval of ten seconds.';
  }
  if (seconds > ONE_DAY_SECONDS) return 'The interval has to be less than one day.';
  if (ONE_DAY_SECONDS % seconds !== 0) {
    return 'The interval should divide one day without a remainder.';
  }
  return null;
}

/** `date` floored to a multiple of `seconds` since the epoch (UTC). */
export function floorTo(date: Date, seconds: number): Date {
  const stepMs = seconds * SECOND_MS;
  return new Date(Math.floor(date.getTime() / stepMs) * stepMs);
}

function assertPositiveInterval(intervalSeconds: number): void {
  if (!Number.isInteger(intervalSeconds) || intervalSeconds <= 0) {
    throw new RangeError(`interval must be a positive whole number of seconds: ${intervalSeconds}`);
  }
}

// Sentry's `to_intervals`: start floored to the interval, enough intervals to cover `end`.
function align(start: Date, end: Date, intervalSeconds: number): { startMs: number; n: number } {
  assertPositiveInterval(intervalSeconds);
  const startMs = floorTo(start, intervalSeconds).getTime();
  const n = Math.ceil((end.getTime() - startMs) / (intervalSeconds * SECOND_MS));
  return { startMs, n: Math.max(0, n) };
}

/**
 * The aligned range and interval starts of a series (§5.3 step 3). An `end` at or before the
 * aligned start gives no intervals and `end = start`.
 */
export function toIntervals(
  start: Date,
  end: Date,
  intervalSeconds: number,
): { start: Date; end: Date; intervals: Date[] } {
  const { startMs, n } = align(start, end, intervalSeconds);
  const stepMs = intervalSeconds * SECOND_MS;
  const intervals = Array.from({ length: n }, (_, k) => new Date(startMs + k * stepMs));
  return { start: new Date(startMs), end: new Date(startMs + n * stepMs), intervals };
}

/** Sentry's message when the aligned range holds more than MAX_INTERVALS intervals, or null. */
export function tooManyIntervals(start: Date, end: Date, intervalSeconds: number): string | null {
  if (align(start, end, intervalSeconds).n <= MAX_INTERVALS) return null;
  return (
    'Your interval and date range would create too many results. ' +
    'Use a larger interval, or a smaller date range.'
  );
}
