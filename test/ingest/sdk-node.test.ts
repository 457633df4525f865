import { describe, expect } from 'vitest';
import { crashFreePercent, sessionBreakdown, userBreakdown } from '../../src/health/crash-free.ts';
import { percentile } from '../../src/health/duration.ts';
import { postEnvelope } from '../support/envelopes.ts';
import { test } from '../support/fixtures.ts';
import {
  captureEndedSession,
  closeSession,
  createSdkClient,
  ENVIRONMENT,
  itemTypes,
  makeSession,
  RELEASE,
  recordSdkEnvelopes,
  updateSession,
} from '../support/sentry.ts';
import { storedGroup } from './stored-counts.ts';

// Application-mode sessions from the real @sentry/node client (spec §2.1), checked against the
// worked examples of shared/spec/release-health.md §7. The SDK posts every update on its own,
// concurrently, so updates of one session reach Vigil in no fixed order.

describe('release-health.md §7 through @sentry/node', () => {
  test('example 1: exited, errored, crashed and abnormal sessions of four users', async ({
    server,
    project,
  }) => {
    const sdk = createSdkClient(project.dsn);
    captureEndedSession(sdk, { did: 'u1', status: 'exited' });
    captureEndedSession(sdk, { did: 'u2', status: 'exited', errors: 2 });
    // u3 crashes the way an app does: an unhandled exception ends the session on the scope.
    const crashing = makeSession({ did: 'u3' });
    sdk.scope.setSession(crashing);
    sdk.client.captureSession(crashing);
    sdk.scope.captureException(new Error('boom'), { mechanism: { type: 'test', handled: false } });
    sdk.scope.setSession(undefined);
    captureEndedSession(sdk, { did: 'u4', status: 'abnormal' });
    await sdk.flush();
    await sdk.close();

    expect(crashing.status).toBe('crashed');
    const group = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(group.sessions).toEqual({
      sessions: 4,
      erroredAll: 3,
      crashed: 1,
      abnormal: 1,
      unhandled: 0,
      anr: 0,
      anrForeground: 0,
    });
    expect(sessionBreakdown(group.sessions)).toEqual({
      healthy: 1,
      errored: 1,
      crashed: 1,
      abnormal: 1,
      unhandled: 0,
    });
    expect(crashFreePercent(group.sessions.sessions, group.sessions.crashed)).toBe(75);
    expect(group.users).toEqual({
      users: 4,
      erroredAll: 3,
      crashed: 1,
      abnormal: 1,
      unhandled: 0,
      fatalAny: 2,
      anr: 0,
      anrForeground: 0,
    });
    expect(userBreakdown(group.users)).toEqual({
      healthy: 1,
      errored: 1,
      crashed: 1,
      abnormal: 1,
      unhandled: 0,
    });
    expect(crashFreePercent(group.users.users, group.users.crashed)).toBe(75);
  });

  test('example 2: one user with an exited and a crashed session is a crashed user', async ({
    server,
    project,
  }) => {
    const sdk = createSdkClient(project.dsn);
    captureEndedSession(sdk, { did: 'only-user', status: 'exited' });
    captureEndedSession(sdk, { did: 'only-user', status: 'crashed' });
    await sdk.flush();
    await sdk.close();

    const { sessions, users } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions).toMatchObject({ sessions: 2, crashed: 1 });
    expect(crashFreePercent(sessions.sessions, sessions.crashed)).toBe(50);
    expect(users).toMatchObject({ users: 1, crashed: 1 });
    expect(crashFreePercent(users.users, users.crashed)).toBe(0);
  });

  test('example 3: a session reporting errors in three updates is errored once', async ({
    server,
    project,
  }) => {
    const sdk = createSdkClient(project.dsn);
    const session = makeSession({ did: 'u1' });
    sdk.client.captureSession(session);
    updateSession(session, { errors: 1 });
    sdk.client.captureSession(session);
    updateSession(session, { errors: 3 });
    closeSession(session);
    sdk.client.captureSession(session);
    await sdk.flush();
    await sdk.close();

    const { sessions } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions).toEqual({
      sessions: 1,
      erroredAll: 1,
      crashed: 0,
      abnormal: 0,
      unhandled: 0,
      anr: 0,
      anrForeground: 0,
    });
    expect(sessionBreakdown(sessions)).toMatchObject({ healthy: 0, errored: 1 });
  });

  test('example 4: a session whose init update is lost counts its user but no session', async ({
    server,
    project,
  }) => {
    const sdk = createSdkClient(project.dsn);
    const session = makeSession({ did: 'u1', init: false });
    closeSession(session);
    sdk.client.captureSession(session);
    await sdk.flush();
    await sdk.close();

    const { sessions, users } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions.sessions).toBe(0);
    expect(users.users).toBe(1);
    expect(crashFreePercent(sessions.sessions, sessions.crashed)).toBeNull();
  });

  test('example 7: a crashed update sent twice counts one crashed session', async ({
    server,
    project,
  }) => {
    const sdk = createSdkClient(project.dsn);
    const session = makeSession({ did: 'u1' });
    sdk.scope.setSession(session);
    sdk.client.captureSession(session);
    sdk.scope.captureException(new Error('boom'), { mechanism: { type: 'test', handled: false } });
    // The app sends the crashed session again, as an SDK retrying it would.
    sdk.client.captureSession(session);
    await sdk.flush();
    await sdk.close();

    const { sessions, users } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions).toEqual({
      sessions: 1,
      erroredAll: 1,
      crashed: 1,
      abnormal: 0,
      unhandled: 0,
      anr: 0,
      anrForeground: 0,
    });
    expect(users).toMatchObject({ users: 1, crashed: 1 });
  });

  test('example 7: an abnormal update that arrives before its init counts one abnormal session', async ({
    server,
    project,
  }) => {
    const [init, abnormal] = await recordSdkEnvelopes((sdk) => {
      const session = makeSession({ did: 'u1' });
      sdk.client.captureSession(session);
      closeSession(session, 'abnormal');
      sdk.client.captureSession(session);
    });
    if (!init || !abnormal) throw new Error('the SDK sent fewer than two envelopes');

    const url = server.envelopeUrl(project);
    expect((await postEnvelope(url, abnormal)).status).toBe(200);
    const beforeInit = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(beforeInit.sessions).toMatchObject({ sessions: 0, abnormal: 1 });
    expect((await postEnvelope(url, init)).status).toBe(200);

    const { sessions } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions).toEqual({
      sessions: 1,
      erroredAll: 1,
      crashed: 0,
      abnormal: 1,
      unhandled: 0,
      anr: 0,
      anrForeground: 0,
    });
    expect(sessionBreakdown(sessions)).toMatchObject({ healthy: 0, errored: 0, abnormal: 1 });
  });
});

