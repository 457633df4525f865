import type { Database } from '../db/client.ts';
import { type SessionCounts, type UserCounts, ZERO_USER_COUNTS } from '../health/crash-free.ts';
import type { DurationCount } from '../health/duration.ts';
import { DurationCounts, packPairSql } from './duration-counts.ts';
import type { Granularity } from './metric-store.ts';
import { UserFacts } from './user-facts.ts';
import { toBytes } from './user-sets.fold.ts';

// The read side of the metric store: every health number and series is one of these two
// statements. Counters add up across buckets; users are the union of the per-bucket user sets
// (and of the deltas not folded into them yet), exact while small, sketched beyond
// (src/metrics/user-facts.ts, docs/design.md § Distinct users).

export type { Granularity } from './metric-store.ts';
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
function frame(
  q: MetricsQuery,
  table: string,
  extraKeys: string[] = [],
  /** Counters and user sets keep release 0: the sum or union of every release of the project. */
  releaseLevel?: 'all-releases' | 'per-release',
) {
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
  if (releaseLevel === 'all-releases') where.push('m.release_id = 0');
  if (releaseLevel === 'per-release' && !q.releaseIds) where.push('m.release_id <> 0');
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
  /** Stored user sets, concatenated, and fact entries not folded into them yet. */
  user_sets: Uint8Array | null;
  user_entries: Uint8Array | null;
}

/**
 * Session counters and distinct-user counts per group, in one statement. Project-wide groups
 * read the all-releases rows (release 0: one row per bucket); groups by or filtered to releases
 * read each release's rows.
 */
export async function selectSessionMetrics(db: Database, q: MetricsQuery): Promise<MetricsRow[]> {
  const perRelease = q.releaseIds !== undefined || q.groupBy.includes('release');
  const level = perRelease ? 'per-release' : 'all-releases';
  const counters = frame(q, 'session_counter', [], level);
  const sets = frame(q, 'session_user_set', [], level);
  const deltas = frame(q, 'session_user_delta');
  const join = q.withoutUsers
    ? ''
    : counters.keys.length > 0
      ? `FULL JOIN u USING (${counters.keys.join(', ')})`
      : 'CROSS JOIN u';
  const off = q.withoutUsers ? ' AND false' : '';
  const keys = counters.keys.join(', ');
  const rows = await db.prisma.$queryRawUnsafe<RawMetricsRow[]>(
    `/* selectSessionMetrics */
     WITH c AS (
       SELECT ${prefix(counters.select)}
         sum(m.sessions)::float8 AS sessions, sum(m.errored_all)::float8 AS errored_all,
         sum(m.crashed)::float8 AS crashed, sum(m.abnormal)::float8 AS abnormal,
         sum(m.unhandled)::float8 AS unhandled, sum(m.anr)::float8 AS anr,
         sum(m.anr_foreground)::float8 AS anr_foreground
       FROM ${counters.from} ${counters.groupBy}
     ), parts AS (
       -- Sets and deltas concatenate (both forms are self-delimiting); Vigil merges them.
       SELECT ${prefix(sets.select)} string_agg(m.users, ''::bytea) AS user_sets,
              NULL::bytea AS user_entries
       FROM ${sets.from}${off} ${sets.groupBy}
       UNION ALL
       SELECT ${prefix(deltas.select)} NULL::bytea, string_agg(m.entries, ''::bytea)
       FROM ${deltas.from}${off} ${deltas.groupBy}
     ), u AS (
       SELECT ${prefix(keys)} string_agg(user_sets, ''::bytea) AS user_sets,
              string_agg(user_entries, ''::bytea) AS user_entries
       FROM parts ${keys ? `GROUP BY ${keys}` : ''}
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
    users: userCounts(r.user_sets, r.user_entries),
  }));
}

function userCounts(sets: Uint8Array | null, entries: Uint8Array | null): UserCounts {
  if (!sets && !entries) return ZERO_USER_COUNTS;
  const facts = new UserFacts();
  if (sets) facts.addEncoded(toBytes(sets));
  if (entries) facts.addEntries(toBytes(entries));
  return facts.counts();
}

/** Durations of sessions that ended `exited`, as value counts per group (and deltas not folded). */
export async function selectSessionDurations(
  db: Database,
  q: MetricsQuery,
): Promise<DurationRow[]> {
  // Packed value counts folded so far, and the minute deltas not folded yet, binned to the
  // granularity and packed the same way: SQL concatenates a group's pairs, Vigil adds them up.
  const f = frame(
    q,
    `(SELECT project_id, release_id, environment_id, granularity, bucket, value_counts
      FROM session_duration
      UNION ALL
      SELECT project_id, release_id, environment_id, $1::int,
             date_bin(make_interval(secs => $1::int), bucket, timestamptz 'epoch'),
             ${packPairSql('value', 'count')}
      FROM session_duration_delta)`,
  );
  const rows = await db.prisma.$queryRawUnsafe<
    Array<{
      project_id?: number;
      release_id?: number;
      environment?: string;
      interval?: number;
      value_counts: Uint8Array | null;
    }>
  >(
    `/* selectSessionDurations */
     SELECT ${prefix(f.select)} string_agg(m.value_counts, ''::bytea) AS value_counts
     FROM ${f.from} ${f.groupBy}`,
    ...f.params,
  );
  const groups: DurationRow[] = [];
  for (const r of rows) {
    if (!r.value_counts) continue;
    const durations = new DurationCounts().addPacked(toBytes(r.value_counts)).list();
    if (durations.length === 0) continue;
    groups.push({
      projectId: r.project_id ?? null,
      releaseId: r.release_id ?? null,
      environment: r.environment ?? null,
      interval: r.interval ?? null,
      durations,
    });
  }
  return groups;
}
