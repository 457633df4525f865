import type { Database } from '../db/client.ts';
import type { SessionCounts, UserCounts } from '../health/crash-free.ts';
import type { DurationCount } from '../health/duration.ts';

// The read side of the metric store: every health number and series is one of these two
// statements. Counters add up across buckets; users are counted again from the per-bucket sets,
// so distinct counts stay exact over any range (spec §4, "Vigil: exact distinct counts").

export type Granularity = 60 | 3600 | 86400;
export type MetricGroupKey = 'project' | 'release' | 'environment';

export interface MetricsQuery {
  /** Filters; an absent filter means "all". At least one of projectIds/releaseIds is required. */
  projectIds?: readonly number[];
  releaseIds?: readonly number[];
  /** Environment names; '' is "no environment". */
  environments?: readonly string[];
  /** Half-open on bucket starts: a bucket counts when start ≤ bucket < end. */
  start: Date;
  end: Date;
  granularity: Granularity;
  groupBy: readonly MetricGroupKey[];
  /** For a series: buckets fold into `floor((bucket − start) / interval)`. */
  intervalSeconds?: number;
  /** Skip the distinct-user counts (the costly half) when only session counters are needed. */
  withoutUsers?: boolean;
}

export interface MetricsRow {
  projectId: number | null;
  releaseId: number | null;
  environment: string | null;
  /** Index of the series interval, or null for totals. */
  interval: number | null;
  sessions: SessionCounts;
  users: UserCounts;
}

export interface DurationRow {
  projectId: number | null;
  releaseId: number | null;
  environment: string | null;
  interval: number | null;
  durations: DurationCount[];
}

const COLUMN: Record<MetricGroupKey, string> = {
  project: 'm.project_id',
  release: 'm.release_id',
  environment: 'e.name',
};
const ALIAS: Record<MetricGroupKey, string> = {
  project: 'project_id',
  release: 'release_id',
  environment: 'environment',
};

/** Builds the shared WHERE, GROUP BY and parameters of a metrics statement over `table`. */
function frame(q: MetricsQuery, table: string, extraKeys: string[] = []) {
  if (!q.projectIds && !q.releaseIds) throw new Error('a metrics query needs projects or releases');
  const params: unknown[] = [q.granularity, q.start, q.end];
  const where = ['m.granularity = $1', 'm.bucket >= $2', 'm.bucket < $3'];
  if (q.projectIds) {
    params.push(q.projectIds);
    where.push(`m.project_id = ANY($${params.length}::int[])`);
  }
  if (q.releaseIds) {
    params.push(q.releaseIds);
    where.push(`m.release_id = ANY($${params.length}::int[])`);
  }
  if (q.environments) {
    params.push(q.environments);
    where.push(`e.name = ANY($${params.length}::text[])`);
  }
  const select = q.groupBy.map((k) => `${COLUMN[k]} AS ${ALIAS[k]}`);
  const keys = q.groupBy.map((k) => ALIAS[k]);
  if (q.intervalSeconds) {
    params.push(q.intervalSeconds);
    select.push(`floor(extract(epoch FROM m.bucket - $2) / $${params.length})::int AS interval`);
    keys.push('interval');
  }
  keys.push(...extraKeys);
  const joinEnvironment =
    q.environments || q.groupBy.includes('environment')
      ? 'JOIN environment e ON e.id = m.environment_id'
      : '';
  return {
    params,
    select: select.join(', '),
    from: `${table} m ${joinEnvironment} WHERE ${where.join(' AND ')}`,
    // By position: the aliases could clash with the joined environment's own project_id.
    groupBy: keys.length > 0 ? `GROUP BY ${positions(keys.length)}` : '',
    keys,
  };
}

const prefix = (select: string) => (select ? `${select}, ` : '');
const positions = (n: number) => Array.from({ length: n }, (_, i) => i + 1).join(', ');

interface RawMetricsRow {
  project_id?: number;
  release_id?: number;
  environment?: string;
  interval?: number;
  sessions: number | null;
  errored_all: number | null;
  crashed: number | null;
  abnormal: number | null;
  unhandled: number | null;
  anr: number | null;
  anr_foreground: number | null;
  users: number | null;
  users_errored: number | null;
  users_crashed: number | null;
  users_abnormal: number | null;
  users_unhandled: number | null;
  users_fatal: number | null;
  users_anr: number | null;
  users_anr_foreground: number | null;
}

