import type { Database } from '../db/client.ts';
import {
  type SessionCounts,
  type UserCounts,
  ZERO_SESSION_COUNTS,
  ZERO_USER_COUNTS,
} from '../health/crash-free.ts';
import type { DurationCount } from '../health/duration.ts';
import { DurationCounts, packPairSql } from './duration-counts.ts';
import type { Granularity } from './metric-store.ts';
import { UserFacts } from './user-facts.ts';

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
  /**
   * With `intervalSeconds`: also one row per group with `interval` null, its users over the whole
   * range (the union of its intervals' sets) and its counters summed. A caller that needs a
   * group's totals and its series reads each user set once instead of twice.
   */
  usersOverRange?: boolean;
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
  /**
   * User sets also keep release 0 with environment 0, the union over every environment too: read
   * it when no environment is filtered or grouped by.
   */
  allEnvironmentsRow = false,
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
  const joinEnvironment = q.environments || q.groupBy.includes('environment');
  // Environment 0 is no environment's row: a join on `environment` leaves it out by itself.
  if (releaseLevel === 'all-releases' && allEnvironmentsRow && !joinEnvironment) {
    where.push('m.environment_id = 0');
  }
  const select = q.groupBy.map((k) => `${COLUMN[k]} AS ${ALIAS[k]}`);
  const keys = q.groupBy.map((k) => ALIAS[k]);
  if (q.intervalSeconds) {
    params.push(q.intervalSeconds);
    select.push(`floor(extract(epoch FROM m.bucket - $2) / $${params.length})::int AS interval`);
    keys.push('interval');
  }
  keys.push(...extraKeys);
  return {
    params,
    select: select.join(', '),
    from: `${table} m ${joinEnvironment ? 'JOIN environment e ON e.id = m.environment_id' : ''} WHERE ${where.join(' AND ')}`,
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
  /** Stored user sets, concatenated, and fact entries not folded into them yet (base64). */
  user_sets: string | null;
  user_entries: string | null;
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
  const sets = frame(q, 'session_user_set', [], level, true);
  const deltas = frame(q, 'session_user_delta');
  const join = q.withoutUsers
    ? ''
    : counters.keys.length > 0
      ? `FULL JOIN u USING (${counters.keys.join(', ')})`
      : 'CROSS JOIN u';
  const off = q.withoutUsers ? ' AND false' : '';
  const keys = counters.keys.join(', ');
  // On the driver: Prisma's raw-result handling cost more CPU than the rows' own parsing.
  const rows = await db.query<RawMetricsRow>(
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
       -- Base64 text, not bytea: a dashboard's sets are a megabyte at 10 M sessions, and bytea
       -- comes as hex (twice the bytes) that Prisma then turns to base64 and back.
       SELECT ${prefix(keys)} encode(string_agg(user_sets, ''::bytea), 'base64') AS user_sets,
              encode(string_agg(user_entries, ''::bytea), 'base64') AS user_entries
       FROM parts ${keys ? `GROUP BY ${keys}` : ''}
     )
     SELECT * FROM c ${join}`,
    counters.params,
  );
  const overRange = q.usersOverRange && q.intervalSeconds ? new Map<string, RangeTotals>() : null;
  const out = rows.map((r): MetricsRow => {
    const facts = userFacts(r.user_sets, r.user_entries);
    const row: MetricsRow = {
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
      users: facts ? facts.counts() : ZERO_USER_COUNTS,
    };
    if (overRange) addToRange(overRange, row, facts);
    return row;
  });
  if (overRange) {
    for (const { row, facts } of overRange.values()) {
      out.push({ ...row, users: facts ? facts.counts() : ZERO_USER_COUNTS });
    }
  }
  return out;
}

function userFacts(sets: string | null, entries: string | null): UserFacts | null {
  if (!sets && !entries) return null;
  const facts = new UserFacts();
  // PostgreSQL's base64 breaks lines every 76 characters; Buffer skips them.
  if (sets) facts.addEncoded(Buffer.from(sets, 'base64'));
  if (entries) facts.addEntries(Buffer.from(entries, 'base64'));
  return facts;
}

/** A group's row over the whole range, while its intervals' rows are added up. */
interface RangeTotals {
  row: MetricsRow;
  facts: UserFacts | null;
}

/** Adds an interval's row to its group's range row: counters add, user sets unite. */
function addToRange(
  totals: Map<string, RangeTotals>,
  row: MetricsRow,
  facts: UserFacts | null,
): void {
  const key = JSON.stringify([row.projectId, row.releaseId, row.environment]);
  let group = totals.get(key);
  if (!group) {
    group = {
      row: { ...row, interval: null, sessions: { ...ZERO_SESSION_COUNTS } },
      facts: null,
    };
    totals.set(key, group);
  }
  const sum = group.row.sessions;
  for (const k of Object.keys(sum) as Array<keyof SessionCounts>) sum[k] += row.sessions[k];
  if (facts) {
    if (group.facts) group.facts.addAll(facts);
    else group.facts = facts;
  }
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

/** pg gives Buffers, PGlite Uint8Arrays, Prisma Uint8Arrays: all are Uint8Arrays. */
function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value === null || value === undefined) return new Uint8Array(0);
  throw new TypeError(`expected bytes, got ${typeof value}`);
}
