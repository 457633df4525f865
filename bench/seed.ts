import type { Database } from '../src/db/client.ts';
import { GRANULARITIES } from '../src/metrics/metric-store.ts';
import { foldAllUserDeltas } from '../src/metrics/user-sets.fold.ts';

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
  /** Keeps the generated sessions in `bench_sessions` (unlogged) to compare exact counts with. */
  keepSessions?: boolean;
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
            -- A user's hash, as ingest's (SHA-256 of the did): uniform bits, as sketches need.
            ('x' || substr(md5(floor(random() * $6)::text), 1, 16))::bit(64)::bigint,
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
  for (const g of GRANULARITIES) {
    const bucket = `to_timestamp(floor(extract(epoch FROM started) / ${g}) * ${g})`;
    await run(`INSERT INTO session_counter (project_id, release_id, environment_id, granularity, bucket, sessions, errored_all, crashed, abnormal, unhandled)
      SELECT ${projectId}, release_id, environment_id, ${g}, ${bucket}, count(*), count(*) FILTER (WHERE r < 0.07), count(*) FILTER (WHERE r < 0.02), 0, 0
      FROM bench_sessions GROUP BY 2, 3, 5 ORDER BY 5`);
    // Users as ingest appends them (one delta per bucket), then folded into sets by Vigil's fold.
    await run(`INSERT INTO session_user_delta (project_id, release_id, environment_id, granularity, bucket, entries)
      SELECT ${projectId}, release_id, environment_id, ${g}, ${bucket},
             string_agg(int8send(user_hash) || set_byte('\\x00'::bytea, 0, (r < 0.07)::int | ((r < 0.02)::int << 1)), ''::bytea)
      FROM bench_sessions GROUP BY 2, 3, 5 ORDER BY 5`);
    await run(`INSERT INTO session_duration (project_id, release_id, environment_id, granularity, bucket, value, count)
      SELECT ${projectId}, release_id, environment_id, ${g}, ${bucket}, duration, count(*)
      FROM bench_sessions WHERE r >= 0.07 GROUP BY 2, 3, 5, 6 ORDER BY 5`);
  }
  if (!o.keepSessions) await run('DROP TABLE bench_sessions');
  await foldAllUserDeltas(db, 20_000);
  // Folded deltas leave dead rows that ingest would reuse; a seeded store starts without them.
  await run('VACUUM FULL session_user_delta');
  await run('ANALYZE');
}
