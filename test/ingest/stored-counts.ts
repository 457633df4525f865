import type { Database } from '../../src/db/client.ts';
import {
  type SessionCounts,
  type UserCounts,
  ZERO_SESSION_COUNTS,
  ZERO_USER_COUNTS,
} from '../../src/health/crash-free.ts';
import type { DurationCount } from '../../src/health/duration.ts';
import { DurationCounts, packPairSql } from '../../src/metrics/duration-counts.ts';
import { GRANULARITIES } from '../../src/metrics/metric-store.ts';
import { UserFacts } from '../../src/metrics/user-facts.ts';

// What ingest stored for a project, read straight from the metric tables (until the GraphQL
// health API can be asked). Releases and environments are named, not numbered, so two projects'
// rows compare equal when the same sessions reached them.

const HOUR = 3600;

/** Packed duration value counts: those folded, and the minute deltas not folded yet at every granularity. */
const DURATIONS = `(
  SELECT project_id, release_id, environment_id, granularity, bucket, value_counts
  FROM session_duration
  UNION ALL
  SELECT d.project_id, d.release_id, d.environment_id, g.granularity,
         date_bin(make_interval(secs => g.granularity), d.bucket, timestamptz 'epoch'),
         ${packPairSql('d.value', 'd.count')}
  FROM session_duration_delta d CROSS JOIN unnest(ARRAY[${GRANULARITIES.join(', ')}]) AS g(granularity))`;

export interface StoredGroup {
  release: string;
  /** '' is "no environment". */
  environment: string;
  sessions: SessionCounts;
  users: UserCounts;
  /** Representative durations of the sessions that ended `exited`. */
  durations: DurationCount[];
}

/** Per release and environment: counters summed over hourly buckets, exact distinct users. */
export async function storedCounts(db: Database, projectId: number): Promise<StoredGroup[]> {
  const sessions = await db.prisma.$queryRaw<Array<SessionCounts & Names>>`
    SELECT r.version AS release, e.name AS environment,
      sum(c.sessions)::float8 AS "sessions", sum(c.errored_all)::float8 AS "erroredAll",
      sum(c.crashed)::float8 AS crashed, sum(c.abnormal)::float8 AS abnormal,
      sum(c.unhandled)::float8 AS unhandled, sum(c.anr)::float8 AS anr,
      sum(c.anr_foreground)::float8 AS "anrForeground"
    FROM session_counter c
    JOIN release r ON r.id = c.release_id
    JOIN environment e ON e.id = c.environment_id
    WHERE c.project_id = ${projectId} AND c.granularity = ${HOUR}
    GROUP BY r.version, e.name`;
  const users = [...(await storedUserFacts(db, projectId, HOUR)).entries()].map(([key, facts]) => {
    const [release = '', environment = ''] = key.split('\n');
    const { quality: _quality, ...counts } = facts.counts();
    return { release, environment, ...counts };
  });
  const packed = await db.prisma.$queryRawUnsafe<Array<Names & { value_counts: Uint8Array }>>(
    `SELECT r.version AS release, e.name AS environment,
       string_agg(d.value_counts, ''::bytea) AS value_counts
     FROM ${DURATIONS} d
     JOIN release r ON r.id = d.release_id
     JOIN environment e ON e.id = d.environment_id
     WHERE d.project_id = $1 AND d.granularity = $2
     GROUP BY r.version, e.name`,
    projectId,
    HOUR,
  );
  const durations = packed.flatMap(({ release, environment, value_counts }) =>
    new DurationCounts()
      .addPacked(value_counts)
      .list(true)
      .map((d) => ({ release, environment, ...d })),
  );

  const groups = new Map<string, StoredGroup>();
  const group = ({ release, environment }: Names) => {
    const key = `${release}\n${environment}`;
    let found = groups.get(key);
    if (!found) {
      found = emptyGroup(release, environment);
      groups.set(key, found);
    }
    return found;
  };
  for (const { release, environment, ...counts } of sessions) {
    group({ release, environment }).sessions = counts;
  }
  for (const { release, environment, ...counts } of users) {
    group({ release, environment }).users = counts;
  }
  for (const { release, environment, value, count } of durations) {
    group({ release, environment }).durations.push({ value, count });
  }
  return [...groups.values()].sort(
    (a, b) => a.release.localeCompare(b.release) || a.environment.localeCompare(b.environment),
  );
}

/** The one group a test expects; fails when the project stored more or other groups. */
export async function storedGroup(
  db: Database,
  projectId: number,
  release: string,
  environment: string,
): Promise<StoredGroup> {
  const groups = await storedCounts(db, projectId);
  const names = groups.map((g) => `${g.release}/${g.environment}`);
  if (
    groups.length !== 1 ||
    groups[0]?.release !== release ||
    groups[0].environment !== environment
  ) {
    throw new Error(`expected only ${release}/${environment}, stored: [${names.join(', ')}]`);
  }
  return groups[0];
}

/** One release and environment's group among others; all zero when nothing was stored there. */
export async function findGroup(
  db: Database,
  projectId: number,
  release: string,
  environment: string,
): Promise<StoredGroup> {
  const groups = await storedCounts(db, projectId);
  return (
    groups.find((g) => g.release === release && g.environment === environment) ??
    emptyGroup(release, environment)
  );
}

