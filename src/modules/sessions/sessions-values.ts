import {
  percent,
  type SessionCounts,
  type StatusBreakdown,
  sessionBreakdown,
  type UserCounts,
  userBreakdown,
} from '../../health/crash-free.ts';
import { type DurationCount, max, mean, percentile } from '../../health/duration.ts';
import { RATE_FIELDS } from '../../health/rates.ts';

// The values a sessions query can return, one table for `SessionsValues` (totals), `SessionsSeries`
// (one entry per interval) and the orderBy enum. Formulas: shared/spec/release-health.md §4, §5;
// rates are percentages 0–100 like every rate of the API (Sentry's sessions API returns fractions).

/**
 * The exclusive outcome groups a SESSION_STATUS grouping reports (GraphQL's SessionStatus enum),
 * not the statuses an SDK sends (src/ingest/session.item.ts's SessionStatus).
 */
export const SESSION_STATUS_GROUPS = [
  'HEALTHY',
  'ERRORED',
  'UNHANDLED',
  'CRASHED',
  'ABNORMAL',
] as const;
export type SessionStatusGroup = (typeof SESSION_STATUS_GROUPS)[number];

const BREAKDOWN_KEY: Record<SessionStatusGroup, keyof StatusBreakdown> = {
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
  status: SessionStatusGroup | null;
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

/** sessionsHealthy … sessionsAbnormal: the exclusive status counts (rates come from RATE_FIELDS). */
function statusCounts(unit: 'sessions' | 'users'): ValueField[] {
  const Unit = unit === 'sessions' ? 'Sessions' : 'Users';
  return SESSION_STATUS_GROUPS.map((status) => {
    const key = BREAKDOWN_KEY[status];
    return {
      name: `${unit}${key[0]?.toUpperCase()}${key.slice(1)}`,
      kind: 'count',
      description: `${Unit} whose worst outcome was ${key}; the five statuses are exclusive (spec §4).`,
      value: (v) => breakdownOf(unit, v)[key],
    };
  });
}

const anrCounts: ValueField[] = [
  {
    name: 'sessionsAnr',
    kind: 'count',
    description: 'Sessions that ended abnormal with an ANR (foreground or background).',
    value: (v) => v.sessions.anr,
  },
  {
    name: 'sessionsForegroundAnr',
    kind: 'count',
    description: 'Sessions that ended abnormal with a foreground ANR.',
    value: (v) => v.sessions.anrForeground,
  },
  {
    name: 'usersAnr',
    kind: 'count',
    description: 'Users with any ANR (Sentry’s `user.anr`).',
    value: (v) => v.users.anr,
  },
  {
    name: 'usersForegroundAnr',
    kind: 'count',
    description: 'Users with a foreground ANR (Sentry’s `user.foreground_anr`).',
    value: (v) => v.users.anrForeground,
  },
];

/** The rates of ReleaseHealth and ProjectHealth, the same table, so one group gives one number. */
const rates: ValueField[] = RATE_FIELDS.map((f) => ({
  name: f.name,
  kind: 'rate',
  description: f.description,
  value: (v) => f.value(v.sessions, v.users),
}));

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
    name: 'sessionsAdoption',
    kind: 'rate',
    description:
      'Percent (0–100) of the sessions of every group the query’s filters select (the selected projects’ sessions) that are this group’s, over the same span; null when there were none.',
    value: (v) => percent(v.sessions.sessions, v.allSessions),
  },
  ...statusCounts('sessions'),
  ...statusCounts('users'),
  ...anrCounts,
  ...rates,
  durationField('durationAvg', 'Mean', mean),
  durationField('durationP50', 'Median', (d) => percentile(d, 0.5)),
  durationField('durationP75', '75th percentile', (d) => percentile(d, 0.75)),
  durationField('durationP90', '90th percentile', (d) => percentile(d, 0.9)),
  durationField('durationP95', '95th percentile', (d) => percentile(d, 0.95)),
  durationField('durationP99', '99th percentile', (d) => percentile(d, 0.99)),
  durationField('durationMax', 'Longest', max),
];

/**
 * The value fields computed from distinct users. Counting users is the costly half of a metrics
 * statement (user sets read and merged per bucket), so a query that asks for none of these skips it.
 */
export const USER_VALUE_FIELDS: ReadonlySet<string> = new Set([
  'users',
  ...statusCounts('users').map((f) => f.name),
  ...anrCounts.filter((f) => f.name.startsWith('users')).map((f) => f.name),
  ...RATE_FIELDS.filter((f) => f.unit === 'users').map((f) => f.name),
]);

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
