import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { packDurations } from '../../src/metrics/duration-counts.ts';
import { openStagedDatabase } from '../support/staged-migrations.ts';

// The migration that packs durations converts the rows a database already holds: a store
// upgraded in place reads the same value counts it held one row per value.

const PACKING = '20261202171000_packed_durations';

let staged: Awaited<ReturnType<typeof openStagedDatabase>>;
let db: Database;

beforeAll(async () => {
  staged = await openStagedDatabase(PACKING);
  db = staged.db;
});
afterAll(() => staged?.close());

test('packs the value counts stored one row per value, per bucket, dropping zero counts', async () => {
  await staged.migrate(false);
  const bucket = new Date('2026-11-30T10:00:00Z');
  const hour = new Date('2026-11-30T11:00:00Z');
  await db.prisma.$executeRawUnsafe(
    `INSERT INTO session_duration (project_id, release_id, environment_id, granularity, bucket, value, count)
     VALUES (1, 1, 1, 3600, $1, 600, 2), (1, 1, 1, 3600, $1, 0.5, 1), (1, 1, 1, 3600, $1, 12, -1),
            (1, 1, 1, 3600, $1, 7, 0), (1, 1, 2, 3600, $1, 12, 3), (1, 1, 1, 3600, $2, 7, 0)`,
    bucket,
    hour,
  );
  expect(await staged.migrate(true)).toEqual([PACKING]);
  const rows = await db.prisma.$queryRawUnsafe<
    Array<{ environment_id: number; bucket: Date; value_counts: Uint8Array }>
  >(
    'SELECT environment_id, bucket, value_counts FROM session_duration ORDER BY environment_id, bucket',
  );
  expect(rows.map((r) => ({ ...r, value_counts: new Uint8Array(r.value_counts) }))).toEqual([
    {
      environment_id: 1,
      bucket,
      value_counts: packDurations([
        { value: 0.5, count: 1 },
        { value: 12, count: -1 },
        { value: 600, count: 2 },
      ]),
    },
    { environment_id: 2, bucket, value_counts: packDurations([{ value: 12, count: 3 }]) },
  ]);
});
