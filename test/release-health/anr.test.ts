import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { postEnvelope } from '../support/envelopes.ts';
import { test } from '../support/fixtures.ts';
import { expectData } from '../support/gql.ts';
import type { TestProject, TestServer } from '../support/server.ts';

// ANR rates (issue 10) on a table of hand-built mobile sessions, each shaped as sentry-java
// serialises a Session (io.sentry.Session#serialize): dashed sid, `init` only on the first send,
// `seq` = the update's time in ms, ISO times with milliseconds, `abnormal_mechanism` set by
// AnrIntegration (the watchdog, in the running process) or by AnrV2Integration when the next
// start reads ApplicationExitInfo (EnvelopeCache ends the previous session abnormal with it).

const RELEASE = 'com.example.app@2.1.0+42';
const MINUTE = 60_000;

interface JavaUpdate {
  init?: true;
  status: 'ok' | 'exited' | 'crashed' | 'abnormal';
  errors?: number;
  mechanism?: string;
  /** Minutes after the session started. */
  at: number;
}

function javaSession(did: string, started: Date, sid: string, u: JavaUpdate) {
  const timestamp = new Date(started.getTime() + u.at * MINUTE);
  return {
    sid,
    did,
    ...(u.init ? { init: true } : {}),
    started: started.toISOString(),
    status: u.status,
    seq: timestamp.getTime(),
    errors: u.errors ?? 0,
    ...(u.status === 'ok' ? {} : { duration: u.at * 60 }),
    timestamp: timestamp.toISOString(),
    ...(u.mechanism ? { abnormal_mechanism: u.mechanism } : {}),
    attrs: { release: RELEASE, environment: 'production', user_agent: 'sentry.java.android/8.0.0' },
  };
}

/** One envelope as sentry-java frames it: sdk header, items with content_type and length. */
function javaEnvelope(sessions: object[]): string {
  const header = { sdk: { name: 'sentry.java.android', version: '8.0.0' }, sent_at: new Date() };
  const lines = [JSON.stringify(header)];
  for (const s of sessions) {
    const payload = JSON.stringify(s);
    lines.push(
      JSON.stringify({
        content_type: 'application/json',
        type: 'session',
        length: Buffer.byteLength(payload),
      }),
      payload,
    );
  }
  return lines.join('\n');
}

// Each row: a session of a user and its updates, in the envelopes the SDK sends them in.
const TABLE: Array<[label: string, did: string, envelopes: JavaUpdate[][]]> = [
  ['A exits cleanly', 'A', [[{ init: true, status: 'ok', at: 0 }], [{ status: 'exited', at: 5 }]]],
  [
    'A: the watchdog sees a foreground ANR (AnrIntegration)',
    'A',
    [
      [{ init: true, status: 'ok', at: 0 }],
      [{ status: 'abnormal', errors: 1, mechanism: 'anr_foreground', at: 3 }],
    ],
  ],
  [
    'B: the next start finds a background ANR exit (AnrV2Integration), sent twice',
    'B',
    [
      [{ init: true, status: 'ok', at: 0 }],
      [{ status: 'abnormal', errors: 1, mechanism: 'anr_background', at: 9 }],
      [{ status: 'abnormal', errors: 1, mechanism: 'anr_background', at: 9 }],
    ],
  ],
  [
    'C: killed by the OS, no mechanism: abnormal, not an ANR',
    'C',
    [[{ init: true, status: 'ok', at: 0 }], [{ status: 'abnormal', at: 2 }]],
  ],
  [
    'D crashes',
    'D',
    [
      [
        { init: true, status: 'ok', at: 0 },
        { status: 'crashed', errors: 1, at: 1 },
      ],
    ],
  ],
  [
    'D: a mechanism on an update that is not abnormal counts nowhere (Relay tags abnormal only)',
    'D',
    [
      [{ init: true, status: 'ok', at: 0 }],
      [{ status: 'exited', mechanism: 'anr_foreground', at: 4 }],
    ],
  ],
  [
    'E: an unknown mechanism is "none" (Relay): abnormal, not an ANR',
    'E',
    [
      [{ init: true, status: 'ok', at: 0 }],
      [{ status: 'abnormal', mechanism: 'anr_other', at: 2 }],
    ],
  ],
];

// 7 sessions of 5 users. ANR sessions: A's second and B's; foreground: A's. Abnormal: A, B, C, E.
const EXPECTED = {
  sessions: 7,
  users: 5,
  sessionsAbnormal: 4,
  sessionsAnr: 2,
  sessionsForegroundAnr: 1,
  usersAnr: 2,
  usersForegroundAnr: 1,
  anrRate: (2 / 5) * 100,
  foregroundAnrRate: (1 / 5) * 100,
  anrRateUsers: (2 / 5) * 100,
  foregroundAnrRateUsers: (1 / 5) * 100,
  anrRateSessions: (2 / 7) * 100,
  foregroundAnrRateSessions: (1 / 7) * 100,
  abnormalRateSessions: (4 / 7) * 100,
  abnormalRateUsers: (4 / 5) * 100,
  crashFreeSessions: 100 - (1 / 7) * 100,
};
const FIELDS = Object.keys(EXPECTED).join(' ');

async function sendTable(server: TestServer, project: TestProject) {
  const started = new Date(Math.floor((Date.now() - 30 * MINUTE) / MINUTE) * MINUTE);
  for (const [, did, envelopes] of TABLE) {
    const sid = randomUUID();
    for (const updates of envelopes) {
      const body = javaEnvelope(updates.map((u) => javaSession(did, started, sid, u)));
      const url = server.envelopeUrl(project);
      expect(
        (await postEnvelope(url, body, { 'content-type': 'application/x-sentry-envelope' })).status,
      ).toBe(200);
    }
  }
}

describe('ANR rates from sentry-java sessions', () => {
  test('release health, project health and the sessions query agree', async ({
    server,
    project,
  }) => {
    await sendTable(server, project);
    const data = await expectData<{
      project: {
        release: { health: Record<string, number> };
        health: Record<string, number>;
        sessions: { groups: Array<{ totals: Record<string, number> }> };
      };
    }>(
      server,
      `query ($org: String!, $slug: String!) {
        project(organizationSlug: $org, slug: $slug) {
          release(version: "${RELEASE}") { health(period: "24h") { ${FIELDS} } }
          health(period: "24h") { ${FIELDS} }
          sessions(period: "24h") { groups { totals { ${FIELDS} } } }
        }
      }`,
      { org: project.organizationSlug, slug: project.slug },
    );
    expect(data.project.release.health).toEqual(EXPECTED);
    expect(data.project.health).toEqual(EXPECTED);
    expect(data.project.sessions.groups).toEqual([{ totals: EXPECTED }]);
  });

  test('a release without sessions has null rates and zero counts', async ({ server, project }) => {
    await sendTable(server, project);
    const result = await server.gql<{ project: { health: Record<string, number | null> } }>(
      `query ($org: String!, $slug: String!) {
        project(organizationSlug: $org, slug: $slug) {
          health(start: "2020-01-01T00:00:00Z", end: "2020-01-02T00:00:00Z") {
            usersAnr anrRate foregroundAnrRate anrRateSessions
          }
        }
      }`,
      { org: project.organizationSlug, slug: project.slug },
    );
    expect(result.data?.project.health).toEqual({
      usersAnr: 0,
      anrRate: null,
      foregroundAnrRate: null,
      anrRateSessions: null,
    });
  });
});
