import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import {
  type MetricsQuery,
  selectSessionMetrics,
} from '../../src/metrics/session-metrics.queries.ts';
import { FACT_ENTRY_BYTES, FACT_FLAGS, UserFacts } from '../../src/metrics/user-facts.ts';
import { EXACT_USERS_LIMIT, SKETCH_RELATIVE_STANDARD_ERROR } from '../../src/metrics/user-set.ts';
import { foldAllUserDeltas, foldUserDeltas } from '../../src/metrics/user-sets.fold.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

// The user sets in the database: what ingest appends (deltas) and what folding makes of them
// read the same, exact while small; unions over buckets and releases cross the threshold into
// estimates; concurrent folds lose no user and a fold done twice changes nothing.

const HOUR = 3600;
const T0 = new Date('2026-11-30T10:00:00Z');
const hashOf = (name: string) => createHash('sha256').update(name).digest().readBigInt64BE(0);

let database: TestDatabase;
let db: Database;
let project = 100;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(() => database.dispose());

/** A fresh project id per test: the tables have no foreign keys to the ids used here. */
const nextProject = () => {
  project += 1;
  return project;
};

/** Appends one delta as ingest does: users `prefix-from … prefix-(to−1)` with `flags`. */
async function appendUsers(
  projectId: number,
  o: {
    release: number;
    bucket: Date;
    prefix: string;
    from?: number;
    to: number;
    flags?: number;
    environment?: number;
  },
) {
  const n = o.to - (o.from ?? 0);
  const bytes = Buffer.alloc(n * FACT_ENTRY_BYTES);
  for (let i = 0; i < n; i++) {
    bytes.writeBigInt64BE(hashOf(`${o.prefix}-${(o.from ?? 0) + i}`), i * FACT_ENTRY_BYTES);
    bytes[i * FACT_ENTRY_BYTES + 8] = o.flags ?? 0;
  }
  await db.prisma.$executeRawUnsafe(
    `INSERT INTO session_user_delta (project_id, release_id, environment_id, granularity, bucket, entries)
     VALUES ($1, $2, $5, ${HOUR}, $3, decode($4, 'hex'))`,
    projectId,
    o.release,
    o.bucket,
    bytes.toString('hex'),
    o.environment ?? 1,
  );
}

function query(projectId: number, extra: Partial<MetricsQuery> = {}): MetricsQuery {
  return {
    projectIds: [projectId],
    start: T0,
    end: new Date(T0.getTime() + 24 * HOUR * 1000),
    granularity: HOUR,
    groupBy: [],
    ...extra,
  };
}

async function usersOf(q: MetricsQuery) {
  const [row] = await selectSessionMetrics(db, q);
  return row?.users;
}

const inHours = (h: number) => new Date(T0.getTime() + h * HOUR * 1000);

