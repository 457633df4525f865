import { execFileSync } from 'node:child_process';
import type { Database } from '../src/db/client.ts';
import { packPairSql } from '../src/metrics/duration-counts.ts';
import { GRANULARITIES } from '../src/metrics/metric-store.ts';
import { EXACT_USERS_LIMIT } from '../src/metrics/user-set.ts';
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
    // Release 0 is every release of the project (its all-releases rows), as ingest writes them.
    // Sessions are 'errored' below r 0.07, crashed below 0.02.
    for (const level of ['release_id', '0']) {
      await run(`INSERT INTO session_counter (project_id, release_id, environment_id, granularity, bucket, sessions, errored_all, crashed, abnormal, unhandled)
        SELECT ${projectId}, ${level}, environment_id, ${g}, ${bucket}, count(*), count(*) FILTER (WHERE r < 0.07), count(*) FILTER (WHERE r < 0.02), 0, 0
        FROM bench_sessions GROUP BY 2, 3, 5 ORDER BY 5`);
      // Release 0 also keeps environment 0, every environment's users together (as folds do).
      for (const environment of level === '0' ? ['environment_id', '0'] : ['environment_id']) {
        // User sets in their stored form (src/metrics/user-facts.ts), written in SQL where exact;
        // buckets past the threshold go in as deltas and Vigil's own fold makes their sketches.
        const sets = `WITH per_user AS (
            SELECT ${level} AS release_id, ${environment} AS environment_id, ${bucket} AS bucket, user_hash,
                   bool_or(r < 0.07) AS e, bool_or(r < 0.02) AS c
            FROM bench_sessions GROUP BY 1, 2, 3, 4
          ), s AS (
            SELECT release_id, environment_id, bucket, count(*) AS n,
                   count(*) FILTER (WHERE e) AS ne, count(*) FILTER (WHERE c) AS nc,
                   string_agg(int8send(user_hash), ''::bytea) AS all_h,
                   string_agg(int8send(user_hash), ''::bytea) FILTER (WHERE e) AS e_h,
                   string_agg(int8send(user_hash), ''::bytea) FILTER (WHERE c) AS c_h,
                   string_agg(int8send(user_hash) || set_byte('\\x00'::bytea, 0, e::int | (c::int << 1)), ''::bytea) AS entries
            FROM per_user GROUP BY 1, 2, 3
          )`;
        await run(`INSERT INTO session_user_set (project_id, release_id, environment_id, granularity, bucket, users, version)
          ${sets}
          SELECT ${projectId}, release_id, environment_id, ${g}, bucket,
                 '\\x01'::bytea || set_byte('\\x00'::bytea, 0, 1 | ((ne > 0)::int << 1) | ((nc > 0)::int << 2))
                 || '\\x00'::bytea || int4send(n::int) || all_h
                 || CASE WHEN ne > 0 THEN '\\x00'::bytea || int4send(ne::int) || e_h ELSE ''::bytea END
                 || CASE WHEN nc > 0 THEN '\\x00'::bytea || int4send(nc::int) || c_h ELSE ''::bytea END,
                 1
          FROM s WHERE n <= ${EXACT_USERS_LIMIT} ORDER BY bucket`);
        await run(`INSERT INTO session_user_delta (project_id, release_id, environment_id, granularity, bucket, entries)
          ${sets}
          SELECT ${projectId}, release_id, environment_id, ${g}, bucket, entries
          FROM s WHERE n > ${EXACT_USERS_LIMIT}`);
      }
    }
    // One row per bucket, its value counts packed (src/metrics/duration-counts.ts).
    await run(`INSERT INTO session_duration (project_id, release_id, environment_id, granularity, bucket, value_counts)
      SELECT ${projectId}, release_id, environment_id, ${g}, bucket,
             string_agg(${packPairSql('duration', 'n')}, ''::bytea ORDER BY duration)
      FROM (SELECT release_id, environment_id, ${bucket} AS bucket, duration, count(*) AS n
            FROM bench_sessions WHERE r >= 0.07 GROUP BY 1, 2, 3, 4) v
      GROUP BY 2, 3, 5 ORDER BY 5`);
  }
  if (!o.keepSessions) await run('DROP TABLE bench_sessions');
  await foldAllUserDeltas(db, 20);
  // Folded deltas leave dead rows that ingest would reuse; a seeded store starts without them.
  await run('VACUUM FULL session_user_delta');
  // What autovacuum does on a default PostgreSQL (this machine's has it off): statistics, and
  // the visibility map that lets index-only scans skip the heap.
  await run('VACUUM ANALYZE');
  // The seed's gigabytes on disk before anything is measured: measured while the kernel was
  // still writing them back, every 10 M document ran 40–60 % slower than a minute later.
  await run('CHECKPOINT').catch(() => {
    // Not a superuser: PostgreSQL's own checkpoint comes later, the kernel's sync still helps.
  });
  if (process.platform === 'linux') execFileSync('sync');
}
