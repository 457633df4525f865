import { describe, expect } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { buildEnvelope, type HandItem, postEnvelope } from '../support/envelopes.ts';
import { test } from '../support/fixtures.ts';
import { ENVIRONMENT, RELEASE } from '../support/sentry.ts';
import { newSid, sessionItem, sessionUpdate, storeBaseline } from './hand-built.ts';
import { findGroup, rejectedCounts, storedCounts } from './stored-counts.ts';

// Item-level validation and normalisation (spec §2.4): a bad item is dropped and counted as
// rejected with its reason, the envelope still answers 200, and its other items still count.

const DAY = 86_400;
/** An RFC 3339 time `seconds` from now. */
const at = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

const invalidReleases = [
  'latest',
  'LATEST',
  '.',
  '..',
  'a'.repeat(201),
  // 101 characters, 202 bytes: the limit is in bytes.
  'é'.repeat(101),
  'app@1.0\n',
  'app\t1.0',
  'app\r1.0',
  'app\f1.0',
  'app/1.0',
  'app\\1.0',
];

// Built when a test runs, so that times are relative to then.
const rejections: Array<[string, () => HandItem, string]> = [
  [
    'a payload that is not JSON',
    () => ({ type: 'session', payload: '{"sid": "abc", ' }),
    'invalid_json',
  ],
  ['a session without a release', () => sessionItem({}, { release: undefined }), 'missing_release'],
  ...invalidReleases.map((release): [string, () => HandItem, string] => [
    `the release ${JSON.stringify(release.length > 20 ? `${release.slice(0, 8)}…` : release)}`,
    () => sessionItem({}, { release }),
    'invalid_release',
  ]),
  ['an unknown status', () => sessionItem({ status: 'exploded' }), 'invalid_status'],
  ['a sid that is not a UUID', () => sessionItem({ sid: 'session-1' }), 'invalid_sid'],
  [
    'a sid of 32 characters that are not hex',
    () => sessionItem({ sid: 'z'.repeat(32) }),
    'invalid_sid',
  ],
  ['a started time 2 minutes in the future', () => sessionItem({ started: at(120) }), 'too_new'],
  ['a timestamp 2 minutes in the future', () => sessionItem({ timestamp: at(120) }), 'too_new'],
  ['a started time 6 days ago', () => sessionItem({ started: at(-6 * DAY) }), 'too_old'],
  [
    'seq = 18446744073709551615',
    () => ({
      type: 'session',
      payload: JSON.stringify(sessionUpdate({ seq: 1 })).replace(
        '"seq":1',
        '"seq":18446744073709551615',
      ),
    }),
    'sequence_overflow',
  ],
  ['a session without started', () => sessionItem({ started: undefined }), 'invalid_payload'],
  ['negative errors', () => sessionItem({ errors: -1 }), 'invalid_payload'],
  [
    'a started time that is not a time',
    () => sessionItem({ started: 'yesterday' }),
    'invalid_payload',
  ],
  ['a JSON array', () => ({ type: 'session', payload: [] }), 'invalid_payload'],
  [
    'a sessions item with an invalid release',
    () => aggregatesItem([{ started: at(0), exited: 3 }], { release: 'latest' }),
    'invalid_release',
  ],
  [
    'a sessions item that is not JSON',
    () => ({ type: 'sessions', payload: '{"aggregates": [' }),
    'invalid_json',
  ],
  [
    'a sessions item whose only bucket is 6 days old',
    () => aggregatesItem([{ started: at(-6 * DAY), exited: 3 }]),
    'too_old',
  ],
];

