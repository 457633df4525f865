import { describe, expect, test } from 'vitest';
import {
  type SessionCounts,
  type UserCounts,
  ZERO_SESSION_COUNTS,
  ZERO_USER_COUNTS,
} from '../../src/health/crash-free.ts';
import { RATE_FIELDS } from '../../src/health/rates.ts';

// The rate table every health object and the sessions query share: Sentry's numbers × 100.

const sessions = (c: Partial<SessionCounts>): SessionCounts => ({ ...ZERO_SESSION_COUNTS, ...c });
const users = (c: Partial<UserCounts>): UserCounts => ({ ...ZERO_USER_COUNTS, ...c });
const rate = (name: string, s: SessionCounts, u: UserCounts) => {
  const field = RATE_FIELDS.find((f) => f.name === name);
  if (!field) throw new Error(`no rate ${name}`);
  return field.value(s, u);
};

describe('rates', () => {
  // sentry-reference.md §7 E (test_anr_rate): users {A, B, C, U}; A foreground ANR, B background.
  const e = { s: sessions({ sessions: 9 }), u: users({ users: 4, anr: 2, anrForeground: 1 }) };

  test.each([
    ['anrRate', 50],
    ['anrRateUsers', 50],
    ['foregroundAnrRate', 25],
    ['foregroundAnrRateUsers', 25],
    ['anrRateSessions', 0],
  ])('fixture E: %s is %d', (name, expected) => {
    expect(rate(name, e.s, e.u)).toBe(expected);
  });

  // 17 sessions: 7 errored in all, of which 4 crashed, 1 abnormal, 1 unhandled; 1 handled only.
  const s = sessions({ sessions: 17, erroredAll: 7, crashed: 4, abnormal: 1, unhandled: 1 });
  test.each([
    ['crashFreeSessions', 100 - (4 / 17) * 100],
    ['crashRateSessions', (4 / 17) * 100],
    ['erroredRateSessions', (1 / 17) * 100],
    ['abnormalRateSessions', (1 / 17) * 100],
    ['unhealthyRateSessions', (7 / 17) * 100],
    ['unhandledRateSessions', (1 / 17) * 100],
    ['unhandledFreeSessions', 100 - (1 / 17) * 100],
    ['healthyRateSessions', (10 / 17) * 100],
  ])('%s of the G-1 split is %d %', (name, expected) => {
    expect(rate(name, s, ZERO_USER_COUNTS)).toBe(expected);
  });

  test('every rate is null without a denominator', () => {
    for (const f of RATE_FIELDS) expect(f.value(ZERO_SESSION_COUNTS, ZERO_USER_COUNTS)).toBeNull();
  });

  test('one name per rate, and the rule names the unit', () => {
    const names = RATE_FIELDS.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const f of RATE_FIELDS) {
      if (f.name === 'anrRate' || f.name === 'foregroundAnrRate') expect(f.unit).toBe('users');
      else expect(f.name.endsWith(f.unit === 'sessions' ? 'Sessions' : 'Users')).toBe(true);
    }
  });
});
