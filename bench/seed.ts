import type { Database } from '../src/db/client.ts';

// The store's bulk path for benchmarks: sessions are generated in SQL and rolled up exactly as
// ingest rolls them up (counters, user sets and duration counts per minute, hour and day), so
// queries see the rows that millions of real envelopes would have left, in the time order ingest
// writes them.

export interface SeedOptions {
  releases: number;
  sessions: number;
  users: number;
  days: number;
  now: Date;
}

export async function seedSessions(db: Database, projectId: number, o: SeedOptions): Promise<void> {
  const run = (sql: string, ...params: unknown[]) => db.prisma.$executeRawUnsafe(sql, ...params);
  const org = 1;
  await run(
    `INSERT INTO release (organization_id, version, created_at)
     SELECT $1, 'app@1.' || i || '.0', $3::timestamptz - ($4 - i) * interval '1 minute'
     FROM generate_series(1, $2) i`,
    org,
    o.releases,
    o.now,
    o.releases,
  );
  await run(
    `INSERT INTO release_project (release_id, project_id) SELECT id, $1 FROM release`,
    projectId,
  );
  await run(
    `INSERT INTO environment (project_id, name) VALUES ($1, 'production'), ($1, 'staging') ON CONFLICT DO NOTHING`,
    projectId,
  );
  const envRows = await db.prisma.$queryRawUnsafe<Array<{ id: number; name: string }>>(
    'SELECT id, name FROM environment WHERE project_id = $1',
    projectId,
  );
  const envs = Object.fromEntries(envRows.map((e) => [e.name, e.id])) as Record<string, number>;
  // Newer releases get more sessions (a skewed, realistic spread); 2 % crash, 5 % error.
  await run(`CREATE UNLOGGED TABLE bench_sessions (release_id int, environment_id int,
     started timestamptz, user_hash bigint, r float8, duration float8)`);
  await run(
    `INSERT INTO bench_sessions
     SELECT (SELECT min(id) FROM release) + floor(power(random(), 0.5) * $1)::int,
            CASE WHEN random() < 0.8 THEN $2::int ELSE $3::int END,
            $4::timestamptz - random() * ($5 * interval '1 day'),
            floor(random() * $6)::bigint,
            random(), round((random() * 600)::numeric, 0)::float8
     FROM generate_series(1, $7)`,
    o.releases,
    envs.production,
    envs.staging,
    o.now,
    o.days,
    o.users,
    o.sessions,
  );
  for (const g of [60, 3600, 86400]) {
    const bucket = `to_timestamp(floor(extract(epoch FROM started) / ${g}) * ${g})`;
    await run(`INSERT INTO session_counter (project_id, release_id, environment_id, granularity, bucket, sessions, errored_all, crashed, abnormal, unhandled)
      SELECT ${projectId}, release_id, environment_id, ${g}, ${bucket}, count(*), count(*) FILTER (WHERE r < 0.07), count(*) FILTER (WHERE r < 0.02), 0, 0
      FROM bench_sessions GROUP BY 2, 3, 5 ORDER BY 5`);
    await run(`INSERT INTO session_users (project_id, release_id, environment_id, granularity, bucket, user_hash, errored, crashed, abnormal, unhandled)
      SELECT ${projectId}, release_id, environment_id, ${g}, ${bucket}, user_hash, bool_or(r < 0.07), bool_or(r < 0.02), false, false
      FROM bench_sessions GROUP BY 2, 3, 5, 6 ORDER BY 5`);
    await run(`INSERT INTO session_duration (project_id, release_id, environment_id, granularity, bucket, value, count)
      SELECT ${projectId}, release_id, environment_id, ${g}, ${bucket}, duration, count(*)
      FROM bench_sessions WHERE r >= 0.07 GROUP BY 2, 3, 5, 6 ORDER BY 5`);
  }
  await run('DROP TABLE bench_sessions');
  await run('ANALYZE');
}
