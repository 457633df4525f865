import {
  crashFreePercent,
  percent,
  type SessionCounts,
  type StatusBreakdown,
  sessionBreakdown,
  type UserCounts,
  userBreakdown,
} from './crash-free.ts';

// Every rate of the API, in one table that ReleaseHealth, ProjectHealth, their series and the
// sessions query all generate their fields from, so one group's sessions give one number
// everywhere. Formulas: shared/spec/release-health.md §4, sentry-reference.md §3.2.
//
// The naming rule (docs/design.md, "Rates"): a rate is a percentage 0–100, null when its
// denominator is 0, and is named `<outcome>Rate<Unit>`, the share of sessions (or users) that had
// the outcome, or `<outcome>Free<Unit>`, the share that did not. Unit is `Sessions` or `Users`.
// Sentry's two user-only ANR rates also keep Sentry's names: `anrRate` and `foregroundAnrRate`.

export type RateUnit = 'sessions' | 'users';

export interface RateField {
  name: string;
  unit: RateUnit;
  /** Sentry's sessions API field it matches, if any. */
  sentry: string | null;
  description: string;
  value: (sessions: SessionCounts, users: UserCounts) => number | null;
}

/** One group's numbers in one unit: its total, the exclusive breakdown and the raw facts. */
interface UnitCounts {
  total: number;
  breakdown: StatusBreakdown;
  crashed: number;
  unhandled: number;
  anr: number;
  anrForeground: number;
}

function unitCounts(unit: RateUnit, s: SessionCounts, u: UserCounts): UnitCounts {
  return unit === 'sessions'
    ? { ...s, total: s.sessions, breakdown: sessionBreakdown(s) }
    : { ...u, total: u.users, breakdown: userBreakdown(u) };
}

interface Outcome {
  outcome: string;
  /** Who the numerator counts, for sessions and for users. */
  what: [string, string];
  count: (c: UnitCounts) => number;
  /** Sentry's field names for sessions and for users. */
  sentry: [string | null, string | null];
}

// Sentry's `errored` is the exclusive group (handled errors only), `unhealthy` every session
// that was not healthy: errored, unhandled, crashed or abnormal.
const OUTCOMES: Outcome[] = [
  {
    outcome: 'crash',
    what: ['sessions that crashed', 'users with a crashed session'],
    count: (c) => c.crashed,
    sentry: ['session.crash_rate', 'session.crash_user_rate'],
  },
  {
    outcome: 'errored',
    what: [
      'sessions whose worst outcome was a handled error (the ERRORED status)',
      'users whose worst outcome was a handled error',
    ],
    count: (c) => c.breakdown.errored,
    sentry: ['session.errored_rate', 'session.errored_user_rate'],
  },
  {
    outcome: 'abnormal',
    what: ['sessions that ended abnormal', 'users with an abnormal session'],
    count: (c) => c.breakdown.abnormal,
    sentry: ['session.abnormal_rate', 'session.abnormal_user_rate'],
  },
  {
    outcome: 'unhealthy',
    what: [
      'sessions that were not healthy (errored, unhandled, crashed or abnormal)',
      'users with a session that was not healthy',
    ],
    count: (c) => c.total - c.breakdown.healthy,
    sentry: ['session.unhealthy_rate', null],
  },
  {
    outcome: 'unhandled',
    what: ['sessions with an unhandled error that did not crash them', 'users with such a session'],
    count: (c) => c.unhandled,
    sentry: ['session.unhandled_rate', 'session.unhandled_user_rate'],
  },
  {
    outcome: 'anr',
    what: [
      'sessions that ended abnormal with an ANR (`abnormal_mechanism` anr_foreground or anr_background)',
      'users with any ANR',
    ],
    count: (c) => c.anr,
    sentry: [null, 'session.anr_rate'],
  },
  {
    outcome: 'foregroundAnr',
    what: [
      'sessions that ended abnormal with a foreground ANR (`abnormal_mechanism: anr_foreground`)',
      'users with a foreground ANR',
    ],
    count: (c) => c.anrForeground,
    sentry: [null, 'session.foreground_anr_rate'],
  },
  {
    outcome: 'healthy',
    what: ['healthy sessions', 'users whose sessions were all healthy'],
    count: (c) => c.breakdown.healthy,
    sentry: [null, null],
  },
];

const UNITS: RateUnit[] = ['sessions', 'users'];
const Unit = (unit: RateUnit) => (unit === 'sessions' ? 'Sessions' : 'Users');
const sentryNote = (name: string | null) => (name ? ` Sentry: \`${name}\` × 100.` : '');

function outcomeRate(o: Outcome, unit: RateUnit): RateField {
  const i = unit === 'sessions' ? 0 : 1;
  const sentry = o.sentry[i];
  return {
    name: `${o.outcome}Rate${Unit(unit)}`,
    unit,
    sentry,
    description: `Percent (0–100): ${o.what[i]} ÷ ${unit}; null without ${unit}.${sentryNote(sentry)}`,
    value: (s, u) => {
      const c = unitCounts(unit, s, u);
      return percent(o.count(c), c.total);
    },
  };
}

function freeRate(
  outcome: string,
  what: string,
  count: (c: UnitCounts) => number,
  unit: RateUnit,
  sentry: string | null,
): RateField {
  return {
    name: `${outcome}Free${Unit(unit)}`,
    unit,
    sentry,
    description: `Percent (0–100) of ${unit} ${what}; null without ${unit}.${sentryNote(sentry)}`,
    // 100 − x × 100, Sentry's order (shared/spec/sentry-reference.md §3.2).
    value: (s, u) => {
      const c = unitCounts(unit, s, u);
      return crashFreePercent(c.total, count(c));
    },
  };
}

const byName = (name: string, fields: RateField[]) => {
  const found = fields.find((f) => f.name === name);
  if (!found) throw new Error(`no rate ${name}`);
  return found;
};

const OUTCOME_RATES = UNITS.flatMap((unit) => OUTCOMES.map((o) => outcomeRate(o, unit)));

/** Every rate field, in the order the schema lists them. */
export const RATE_FIELDS: readonly RateField[] = [
  ...UNITS.map((unit) =>
    freeRate(
      'crash',
      'that did not crash',
      (c) => c.crashed,
      unit,
      unit === 'sessions' ? 'session.crash_free_rate' : 'session.crash_free_user_rate',
    ),
  ),
  ...UNITS.map((unit) =>
    freeRate(
      'unhandled',
      'without an unhandled error (unhandled sessions did not crash: crash-free counts them)',
      (c) => c.unhandled,
      unit,
      null,
    ),
  ),
  ...OUTCOME_RATES,
  {
    ...byName('anrRateUsers', OUTCOME_RATES),
    name: 'anrRate',
    description:
      'Sentry’s ANR rate under Sentry’s name: percent (0–100) of users with any ANR, the same number as anrRateUsers; null without users. Sentry: `session.anr_rate` × 100.',
  },
  {
    ...byName('foregroundAnrRateUsers', OUTCOME_RATES),
    name: 'foregroundAnrRate',
    description:
      'Sentry’s foreground ANR rate under Sentry’s name: percent (0–100) of users with a foreground ANR, the same number as foregroundAnrRateUsers; null without users. Sentry: `session.foreground_anr_rate` × 100.',
  },
];