describe('user sets in the store', () => {
  test('read the same before and after folding, exact and flagged exact', async () => {
    const p = nextProject();
    await appendUsers(p, { release: 1, bucket: T0, prefix: 'u', to: 30 });
    await appendUsers(p, {
      release: 1,
      bucket: T0,
      prefix: 'u',
      to: 10,
      flags: FACT_FLAGS.crashed,
    });
    await appendUsers(p, { release: 2, bucket: inHours(1), prefix: 'u', from: 20, to: 40 });
    const before = await usersOf(query(p));
    const perRelease = await selectSessionMetrics(db, query(p, { groupBy: ['release'] }));
    await foldAllUserDeltas(db);
    const [{ n }] = (await db.prisma.$queryRawUnsafe(
      'SELECT count(*)::int AS n FROM session_user_delta WHERE project_id = $1',
      p,
    )) as [{ n: number }];
    expect(n).toBe(0);
    expect(await usersOf(query(p))).toEqual(before);
    expect(await selectSessionMetrics(db, query(p, { groupBy: ['release'] }))).toEqual(perRelease);
    expect(before).toMatchObject({ users: 40, crashed: 10, fatalAny: 10 });
    expect(before?.quality).toEqual({ exact: true, relativeStandardError: null });
    expect(perRelease.map((r) => [r.releaseId, r.users.users]).sort()).toEqual([
      [1, 30],
      [2, 20],
    ]);
  });

  test('project-wide reads over every environment read the all-environments set alone, after folding', async () => {
    const p = nextProject();
    // Environments 1 and 2 share users 20–29; one of them crashed in environment 2.
    await appendUsers(p, { release: 1, bucket: T0, prefix: 'e', to: 30, environment: 1 });
    await appendUsers(p, { release: 2, bucket: T0, prefix: 'e', from: 20, to: 50, environment: 2 });
    await appendUsers(p, {
      release: 2,
      bucket: T0,
      prefix: 'e',
      from: 25,
      to: 26,
      flags: FACT_FLAGS.crashed,
      environment: 2,
    });
    const before = await usersOf(query(p));
    expect(before).toMatchObject({ users: 50, crashed: 1, quality: { exact: true } });
    await foldAllUserDeltas(db);
    const rows = await db.query<{ release_id: number; environment_id: number }>(
      'SELECT release_id, environment_id FROM session_user_set WHERE project_id = $1 ORDER BY 1, 2',
      [p],
    );
    expect(rows.map((r) => [r.release_id, r.environment_id])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 1],
      [2, 2],
    ]);
    expect(await usersOf(query(p))).toEqual(before);
    // Environment 0's set alone decides the read over every environment: written as three other
    // users, the read says three (reading the environments' sets too, it would say 53).
    const other = new UserFacts();
    for (const name of ['x', 'y', 'z']) other.addUser(hashOf(name), 0);
    await db.withSession((s) =>
      s.query(
        `UPDATE session_user_set SET users = decode($2, 'hex')
         WHERE project_id = $1 AND release_id = 0 AND environment_id = 0`,
        [p, Buffer.from(other.encode()).toString('hex')],
      ),
    );
    expect(await usersOf(query(p))).toMatchObject({ users: 3, crashed: 0 });
  });

  test('just below the threshold in one bucket: exact; just above: an estimate within its bound', async () => {
    for (const n of [EXACT_USERS_LIMIT, EXACT_USERS_LIMIT + 1]) {
      const p = nextProject();
      await appendUsers(p, { release: 1, bucket: T0, prefix: `t${n}`, to: n });
      for (const fold of [false, true]) {
        if (fold) await foldAllUserDeltas(db);
        const users = await usersOf(query(p));
        if (n <= EXACT_USERS_LIMIT) {
          expect(users).toMatchObject({ users: n, quality: { exact: true } });
        } else {
          expect(users?.quality).toEqual({
            exact: false,
            relativeStandardError: SKETCH_RELATIVE_STANDARD_ERROR,
          });
          expect(Math.abs((users?.users ?? 0) - n) / n).toBeLessThan(
            4 * SKETCH_RELATIVE_STANDARD_ERROR,
          );
        }
      }
    }
  });

  test('unions of exact buckets and releases that cross the threshold are estimates', async () => {
    const p = nextProject();
    const half = EXACT_USERS_LIMIT / 2 + 100;
    await appendUsers(p, { release: 1, bucket: T0, prefix: 'x', to: half });
    await appendUsers(p, { release: 1, bucket: inHours(1), prefix: 'y', to: half });
    await appendUsers(p, { release: 2, bucket: inHours(1), prefix: 'x', to: half });
    await foldAllUserDeltas(db);
    // Each hour of release 1 alone is exact; the two hours together are not.
    const hourly = await selectSessionMetrics(
      db,
      query(p, { releaseIds: [1], groupBy: ['release'], intervalSeconds: HOUR }),
    );
    expect(hourly.map((r) => [r.interval, r.users.users, r.users.quality?.exact])).toEqual(
      expect.arrayContaining([
        [0, half, true],
        [1, half, true],
      ]),
    );
    for (const q of [query(p, { releaseIds: [1] }), query(p)]) {
      const users = await usersOf(q);
      expect(users?.quality?.exact).toBe(false);
      expect(Math.abs((users?.users ?? 0) - 2 * half) / (2 * half)).toBeLessThan(
        4 * SKETCH_RELATIVE_STANDARD_ERROR,
      );
    }
  });

  test('folds running at once lose no user, and a delta folded twice counts once', async () => {
    const p = nextProject();
    const writes = Array.from({ length: 20 }, (_, i) =>
      appendUsers(p, {
        release: 1 + (i % 3),
        bucket: T0,
        prefix: 'c',
        from: i * 50,
        to: i * 50 + 60,
      }),
    );
    const folds = Array.from({ length: 4 }, () =>
      db.withSession(async (s) => {
        for (let i = 0; i < 5; i++) await foldUserDeltas(s, 3);
      }),
    );
    await Promise.all([...writes, ...folds]);
    await foldAllUserDeltas(db);
    // Users c-0 … c-1009, each release's share overlapping at the edges.
    expect(await usersOf(query(p))).toMatchObject({ users: 1010, quality: { exact: true } });
    await appendUsers(p, { release: 1, bucket: T0, prefix: 'c', to: 60 });
    await foldAllUserDeltas(db);
    expect(await usersOf(query(p))).toMatchObject({ users: 1010 });
  });
});
