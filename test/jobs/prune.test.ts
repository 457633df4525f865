import { describe, expect } from 'vitest';
import { pruneExpired } from '../../src/jobs/prune.ts';
import { DAY, SESSION_STATE_LIFETIME_SECONDS } from '../../src/metrics/metric-store.ts';
import { test } from '../support/fixtures.ts';

// What Vigil forgets: session states once no update for them can arrive (found through a BRIN
// index on `started`, see design.md § The write path), metrics after the retention.

describe('pruning', () => {
  test('forgets session states past their lifetime and metrics past the retention, and keeps the rest', async ({
    server,
    project,
  }) => {
    const now = new Date();
    const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);
    const lifetime = SESSION_STATE_LIFETIME_SECONDS;
    const states = [
      { sid: '00000000-0000-4000-8000-000000000001', started: ago(lifetime + 60) },
      { sid: '00000000-0000-4000-8000-000000000002', started: ago(lifetime - 60) },
      { sid: '00000000-0000-4000-8000-000000000003', started: ago(60) },
    ];
    for (const s of states) {
      await server.db.prisma.$executeRaw`
        INSERT INTO session_state (project_id, sid, release_id, environment_id, started)
        VALUES (${project.id}, ${s.sid}::uuid, 1, 1, ${s.started})`;
    }
    for (const days of [91, 89]) {
      await server.db.prisma.$executeRaw`
        INSERT INTO session_counter (project_id, release_id, environment_id, granularity, bucket, sessions)
        VALUES (${project.id}, 1, 1, ${DAY}, ${ago(days * DAY)}, 1)`;
    }

    await pruneExpired(server.db, now);

    const kept = await server.db.prisma.$queryRaw<Array<{ sid: string }>>`
      SELECT sid::text FROM session_state WHERE project_id = ${project.id} ORDER BY sid`;
    expect(kept.map((r) => r.sid)).toEqual([states[1]?.sid, states[2]?.sid]);
    const counters = await server.db.prisma.$queryRaw<Array<{ bucket: Date }>>`
      SELECT bucket FROM session_counter WHERE project_id = ${project.id}`;
    expect(counters.map((r) => r.bucket)).toEqual([ago(89 * DAY)]);
  });
});
