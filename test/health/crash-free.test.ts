import { describe, expect, test } from 'vitest';
import {
  crashFreeFraction,
  crashFreePercent,
  percent,
  ratio,
  type SessionCounts,
  sessionBreakdown,
  type UserCounts,
  unhandledFreePercent,
  userBreakdown,
  ZERO_SESSION_COUNTS,
  ZERO_USER_COUNTS,
} from '../../src/health/crash-free.ts';

const sessions = (c: Partial<SessionCounts>): SessionCounts => ({ ...ZERO_SESSION_COUNTS, ...c });
const users = (c: Partial<UserCounts>): UserCounts => ({ ...ZERO_USER_COUNTS, ...c });

describe('release-health.md §7 worked examples, as counts', () => {
  test.each([
    {
      name: '1: exited, errored, crashed and abnormal sessions of four users',
      counts: sessions({ sessions: 4, erroredAll: 3, crashed: 1, abnormal: 1 }),
      breakdown: { healthy: 1, errored: 1, crashed: 1, abnormal: 1, unhandled: 0 },
      crashFree: 75,
    },
    {
      name: '2: one exited and one crashed session',
      counts: sessions({ sessions: 2, erroredAll: 1, crashed: 1 }),
      breakdown: { healthy: 1, errored: 0, crashed: 1, abnormal: 0, unhandled: 0 },
      crashFree: 50,
    },
    {
      name: '3: a session reporting errors in three updates is errored once',
      counts: sessions({ sessions: 1, erroredAll: 1 }),
      breakdown: { healthy: 0, errored: 1, crashed: 0, abnormal: 0, unhandled: 0 },
      crashFree: 100,
    },
    {
      name: '4: an update without init leaves no session and no rate',
      counts: sessions({}),
      breakdown: { healthy: 0, errored: 0, crashed: 0, abnormal: 0, unhandled: 0 },
      crashFree: null,
    },
    {
      name: '5: server-mode aggregates {exited 10, errored 3, crashed 2}',
      counts: sessions({ sessions: 15, erroredAll: 5, crashed: 2 }),
      breakdown: { healthy: 10, errored: 3, crashed: 2, abnormal: 0, unhandled: 0 },
      crashFree: 86.66666666666667,
    },
  ])('example $name', ({ counts, breakdown, crashFree }) => {
    expect(sessionBreakdown(counts)).toEqual(breakdown);
    expect(crashFreePercent(counts.sessions, counts.crashed)).toBe(crashFree);
  });

  test.each([
    { name: '1: four users, one crashed', u: { users: 4, crashed: 1 }, crashFree: 75 },
    {
      name: '2: one user who crashed once in two sessions',
      u: { users: 1, crashed: 1 },
      crashFree: 0,
    },
    { name: '4: a user seen only without init', u: { users: 1, crashed: 0 }, crashFree: 100 },
  ])('example $name has crash-free users $crashFree %', ({ u, crashFree }) => {
    expect(crashFreePercent(u.users, u.crashed)).toBe(crashFree);
  });
});

