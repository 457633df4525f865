import {
  crashFreeFraction,
  ratio,
  type SessionCounts,
  type StatusBreakdown,
  sessionBreakdown,
  type UserCounts,
  userBreakdown,
} from '../../health/crash-free.ts';
import { type DurationCount, max, mean, percentile } from '../../health/duration.ts';

// The values a sessions query can return, one table for `SessionsValues` (totals), `SessionsSeries`
// (one entry per interval) and the orderBy enum. Formulas: shared/spec/release-health.md §4, §5;
// rates are fractions 0..1 as in Sentry's sessions API.

export const SESSION_STATUSES = ['HEALTHY', 'ERRORED', 'UNHANDLED', 'CRASHED', 'ABNORMAL'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

const BREAKDOWN_KEY: Record<SessionStatus, keyof StatusBreakdown> = {
  HEALTHY: 'healthy',
  ERRORED: 'errored',
  UNHANDLED: 'unhandled',
  CRASHED: 'crashed',
  ABNORMAL: 'abnormal',
};

/** What one group has in one interval (a series entry) or over the whole range (totals). */
export interface SessionsValuesShape {
  sessions: SessionCounts;
  users: UserCounts;
  /** Durations of sessions that ended exited; empty when none or when not asked for. */
  durations: readonly DurationCount[];
  /** Set in a SESSION_STATUS group: `sessions` and `users` are that status's share (spec §5.5). */
  status: SessionStatus | null;
  /** Sessions of every group of the query over the same span: adoption's denominator. */
  allSessions: number;
}

export type ValueKind = 'count' | 'rate' | 'duration';

export interface ValueField {
  name: string;
  kind: ValueKind;
  description: string;
  value: (v: SessionsValuesShape) => number | null;
}

const sessionsOf = (v: SessionsValuesShape) =>
  v.status ? sessionBreakdown(v.sessions)[BREAKDOWN_KEY[v.status]] : v.sessions.sessions;
const usersOf = (v: SessionsValuesShape) =>
  v.status ? userBreakdown(v.users)[BREAKDOWN_KEY[v.status]] : v.users.users;
// spec §5: only sessions that ended normally report a meaningful duration.
const durationsOf = (v: SessionsValuesShape) =>
  v.status === null || v.status === 'HEALTHY' ? v.durations : [];

function breakdownOf(unit: 'sessions' | 'users', v: SessionsValuesShape): StatusBreakdown {
  return unit === 'sessions' ? sessionBreakdown(v.sessions) : userBreakdown(v.users);
}

/** sessionsHealthy … sessionsAbnormal and healthyRateSessions … (crashRate* is defined apart). */
function statusFields(unit: 'sessions' | 'users'): ValueField[] {
  const total = (v: SessionsValuesShape) =>
    unit === 'sessions' ? v.sessions.sessions : v.users.users;
  const Unit = unit === 'sessions' ? 'Sessions' : 'Users';
  const counts: ValueField[] = [];
  const rates: ValueField[] = [];
  for (const status of SESSION_STATUSES) {
    const key = BREAKDOWN_KEY[status];
    const count = `${unit}${key[0]?.toUpperCase()}${key.slice(1)}`;
    counts.push({
      name: count,
      kind: 'count',
      description: `${Unit} whose worst outcome was ${key}; the five statuses are exclusive (spec §4).`,
      value: (v) => breakdownOf(unit, v)[key],
    });
    if (key === 'crashed') continue;
    rates.push({
      name: `${key}Rate${Unit}`,
      kind: 'rate',
      description: `${count} ÷ ${unit}, a fraction 0..1; null when there were no ${unit}.`,
      value: (v) => ratio(breakdownOf(unit, v)[key], total(v)),
    });
  }
  return [...counts, ...rates];
}

const durationField = (
  name: string,
  what: string,
  of: (d: readonly DurationCount[]) => number | null,
): ValueField => ({
  name,
  kind: 'duration',
  description: `${what} duration in SECONDS (Sentry returns milliseconds) of sessions that ended exited; null when none. In a SESSION_STATUS grouping only the HEALTHY group has it.`,
  value: (v) => of(durationsOf(v)),
});

export const VALUE_FIELDS: readonly ValueField[] = [
  {
    name: 'sessions',
    kind: 'count',
    description:
      'Sessions started (Sentry’s sum(session)); in a SESSION_STATUS group, those of its status.',
    value: sessionsOf,
  },
  {
    name: 'users',
    kind: 'count',
    description:
      'Distinct users, exact (Sentry’s count_unique(user)); in a SESSION_STATUS group, those whose worst outcome was its status.',
    value: usersOf,
  },
  {
    name: 'crashFreeSessions',
    kind: 'rate',
    description:
      '1 − crashed ÷ sessions, a FRACTION 0..1 (the health API’s crashFreeSessions is a percentage); null without sessions.',
    value: (v) => crashFreeFraction(v.sessions.sessions, v.sessions.crashed),
  },
  {
    name: 'crashFreeUsers',
    kind: 'rate',
    description: '1 − crashed users ÷ users, a fraction 0..1; null without users.',
    value: (v) => crashFreeFraction(v.users.users, v.users.crashed),
  },
  {
    name: 'crashRateSessions',
    kind: 'rate',
    description: 'Crashed ÷ sessions, a fraction 0..1; null without sessions.',
    value: (v) => ratio(v.sessions.crashed, v.sessions.sessions),
  },
  {
    name: 'crashRateUsers',
    kind: 'rate',
    description: 'Crashed users ÷ users, a fraction 0..1; null without users.',
    value: (v) => ratio(v.users.crashed, v.users.users),
  },
  {
    name: 'unhealthyRateSessions',
    kind: 'rate',
    description:
      'Sessions that were not healthy (errored, unhandled, crashed or abnormal) ÷ sessions, a fraction 0..1; null without sessions.',
    value: (v) =>
      ratio(v.sessions.sessions - sessionBreakdown(v.sessions).healthy, v.sessions.sessions),
  },
  {
    name: 'unhealthyRateUsers',
    kind: 'rate',
    description: 'Users who were not healthy ÷ users, a fraction 0..1; null without users.',
    value: (v) => ratio(v.users.users - userBreakdown(v.users).healthy, v.users.users),
  },
  {
    name: 'sessionsAdoption',
    kind: 'rate',
    description:
      'This group’s share of the sessions of every group the query’s filters select (the selected projects’ sessions), over the same span: a fraction 0..1; null when there were none.',
    value: (v) => ratio(v.sessions.sessions, v.allSessions),
  },
  ...statusFields('sessions'),
  ...statusFields('users'),
  durationField('durationAvg', 'Mean', mean),
  durationField('durationP50', 'Median', (d) => percentile(d, 0.5)),
  durationField('durationP75', '75th percentile', (d) => percentile(d, 0.75)),
  durationField('durationP90', '90th percentile', (d) => percentile(d, 0.9)),
  durationField('durationP95', '95th percentile', (d) => percentile(d, 0.95)),
  durationField('durationP99', '99th percentile', (d) => percentile(d, 0.99)),
  durationField('durationMax', 'Longest', max),
];

export const VALUE_FIELD_BY_NAME: ReadonlyMap<string, ValueField> = new Map(
  VALUE_FIELDS.map((f) => [f.name, f]),
);

/** Fields a SESSION_STATUS grouping can split (Sentry: sum(session), count_unique(user), durations). */
export function isStatusGroupable(name: string): boolean {
  return (
    name === 'sessions' || name === 'users' || VALUE_FIELD_BY_NAME.get(name)?.kind === 'duration'
  );
}

/** `crashFreeSessions` → `CRASH_FREE_SESSIONS`, `durationP50` → `DURATION_P50`. */
export function toEnumName(name: string): string {
  return name.replace(/([a-z])([A-Z0-9])/g, '$1_$2').toUpperCase();
}