describe('rejected items', () => {
  test.for(rejections)(
    'drops %s, counts it as rejected and keeps the rest',
    async ([, bad, reason], { server, project }) => {
      const baseline = await storeBaseline(server, project);
      const envelope = buildEnvelope([
        sessionItem({ did: 'before' }),
        bad(),
        sessionItem({ did: 'after' }),
      ]);

      const response = await postEnvelope(server.envelopeUrl(project), envelope);

      expect(response.status).toBe(200);
      expect(response.body).toEqual({});
      expect(await rejectedCounts(server.db, project.id)).toEqual({ [reason]: 1 });
      const good = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
      expect([good.sessions.sessions, good.users.users]).toEqual([2, 2]);
      await baseline.expectBaselineKept();
    },
  );

  test('counts every rejected item of an envelope by reason', async ({ server, project }) => {
    const envelope = buildEnvelope([
      sessionItem({}, { release: 'latest' }),
      sessionItem({}, { release: '..' }),
      sessionItem({ status: 'exploded' }),
      { type: 'session', payload: 'nope' },
    ]);
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
    expect(await rejectedCounts(server.db, project.id)).toEqual({
      invalid_json: 1,
      invalid_release: 2,
      invalid_status: 1,
    });
    expect(await storedCounts(server.db, project.id)).toEqual([]);
  });

  test('drops out-of-range buckets of a sessions item one by one and keeps the others', async ({
    server,
    project,
  }) => {
    const item = aggregatesItem([
      { started: at(-6 * DAY), exited: 5 },
      { started: at(0), exited: 2, crashed: 1 },
      { started: at(300), exited: 7 },
    ]);
    expect((await postEnvelope(server.envelopeUrl(project), buildEnvelope([item]))).status).toBe(
      200,
    );
    const { sessions } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions).toEqual({
      sessions: 3,
      erroredAll: 1,
      crashed: 1,
      abnormal: 0,
      unhandled: 0,
      anr: 0,
      anrForeground: 0,
    });
    expect(await rejectedCounts(server.db, project.id)).toEqual({ too_old: 1, too_new: 1 });
  });
});

