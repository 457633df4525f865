import { describe, expect } from 'vitest';
import { buildEnvelope, postEnvelope } from '../support/envelopes.ts';
import { test } from '../support/fixtures.ts';
import {
  closeSession,
  ENVIRONMENT,
  makeSession,
  makeSessionStarted,
  RELEASE,
  recordSdkEnvelopes,
  updateSession,
} from '../support/sentry.ts';
import type { TestProject, TestServer } from '../support/server.ts';
import { newSid, sessionItem } from './hand-built.ts';
import { findGroup, rejectedCounts, storedGroup, storedRows } from './stored-counts.ts';

// Vigil's exactness under retries (spec §4 "Vigil"): a session's updates are facts that merge,
// so duplicates, retries and any arrival order give the numbers of one clean pass. The updates
// are the SDK's own bytes, recorded and then posted in the order each test needs.

/**
 * One user's two sessions, as @sentry/node serialises them: A reports errors in three updates
 * and exits after about 30 s; B crashes. Six envelopes.
 */
function recordTwoSessions(): Promise<Buffer[]> {
  return recordSdkEnvelopes((sdk) => {
    const a = makeSessionStarted(30, { did: 'u1' });
    sdk.client.captureSession(a);
    for (const errors of [1, 2, 3]) {
      updateSession(a, { errors });
      if (errors === 3) closeSession(a);
      sdk.client.captureSession(a);
    }
    const b = makeSession({ did: 'u1' });
    sdk.client.captureSession(b);
    closeSession(b, 'crashed');
    sdk.client.captureSession(b);
  });
}

/** An RFC 3339 time `seconds` from now. */
const at = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

async function postAll(server: TestServer, project: TestProject, envelopes: Buffer[]) {
  for (const envelope of envelopes) {
    const response = await postEnvelope(server.envelopeUrl(project), envelope);
    expect(response.status).toBe(200);
  }
}

