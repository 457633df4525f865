import { expect } from 'vitest';
import {
  crashFreePercent,
  sessionBreakdown,
  unhandledFreePercent,
  userBreakdown,
} from '../../src/health/crash-free.ts';
import { test } from '../support/fixtures.ts';
import { ENVIRONMENT, RELEASE, runBrowserApp } from '../support/sentry.ts';
import { storedGroup } from './stored-counts.ts';

// @sentry/browser reports an uncaught error as `unhandled`, not `crashed` (spec §1.1): it lowers
// the unhandled-free rate and leaves the crash-free rate alone. Its envelopes are posted as
// text/plain (no CORS preflight), which Vigil accepts. The SDK runs in a child process.

test('counts a page session with an uncaught error as unhandled, not crashed', async ({
  server,
  project,
}) => {
  const run = await runBrowserApp(project.dsn, {
    mode: 'client',
    sessions: [
      { did: 'healthy-user', outcome: 'exited' },
      { did: 'handled-user', outcome: 'handled' },
      { did: 'unhandled-user', outcome: 'unhandled' },
    ],
  });
  // An init and a final update per session; each error adds an event and an update of its own.
  expect(run.envelopes).toBe(3 * 2 + 2 * 2);

  const { sessions, users, durations } = await storedGroup(
    server.db,
    project.id,
    RELEASE,
    ENVIRONMENT,
  );
  expect(sessions).toEqual({
    sessions: 3,
    erroredAll: 2,
    crashed: 0,
    abnormal: 0,
    unhandled: 1,
    anr: 0,
    anrForeground: 0,
  });
  expect(sessionBreakdown(sessions)).toEqual({
    healthy: 1,
    errored: 1,
    crashed: 0,
    abnormal: 0,
    unhandled: 1,
  });
  expect(crashFreePercent(sessions.sessions, sessions.crashed)).toBe(100);
  expect(unhandledFreePercent(sessions.sessions, sessions.unhandled)).toBeCloseTo(66.667, 3);
  expect(userBreakdown(users)).toEqual({
    healthy: 1,
    errored: 1,
    crashed: 0,
    abnormal: 0,
    unhandled: 1,
  });
  // Page sessions carry no duration.
  expect(durations).toEqual([]);
});

test('counts the page session of Sentry.init as unhandled after an error reaches window.onerror', async ({
  server,
  project,
}) => {
  await runBrowserApp(project.dsn, { mode: 'global', did: 'page-user', uncaughtErrors: 2 });

  const { sessions, users } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
  expect(sessions).toEqual({
    sessions: 1,
    erroredAll: 1,
    crashed: 0,
    abnormal: 0,
    unhandled: 1,
    anr: 0,
    anrForeground: 0,
  });
  expect(users).toMatchObject({ users: 1, unhandled: 1, crashed: 0 });
});
