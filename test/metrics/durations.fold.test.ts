import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import type { DurationCount } from '../../src/health/duration.ts';
import { packDurations } from '../../src/metrics/duration-counts.ts';
import { foldAllDurationDeltas, foldDurationDeltas } from '../../src/metrics/durations.fold.ts';
import { DAY, HOUR, MINUTE } from '../../src/metrics/metric-store.ts';
import {
  type MetricsQuery,
  selectSessionDurations,
} from '../../src/metrics/session-metrics.queries.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

// Durations in the database: the minute deltas ingest appends and what folding makes of them at
// every granularity read the same; folds running at once (and beside appends) fold every delta
// exactly once.

const T0 = new Date('2026-11-30T10:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * MINUTE * 1000);

let database: TestDatabase;
let db: Database;
let project = 100;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(() => database.dispose());

const nextProject = () => {
  project += 1;
  return project;
};

/** Appends duration moves as ingest does: one row per minute bucket and value. */
async function appendDurations(
  projectId: number,
  rows: Array<{ release: number; minute: number; value: number; count: number }>,
) {
  await db.prisma.$executeRawUnsafe(
    `INSERT INTO session_duration_delta (project_id, release_id, environment_id, bucket, value, count)
     SELECT $1, release, 1, bucket, value, count
     FROM json_to_recordset($2::json) AS r(release int, bucket timestamptz, value float8, count int)`,
    projectId,
    JSON.stringify(rows.map((r) => ({ ...r, bucket: at(r.minute) }))),
  );
}

/** From the start of T0's bucket of the granularity, a day long unless told. */
function query(projectId: number, extra: Partial<MetricsQuery>): MetricsQuery {
  const granularity = extra.granularity ?? HOUR;
  const start = new Date(T0.getTime() - (T0.getTime() % (granularity * 1000)));
  return {
    projectIds: [projectId],
    start,
    end: new Date(start.getTime() + DAY * 1000),
    granularity,
    groupBy: [],
    ...extra,
  };
}

/** Every read shape a page makes: totals and series at each granularity, by release or not. */
async function everyRead(projectId: number) {
  const reads = [];
  for (const granularity of [MINUTE, HOUR, DAY] as const) {
    for (const extra of [
      { granularity },
      { granularity, groupBy: ['release' as const] },
      { granularity, intervalSeconds: granularity },
    ]) {
      const rows = await selectSessionDurations(db, query(projectId, extra));
      reads.push(
        rows
          .map((r) => ({ ...r, durations: [...r.durations].sort((a, b) => a.value - b.value) }))
          .sort(
            (a, b) =>
              (a.releaseId ?? 0) - (b.releaseId ?? 0) || (a.interval ?? 0) - (b.interval ?? 0),
          ),
      );
    }
  }
  return reads;
}

async function deltasLeft(projectId: number): Promise<number> {
  const [row] = (await db.prisma.$queryRawUnsafe(
    'SELECT count(*)::int AS n FROM session_duration_delta WHERE project_id = $1',
    projectId,
  )) as Array<{ n: number }>;
  return row?.n ?? 0;
}

/** A bucket's stored value counts, as packed bytes (null: no row). */
async function storedBytes(projectId: number, granularity: number, minute = 0) {
  const rows = (await db.prisma.$queryRawUnsafe(
    `SELECT value_counts FROM session_duration
     WHERE project_id = $1 AND granularity = $2
       AND bucket = date_bin(make_interval(secs => $2), $3::timestamptz, timestamptz 'epoch')`,
    projectId,
    granularity,
    at(minute),
  )) as Array<{ value_counts: Uint8Array }>;
  return rows[0] ? new Uint8Array(rows[0].value_counts) : null;
}

const packed = (values: DurationCount[]) => packDurations(values);

describe('durations in the store', () => {
  test('read the same at every granularity before and after folding', async () => {
    const p = nextProject();
    await appendDurations(p, [
      { release: 1, minute: 0, value: 12, count: 2 },
      { release: 1, minute: 1, value: 12, count: 1 },
      { release: 1, minute: 61, value: 30, count: 1 },
      { release: 2, minute: 5, value: 7.5, count: 1 },
      // A session whose duration moved: it leaves 30 for 45 in the same minute.
      { release: 1, minute: 61, value: 30, count: -1 },
      { release: 1, minute: 61, value: 45, count: 1 },
    ]);
    const before = await everyRead(p);
    await foldAllDurationDeltas(db);
    expect(await deltasLeft(p)).toBe(0);
    expect(await everyRead(p)).toEqual(before);
    const [total] = await selectSessionDurations(db, query(p, { granularity: DAY }));
    expect(total?.durations.sort((a, b) => a.value - b.value)).toEqual([
      { value: 7.5, count: 1 },
      { value: 12, count: 3 },
      { value: 45, count: 1 },
    ]);
    // The hour of minute 61 alone: the moved value is gone, the new one is there.
    const [second] = await selectSessionDurations(
      db,
      query(p, { start: at(60), end: at(120), releaseIds: [1], groupBy: ['release'] }),
    );
    expect(second?.durations).toEqual([{ value: 45, count: 1 }]);
  });

  test('folds at once, beside appends, fold every delta exactly once', async () => {
    const p = nextProject();
    const rows = Array.from({ length: 3000 }, (_, i) => ({
      release: 1 + (i % 3),
      minute: i % 180,
      value: i % 17,
      count: 1,
    }));
    await appendDurations(p, rows.slice(0, 2000));
    const folds = Array.from({ length: 4 }, () =>
      db.withSession(async (session) => {
        while ((await foldDurationDeltas(session, 150)) > 0) {}
      }),
    );
    await Promise.all([...folds, appendDurations(p, rows.slice(2000))]);
    await foldAllDurationDeltas(db);
    expect(await deltasLeft(p)).toBe(0);
    for (const granularity of [MINUTE, HOUR, DAY] as const) {
      const [total] = await selectSessionDurations(db, query(p, { granularity }));
      const sum = (total?.durations ?? []).reduce((n, d) => n + d.count, 0);
      expect({ granularity, sum }).toEqual({ granularity, sum: 3000 });
    }
  });

  test('a value folded twice is one pair with the counts added, beyond 32 bits', async () => {
    const p = nextProject();
    await appendDurations(p, [
      { release: 1, minute: 0, value: 12, count: 2_000_000_000 },
      { release: 1, minute: 0, value: 3, count: 1 },
    ]);
    await foldAllDurationDeltas(db);
    // A second fold merges into the stored rows (the conflict path), minute and hour alike.
    await appendDurations(p, [
      { release: 1, minute: 0, value: 12, count: 2_000_000_000 },
      { release: 1, minute: 1, value: 600, count: 1 },
    ]);
    await foldAllDurationDeltas(db);
    expect(await storedBytes(p, MINUTE)).toEqual(
      packed([
        { value: 3, count: 1 },
        { value: 12, count: 4_000_000_000 },
      ]),
    );
    expect(await storedBytes(p, HOUR)).toEqual(
      packed([
        { value: 3, count: 1 },
        { value: 12, count: 4_000_000_000 },
        { value: 600, count: 1 },
      ]),
    );
    const [total] = await selectSessionDurations(db, query(p, { granularity: HOUR }));
    expect(total?.durations).toEqual([
      { value: 3, count: 1 },
      { value: 12, count: 4_000_000_000 },
      { value: 600, count: 1 },
    ]);
  });

  test('a row large enough to be compressed out of line merges exactly', async () => {
    const p = nextProject();
    const values = Array.from({ length: 600 }, (_, i) => i);
    await appendDurations(
      p,
      values.map((value) => ({ release: 1, minute: 0, value, count: 1 })),
    );
    await foldAllDurationDeltas(db);
    // Every value again, but the even ones moved away: 9.6 kB of pairs, stored compressed.
    await appendDurations(
      p,
      values.map((value) => ({ release: 1, minute: 1, value, count: value % 2 === 0 ? -1 : 1 })),
    );
    await foldAllDurationDeltas(db);
    expect(await storedBytes(p, DAY)).toEqual(
      packed(values.filter((v) => v % 2 === 1).map((value) => ({ value, count: 2 }))),
    );
  });

  test('a value moved to a count of zero leaves no pair; a bucket emptied reads as nothing', async () => {
    const p = nextProject();
    await appendDurations(p, [
      { release: 1, minute: 0, value: 30, count: 1 },
      { release: 1, minute: 0, value: 0.5, count: 1 },
    ]);
    await foldAllDurationDeltas(db);
    await appendDurations(p, [
      { release: 1, minute: 0, value: 30, count: -1 },
      { release: 1, minute: 0, value: 45, count: 1 },
    ]);
    await foldAllDurationDeltas(db);
    expect(await storedBytes(p, DAY)).toEqual(
      packed([
        { value: 0.5, count: 1 },
        { value: 45, count: 1 },
      ]),
    );
    await appendDurations(p, [
      { release: 1, minute: 0, value: 0.5, count: -1 },
      { release: 1, minute: 0, value: 45, count: -1 },
    ]);
    await foldAllDurationDeltas(db);
    expect(await storedBytes(p, DAY)).toEqual(new Uint8Array(0));
    expect(await selectSessionDurations(db, query(p, { granularity: DAY }))).toEqual([]);
  });

  test('a negative move folded before the count it takes from stays negative until it meets it', async () => {
    const p = nextProject();
    // Folds in several processes may take a session's later move before its earlier one.
    await appendDurations(p, [{ release: 1, minute: 0, value: 30, count: -1 }]);
    await foldAllDurationDeltas(db);
    expect(await storedBytes(p, HOUR)).toEqual(packed([{ value: 30, count: -1 }]));
    // A read sums it with what is not folded yet, and shows only counts above zero.
    expect(await selectSessionDurations(db, query(p, { granularity: HOUR }))).toEqual([]);
    await appendDurations(p, [
      { release: 1, minute: 0, value: 30, count: 1 },
      { release: 1, minute: 0, value: 20, count: 1 },
    ]);
    const [unfolded] = await selectSessionDurations(db, query(p, { granularity: HOUR }));
    expect(unfolded?.durations).toEqual([{ value: 20, count: 1 }]);
    await foldAllDurationDeltas(db);
    expect(await storedBytes(p, HOUR)).toEqual(packed([{ value: 20, count: 1 }]));
  });

  test('folds at once into the same buckets keep every value count exact', async () => {
    const p = nextProject();
    // One day bucket and three hours per release: every fold merges into rows the others write.
    const rows = Array.from({ length: 2400 }, (_, i) => ({
      release: 1 + (i % 2),
      minute: i % 180,
      value: (i % 23) * 1.5,
      count: i % 7 === 0 ? 2 : 1,
    }));
    await appendDurations(p, rows);
    await Promise.all(
      Array.from({ length: 4 }, () =>
        db.withSession(async (session) => {
          while ((await foldDurationDeltas(session, 100)) > 0) {}
        }),
      ),
    );
    expect(await deltasLeft(p)).toBe(0);
    const expected = new Map<number, number>();
    for (const r of rows) expected.set(r.value, (expected.get(r.value) ?? 0) + r.count);
    const want = [...expected]
      .map(([value, count]) => ({ value, count }))
      .sort((a, b) => a.value - b.value);
    for (const granularity of [MINUTE, HOUR, DAY] as const) {
      const [total] = await selectSessionDurations(db, query(p, { granularity }));
      expect({ granularity, durations: total?.durations }).toEqual({
        granularity,
        durations: want,
      });
    }
  });

  test('a stored row that is not whole pairs fails the read rather than misreading it', async () => {
    const p = nextProject();
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO session_duration (project_id, release_id, environment_id, granularity, bucket, value_counts)
       VALUES ($1, 1, 1, $2, $3, '\\x0102'::bytea)`,
      p,
      HOUR,
      T0,
    );
    await expect(selectSessionDurations(db, query(p, { granularity: HOUR }))).rejects.toThrow(
      /not whole 16-byte pairs/,
    );
  });
});