describe('accepted and normalised items', () => {
  test.for(['none', 'None', 'x'.repeat(65), 'prod/eu', '..'])(
    'keeps a session with the invalid environment %s, without environment',
    async (environment, { server, project }) => {
      const envelope = buildEnvelope([sessionItem({}, { environment })]);
      expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
      const groups = await storedCounts(server.db, project.id);
      expect(groups.map((g) => [g.release, g.environment, g.sessions.sessions])).toEqual([
        [RELEASE, '', 1],
      ]);
      expect(await rejectedCounts(server.db, project.id)).toEqual({});
    },
  );

  test.for([
    ['a 64-character environment', { environment: 'e'.repeat(64) }, RELEASE, 'e'.repeat(64)],
    ['a 200-byte release', { release: 'r'.repeat(200) }, 'r'.repeat(200), ENVIRONMENT],
    ['an empty release', { release: '' }, '', ENVIRONMENT],
    ['a session without environment', { environment: undefined }, RELEASE, ''],
    ['a release with package and build', { release: 'a.b@1.2.3+4' }, 'a.b@1.2.3+4', ENVIRONMENT],
  ] as const)(
    'accepts %s as it is',
    async ([, attrs, release, environment], { server, project }) => {
      const envelope = buildEnvelope([sessionItem({}, attrs)]);
      expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
      const groups = await storedCounts(server.db, project.id);
      expect(groups.map((g) => [g.release, g.environment, g.sessions.sessions])).toEqual([
        [release, environment, 1],
      ]);
    },
  );

  test('accepts RFC 3339 times with offsets and epoch seconds', async ({ server, project }) => {
    const now = Date.now();
    const inParis = new Date(now + 3600_000).toISOString().replace('Z', '+01:00');
    const envelope = buildEnvelope([
      sessionItem({ started: inParis, timestamp: undefined, did: 'offset' }),
      sessionItem({ started: now / 1000, timestamp: now / 1000, did: 'epoch' }),
    ]);
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
    const times = await sessionTimes(server.db, project.id);
    expect(times).toHaveLength(2);
    for (const { started } of times) expect(Math.abs(started.getTime() - now)).toBeLessThan(1000);
  });

  test('sets a timestamp earlier than started to started instead of dropping the update', async ({
    server,
    project,
  }) => {
    const started = at(-10);
    const envelope = buildEnvelope([sessionItem({ started, timestamp: at(-70) })]);
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
    expect(await sessionTimes(server.db, project.id)).toEqual([
      { started: new Date(started), lastTimestamp: new Date(started) },
    ]);
    expect(await rejectedCounts(server.db, project.id)).toEqual({});
  });

  test.for([
    ['2 hours behind', -2 * 3600],
    ['6 days behind', -6 * DAY],
    ['2 hours ahead', 2 * 3600],
  ] as const)(
    'corrects a client clock %s by the envelope sent_at',
    async ([, skew], { server, project }) => {
      const envelope = buildEnvelope(
        [sessionItem({ started: at(skew - 5), timestamp: at(skew) })],
        {
          sent_at: at(skew),
        },
      );
      expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
      const [stored] = await sessionTimes(server.db, project.id);
      // Stored at the server's time of the session, about 5 s ago.
      expect(Math.abs((stored?.started.getTime() ?? 0) - (Date.now() - 5000))).toBeLessThan(3000);
      expect(await rejectedCounts(server.db, project.id)).toEqual({});
    },
  );

  test('corrects the buckets of a sessions item by the envelope sent_at', async ({
    server,
    project,
  }) => {
    const skew = -3 * 3600;
    const item = aggregatesItem([{ started: at(skew - 5), exited: 2, errored: 1 }]);
    const envelope = buildEnvelope([item], { sent_at: at(skew) });
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
    const [counter] = await server.db.prisma.sessionCounter.findMany({
      where: { projectId: project.id, granularity: 3600 },
    });
    // A 64-bit counter: Prisma reads it as a bigint.
    expect(counter?.sessions).toBe(3n);
    // The hour of "5 s ago" by the server's clock, not one 3 hours earlier.
    const age = Date.now() - 5000 - (counter?.bucket.getTime() ?? 0);
    expect(age).toBeGreaterThan(-1000);
    expect(age).toBeLessThan(3600_000 + 1000);
  });

  test.for([
    ['off by 30 minutes, under the correction threshold', -1800, -1800],
    ['missing', -2 * 3600, null],
  ] as const)(
    'keeps client times as sent when sent_at is %s',
    async ([, skew, sentSkew], { server, project }) => {
      const started = at(skew);
      const header = sentSkew === null ? {} : { sent_at: at(sentSkew) };
      const envelope = buildEnvelope([sessionItem({ started, timestamp: started })], header);
      expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
      expect((await sessionTimes(server.db, project.id))[0]?.started).toEqual(new Date(started));
    },
  );

  test('treats a dashed and an undashed sid as the same session', async ({ server, project }) => {
    const sid = newSid();
    const dashed = `${sid.slice(0, 8)}-${sid.slice(8, 12)}-${sid.slice(12, 16)}-${sid.slice(16, 20)}-${sid.slice(20)}`;
    const envelope = buildEnvelope([
      sessionItem({ sid, status: 'ok', errors: 0 }),
      sessionItem({ sid: dashed.toUpperCase(), init: false, status: 'crashed', errors: 1 }),
    ]);
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
    const { sessions } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions).toEqual({
      sessions: 1,
      erroredAll: 1,
      crashed: 1,
      abnormal: 0,
      unhandled: 0,
      anr: 0,
      anrForeground: 0,
    });
  });

  test('counts a session without sid under a sid of its own', async ({ server, project }) => {
    const envelope = buildEnvelope([
      sessionItem({ sid: undefined }),
      sessionItem({ sid: undefined }),
    ]);
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
    const { sessions } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions.sessions).toBe(2);
  });

  test('counts no user for a missing did or the nil UUID', async ({ server, project }) => {
    const envelope = buildEnvelope([
      sessionItem({ did: undefined }),
      sessionItem({ did: '00000000-0000-0000-0000-000000000000' }),
      sessionItem({ did: '' }),
    ]);
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
    const { sessions, users } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect([sessions.sessions, users.users]).toEqual([3, 0]);
  });

  test('accepts a seq above 2^53, which JSON numbers cannot hold exactly', async ({
    server,
    project,
  }) => {
    const payload = JSON.stringify(sessionUpdate({ seq: 1 })).replace(
      '"seq":1',
      '"seq":9007199254740993',
    );
    const envelope = buildEnvelope([{ type: 'session', payload }]);
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
    expect(await rejectedCounts(server.db, project.id)).toEqual({});
    const { sessions } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions.sessions).toBe(1);
  });

  test('keeps an update whose duration is negative (a clock set back), without its duration', async ({
    server,
    project,
  }) => {
    const sid = newSid();
    const envelope = buildEnvelope([
      sessionItem({ sid, status: 'ok', duration: 0 }),
      sessionItem({
        sid,
        init: false,
        status: 'exited',
        errors: 1,
        duration: -3.5,
        timestamp: at(1),
      }),
    ]);
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
    expect(await rejectedCounts(server.db, project.id)).toEqual({});
    const { sessions, durations } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions).toMatchObject({ sessions: 1, erroredAll: 1 });
    expect(durations).toEqual([]);
  });

  test('accepts the optional fields SDKs send: abnormal_mechanism, ip_address and user_agent', async ({
    server,
    project,
  }) => {
    const envelope = buildEnvelope([
      sessionItem(
        { status: 'abnormal', abnormal_mechanism: 'anr_foreground' },
        { ip_address: '{{auto}}', user_agent: 'Mozilla/5.0' },
      ),
    ]);
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
    const { sessions } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions).toMatchObject({ sessions: 1, abnormal: 1 });
  });

  test('skips items of other types, framed with or without a length', async ({
    server,
    project,
  }) => {
    const binary = Buffer.from([0x00, 0x0a, 0xff, 0x0a, 0x0a, 0x7b]);
    const envelope = buildEnvelope(
      [
        { type: 'event', payload: { message: 'hello', level: 'error' } },
        { type: 'transaction', payload: { type: 'transaction', spans: [] }, withLength: true },
        { type: 'client_report', payload: { discarded_events: [] } },
        { type: 'attachment', payload: binary, withLength: true },
        sessionItem({ did: 'counted' }),
        { type: 'replay_recording', payload: 'not json at all', withLength: true },
        { type: 'check_in', payload: { status: 'ok' } },
      ],
      { event_id: '9ec79c33ec9942ab8353589fcb2e04dc', sent_at: at(0) },
    );
    const response = await postEnvelope(server.envelopeUrl(project), envelope);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ id: '9ec79c33ec9942ab8353589fcb2e04dc' });
    const { users } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(users.users).toBe(1);
    expect(await rejectedCounts(server.db, project.id)).toEqual({});
  });

  test('counts users of aggregate buckets that carry a did', async ({ server, project }) => {
    const item = aggregatesItem([
      { started: at(0), did: 'agg-user', exited: 2, crashed: 1 },
      { started: at(0), did: 'agg-user', exited: 1 },
      { started: at(0), exited: 4 },
    ]);
    expect((await postEnvelope(server.envelopeUrl(project), buildEnvelope([item]))).status).toBe(
      200,
    );
    const { sessions, users } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions).toMatchObject({ sessions: 8, crashed: 1 });
    expect(users).toMatchObject({ users: 1, crashed: 1 });
  });
});

function aggregatesItem(
  buckets: Array<Record<string, unknown>>,
  attrs: Record<string, unknown> = {},
): HandItem {
  return {
    type: 'sessions',
    payload: {
      aggregates: buckets,
      attrs: { release: RELEASE, environment: ENVIRONMENT, ...attrs },
    },
  };
}

async function sessionTimes(db: Database, projectId: number) {
  return db.prisma.sessionState.findMany({
    where: { projectId },
    select: { started: true, lastTimestamp: true },
    orderBy: { started: 'asc' },
  });
}
