import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildEnvelope, type HandItem, postEnvelope } from '../support/envelopes.ts';
import { DISK_FULL, whileRefusing } from '../support/refuse-writes.ts';
import { ENVIRONMENT, RELEASE } from '../support/sentry.ts';
import { startTestServer, type TestProject, type TestServer } from '../support/server.ts';
import { newSid, sessionItem } from './hand-built.ts';
import { findGroup } from './stored-counts.ts';

// A 200 means stored, and anything else means nothing of the envelope was. 503 with Retry-After
// means only "the database cannot take it now, send the same bytes later"; a failure that waiting
// will not cure is Vigil's own, a 500 logged with the request id.

let server: TestServer;
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  const log = pino({ level: 'warn' }, { write: (line: string) => logLines.push(JSON.parse(line)) });
  server = await startTestServer({ log });
});
afterAll(() => server.close());

async function storedSoFar(project: TestProject) {
  const group = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
  const [states] = await server.db.prisma.$queryRaw<Array<{ n: number }>>`
    SELECT count(*)::int AS n FROM session_state WHERE project_id = ${project.id}`;
  return { sessions: group.sessions, users: group.users.users, states: states?.n };
}

const refused = () =>
  buildEnvelope([
    sessionItem({ sid: newSid(), status: 'crashed', did: 'u1' }),
    sessionItem({ status: 'exited', did: 'u2', duration: 12 }),
  ]);

const aggregateItem = (exited: number): HandItem => ({
  type: 'sessions',
  payload: {
    attrs: { release: RELEASE, environment: ENVIRONMENT },
    aggregates: [{ started: new Date().toISOString(), exited, errored: 1 }],
  },
});

describe('a sessions envelope refused with 503', () => {
  test('counts once when resent byte for byte with its sent_at, however often', async () => {
    const project = await server.createProject();
    const url = server.envelopeUrl(project);
    const bytes = buildEnvelope([aggregateItem(4)], { sent_at: new Date().toISOString() });

    const answer = await whileRefusing(server.db, DISK_FULL, () => postEnvelope(url, bytes));
    expect(answer.status).toBe(503);
    expect((await findGroup(server.db, project.id, RELEASE, ENVIRONMENT)).sessions.sessions).toBe(
      0,
    );

    // The SDK resends the stored bytes; a lost answer makes it send them once more.
    expect((await postEnvelope(url, bytes)).status).toBe(200);
    expect((await postEnvelope(url, bytes)).status).toBe(200);
    const { sessions } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions).toMatchObject({ sessions: 5, erroredAll: 1 });
  });

  test('counts identical envelopes without sent_at each time: they are honest flushes', async () => {
    const project = await server.createProject();
    const url = server.envelopeUrl(project);
    // Python's and Ruby's session flushers send an empty header.
    const bytes = buildEnvelope([aggregateItem(4)], {});

    const answer = await whileRefusing(server.db, DISK_FULL, () => postEnvelope(url, bytes));
    expect(answer.status).toBe(503);
    expect((await postEnvelope(url, bytes)).status).toBe(200);
    expect((await postEnvelope(url, bytes)).status).toBe(200);

    const { sessions } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions).toMatchObject({ sessions: 10, erroredAll: 2 });
  });
});

describe('a write the database refuses', () => {
  test('for want of room (disk full): 503 with Retry-After, nothing committed, the resent envelope counts once', async () => {
    const project = await server.createProject();
    const url = server.envelopeUrl(project);
    expect((await postEnvelope(url, buildEnvelope([sessionItem()]))).status).toBe(200);
    const envelope = refused();

    const answer = await whileRefusing(server.db, DISK_FULL, () => postEnvelope(url, envelope));

    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('5');
    expect(answer.body).toEqual({ detail: 'envelope could not be stored; try again' });
    const before = await storedSoFar(project);
    expect(before).toMatchObject({ sessions: { sessions: 1, crashed: 0 }, users: 1, states: 1 });

    const resent = await postEnvelope(url, envelope);
    expect(resent.status).toBe(200);
    const after = await storedSoFar(project);
    expect(after).toMatchObject({ sessions: { sessions: 3, crashed: 1 }, users: 3, states: 3 });
  });

  test('for a reason waiting will not cure: 500 with the request id, logged, nothing committed', async () => {
    const project = await server.createProject();
    const url = server.envelopeUrl(project);
    expect((await postEnvelope(url, buildEnvelope([sessionItem()]))).status).toBe(200);
    const envelope = refused();
    logLines.length = 0;

    const answer = await whileRefusing(
      server.db,
      "RAISE EXCEPTION 'a bug in the write' USING ERRCODE = 'internal_error'",
      () =>
        postEnvelope(url, envelope, {
          'content-type': 'application/x-sentry-envelope',
          'x-request-id': 'req-store-failure-1',
        }),
    );

    expect(answer.status).toBe(500);
    expect(answer.headers.get('retry-after')).toBeNull();
    expect(answer.headers.get('x-request-id')).toBe('req-store-failure-1');
    expect(answer.body).toEqual({ detail: 'internal error (request req-store-failure-1)' });
    const logged = logLines.filter((l) => l.requestId === 'req-store-failure-1');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 50, msg: 'envelope could not be stored' });
    expect(JSON.stringify(logged[0]?.err)).toContain('a bug in the write');
    expect(await storedSoFar(project)).toMatchObject({
      sessions: { sessions: 1, crashed: 0 },
      users: 1,
      states: 1,
    });

    // Once the bug is gone, the same envelope is stored and counted once.
    expect((await postEnvelope(url, envelope)).status).toBe(200);
    expect(await storedSoFar(project)).toMatchObject({
      sessions: { sessions: 3, crashed: 1 },
      users: 3,
      states: 3,
    });
  });
});
