import { expect } from 'vitest';
import { crashFreePercent, sessionBreakdown } from '../../src/health/crash-free.ts';
import { postEnvelope } from '../support/envelopes.ts';
import { test } from '../support/fixtures.ts';
import { ENVIRONMENT, itemTypes, RELEASE, runServerModeApp } from '../support/sentry.ts';
import { storedGroup } from './stored-counts.ts';

// Server (request) mode: @sentry/node's Http integration counts each request as a session and
// sends per-minute `sessions` aggregates (spec §2.3). The app runs in a child process.

test('counts request sessions from aggregates as in release-health.md §7 example 5', async ({
  server,
  project,
}) => {
  const run = await runServerModeApp(project.dsn, { ok: 10, handled: 3, crash: 2 });
  expect(run.requests).toBe(15);

  const { sessions, users, durations } = await storedGroup(
    server.db,
    project.id,
    RELEASE,
    ENVIRONMENT,
  );
  expect(sessions).toEqual({
    sessions: 15,
    erroredAll: 5,
    crashed: 2,
    abnormal: 0,
    unhandled: 0,
    anr: 0,
    anrForeground: 0,
  });
  expect(sessionBreakdown(sessions)).toEqual({
    healthy: 10,
    errored: 3,
    crashed: 2,
    abnormal: 0,
    unhandled: 0,
  });
  expect(crashFreePercent(sessions.sessions, sessions.crashed)).toBeCloseTo(86.67, 2);
  // Request sessions carry neither a user nor a duration (spec §5).
  expect(users.users).toBe(0);
  expect(durations).toEqual([]);
});

test('counts an aggregate envelope sent twice once, under the release and environment of its attrs', async ({
  server,
  project,
}) => {
  const { envelopes } = await runServerModeApp(project.dsn, {
    release: 'api@2.0.0',
    environment: 'staging',
    ok: 2,
    handled: 1,
    crash: 1,
    record: true,
  });
  const aggregate = envelopes.find((e) => itemTypes(e).includes('sessions'));
  if (!aggregate) throw new Error('the SDK sent no sessions item');
  const url = server.envelopeUrl(project);

  expect((await postEnvelope(url, aggregate)).status).toBe(200);
  expect((await postEnvelope(url, aggregate)).status).toBe(200);
  const once = await storedGroup(server.db, project.id, 'api@2.0.0', 'staging');
  expect(once.sessions).toEqual({
    sessions: 4,
    erroredAll: 2,
    crashed: 1,
    abnormal: 0,
    unhandled: 0,
    anr: 0,
    anrForeground: 0,
  });

  // A new flush of equal counts is new traffic: the SDK gives it a new sent_at.
  const [header, ...rest] = aggregate.toString('utf8').split('\n');
  const sentAt = new Date(Date.now() + 1000).toISOString();
  const laterFlush = [JSON.stringify({ ...JSON.parse(header ?? ''), sent_at: sentAt }), ...rest];
  expect((await postEnvelope(url, laterFlush.join('\n'))).status).toBe(200);
  const twice = await storedGroup(server.db, project.id, 'api@2.0.0', 'staging');
  expect(twice.sessions).toEqual({
    sessions: 8,
    erroredAll: 4,
    crashed: 2,
    abnormal: 0,
    unhandled: 0,
    anr: 0,
    anrForeground: 0,
  });
});
