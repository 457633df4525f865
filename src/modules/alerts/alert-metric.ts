import {
  crashFreePercent,
  percent,
  sessionBreakdown,
  userBreakdown,
} from '../../health/crash-free.ts';
import type { HealthCounts } from '../release-health/release-health.loaders.ts';

// The rates an alert rule can watch, all percentages 0–100. Naming rule: `<WHAT>_<UNIT>` where
// WHAT is Sentry's name of the rate (CRASH_FREE, CRASH_RATE, ERRORED_RATE, ABNORMAL_RATE,
// UNHANDLED_RATE, UNHEALTHY_RATE, UNHANDLED_FREE) and UNIT is SESSIONS or USERS; the GraphQL field
// of ReleaseHealth with the same number is its camelCase (CRASH_RATE_SESSIONS → crashRateSessions).
// Every value comes from `metricValue`, the one place a rule's number is computed.

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

/**
 * The metric's value for one group's counts, in percent; null when the group saw nothing.
 * Formulas: shared/spec/release-health.md §4 (the same functions ReleaseHealth uses).
 */
export function metricValue(metric: AlertMetric, { sessions: s, users: u }: HealthCounts) {
  const sb = sessionBreakdown(s);
  const ub = userBreakdown(u);
  switch (metric) {
    case 'CRASH_FREE_SESSIONS':
      return crashFreePercent(s.sessions, s.crashed);
    case 'CRASH_FREE_USERS':
      return crashFreePercent(u.users, u.crashed);
    case 'CRASH_RATE_SESSIONS':
      return percent(s.crashed, s.sessions);
    case 'CRASH_RATE_USERS':
      return percent(u.crashed, u.users);
    case 'ERRORED_RATE_SESSIONS':
      return percent(sb.errored, s.sessions);
    case 'ERRORED_RATE_USERS':
      return percent(ub.errored, u.users);
    case 'ABNORMAL_RATE_SESSIONS':
      return percent(s.abnormal, s.sessions);
    case 'ABNORMAL_RATE_USERS':
      return percent(u.abnormal, u.users);
    case 'UNHANDLED_RATE_SESSIONS':
      return percent(s.unhandled, s.sessions);
    case 'UNHANDLED_RATE_USERS':
      return percent(u.unhandled, u.users);
    case 'UNHEALTHY_RATE_SESSIONS':
      return percent(s.sessions - sb.healthy, s.sessions);
    case 'UNHEALTHY_RATE_USERS':
      return percent(u.users - ub.healthy, u.users);
    case 'UNHANDLED_FREE_SESSIONS':
      return crashFreePercent(s.sessions, s.unhandled);
    case 'UNHANDLED_FREE_USERS':
      return crashFreePercent(u.users, u.unhandled);
  }
}

/** Whether `value` is past `line` in the rule's direction (the line itself is not past). */
export function isPast(comparison: Comparison, value: number, line: number): boolean {
  return comparison === 'BELOW' ? value < line : value > line;
}