/** Session counters and exact user counts per group, in one statement. */
export async function selectSessionMetrics(db: Database, q: MetricsQuery): Promise<MetricsRow[]> {
  const counters = frame(q, 'session_counter');
  const users = frame(q, 'session_users');
  const join = q.withoutUsers
    ? ''
    : counters.keys.length > 0
      ? `FULL JOIN u USING (${counters.keys.join(', ')})`
      : 'CROSS JOIN u';
  const usersFrom = q.withoutUsers ? `${users.from} AND false` : users.from;
  const rows = await db.prisma.$queryRawUnsafe<RawMetricsRow[]>(
    `/* selectSessionMetrics */
     WITH c AS (
       SELECT ${prefix(counters.select)}
         sum(m.sessions)::float8 AS sessions, sum(m.errored_all)::float8 AS errored_all,
         sum(m.crashed)::float8 AS crashed, sum(m.abnormal)::float8 AS abnormal,
         sum(m.unhandled)::float8 AS unhandled, sum(m.anr)::float8 AS anr,
         sum(m.anr_foreground)::float8 AS anr_foreground
       FROM ${counters.from} ${counters.groupBy}
     ), per_user AS (
       -- One row per user and group first: a single aggregation instead of one sort per count.
       SELECT ${prefix(users.select)} m.user_hash, bool_or(m.errored) AS errored,
         bool_or(m.crashed) AS crashed, bool_or(m.abnormal) AS abnormal,
         bool_or(m.unhandled) AS unhandled, bool_or(m.anr) AS anr,
         bool_or(m.anr_foreground) AS anr_foreground
       FROM ${usersFrom} GROUP BY ${positions(users.keys.length + 1)}
     ), u AS (
       SELECT ${prefix(users.keys.join(', '))}
         count(*)::float8 AS users,
         count(*) FILTER (WHERE errored)::float8 AS users_errored,
         count(*) FILTER (WHERE crashed)::float8 AS users_crashed,
         count(*) FILTER (WHERE abnormal)::float8 AS users_abnormal,
         count(*) FILTER (WHERE unhandled)::float8 AS users_unhandled,
         count(*) FILTER (WHERE crashed OR abnormal OR unhandled)::float8 AS users_fatal,
         count(*) FILTER (WHERE anr)::float8 AS users_anr,
         count(*) FILTER (WHERE anr_foreground)::float8 AS users_anr_foreground
       FROM per_user ${users.keys.length > 0 ? `GROUP BY ${users.keys.join(', ')}` : ''}
     )
     SELECT * FROM c ${join}`,
    ...counters.params,
  );
  return rows.map((r) => ({
    projectId: r.project_id ?? null,
    releaseId: r.release_id ?? null,
    environment: r.environment ?? null,
    interval: r.interval ?? null,
    sessions: {
      sessions: r.sessions ?? 0,
      erroredAll: r.errored_all ?? 0,
      crashed: r.crashed ?? 0,
      abnormal: r.abnormal ?? 0,
      unhandled: r.unhandled ?? 0,
      anr: r.anr ?? 0,
      anrForeground: r.anr_foreground ?? 0,
    },
    users: {
      users: r.users ?? 0,
      erroredAll: r.users_errored ?? 0,
      crashed: r.users_crashed ?? 0,
      abnormal: r.users_abnormal ?? 0,
      unhandled: r.users_unhandled ?? 0,
      fatalAny: r.users_fatal ?? 0,
      anr: r.users_anr ?? 0,
      anrForeground: r.users_anr_foreground ?? 0,
    },
  }));
}

/** Durations of sessions that ended `exited`, as value counts per group. */
export async function selectSessionDurations(
  db: Database,
  q: MetricsQuery,
): Promise<DurationRow[]> {
  const f = frame(q, 'session_duration', ['m.value']);
  const rows = await db.prisma.$queryRawUnsafe<
    Array<{
      project_id?: number;
      release_id?: number;
      environment?: string;
      interval?: number;
      value: number;
      count: number;
    }>
  >(
    `/* selectSessionDurations */
     SELECT ${prefix(f.select)} m.value, sum(m.count)::float8 AS count
     FROM ${f.from} GROUP BY ${positions(f.keys.length)}
     HAVING sum(m.count) > 0`,
    ...f.params,
  );
  const groups = new Map<string, DurationRow>();
  for (const r of rows) {
    const key = `${r.project_id}|${r.release_id}|${r.environment}|${r.interval}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        projectId: r.project_id ?? null,
        releaseId: r.release_id ?? null,
        environment: r.environment ?? null,
        interval: r.interval ?? null,
        durations: [],
      };
      groups.set(key, group);
    }
    group.durations.push({ value: r.value, count: r.count });
  }
  return [...groups.values()];
}
