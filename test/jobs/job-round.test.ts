import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { startAdoptionMonitor } from '../../src/jobs/adoption-monitor.ts';
import { claimJobRound } from '../../src/jobs/job-round.ts';
import { startPruner } from '../../src/jobs/prune.ts';
import { testDatabaseKind } from '../support/database.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

// Periodic jobs run once per round however many Vigil processes share the database. On
// PostgreSQL the second process is a second Database (its own pool, as another `npm start`); on
// PGlite, which one process owns, two schedulers share the one database.

let server: TestServer;
let other: Database;
const statements: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  other =
    testDatabaseKind() === 'postgres'
      ? await openDatabase({ databaseUrl: server.database.url as string, dataDir: '' })
      : server.db;
  server.db.onStatement((sql) => statements.push(sql));
  if (other !== server.db) other.onStatement((sql) => statements.push(sql));
}, 180_000);

afterAll(async () => {
  if (other && other !== server?.db) await other.close();
  await server?.close();
});

const count = (tag: string) => statements.filter((sql) => sql.includes(`/* ${tag} */`)).length;

describe('jobs once per round', () => {
  test('of many claims of one round, exactly one wins; an older round is refused', async () => {
    const now = new Date();
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        claimJobRound(i % 2 ? other : server.db, 'race', 100, now),
      ),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await claimJobRound(server.db, 'race', 99, now)).toBe(false);
    expect(await claimJobRound(other, 'race', 100, now)).toBe(false);
    expect(await claimJobRound(other, 'race', 101, now)).toBe(true);
  });

  test('two processes’ adoption monitors run it once per round', async () => {
    let now = Date.now() + 86_400_000;
    const clock = () => new Date(now);
    const errors: unknown[] = [];
    const options = { everyMs: 60_000, clock, onError: (e: unknown) => errors.push(e) };
    const monitors = [
      startAdoptionMonitor(server.db, options),
      startAdoptionMonitor(other, options),
    ];
    try {
      const before = count('selectAdoptionCandidates');
      for (let round = 1; round <= 3; round += 1) {
        now = (Math.floor(now / 60_000) + 1) * 60_000 + 1_000;
        // Each process looks twice in the round, as timers several times a round would.
        await Promise.all(monitors.flatMap((m) => [m.tick(), m.tick()]));
        expect(count('selectAdoptionCandidates') - before).toBe(round);
      }
      expect(errors).toEqual([]);
    } finally {
      await Promise.all(monitors.map((m) => m.stop()));
    }
  });

  test('two processes’ pruners prune once per hour', async () => {
    const hour = 3_600_000;
    let now = (Math.floor(Date.now() / hour) + 48) * hour + 1_000;
    const clock = () => new Date(now);
    const errors: unknown[] = [];
    const options = { clock, onError: (e: unknown) => errors.push(e) };
    const pruners = [startPruner(server.db, options), startPruner(other, options)];
    try {
      const before = count('pruneSessionStates');
      await Promise.all(pruners.map((p) => p.tick()));
      now += 30 * 60_000;
      await Promise.all(pruners.map((p) => p.tick()));
      expect(count('pruneSessionStates') - before).toBe(1);
      now += hour;
      await Promise.all(pruners.flatMap((p) => [p.tick(), p.tick()]));
      expect(count('pruneSessionStates') - before).toBe(2);
      expect(errors).toEqual([]);
    } finally {
      await Promise.all(pruners.map((p) => p.stop()));
    }
  });
});
