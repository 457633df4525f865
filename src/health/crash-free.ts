// Pure session and user arithmetic; no I/O. Formulas: shared/spec/release-health.md §4 and
// shared/spec/sentry-reference.md §3.2.

/** Session counters of one group (release, environment, time bucket …). */
export interface SessionCounts {
  /** Sessions started: Σ session{init}. */
  sessions: number;
  /** Distinct errored sessions + aggregate errored_preaggr; includes crashed, abnormal, unhandled. */
  erroredAll: number;
  crashed: number;
  abnormal: number;
  unhandled: number;
  /** Sessions that ended abnormal with an ANR mechanism (`anr_foreground` or `anr_background`). */
  anr: number;
  /** Sessions that ended abnormal with `abnormal_mechanism: anr_foreground`. */
  anrForeground: number;
}

/**
 * Exact distinct user counts of one group. Distinct counts do not add up across groups, so there
 * is no `addUserCounts`: users of a wider group must be counted again from the rows.
 */
export interface UserCounts {
  users: number;
  /** Users with any errored, crashed, abnormal or unhandled session. */
  erroredAll: number;
  crashed: number;
  abnormal: number;
  unhandled: number;
  /** Distinct users in crashed ∪ abnormal ∪ unhandled. */
  fatalAny: number;
  /** Users with any ANR (Sentry's `user.anr`), and with a foreground one (`user.foreground_anr`). */
  anr: number;
  anrForeground: number;
}

/** The mutually exclusive groups a `session.status` grouping shows. */
export interface StatusBreakdown {
  healthy: number;
  errored: number;
  crashed: number;
  abnormal: number;
  unhandled: number;
}

export const ZERO_SESSION_COUNTS: Readonly<SessionCounts> = Object.freeze({
  sessions: 0,
  erroredAll: 0,
  crashed: 0,
  abnormal: 0,
  unhandled: 0,
  anr: 0,
  anrForeground: 0,
});

export const ZERO_USER_COUNTS: Readonly<UserCounts> = Object.freeze({
  users: 0,
  erroredAll: 0,
  crashed: 0,
  abnormal: 0,
  unhandled: 0,
  fatalAny: 0,
  anr: 0,
  anrForeground: 0,
});

// shared/spec/release-health.md §4: Sentry's floors at 0, which absorb updates whose init was lost.
export function sessionBreakdown(c: SessionCounts): StatusBreakdown {
  return {
    healthy: Math.max(0, c.sessions - c.erroredAll),
    errored: Math.max(0, c.erroredAll - c.crashed - c.abnormal - c.unhandled),
    crashed: c.crashed,
    abnormal: c.abnormal,
    unhandled: c.unhandled,
  };
}

// shared/spec/release-health.md §4 "Vigil: exact distinct counts": a user who both crashed and
// ended abnormally is subtracted once (Sentry subtracts crashed + abnormal arithmetically).
export function userBreakdown(u: UserCounts): StatusBreakdown {
  return {
    healthy: Math.max(0, u.users - u.erroredAll),
    errored: Math.max(0, u.erroredAll - u.fatalAny),
    crashed: u.crashed,
    abnormal: u.abnormal,
    unhandled: u.unhandled,
  };
}

/** `num / den`, or null when `den` is 0 (Sentry: division by zero → null). */
export function ratio(num: number, den: number): number | null {
  return den === 0 ? null : num / den;
}

/** `num / den × 100` in that float order (Sentry's adoption: 2/3 → 66.66666666666666). */
export function percent(num: number, den: number): number | null {
  return den === 0 ? null : (num / den) * 100;
}

/**
 * Crash-free rate as a fraction, `1.0 − crashed / total` (complement order as Sentry's
 * `crash_free_rate`: 1 − 2/3 = 0.33333333333333337); null when `total` is 0. Not clamped: crashed
 * updates whose init was lost can push it below 0 (sentry-reference.md §8.9).
 */
export function crashFreeFraction(total: number, crashed: number): number | null {
  return total === 0 ? null : 1.0 - crashed / total;
}

/**
 * Crash-free rate as a percentage, `100 − crashed / total × 100` (Sentry's release overview
 * order: 1 of 3 → 66.66666666666667); null when `total` is 0. Not clamped, as above.
 */
export function crashFreePercent(total: number, crashed: number): number | null {
  return total === 0 ? null : 100 - (crashed / total) * 100;
}

/** Share of sessions (or users) without an unhandled error, as a percentage; crash-free's twin. */
export function unhandledFreePercent(total: number, unhandled: number): number | null {
  return crashFreePercent(total, unhandled);
}
