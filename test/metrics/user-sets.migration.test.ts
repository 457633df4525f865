import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { selectSessionMetrics } from '../../src/metrics/session-metrics.queries.ts';
import { FACT_FLAGS, UserFacts } from '../../src/metrics/user-facts.ts';
import { openStagedDatabase } from '../support/staged-migrations.ts';

// The migration that adds release 0's all-environments user sets fills them from the sets a
// database already holds: a store upgraded in place counts the same users over every environment.

const ALL_ENVIRONMENTS = '20261202210000_all_environments_user_sets';
const HOUR = 3600;
const T0 = new Date('2026-11-30T10:00:00Z');
const hashOf = (name: string) => createHash('sha256').update(name).digest().readBigInt64BE(0);

let staged: Awaited<ReturnType<typeof openStagedDatabase>>;
let db: Database;

beforeAll(async () => {
  staged = await openStagedDatabase(ALL_ENVIRONMENTS);
  db = staged.db;
});
afterAll(() => staged?.close());

/** A stored set of users `prefix-from … prefix-(to−1)`, the first `crashed` of them crashed. */
function setOf(prefix: string, from: number, to: number, crashed = 0): string {
  const facts = new UserFacts();
  for (let i = from; i < to; i++) {
    facts.addUser(hashOf(`${prefix}-${i}`), i - from < crashed ? FACT_FLAGS.crashed : 0);
  }
  return Buffer.from(facts.encode()).toString('hex');
}

test('fills release 0 environment 0 with the union of its environments, bucket by bucket', async () => {
  await staged.migrate(false);
  const next = new Date(T0.getTime() + HOUR * 1000);
  await db.withSession((s) =>
    s.query(
      `INSERT INTO session_user_set (project_id, release_id, environment_id, granularity, bucket, users, version)
       VALUES (1, 0, 1, ${HOUR}, $1, decode($3, 'hex'), 4), (1, 0, 2, ${HOUR}, $1, decode($4, 'hex'), 2),
              (1, 0, 1, ${HOUR}, $2, decode($5, 'hex'), 1), (1, 7, 1, ${HOUR}, $1, decode($3, 'hex'), 1)`,
      [T0, next, setOf('u', 0, 30, 2), setOf('u', 20, 50, 5), setOf('v', 0, 3)],
    ),
  );
  expect(await staged.migrate(true)).toEqual([ALL_ENVIRONMENTS]);
  const rows = await db.query<{ bucket: Date; release_id: number }>(
    'SELECT bucket, release_id FROM session_user_set WHERE environment_id = 0 ORDER BY bucket',
  );
  expect(rows.map((r) => [r.bucket.getTime(), r.release_id])).toEqual([
    [T0.getTime(), 0],
    [next.getTime(), 0],
  ]);
  const series = await selectSessionMetrics(db, {
    projectIds: [1],
    start: T0,
    end: new Date(T0.getTime() + 2 * HOUR * 1000),
    granularity: HOUR,
    groupBy: [],
    intervalSeconds: HOUR,
  });
  const [hour0, hour1] = series.sort((a, b) => (a.interval ?? 0) - (b.interval ?? 0));
  // Users 0–49 (20–29 in both); crashed: 0–1 in one environment, 20–24 in the other.
  expect(hour0?.users).toMatchObject({ users: 50, crashed: 7, quality: { exact: true } });
  expect(hour1?.users).toMatchObject({ users: 3, crashed: 0 });
});
