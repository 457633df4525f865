import { describe, expect } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { UserFacts } from '../../src/metrics/user-facts.ts';
import { buildEnvelope, type HandItem, postEnvelope } from '../support/envelopes.ts';
import { test } from '../support/fixtures.ts';
import { ENVIRONMENT, RELEASE } from '../support/sentry.ts';
import type { TestProject, TestServer } from '../support/server.ts';
import { sessionItem } from './hand-built.ts';
import { findGroup, rejectedCounts, storedUserFacts } from './stored-counts.ts';

// The fast path (issue 3): an envelope is written with a small, fixed number of set-based
// statements in one transaction, whatever its item count, and every granularity gets the same
// numbers from them.

/** The statements one envelope costs, once its key, release and environment are known. */
async function statementsFor(server: TestServer, project: TestProject, items: HandItem[]) {
  const { result, statements } = await server.countStatements(() =>
    postEnvelope(server.envelopeUrl(project), buildEnvelope(items)),
  );
  expect(result.status).toBe(200);
  return statements.map((sql) => /\/\* (\w+) \*\//.exec(sql)?.[1] ?? sql.slice(0, 40));
}

const sessions = (n: number, status = 'exited') =>
  Array.from({ length: n }, (_, i) =>
    sessionItem({ status, did: `user-${i % 7}`, duration: 10 + i }),
  );

const aggregate = (started: string): HandItem => ({
  type: 'sessions',
  payload: {
    aggregates: [{ started, exited: 3, errored: 1, crashed: 1, did: 'agg-user' }],
    attrs: { release: RELEASE, environment: ENVIRONMENT },
  },
});

/** Sums of each granularity's rows, which must agree with each other. */
async function totalsByGranularity(db: Database, projectId: number) {
  const sessions = await db.prisma.$queryRaw<Array<{ granularity: number; sessions: number }>>`
    SELECT granularity, sum(sessions)::int AS sessions FROM session_counter
    WHERE project_id = ${projectId} AND release_id <> 0 GROUP BY granularity ORDER BY granularity`;
  const totals = [];
  for (const { granularity, sessions: count } of sessions) {
    const all = new UserFacts();
    for (const facts of (await storedUserFacts(db, projectId, granularity)).values()) {
      all.addAll(facts);
    }
    totals.push({ granularity, sessions: count, users: all.counts().users });
  }
  return totals;
}

describe('fast path', () => {
  test('writes 1 and 100 session updates with the same two statements', async ({
    server,
    project,
  }) => {
    await statementsFor(server, project, sessions(1)); // learns the key, release, environment

    const one = await statementsFor(server, project, sessions(1));
    const hundred = await statementsFor(server, project, sessions(100, 'crashed'));

    expect(one).toEqual(['lockSessionStates', 'writeSessionRows']);
    expect(hundred).toEqual(one);
    const { sessions: counts } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(counts).toMatchObject({ sessions: 102, crashed: 100 });
  });

  test('adds one statement for an envelope that also carries aggregates', async ({
    server,
    project,
  }) => {
    await statementsFor(server, project, sessions(1));
    const now = new Date().toISOString();

    const mixed = await statementsFor(server, project, [...sessions(50), aggregate(now)]);

    expect(mixed).toEqual(['lockSessionStates', 'insertAggregateReceipts', 'writeSessionRows']);
  });

  test('writes an envelope of rejected items only with one statement and no session', async ({
    server,
    project,
  }) => {
    await statementsFor(server, project, sessions(1));
    const bad = Array.from({ length: 100 }, () => sessionItem({ status: 'unknown' }));

    expect(await statementsFor(server, project, bad)).toEqual(['writeSessionRows']);
    expect(await rejectedCounts(server.db, project.id)).toEqual({ invalid_status: 100 });
    const { sessions: counts } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(counts.sessions).toBe(1);
  });

  test('stores the same totals in minute, hour and day rows', async ({ server, project }) => {
    const now = new Date().toISOString();
    await statementsFor(server, project, [...sessions(60), aggregate(now)]);

    const totals = await totalsByGranularity(server.db, project.id);

    expect(totals).toEqual([
      { granularity: 60, sessions: 65, users: 8 },
      { granularity: 3600, sessions: 65, users: 8 },
      { granularity: 86400, sessions: 65, users: 8 },
    ]);
  });

  test('puts each session in the minute, hour and day that hold its start, at their edges', async ({
    server,
    project,
  }) => {
    // One envelope, so one transaction sums them: the store groups a batch by minute and the
    // statement derives hours and days from the minutes.
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
    const day = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000;
    const starts = [hour - 1, hour, hour + 59_999, hour + 60_000, day - 1, day, day + 1];
    const items = starts.map((t, i) =>
      sessionItem({
        started: new Date(t).toISOString(),
        timestamp: new Date(t + 1000).toISOString(),
        status: i % 2 === 0 ? 'crashed' : 'exited',
        did: `edge-user-${i}`,
      }),
    );
    const statements = await statementsFor(server, project, items);
    expect(statements.slice(-2)).toEqual(['lockSessionStates', 'writeSessionRows']);

    const stored = await server.db.prisma.$queryRaw<
      Array<{ granularity: number; bucket: Date; sessions: number; crashed: number }>
    >`SELECT granularity, bucket, sessions::int, crashed::int FROM session_counter
      WHERE project_id = ${project.id} AND release_id <> 0 ORDER BY granularity, bucket`;
    const expected = [60, 3600, 86_400].flatMap((granularity) => {
      const buckets = new Map<number, { sessions: number; crashed: number }>();
      starts.forEach((t, i) => {
        const bucket = Math.floor(t / (granularity * 1000)) * granularity * 1000;
        const row = buckets.get(bucket) ?? { sessions: 0, crashed: 0 };
        row.sessions += 1;
        row.crashed += i % 2 === 0 ? 1 : 0;
        buckets.set(bucket, row);
      });
      return [...buckets]
        .sort(([a], [b]) => a - b)
        .map(([bucket, row]) => ({ granularity, bucket: new Date(bucket), ...row }));
    });
    expect(stored).toEqual(expected);
    const totals = await totalsByGranularity(server.db, project.id);
    expect(totals.map((t) => t.users)).toEqual([7, 7, 7]);
  });

  test('looks up a new key once, and creates a new release and environment once per writer, for envelopes that arrive together', async ({
    server,
    project,
  }) => {
    const envelopes = Array.from({ length: 20 }, () =>
      buildEnvelope([sessionItem({}, { release: 'burst@2.0.0', environment: 'canary' })]),
    );

    const { result, statements } = await server.countStatements(() =>
      Promise.all(envelopes.map((e) => postEnvelope(server.envelopeUrl(project), e))),
    );

    expect(result.map((r) => r.status)).toEqual(envelopes.map(() => 200));
    const count = (pattern: RegExp) => statements.filter((sql) => pattern.test(sql)).length;
    expect(count(/"project_key"/)).toBe(1);
    // Created in the transaction that writes their first sessions, and remembered once it
    // commits: only transactions already running then (one per writer) create them again.
    const writers = server.db.kind === 'postgres' ? 2 : 1;
    expect(count(/upsertReleases/)).toBeGreaterThanOrEqual(1);
    expect(count(/upsertReleases/)).toBeLessThanOrEqual(writers);
    expect(count(/upsertEnvironments/)).toBe(count(/upsertReleases/));
    const { sessions: counts } = await findGroup(server.db, project.id, 'burst@2.0.0', 'canary');
    expect(counts.sessions).toBe(20);
  });

  test('shares transactions between envelopes that arrive together (group commit)', async ({
    server,
    project,
  }) => {
    await statementsFor(server, project, sessions(1));
    const envelopes = Array.from({ length: 30 }, () => buildEnvelope(sessions(2)));

    const { result, statements } = await server.countStatements(() =>
      Promise.all(envelopes.map((e) => postEnvelope(server.envelopeUrl(project), e))),
    );

    expect(result.map((r) => r.status)).toEqual(envelopes.map(() => 200));
    const writes = statements.filter((sql) => sql.includes('/* writeSessionRows */')).length;
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThan(envelopes.length);
    const { sessions: counts } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(counts.sessions).toBe(61);
  });
});
