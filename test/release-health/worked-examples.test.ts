import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { sendSessions } from '../support/envelopes.ts';
import { test } from '../support/fixtures.ts';
import { expectData } from '../support/gql.ts';
import type { TestProject, TestServer } from '../support/server.ts';

// shared/spec/release-health.md §7, sent through the real envelope endpoint and read back
// through GraphQL: the numbers Sentry would show for the same sessions.

const HEALTH = /* GraphQL */ `
  query ($org: String!, $slug: String!, $version: String!) {
    project(organizationSlug: $org, slug: $slug) {
      release(version: $version) {
        health(period: "24h") {
          __typename
          sessions sessionsHealthy sessionsErrored sessionsCrashed sessionsAbnormal sessionsUnhandled
          users usersHealthy usersErrored usersCrashed usersAbnormal
          crashFreeSessions crashFreeUsers
        }
      }
    }
  }`;

type Health = Record<string, number | null>;

async function health(server: TestServer, project: TestProject, version = 'app@1.0.0') {
  const data = await expectData<{ project: { release: { health: Health } | null } }>(
    server,
    HEALTH,
    { org: project.organizationSlug, slug: project.slug, version },
  );
  return data.project.release?.health;
}

const sid = () => randomUUID().replace(/-/g, '');

describe('spec §7 worked examples', () => {
  test('1: four users exited, errored, crashed and abnormal', async ({ server, project }) => {
    await sendSessions(server, project, [
      { did: 'u1', status: 'exited' },
      { did: 'u2', status: 'exited', errors: 2 },
      { did: 'u3', status: 'crashed' },
      { did: 'u4', status: 'abnormal' },
    ]);
    expect(await health(server, project)).toMatchObject({
      sessions: 4,
      sessionsHealthy: 1,
      sessionsErrored: 1,
      sessionsCrashed: 1,
      sessionsAbnormal: 1,
      crashFreeSessions: 75,
      users: 4,
      usersCrashed: 1,
      crashFreeUsers: 75,
    });
  });

  test('2: one user, one exited and one crashed session', async ({ server, project }) => {
    await sendSessions(server, project, [
      { did: 'u1', status: 'exited' },
      { did: 'u1', status: 'crashed' },
    ]);
    expect(await health(server, project)).toMatchObject({
      sessions: 2,
      crashFreeSessions: 50,
      users: 1,
      usersCrashed: 1,
      crashFreeUsers: 0,
    });
  });

  test('3: errors in three updates make one errored session', async ({ server, project }) => {
    const id = sid();
    await sendSessions(server, project, [
      { sid: id, did: 'u1', init: true, status: 'ok', errors: 0 },
      { sid: id, did: 'u1', init: false, status: 'ok', errors: 1 },
      { sid: id, did: 'u1', init: false, status: 'exited', errors: 3 },
    ]);
    expect(await health(server, project)).toMatchObject({
      sessions: 1,
      sessionsErrored: 1,
      sessionsHealthy: 0,
    });
  });

  test('4: an update without init counts its user but no session', async ({ server, project }) => {
    await sendSessions(server, project, [{ did: 'u1', init: false, status: 'exited' }]);
    expect(await health(server, project)).toMatchObject({
      sessions: 0,
      users: 1,
      crashFreeSessions: null,
    });
  });

  test('7: a crashed update sent twice crashes once; abnormal before init counts once', async ({
    server,
    project,
  }) => {
    const crashed = sid();
    const late = sid();
    await sendSessions(server, project, [{ sid: crashed, did: 'u1', status: 'crashed' }]);
    await sendSessions(server, project, [{ sid: crashed, did: 'u1', status: 'crashed' }]);
    await sendSessions(server, project, [
      { sid: late, did: 'u2', init: false, status: 'abnormal' },
    ]);
    await sendSessions(server, project, [{ sid: late, did: 'u2', init: true, status: 'ok' }]);
    expect(await health(server, project)).toMatchObject({
      sessions: 2,
      sessionsCrashed: 1,
      sessionsAbnormal: 1,
    });
  });

  test('an unknown release reads as null; a release without sessions in range as zeros', async ({
    server,
    project,
  }) => {
    const old = new Date(Date.now() - 3 * 86_400_000);
    await sendSessions(server, project, [
      { did: 'u1', status: 'exited', started: old, release: 'old@1' },
    ]);
    expect(await health(server, project, 'missing@1')).toBeUndefined();
    expect(await health(server, project, 'old@1')).toMatchObject({
      sessions: 0,
      users: 0,
      crashFreeSessions: null,
    });
  });
});
