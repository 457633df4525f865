import { describe, expect } from 'vitest';
import { test } from '../support/fixtures.ts';
import { ENVIRONMENT, postEnvelope, RELEASE } from '../support/sentry.ts';
import { buildEnvelope, newSid, sessionItem } from './hand-built.ts';
import { findGroup } from './stored-counts.ts';

// A 200 means stored, and anything else means nothing of the envelope was: when the database
// refuses the write, the SDK gets a 503 with Retry-After, no row of the envelope is committed,
// and the envelope sent again counts once.

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
