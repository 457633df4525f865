import { describe, expect } from 'vitest';
import { test } from '../support/fixtures.ts';
import { ENVIRONMENT, postEnvelope, RELEASE } from '../support/sentry.ts';
import type { TestServer } from '../support/server.ts';
import { buildEnvelope, type HandItem, newSid, sessionItem } from './hand-built.ts';
import { findGroup } from './stored-counts.ts';

// A 200 means stored, and anything else means nothing of the envelope was: when the database
// refuses the write, the SDK gets a 503 with Retry-After, no row of the envelope is committed,
// and the envelope sent again counts once.

/** Makes the next envelope's write fail: the last table the write statement touches is gone. */
async function refusingWrites<T>(server: TestServer, fn: () => Promise<T>): Promise<T> {
  await server.db.prisma.$executeRawUnsafe('ALTER TABLE ingest_outcome RENAME TO ingest_outcome_');
  try {
    return await fn();
  } finally {
    await server.db.prisma.$executeRawUnsafe(
      'ALTER TABLE ingest_outcome_ RENAME TO ingest_outcome',
    );
  }
}

const aggregateItem = (exited: number): HandItem => ({
  type: 'sessions',
  payload: {
    attrs: { release: RELEASE, environment: ENVIRONMENT },
    aggregates: [{ started: new Date().toISOString(), exited, errored: 1 }],
  },
});

describe('a sessions envelope refused with 503', () => {
  test('counts once when resent byte for byte with its sent_at, however often', async ({
    server,
    project,
  }) => {
    const url = server.envelopeUrl(project);
    const bytes = buildEnvelope([aggregateItem(4)], { sent_at: new Date().toISOString() });

    const refused = await refusingWrites(server, () => postEnvelope(url, bytes));
    expect(refused.status).toBe(503);
    expect((await findGroup(server.db, project.id, RELEASE, ENVIRONMENT)).sessions.sessions).toBe(
      0,
    );

    // The SDK resends the stored bytes; a lost answer makes it send them once more.
    expect((await postEnvelope(url, bytes)).status).toBe(200);
    expect((await postEnvelope(url, bytes)).status).toBe(200);
    const { sessions } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions).toMatchObject({ sessions: 5, erroredAll: 1 });
  });

  test('counts identical envelopes without sent_at each time: they are honest flushes', async ({
    server,
    project,
  }) => {
    const url = server.envelopeUrl(project);
    // Python's and Ruby's session flushers send an empty header.
    const bytes = buildEnvelope([aggregateItem(4)], {});

    const refused = await refusingWrites(server, () => postEnvelope(url, bytes));
    expect(refused.status).toBe(503);
    expect((await postEnvelope(url, bytes)).status).toBe(200);
    expect((await postEnvelope(url, bytes)).status).toBe(200);

    const { sessions } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions).toMatchObject({ sessions: 10, erroredAll: 2 });
  });
});

describe('a write the database refuses', () => {
  test('answers 503, commits nothing, and counts the retried envelope once', async ({
    server,
    project,
  }) => {
    const sid = newSid();
    const envelope = buildEnvelope([
      sessionItem({ sid, status: 'crashed', did: 'u1' }),
      sessionItem({ status: 'exited', did: 'u2', duration: 12 }),
    ]);
    const first = await postEnvelope(server.envelopeUrl(project), buildEnvelope([sessionItem()]));
    expect(first.status).toBe(200);

    // The last of the five tables the write statement touches: everything before it must roll back.
    await server.db.prisma.$executeRawUnsafe(
      'ALTER TABLE ingest_outcome RENAME TO ingest_outcome_',
    );
    let refused: Awaited<ReturnType<typeof postEnvelope>>;
    try {
      refused = await postEnvelope(server.envelopeUrl(project), envelope);
    } finally {
      await server.db.prisma.$executeRawUnsafe(
        'ALTER TABLE ingest_outcome_ RENAME TO ingest_outcome',
      );
    }

    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.body).toEqual({ detail: 'envelope could not be stored; try again' });
    const before = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(before.sessions).toMatchObject({ sessions: 1, crashed: 0 });
    expect(before.users.users).toBe(1);
    const states = await server.db.prisma.$queryRaw<Array<{ n: number }>>`
      SELECT count(*)::int AS n FROM session_state WHERE project_id = ${project.id}`;
    expect(states).toEqual([{ n: 1 }]);

    const retried = await postEnvelope(server.envelopeUrl(project), envelope);
    expect(retried.status).toBe(200);
    const after = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(after.sessions).toMatchObject({ sessions: 3, crashed: 1 });
    expect(after.users.users).toBe(3);
  });
});