function emptyGroup(release: string, environment: string): StoredGroup {
  return {
    release,
    environment,
    sessions: { ...ZERO_SESSION_COUNTS },
    users: { ...ZERO_USER_COUNTS },
    durations: [],
  };
}

/** Dropped items per reason, summed over time. */
export async function rejectedCounts(
  db: Database,
  projectId: number,
): Promise<Record<string, number>> {
  const rows = await db.prisma.$queryRaw<Array<{ reason: string; count: number }>>`
    SELECT reason, sum(quantity)::int AS count FROM ingest_outcome
    WHERE project_id = ${projectId} AND outcome = 'dropped' GROUP BY reason ORDER BY reason`;
  return Object.fromEntries(rows.map((r) => [r.reason, r.count]));
}

/**
 * Every metric row and session state of a project (or of one of its releases), at every
 * granularity, with names for ids and without session ids: equal for two projects that received
 * the same facts, in any order.
 */
export async function storedRows(db: Database, projectId: number, release?: string) {
  const only = release ?? null;
  const counters = await db.prisma.$queryRaw<unknown[]>`
    SELECT r.version, e.name, c.granularity, c.bucket, c.sessions, c.errored_all, c.crashed,
      c.abnormal, c.unhandled
    FROM session_counter c
    JOIN release r ON r.id = c.release_id JOIN environment e ON e.id = c.environment_id
    WHERE c.project_id = ${projectId} AND (${only}::text IS NULL OR r.version = ${only})
    ORDER BY 1, 2, 3, 4`;
  const users = [...(await storedUserFacts(db, projectId, null, only, true)).entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, facts]) => ({
      key,
      users: facts.entries()?.map((e) => `${e.hash}:${e.flags}`),
    }));
  // Summed per key, so deltas not folded yet compare equal to the rows they fold into.
  const packed = await db.prisma.$queryRawUnsafe<
    Array<{
      version: string;
      name: string;
      granularity: number;
      bucket: Date;
      value_counts: Uint8Array;
    }>
  >(
    `SELECT r.version, e.name, d.granularity, d.bucket,
       string_agg(d.value_counts, ''::bytea) AS value_counts
     FROM ${DURATIONS} d
     JOIN release r ON r.id = d.release_id JOIN environment e ON e.id = d.environment_id
     WHERE d.project_id = $1 AND ($2::text IS NULL OR r.version = $2)
     GROUP BY 1, 2, 3, 4
     ORDER BY 1, 2, 3, 4`,
    projectId,
    only,
  );
  const durations = packed.flatMap(({ value_counts, ...key }) =>
    new DurationCounts()
      .addPacked(value_counts)
      .list(true)
      .map((d) => ({ ...key, ...d })),
  );
  const sessions = await db.prisma.$queryRaw<unknown[]>`
    SELECT r.version, e.name, s.started, s.user_hash::text, s.init_seen, s.errored, s.crashed,
      s.abnormal, s.unhandled, s.last_seq::text, s.last_timestamp, s.last_status, s.duration
    FROM session_state s
    JOIN release r ON r.id = s.release_id JOIN environment e ON e.id = s.environment_id
    WHERE s.project_id = ${projectId} AND (${only}::text IS NULL OR r.version = ${only})
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13`;
  return { counters, users, durations, sessions };
}

interface Names {
  release: string;
  environment: string;
}

/**
 * A project's user facts per release and environment (and per bucket when `perBucket`), read
 * from the release sets and the deltas not folded yet, at one granularity or all.
 */
export async function storedUserFacts(
  db: Database,
  projectId: number,
  granularity: number | null,
  release: string | null = null,
  perBucket = false,
): Promise<Map<string, UserFacts>> {
  const rows = await db.prisma.$queryRaw<
    Array<
      Names & {
        granularity: number;
        bucket: Date;
        sets: Uint8Array | null;
        entries: Uint8Array | null;
      }
    >
  >`
    SELECT r.version AS release, e.name AS environment, p.granularity, p.bucket, p.sets, p.entries
    FROM (
      SELECT project_id, release_id, environment_id, granularity, bucket, users AS sets,
        NULL::bytea AS entries
      FROM session_user_set WHERE release_id <> 0
      UNION ALL
      SELECT project_id, release_id, environment_id, granularity, bucket, NULL, entries
      FROM session_user_delta
    ) p
    JOIN release r ON r.id = p.release_id JOIN environment e ON e.id = p.environment_id
    WHERE p.project_id = ${projectId} AND (${granularity}::int IS NULL OR p.granularity = ${granularity})
      AND (${release}::text IS NULL OR r.version = ${release})`;
  const groups = new Map<string, UserFacts>();
  for (const row of rows) {
    const key = perBucket
      ? `${row.release}\n${row.environment}\n${row.granularity}\n${new Date(row.bucket).toISOString()}`
      : `${row.release}\n${row.environment}`;
    let facts = groups.get(key);
    if (!facts) {
      facts = new UserFacts();
      groups.set(key, facts);
    }
    if (row.sets) facts.addEncoded(row.sets);
    if (row.entries) facts.addEntries(row.entries);
  }
  return groups;
}
