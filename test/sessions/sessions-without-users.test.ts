import { describe, expect, test as pure } from 'vitest';
import { ZERO_SESSION_COUNTS, ZERO_USER_COUNTS } from '../../src/health/crash-free.ts';
import {
  type SessionsValuesShape,
  USER_VALUE_FIELDS,
  VALUE_FIELDS,
} from '../../src/modules/sessions/sessions-values.ts';
import { sendSessions } from '../support/envelopes.ts';
import { test } from '../support/fixtures.ts';
import { MINUTE, sessions } from './sessions-support.ts';

// A sessions query that asks for no user-based value does not count distinct users (the costly
// half of its statement). USER_VALUE_FIELDS decides; these tests keep it complete.

const shape = (users: SessionsValuesShape['users']): SessionsValuesShape => ({
  sessions: {
    ...ZERO_SESSION_COUNTS,
    sessions: 10,
    erroredAll: 4,
    crashed: 1,
    abnormal: 1,
    unhandled: 2,
    anr: 1,
    anrForeground: 1,
  },
  users,
  durations: [{ value: 30, count: 6 }],
  status: null,
  allSessions: 20,
});

const someUsers = {
  ...ZERO_USER_COUNTS,
  users: 7,
  erroredAll: 3,
  crashed: 1,
  abnormal: 1,
  unhandled: 2,
  fatalAny: 3,
  anr: 1,
  anrForeground: 1,
};
const otherUsers = {
  ...ZERO_USER_COUNTS,
  users: 12,
  erroredAll: 5,
  crashed: 2,
  abnormal: 2,
  unhandled: 3,
  fatalAny: 4,
  anr: 2,
  anrForeground: 2,
};

describe('USER_VALUE_FIELDS', () => {
  pure.each(VALUE_FIELDS.map((f) => [f.name, f] as const))('%s', (name, field) => {
    const a = field.value(shape(someUsers));
    const b = field.value(shape(otherUsers));
    if (USER_VALUE_FIELDS.has(name)) expect(a).not.toBe(b);
    else expect(a).toBe(b);
  });

  pure('names only value fields', () => {
    const names = new Set(VALUE_FIELDS.map((f) => f.name));
    expect([...USER_VALUE_FIELDS].filter((n) => !names.has(n))).toEqual([]);
  });
});

describe('a sessions query without user values', () => {
  test('gives the same groups and session numbers as one that counts users', async ({
    server,
    project,
  }) => {
    const started = new Date(Date.now() - 10 * MINUTE);
    await sendSessions(server, project, [
      { did: 'u1', status: 'exited', release: 'a@1', started },
      { did: 'u1', status: 'crashed', release: 'a@1', started },
      { did: 'u2', status: 'errored', errors: 1, release: 'b@1', started },
      // A release whose sessions have no user at all is still a group.
      { did: null, status: 'exited', release: 'c@1', started },
    ]);
    const variables = { projects: [project.id], period: '1h', interval: '10m' };
    const sessionFields = 'sessions crashFreeSessions sessionsCrashed sessionsAdoption';
    const without = await sessions(
      server,
      ', groupBy: [RELEASE]',
      `by { release } totals { ${sessionFields} } series { sessions crashRateSessions }`,
      variables,
    );
    const withUsers = await sessions(
      server,
      ', groupBy: [RELEASE]',
      `by { release } totals { ${sessionFields} users crashFreeUsers } series { sessions crashRateSessions users }`,
      variables,
    );
    const pick = (r: typeof without) =>
      r.groups.map((g) => ({
        by: g.by,
        totals: Object.fromEntries(sessionFields.split(' ').map((f) => [f, g.totals[f]])),
        series: (g.series as Record<string, unknown>).sessions,
      }));
    expect(pick(without)).toEqual(pick(withUsers));
    const counts = (r: typeof without, field: string) =>
      Object.fromEntries(r.groups.map((g) => [g.by.release, g.totals[field]]));
    expect(counts(without, 'sessions')).toEqual({ 'a@1': 2, 'b@1': 1, 'c@1': 1 });
    expect(counts(withUsers, 'users')).toEqual({ 'a@1': 1, 'b@1': 1, 'c@1': 0 });
  });
});
