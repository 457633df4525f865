import { describe, expect } from 'vitest';
import { crashFreePercent } from '../../src/health/crash-free.ts';
import { test } from '../support/fixtures.ts';
import { ENVIRONMENT, RELEASE, runPythonApp } from '../support/sentry.ts';
import { storedGroup } from './stored-counts.ts';

// Python processes start slowly on a busy machine.
const PYTHON_TIMEOUT_MS = 120_000;

// Sentry's Python SDK as Debian ships it (python3-sentry-sdk 1.9.10, installed by .ci/run), each
// app a process of its own reporting to Vigil over HTTP. Its `sessions` envelopes have an empty
// header (no sent_at), so equal flushes are byte-identical: each must count. Every run also
// checks that the SDK logged no problem, such as an unexpected answer from Vigil.

describe('Python SDK, application mode', () => {
  test(
    'counts a session per process: exited, errored by a handled error, crashed through the excepthook',
    async ({ server, project }) => {
      const runs = await Promise.all([
        runPythonApp(project.dsn, { mode: 'application', outcome: 'exited', user: 'u1' }),
        runPythonApp(project.dsn, { mode: 'application', outcome: 'exited', user: 'u1' }),
        runPythonApp(project.dsn, { mode: 'application', outcome: 'handled', user: 'u2' }),
        runPythonApp(project.dsn, { mode: 'application', outcome: 'crash', user: 'u3' }),
      ]);

      // The crashing app exits as an uncaught exception makes Python exit.
      expect(runs.map((r) => r.exitCode)).toEqual([0, 0, 0, 1]);
      expect(runs.flatMap((r) => r.problems)).toEqual([]);
      const { sessions, users } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
      expect(sessions).toEqual({
        sessions: 4,
        erroredAll: 2,
        crashed: 1,
        abnormal: 0,
        unhandled: 0,
        anr: 0,
        anrForeground: 0,
      });
      expect(crashFreePercent(sessions.sessions, sessions.crashed)).toBe(75);
      expect(users).toEqual({
        users: 3,
        erroredAll: 2,
        crashed: 1,
        abnormal: 0,
        unhandled: 0,
        fatalAny: 1,
        anr: 0,
        anrForeground: 0,
      });
    },
    PYTHON_TIMEOUT_MS,
  );
});

describe('Python SDK, request mode (SentryWsgiMiddleware)', () => {
  test(
    'counts 2 workers × 5 requests in one minute as 10 sessions, though both flush the same bytes',
    async ({ server, project }) => {
      const paths = Array.from({ length: 5 }, () => '/ok' as const);
      const runs = await Promise.all([
        runPythonApp(project.dsn, { mode: 'request', paths }),
        runPythonApp(project.dsn, { mode: 'request', paths }),
      ]);

      expect(runs.map((r) => [r.requests, r.problems])).toEqual([
        [5, []],
        [5, []],
      ]);
      const { sessions, users } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
      expect(sessions).toEqual({
        sessions: 10,
        erroredAll: 0,
        crashed: 0,
        abnormal: 0,
        unhandled: 0,
        anr: 0,
        anrForeground: 0,
      });
      // Request sessions carry no user.
      expect(users.users).toBe(0);
    },
    PYTHON_TIMEOUT_MS,
  );

  test(
    'counts 4 requests of one worker whose flusher ran between each of them as 4 sessions',
    async ({ server, project }) => {
      const run = await runPythonApp(project.dsn, {
        mode: 'request',
        paths: ['/ok', '/ok', '/ok', '/ok'],
        flushEachRequest: true,
      });

      expect(run).toMatchObject({ requests: 4, problems: [] });
      const { sessions } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
      expect(sessions).toEqual({
        sessions: 4,
        erroredAll: 0,
        crashed: 0,
        abnormal: 0,
        unhandled: 0,
        anr: 0,
        anrForeground: 0,
      });
    },
    PYTHON_TIMEOUT_MS,
  );

  test(
    'counts handled errors as errored and unhandled ones as crashed requests, in every worker',
    async ({ server, project }) => {
      const paths = ['/ok', '/ok', '/ok', '/handled', '/crash'] as const;
      const runs = await Promise.all([
        runPythonApp(project.dsn, { mode: 'request', paths: [...paths] }),
        runPythonApp(project.dsn, { mode: 'request', paths: [...paths] }),
      ]);

      // The error events went to /store/ (Python 1.x sends them there): no problem either.
      expect(runs.flatMap((r) => r.problems)).toEqual([]);
      const { sessions } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
      expect(sessions).toEqual({
        sessions: 10,
        erroredAll: 4,
        crashed: 2,
        abnormal: 0,
        unhandled: 0,
        anr: 0,
        anrForeground: 0,
      });
      expect(crashFreePercent(sessions.sessions, sessions.crashed)).toBe(80);
    },
    PYTHON_TIMEOUT_MS,
  );
});