/** mulberry32: a seeded generator, so a failing order can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

describe('retries and duplicates', () => {
  test('changes no stored row when every envelope of two sessions is sent again', async ({
    server,
    project,
  }) => {
    const envelopes = await recordTwoSessions();
    expect(envelopes).toHaveLength(6);
    await postAll(server, project, envelopes);
    const once = await storedRows(server.db, project.id);

    await postAll(server, project, envelopes);

    expect(await storedRows(server.db, project.id)).toEqual(once);
    const { sessions, users, durations } = await storedGroup(
      server.db,
      project.id,
      RELEASE,
      ENVIRONMENT,
    );
    expect(sessions).toEqual({
      sessions: 2,
      erroredAll: 2,
      crashed: 1,
      abnormal: 0,
      unhandled: 0,
      anr: 0,
      anrForeground: 0,
    });
    expect(users).toMatchObject({ users: 1, erroredAll: 1, crashed: 1 });
    expect(durations).toEqual([{ value: 30, count: 1 }]);
  });

  test('counts a crashed update sent twice at the same moment as one crashed session', async ({
    server,
    project,
  }) => {
    const [init, crashed] = await recordSdkEnvelopes((sdk) => {
      const session = makeSession({ did: 'u1' });
      sdk.client.captureSession(session);
      closeSession(session, 'crashed');
      sdk.client.captureSession(session);
    });
    if (!init || !crashed) throw new Error('the SDK sent fewer than two envelopes');
    const url = server.envelopeUrl(project);

    const statuses = await Promise.all(
      [crashed, crashed, init, crashed].map(async (e) => (await postEnvelope(url, e)).status),
    );

    expect(statuses).toEqual([200, 200, 200, 200]);
    const { sessions } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
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

  test('records the duration of an exited session once when its final update is retried', async ({
    server,
    project,
  }) => {
    const envelopes = await recordSdkEnvelopes((sdk) => {
      const session = makeSessionStarted(12, { did: 'u1' });
      sdk.client.captureSession(session);
      closeSession(session);
      sdk.client.captureSession(session);
    });
    const final = envelopes.at(-1) as Buffer;
    await postAll(server, project, [...envelopes, final, final]);

    const { durations } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(durations).toEqual([{ value: 12, count: 1 }]);
  });

  test('moves the duration when a later exited update reports a longer one', async ({
    server,
    project,
  }) => {
    const envelopes = await recordSdkEnvelopes((sdk) => {
      const session = makeSessionStarted(12, { did: 'u1' });
      sdk.client.captureSession(session);
      closeSession(session);
      sdk.client.captureSession(session);
      // endSession called again later: the SDK sends exited once more, with a newer timestamp.
      updateSession(session, { timestamp: Date.now() / 1000 + 1, duration: 45 });
      sdk.client.captureSession(session);
    });
    expect(envelopes).toHaveLength(3);
    // The newest update arrives first: the older one must not take its place.
    await postAll(server, project, [...envelopes].reverse());

    const { sessions, durations } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions.sessions).toBe(1);
    expect(durations).toEqual([{ value: 45, count: 1 }]);
  });

  test('counts a sessions item repeated inside one envelope once', async ({ server, project }) => {
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
    const item = {
      type: 'sessions',
      payload: {
        aggregates: [{ started: minute, exited: 4, errored: 1 }],
        attrs: { release: RELEASE, environment: ENVIRONMENT },
      },
    };
    const response = await postEnvelope(server.envelopeUrl(project), buildEnvelope([item, item]));

    expect(response.status).toBe(200);
    const { sessions } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions).toEqual({
      sessions: 5,
      erroredAll: 1,
      crashed: 0,
      abnormal: 0,
      unhandled: 0,
      anr: 0,
      anrForeground: 0,
    });
  });
});

describe('facts of one session', () => {
  test('counts a session that reported unhandled and then crashed as both, and errored once', async ({
    server,
    project,
  }) => {
    const sid = newSid();
    const envelope = buildEnvelope([
      sessionItem({ sid, status: 'ok' }),
      sessionItem({ sid, init: false, status: 'unhandled', errors: 1, timestamp: at(1) }),
      sessionItem({ sid, init: false, status: 'crashed', errors: 2, timestamp: at(2) }),
    ]);
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);

    const { sessions, users } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions).toEqual({
      sessions: 1,
      erroredAll: 1,
      crashed: 1,
      abnormal: 0,
      unhandled: 1,
      anr: 0,
      anrForeground: 0,
    });
    expect(users).toMatchObject({ users: 1, erroredAll: 1, crashed: 1, unhandled: 1, fatalAny: 1 });
  });
});

describe('arrival order', () => {
  test('stores identical rows for 20 random orders of the same updates', async ({ server }) => {
    const envelopes = await recordTwoSessions();
    const reference = await server.createProject();
    await postAll(server, reference, envelopes);
    const expected = await storedRows(server.db, reference.id);
    const { sessions } = await storedGroup(server.db, reference.id, RELEASE, ENVIRONMENT);
    expect(sessions).toEqual({
      sessions: 2,
      erroredAll: 2,
      crashed: 1,
      abnormal: 0,
      unhandled: 0,
      anr: 0,
      anrForeground: 0,
    });

    const random = seededRandom(20_260_101);
    const orders = Array.from({ length: 20 }, () => shuffled([0, 1, 2, 3, 4, 5], random));
    expect(new Set(orders.map((o) => o.join())).size).toBeGreaterThan(15);
    for (const order of orders) {
      const project = await server.createProject();
      await postAll(
        server,
        project,
        order.map((i) => envelopes[i] as Buffer),
      );
      const rows = await storedRows(server.db, project.id);
      expect(rows, `arrival order ${order.join(',')}`).toEqual(expected);
    }
  });

  test('stores the same rows when all updates and their retries arrive at once', async ({
    server,
  }) => {
    const envelopes = await recordTwoSessions();
    const reference = await server.createProject();
    await postAll(server, reference, envelopes);
    const project = await server.createProject();

    const statuses = await Promise.all(
      [...envelopes, ...envelopes].map(
        async (e) => (await postEnvelope(server.envelopeUrl(project), e)).status,
      ),
    );

    expect(new Set(statuses)).toEqual(new Set([200]));
    expect(await storedRows(server.db, project.id)).toEqual(
      await storedRows(server.db, reference.id),
    );
  });

  test('lets a terminal status win over ok when two updates carry the same timestamp', async ({
    server,
    project,
  }) => {
    // The JavaScript SDK often sends init and final update within one millisecond (spec §4).
    const sid = newSid();
    const now = new Date().toISOString();
    // Every update of a session carries its one `started`; a later `started` would move the
    // timestamp (timestamp < started is corrected) and break the tie this test is about.
    const init = sessionItem({ sid, status: 'ok', started: now, timestamp: now, duration: 0 });
    const exited = sessionItem({
      sid,
      init: false,
      status: 'exited',
      started: now,
      timestamp: now,
      duration: 7,
    });

    await postAll(server, project, [buildEnvelope([exited]), buildEnvelope([init])]);

    const { sessions, durations } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions.sessions).toBe(1);
    expect(durations).toEqual([{ value: 7, count: 1 }]);
  });

  test.for([
    ['exited first', ['exited', 'crashed']],
    ['crashed first', ['crashed', 'exited']],
  ] as const)(
    'lets crashed win over exited on a timestamp tie (%s): no duration',
    async ([, order], { server, project }) => {
      const sid = newSid();
      const now = new Date().toISOString();
      const items = order.map((status, i) =>
        sessionItem({ sid, init: i === 0, status, started: now, timestamp: now, duration: 5 }),
      );
      await postAll(
        server,
        project,
        items.map((item) => buildEnvelope([item])),
      );

      const { sessions, durations } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
      expect(sessions.crashed).toBe(1);
      expect(durations).toEqual([]);
    },
  );

  test('orders updates by seq before timestamp when both carry one', async ({
    server,
    project,
  }) => {
    const sid = newSid();
    // seq 2 ended the session; seq 1 carries a later timestamp from a skewed clock.
    const exited = sessionItem({ sid, seq: 2, init: false, status: 'exited', duration: 9 });
    const init = sessionItem({
      sid,
      seq: 1,
      status: 'ok',
      timestamp: new Date(Date.now() + 30_000).toISOString(),
      duration: 0,
    });

    await postAll(server, project, [buildEnvelope([exited]), buildEnvelope([init])]);

    const { sessions, durations } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions.sessions).toBe(1);
    expect(durations).toEqual([{ value: 9, count: 1 }]);
    expect(await rejectedCounts(server.db, project.id)).toEqual({});
  });
});