describe('@sentry/node application mode', () => {
  test('stores durations of exited sessions only, so p50 is the middle exited session', async ({
    server,
    project,
  }) => {
    const sdk = createSdkClient(project.dsn);
    for (const seconds of [50, 10, 40, 20, 30]) {
      captureEndedSession(sdk, { did: `u${seconds}`, status: 'exited', durationSeconds: seconds });
    }
    // Crashed and abnormal sessions report a duration too; it must not count (spec §2.5).
    captureEndedSession(sdk, { did: 'c', status: 'crashed', durationSeconds: 500 });
    captureEndedSession(sdk, { did: 'a', status: 'abnormal', durationSeconds: 400 });
    await sdk.flush();
    await sdk.close();

    const { sessions, durations } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions.sessions).toBe(7);
    expect(durations).toEqual([10, 20, 30, 40, 50].map((value) => ({ value, count: 1 })));
    expect(percentile(durations, 0.5)).toBe(30);
  });

  test('keeps the release and environment the SDK was configured with', async ({
    server,
    project,
  }) => {
    const sdk = createSdkClient(project.dsn, { release: 'api@2.3.4+77', environment: 'staging' });
    captureEndedSession(sdk, { status: 'exited' });
    await sdk.flush();
    await sdk.close();

    const group = await storedGroup(server.db, project.id, 'api@2.3.4+77', 'staging');
    expect(group.sessions.sessions).toBe(1);
    // No user was set: the session counts, no user does.
    expect(group.users.users).toBe(0);
  });

  test('answers an error event envelope with its id and counts no session for it', async ({
    server,
    project,
  }) => {
    const [event] = await recordSdkEnvelopes((sdk) => {
      sdk.scope.captureException(new Error('handled'));
    });
    if (!event) throw new Error('the SDK sent no envelope');
    expect(itemTypes(event)).toEqual(['event']);
    const eventId = (
      JSON.parse(event.toString('utf8').split('\n')[0] ?? '') as { event_id: string }
    ).event_id;

    const response = await postEnvelope(server.envelopeUrl(project), event);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ id: eventId });
    expect(await server.db.prisma.sessionCounter.count({ where: { projectId: project.id } })).toBe(
      0,
    );
  });
});
