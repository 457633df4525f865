import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase, testDatabaseKind } from '../support/database.ts';

// db.transaction on both databases: on PostgreSQL BEGIN leaves with the first statement and
// COMMIT with the last (`queryAndCommit`), pipelined; what commits must not change with that.

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await database.db.withSession((s) => s.exec('CREATE TABLE tx_probe (id int PRIMARY KEY)'));
}, 120_000);

afterAll(async () => {
  await database?.dispose();
});

beforeEach(async () => {
  await database.db.withSession((s) => s.exec('DELETE FROM tx_probe'));
});

const ids = async () =>
  (await database.db.query<{ id: number }>('SELECT id FROM tx_probe ORDER BY id')).map((r) => r.id);

describe('db.transaction', () => {
  test('commits every statement, the last one sent with its COMMIT', async () => {
    const rows = await database.db.transaction(async (tx) => {
      await tx.query('INSERT INTO tx_probe VALUES (1)');
      return tx.queryAndCommit<{ id: number }>(
        'INSERT INTO tx_probe VALUES (2) RETURNING id',
        [],
        'txProbeInsert',
      );
    });
    expect(rows).toEqual([{ id: 2 }]);
    expect(await ids()).toEqual([1, 2]);
  });

  test('a last statement that fails rolls back the statements before it', async () => {
    const failed = database.db.transaction(async (tx) => {
      await tx.query('INSERT INTO tx_probe VALUES (1)');
      // A duplicate key: the statement fails, and the COMMIT behind it must not commit row 1.
      return tx.queryAndCommit('INSERT INTO tx_probe VALUES (3), (3)');
    });
    await expect(failed).rejects.toMatchObject({ code: '23505' });
    expect(await ids()).toEqual([]);
    // The connection is usable again: the next transaction commits.
    await database.db.transaction((tx) => tx.queryAndCommit('INSERT INTO tx_probe VALUES (4)'));
    expect(await ids()).toEqual([4]);
  });

  test('statements sent together, the first failing, commit nothing', async () => {
    const failed = database.db.transaction(async (tx) => {
      await Promise.all([
        tx.query('INSERT INTO tx_probe VALUES (5), (5)'),
        tx.query('INSERT INTO tx_probe VALUES (6)'),
      ]);
    });
    await expect(failed).rejects.toMatchObject({ code: '23505' });
    expect(await ids()).toEqual([]);
  });

  test('a statement sent after its transaction failed is refused, not run outside it', async () => {
    let late: Promise<unknown> | undefined;
    const failed = database.db.transaction(async (tx) => {
      late = (async () => {
        // Behind the failure: by now the transaction is rolling back or rolled back.
        await new Promise((resolve) => setTimeout(resolve, 50));
        return tx.query('INSERT INTO tx_probe VALUES (11)');
      })();
      late.catch(() => {});
      await tx.query('INSERT INTO tx_probe VALUES (12), (12)');
    });
    await expect(failed).rejects.toMatchObject({ code: '23505' });
    await expect(late).rejects.toThrow();
    expect(await ids()).toEqual([]);
  });

  test('a callback that throws after its statements commits none of them', async () => {
    const failed = database.db.transaction(async (tx) => {
      await tx.query('INSERT INTO tx_probe VALUES (7)');
      throw new Error('changed its mind');
    });
    await expect(failed).rejects.toThrow('changed its mind');
    expect(await ids()).toEqual([]);
  });

  test('nothing runs after queryAndCommit', async () => {
    const late = database.db.transaction(async (tx) => {
      await tx.queryAndCommit('INSERT INTO tx_probe VALUES (8)');
      await tx.query('INSERT INTO tx_probe VALUES (9)');
    });
    await expect(late).rejects.toThrow('already committed');
    // Row 8 is committed on PostgreSQL (its COMMIT left with it) and rolled back on PGlite,
    // which commits when the callback resolves: callers end with queryAndCommit.
    expect(await ids()).not.toContain(9);
  });

  test.runIf(testDatabaseKind() === 'postgres')(
    'the first statement runs inside the transaction: others do not see it before the commit',
    async () => {
      let seenInside: number[] | undefined;
      await database.db.transaction(async (tx) => {
        await tx.query('INSERT INTO tx_probe VALUES (10)');
        // Another pooled connection: with BEGIN lost, the row would be committed already.
        seenInside = await ids();
        await tx.queryAndCommit('SELECT 1');
      });
      expect(seenInside).toEqual([]);
      expect(await ids()).toEqual([10]);
    },
  );
});