describe('Sentry fixtures (sentry-reference.md §7)', () => {
  test.each([
    { name: 'A v1: two exited sessions', total: 2, crashed: 0, percent: 100 },
    { name: 'A v2: one crashed session', total: 1, crashed: 1, percent: 0 },
    { name: 'B: one of three sessions crashed', total: 3, crashed: 1, percent: 66.66666666666667 },
    { name: 'C P1 previous: 1 of 3 crashed', total: 3, crashed: 1, percent: 66.66666666666667 },
    { name: 'C P3 previous: 1 of 5 crashed', total: 5, crashed: 1, percent: 80 },
  ])('$name → crash-free $percent %', ({ total, crashed, percent: expected }) => {
    expect(crashFreePercent(total, crashed)).toBe(expected);
  });

  test.each([
    { name: 'G-2 1D: 1 of 5 crashed', total: 5, crashed: 1, fraction: 0.8 },
    { name: 'G-2 1C: 1 of 3 crashed', total: 3, crashed: 1, fraction: 0.6666666666666667 },
    { name: 'G-2 1B: 2 of 3 crashed', total: 3, crashed: 2, fraction: 0.33333333333333337 },
    { name: 'D-17: 1 of 6 crashed', total: 6, crashed: 1, fraction: 0.8333333333333334 },
  ])('$name → crash_free_rate $fraction, as a complement', ({ total, crashed, fraction }) => {
    expect(crashFreeFraction(total, crashed)).toBe(fraction);
  });

  test('D-17: the crash rate is the plain ratio', () => {
    expect(ratio(1, 6)).toBe(0.16666666666666666);
  });

  test('G-1: per-release status split of release 1B and 1A', () => {
    const b = sessionBreakdown(sessions({ sessions: 17, erroredAll: 7, crashed: 4 }));
    const a = sessionBreakdown(sessions({ sessions: 6, erroredAll: 5, crashed: 2 }));
    expect(b).toEqual({ healthy: 10, errored: 3, crashed: 4, abnormal: 0, unhandled: 0 });
    expect(a).toEqual({ healthy: 1, errored: 3, crashed: 2, abnormal: 0, unhandled: 0 });
  });

  test('F: a user who crashed and one who ended abnormally are each errored once', () => {
    const u = users({ users: 6, erroredAll: 3, crashed: 1, abnormal: 1, fatalAny: 2 });
    expect(userBreakdown(u)).toEqual({
      healthy: 3,
      errored: 1,
      crashed: 1,
      abnormal: 1,
      unhandled: 0,
    });
  });

  test('subtracts a user who both crashed and ended abnormally once, not twice', () => {
    const u = users({ users: 3, erroredAll: 2, crashed: 1, abnormal: 1, fatalAny: 1 });
    expect(userBreakdown(u).errored).toBe(1);
  });

  test('K totals: sessions and users exploded into status groups', () => {
    const s = sessions({ sessions: 31, erroredAll: 15, crashed: 8, abnormal: 6 });
    // Vigil's user erroredAll includes the 4 unhandled users (Relay puts them in users{errored}).
    const u = users({ users: 5, erroredAll: 5, crashed: 1, unhandled: 4, fatalAny: 5 });
    expect(sessionBreakdown(s)).toEqual({
      healthy: 16,
      errored: 1,
      crashed: 8,
      abnormal: 6,
      unhandled: 0,
    });
    expect(userBreakdown(u)).toEqual({
      healthy: 0,
      errored: 0,
      crashed: 1,
      abnormal: 0,
      unhandled: 4,
    });
  });

  test.each([
    { row: '12-18T12', c: [3, 1, 1, 0], expected: [2, 0, 1, 0] },
    { row: '12-18T06', c: [3, 0, 0, 0], expected: [3, 0, 0, 0] },
    { row: '12-18T00', c: [15, 10, 4, 2], expected: [5, 4, 4, 2] },
    { row: '12-17T18 (errored clamped at 0)', c: [10, 4, 3, 4], expected: [6, 0, 3, 4] },
    { row: 'clamp 12-18T12', c: [7, 3, 2, 2], expected: [4, 0, 2, 2] },
    { row: 'clamp 12-18T06 (healthy clamped at 0)', c: [5, 10, 0, 0], expected: [0, 10, 0, 0] },
  ])('K series row $row → healthy, errored, crashed, abnormal $expected', ({ c, expected }) => {
    const [total = 0, erroredAll = 0, crashed = 0, abnormal = 0] = c;
    const b = sessionBreakdown(sessions({ sessions: total, erroredAll, crashed, abnormal }));
    expect([b.healthy, b.errored, b.crashed, b.abnormal]).toEqual(expected);
  });
});

describe('unhandled sessions', () => {
  const counts = sessions({ sessions: 10, erroredAll: 4, crashed: 1, unhandled: 2 });

  test('are their own group and leave errored without them', () => {
    expect(sessionBreakdown(counts)).toEqual({
      healthy: 6,
      errored: 1,
      crashed: 1,
      abnormal: 0,
      unhandled: 2,
    });
  });

  test('do not lower the crash-free rate but lower the unhandled-free rate', () => {
    expect(crashFreePercent(counts.sessions, counts.crashed)).toBe(90);
    expect(unhandledFreePercent(counts.sessions, counts.unhandled)).toBe(80);
  });
});

describe('rates', () => {
  test.each([
    ['crashFreeFraction', () => crashFreeFraction(0, 0)],
    ['crashFreePercent', () => crashFreePercent(0, 0)],
    ['unhandledFreePercent', () => unhandledFreePercent(0, 0)],
    ['ratio', () => ratio(3, 0)],
    ['percent', () => percent(3, 0)],
  ])('%s is null for a zero denominator', (_name, rate) => {
    expect(rate()).toBeNull();
  });

  test('keeps Sentry float order for percentages: 2 of 3 is 66.66666666666666', () => {
    expect(percent(2, 3)).toBe(66.66666666666666);
    expect(percent(1, 3)).toBe(33.33333333333333);
  });

  test('is not clamped when crashes outnumber started sessions', () => {
    expect(crashFreePercent(2, 3)).toBe(-50);
    expect(crashFreeFraction(2, 3)).toBeCloseTo(-0.5);
  });
});
