import { RATE_FIELDS, type RateField } from '../../health/rates.ts';
import type { HealthCounts } from '../release-health/release-health.loaders.ts';

// The rates an alert rule can watch, all percentages 0–100. Naming rule: `<WHAT>_<UNIT>`, the
// ReleaseHealth rate field of the same number in SCREAMING_SNAKE (crashRateSessions →
// CRASH_RATE_SESSIONS); the values come from the same rate table (src/health/rates.ts).

export const ALERT_METRICS = [
  'CRASH_FREE_SESSIONS',
  'CRASH_FREE_USERS',
  'CRASH_RATE_SESSIONS',
  'CRASH_RATE_USERS',
  'ERRORED_RATE_SESSIONS',
  'ERRORED_RATE_USERS',
  'ABNORMAL_RATE_SESSIONS',
  'ABNORMAL_RATE_USERS',
  'UNHANDLED_RATE_SESSIONS',
  'UNHANDLED_RATE_USERS',
  'UNHEALTHY_RATE_SESSIONS',
  'UNHEALTHY_RATE_USERS',
  'UNHANDLED_FREE_SESSIONS',
  'UNHANDLED_FREE_USERS',
  'ANR_RATE_SESSIONS',
  'ANR_RATE_USERS',
  'FOREGROUND_ANR_RATE_SESSIONS',
  'FOREGROUND_ANR_RATE_USERS',
] as const;
export type AlertMetric = (typeof ALERT_METRICS)[number];

export type Comparison = 'BELOW' | 'ABOVE';

export function isAlertMetric(value: string): value is AlertMetric {
  return (ALERT_METRICS as readonly string[]).includes(value);
}

/** Whether a metric counts users (its volume guard is users) rather than sessions. */
export function isUserMetric(metric: AlertMetric): boolean {
  return metric.endsWith('_USERS');
}

/** "Good" rates (crash-free, unhandled-free) alert when they fall; the others when they rise. */
export function defaultComparison(metric: AlertMetric): Comparison {
  return metric.startsWith('CRASH_FREE') || metric.startsWith('UNHANDLED_FREE') ? 'BELOW' : 'ABOVE';
}

/** The ReleaseHealth rate field a metric watches: CRASH_RATE_USERS → crashRateUsers. */
function rateFieldOf(metric: AlertMetric): RateField {
  const name = metric.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const field = RATE_FIELDS.find((f) => f.name === name);
  if (!field) throw new Error(`no rate field ${name} for alert metric ${metric}`);
  return field;
}

const FIELDS = new Map(ALERT_METRICS.map((m) => [m, rateFieldOf(m)]));

/**
 * The metric's value for one group's counts, in percent; null when the group saw nothing. The
 * same rate table as ReleaseHealth's fields (src/health/rates.ts), so a rule and the API agree.
 */
export function metricValue(metric: AlertMetric, { sessions, users }: HealthCounts) {
  return (FIELDS.get(metric) as RateField).value(sessions, users);
}

/** Whether `value` is past `line` in the rule's direction (the line itself is not past). */
export function isPast(comparison: Comparison, value: number, line: number): boolean {
  return comparison === 'BELOW' ? value < line : value > line;
}
