import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ENVIRONMENT, postEnvelope, RELEASE } from '../support/sentry.ts';
import { startTestServer, type TestProject, type TestServer } from '../support/server.ts';
import { buildEnvelope, newSid, sessionItem } from './hand-built.ts';
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

/** Runs `fn` while the write statement's last table refuses every insert the way `sql` says. */
async function whileRefusing<T>(raise: string, fn: () => Promise<T>): Promise<T> {
  const exec = (sql: string) => server.db.prisma.$executeRawUnsafe(sql);
  await exec(`CREATE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN ${raise}; END $$`);
  // The last of the five tables the write statement touches: everything before it must roll back.
  await exec(`CREATE TRIGGER refuse_insert BEFORE INSERT ON rejected_item
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_insert()`);
  try {
    return await fn();
  } finally {
    await exec('DROP TRIGGER refuse_insert ON rejected_item');
    await exec('DROP FUNCTION refuse_insert()');
  }
}

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

describe('a write the database refuses', () => {
  test('for want of room (disk full): 503 with Retry-After, nothing committed, the resent envelope counts once', async () => {
    const project = await server.createProject();
    const url = server.envelopeUrl(project);
    expect((await postEnvelope(url, buildEnvelope([sessionItem()]))).status).toBe(200);
    const envelope = refused();

    const answer = await whileRefusing(
      "RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'",
      () => postEnvelope(url, envelope),
    );

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
