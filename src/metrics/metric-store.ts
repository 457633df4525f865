// The metric store's vocabulary, in one place: its bucket sizes and which one a read uses, how
// long it keeps metrics and session states, and what "has health data" means. Every module that
// writes, reads or prunes the store takes these from here. docs/design.md § The metric store.

export const MINUTE = 60;
export const HOUR = 3600;
export const DAY = 86_400;

/** Bucket sizes in seconds: minutes for short series, hours and days for long ones. */
export const GRANULARITIES = [MINUTE, HOUR, DAY] as const;
export type Granularity = (typeof GRANULARITIES)[number];

/** Totals read minute buckets up to 6 hours, hour buckets up to 30 days, day buckets beyond. */
export function totalsGranularity(range: { start: Date; end: Date }): Granularity {
  const seconds = (range.end.getTime() - range.start.getTime()) / 1000;
  if (seconds <= 6 * HOUR) return MINUTE;
  if (seconds <= 30 * DAY) return HOUR;
  return DAY;
}

/** A series reads the largest bucket size that divides its interval. */
export function seriesGranularity(intervalSeconds: number): Granularity {
  if (intervalSeconds % DAY === 0) return DAY;
  if (intervalSeconds % HOUR === 0) return HOUR;
  return MINUTE;
}

/** Metrics and ingest outcomes are kept 90 days (Sentry's retention), then pruned. */
export const RETENTION_DAYS = 90;

/** Buckets that start before this are pruned. */
export function retentionStart(now: Date): Date {
  return new Date(now.getTime() - RETENTION_DAYS * DAY * 1000);
}

/**
 * A project or release "has health data" (spec §4.1) when a session of it started on or after
 * this: the start of the UTC day that holds `retentionStart`, so a day bucket answers it.
 */
export function healthDataSince(now: Date): Date {
  const start = retentionStart(now).getTime();
  return new Date(start - (start % (DAY * 1000)));
}

/**
 * Session states and aggregate receipts are kept 6 days after `started`: updates older than 5 days
 * are refused at the door (Relay's rule, `MAX_SESSION_AGE_SECONDS`), so none arrives later; the
 * extra day is margin. A test checks that it stays longer than the door's limit.
 */
export const SESSION_STATE_LIFETIME_SECONDS = 6 * DAY;
