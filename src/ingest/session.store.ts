import type { Database, SqlSession, TransactionSession } from '../db/client.ts';
import { foldMetricDeltasSoon } from '../metrics/metric-deltas.fold.ts';
import { GRANULARITIES } from '../metrics/metric-store.ts';
import type { createDimensionCache, ResolvedDimensions } from './dimensions.ts';
import { type OutcomeColumns, OutcomeRows, upsertOutcomesSql } from './ingest-outcome.ts';
import { factFlags, MetricChanges } from './metric-changes.ts';
import type { AggregateItem, RejectReason, SessionStatus, SessionUpdate } from './session.item.ts';
import {
  contributionOf,
  emptyState,
  hashUser,
  mergeUpdate,
  type SessionState,
} from './session.merge.ts';

// Envelopes → rows, in one transaction of at most three set-based statements however many
// envelopes and items it holds. Rows travel as one JSON parameter per table and
// `json_to_recordset` turns them into rows (JSON.stringify is native; pg's array encoding is not);
// the writes to five tables share one statement through data-modifying CTEs.

export interface EnvelopeBatch {
  projectId: number;
  receivedAt: Date;
  updates: SessionUpdate[];
  /** Each with the digest that recognises the item if the envelope is sent again; `null`: none. */
  aggregates: Array<AggregateItem & { digest: string | null }>;
  rejected: Map<RejectReason, number>;
}

/** An envelope's batch with the organization of its project, which its releases belong to. */
export interface ResolvedBatch extends EnvelopeBatch {
  organizationId: number;
}

type DimensionCache = ReturnType<typeof createDimensionCache>;

/**
 * Writes envelopes' sessions in one transaction, creating the releases and environments they
 * name in it; resolves once they are committed.
 */
export async function storeEnvelopes(
  db: Database,
  dimensions: DimensionCache,
  batches: readonly ResolvedBatch[],
): Promise<void> {
  const work = batches.filter((b) => b.updates.length + b.aggregates.length + b.rejected.size > 0);
  if (work.length === 0) return;
  const resolution = await db.transaction(async (tx) => {
    const named = work.filter((b) => b.updates.length + b.aggregates.length > 0).map(namesOf);
    const resolved = named.length > 0 ? await dimensions.resolve(tx, named) : null;
    const changes = new MetricChanges();
    const outcomes = itemOutcomes(work);
    // One after the other, not sent together: a deadlock in the lock statement must reach the
    // retry as itself, not as the "transaction aborted" of a statement pipelined behind it.
    const states = resolved ? await mergeSessions(tx, work, resolved.resolved, changes) : [];
    if (resolved) await addAggregates(tx, work, resolved.resolved, changes, outcomes);
    await writeRows(tx, states, changes, outcomes.rows());
    return resolved;
  });
  resolution?.commit();
  foldMetricDeltasSoon(db);
}

function namesOf(batch: ResolvedBatch) {
  return {
    project: { id: batch.projectId, organizationId: batch.organizationId },
    releases: [...batch.updates.map((u) => u.release), ...batch.aggregates.map((a) => a.release)],
    environments: [
      ...batch.updates.map((u) => u.environment),
      ...batch.aggregates.map((a) => a.environment),
    ],
  };
}

const stateKey = (projectId: number, sid: string) => `${projectId}|${sid}`;

interface SessionUpdates {
  projectId: number;
  first: SessionUpdate;
  all: SessionUpdate[];
  releaseId: number;
  environmentId: number;
  /** If the session is new: its empty state, and its updates merged into it. */
  fresh?: { empty: SessionState; merged: SessionState };
}

function freshState(k: SessionUpdates) {
  if (!k.fresh) {
    const empty = emptyState(k.first.sid, k.releaseId, k.environmentId, k.first.started);
    k.fresh = { empty, merged: mergeAll(empty, k.all) };
  }
  return k.fresh;
}

function mergeAll(state: SessionState, all: readonly SessionUpdate[]): SessionState {
  let after = state;
  for (const update of all) after = mergeUpdate(after, update);
  return after;
}

async function mergeSessions(
  tx: SqlSession,
  batches: readonly ResolvedBatch[],
  dims: ResolvedDimensions,
  changes: MetricChanges,
): Promise<StateJson[]> {
  const updates = new Map<string, SessionUpdates>();
  for (const batch of batches) {
    const project = { id: batch.projectId, organizationId: batch.organizationId };
    for (const u of batch.updates) {
      const key = stateKey(batch.projectId, u.sid);
      const entry = updates.get(key);
      if (entry) entry.all.push(u);
      else
        updates.set(key, {
          projectId: batch.projectId,
          first: u,
          all: [u],
          releaseId: dims.releaseId(project, u.release),
          environmentId: dims.environmentId(batch.projectId, u.environment),
        });
    }
  }
  if (updates.size === 0) return [];
  const keys = [...updates.values()];
  const locked = await lockSessionStates(tx, keys);
  if (locked.created.length + locked.existing.length < keys.length) {
    // Another transaction created some of these sessions after this statement's snapshot:
    // its rows are committed now, and a second pass sees and locks them.
    const seen = new Set(locked.created);
    for (const row of locked.existing) seen.add(stateKey(row.project_id, row.sid));
    const again = await lockSessionStates(
      tx,
      keys.filter((k) => !seen.has(stateKey(k.projectId, k.first.sid))),
    );
    locked.created.push(...again.created);
    locked.existing.push(...again.existing);
  }
  // A session this statement created was written whole, merged from its empty state.
  for (const key of locked.created) {
    const entry = updates.get(key);
    if (!entry) continue;
    const { empty, merged } = freshState(entry);
    changes.addSession(
      { projectId: entry.projectId, ...startOf(empty) },
      contributionOf(empty),
      contributionOf(merged),
      merged.userHash,
      merged,
    );
  }
  const changed: StateJson[] = [];
  for (const row of locked.existing) {
    const entry = updates.get(stateKey(row.project_id, row.sid));
    if (!entry) continue;
    const before = fromRow(row);
    const after = mergeAll(before, entry.all);
    changes.addSession(
      { projectId: row.project_id, ...startOf(before) },
      contributionOf(before),
      contributionOf(after),
      after.userHash,
      after,
    );
    changed.push(stateJson(row.project_id, after));
  }
  return changed;
}

/** A session's metrics stay where its first update put them (spec §3). */
function startOf(s: SessionState) {
  return { releaseId: s.releaseId, environmentId: s.environmentId, started: s.started };
}

/**
 * Creates the sessions not seen before, whole (their updates merged into an empty state, so no
 * second write), and locks every one of them until commit. Rows are taken in key order, as every
 * writer takes them, so concurrent transactions never deadlock. Returns the keys of the sessions
 * this statement created and the stored rows of those that existed (whose state the caller
 * merges into); a session another transaction created meanwhile is in neither.
 */
async function lockSessionStates(
  tx: SqlSession,
  keys: SessionUpdates[],
): Promise<{ created: string[]; existing: StateRow[] }> {
  const rows = keys.map((k) => stateJson(k.projectId, freshState(k).merged, true));
  const result = await tx.query<StateRow>(
    `/* lockSessionStates */
     WITH k AS (
       SELECT v.r AS release_id, v.e AS environment_id,
              timestamptz 'epoch' + v.t * interval '1 millisecond' AS started, ${STATE_COLUMNS}
       FROM json_to_recordset($1::json) AS v(${STATE_JSON}, r int, e int, t int8)
     ), inserted AS (
       INSERT INTO session_state (project_id, sid, release_id, environment_id, started, user_hash,
         init_seen, errored, crashed, abnormal, unhandled, anr, anr_foreground, last_seq,
         last_timestamp, last_status, duration)
       SELECT project_id, sid, release_id, environment_id, started, user_hash, init_seen, errored,
              crashed, abnormal, unhandled, anr, anr_foreground, last_seq, last_timestamp,
              last_status, duration
       FROM k ORDER BY project_id, sid
       ON CONFLICT (project_id, sid) DO NOTHING
       RETURNING project_id, sid
     ), existing AS (
       -- Only the keys not just created are looked up (this snapshot cannot see those anyway):
       -- most sessions are new, and their probes were a tenth of the statement.
       SELECT s.* FROM session_state s
       JOIN (SELECT project_id, sid FROM k EXCEPT SELECT project_id, sid FROM inserted) AS o
         USING (project_id, sid)
       ORDER BY s.project_id, s.sid FOR UPDATE OF s
     )
     -- A created row's state is the caller's own: only its key comes back, and the keys of a
     -- project come back in one row (parsing a row per session was a third of this statement's
     -- cost in Vigil).
     SELECT project_id, string_agg(sid::text, ',') AS created, NULL::text AS sid,
            NULL::int AS release_id, NULL::int AS environment_id, NULL::timestamptz AS started, NULL::text AS user_hash,
            NULL::bool AS init_seen, NULL::bool AS errored, NULL::bool AS crashed,
            NULL::bool AS abnormal, NULL::bool AS unhandled, NULL::bool AS anr,
            NULL::bool AS anr_foreground, NULL::text AS last_seq,
            NULL::timestamptz AS last_timestamp, NULL::text AS last_status,
            NULL::float8 AS duration
     FROM inserted GROUP BY project_id
     UNION ALL
     SELECT project_id, NULL, sid::text, release_id, environment_id, started, user_hash::text,
            init_seen, errored, crashed, abnormal, unhandled, anr, anr_foreground, last_seq::text,
            last_timestamp, last_status, duration
     FROM existing`,
    [JSON.stringify(rows)],
    'lockSessionStates',
  );
  const created: string[] = [];
  const existing: StateRow[] = [];
  for (const row of result) {
    if (row.created === null) existing.push(row);
    else for (const sid of row.created.split(',')) created.push(stateKey(row.project_id, sid));
  }
  return { created, existing };
}

async function addAggregates(
  tx: SqlSession,
  batches: readonly ResolvedBatch[],
  dims: ResolvedDimensions,
  changes: MetricChanges,
  outcomes: OutcomeRows,
) {
  const items = batches.flatMap((b) => b.aggregates.map((item) => ({ batch: b, item })));
  if (items.length === 0) return;
  const receipts = items.flatMap(({ batch, item }) =>
    item.digest === null
      ? []
      : [{ project_id: batch.projectId, digest: item.digest, received_at: batch.receivedAt }],
  );
  const fresh =
    receipts.length === 0
      ? []
      : await tx.query<{ project_id: number; digest: string }>(
          `/* insertAggregateReceipts */
     INSERT INTO aggregate_receipt (project_id, digest, received_at)
     SELECT * FROM json_to_recordset($1::json) AS r(project_id int, digest text, received_at timestamptz)
     ORDER BY 1, 2
     ON CONFLICT DO NOTHING RETURNING project_id, digest`,
          [JSON.stringify(receipts)],
          'insertAggregateReceipts',
        );
  const counted = new Set(fresh.map((r) => `${r.project_id}|${r.digest}`));
  for (const { batch, item } of items) {
    // Deleting makes the same item twice in one batch count once too.
    if (item.digest !== null && !counted.delete(`${batch.projectId}|${item.digest}`)) {
      outcomes.add(batch.projectId, batch.receivedAt, 'dropped', 'duplicate', item.buckets.length);
      continue;
    }
    let sessions = 0;
    const project = { id: batch.projectId, organizationId: batch.organizationId };
    const releaseId = dims.releaseId(project, item.release);
    const environmentId = dims.environmentId(batch.projectId, item.environment);
    for (const bucket of item.buckets) {
      const userHash = bucket.did === null ? null : hashUser(bucket.did);
      const dims = {
        projectId: batch.projectId,
        releaseId,
        environmentId,
        started: bucket.started,
      };
      changes.addAggregate(dims, bucket, userHash);
      sessions +=
        bucket.exited + bucket.errored + bucket.abnormal + bucket.crashed + bucket.unhandled;
    }
    outcomes.add(batch.projectId, batch.receivedAt, 'aggregated', '', sessions);
  }
}

/**
 * Session states, counters, user and duration deltas, and ingest outcomes: one statement, five
 * tables. Each minute row of `changes` is bucketed into every granularity (hours and days hold
 * whole minutes) and summed per primary key (ON CONFLICT DO UPDATE may touch a row once per
 * statement), in primary-key order so lock order never deadlocks.
 */
async function writeRows(
  tx: TransactionSession,
  states: StateJson[],
  metricChanges: MetricChanges,
  outcomes: OutcomeColumns[],
) {
  const { changes, durations } = metricChanges.rows();
  if (states.length + changes.length + durations.length + outcomes.length === 0) return;
  // The last statement: its counter rows are every writer's hot rows, locked until COMMIT.
  await tx.queryAndCommit(
    `/* writeSessionRows */
     WITH states AS (
       UPDATE session_state AS s SET user_hash = v.user_hash, init_seen = v.init_seen,
         errored = v.errored, crashed = v.crashed, abnormal = v.abnormal, unhandled = v.unhandled,
         anr = v.anr, anr_foreground = v.anr_foreground, last_seq = v.last_seq, last_timestamp = v.last_timestamp, last_status = v.last_status,
         duration = v.duration
       FROM (SELECT ${STATE_COLUMNS} FROM json_to_recordset($1::json) AS v(${STATE_JSON})) AS v
       WHERE s.project_id = v.project_id AND s.sid = v.sid
     ), bucketed AS MATERIALIZED (
       SELECT c.project_id, c.release_id, c.environment_id, c.sessions, c.errored_all, c.crashed,
              c.abnormal, c.unhandled, c.anr, c.anr_foreground, c.entries, g.granularity,
              date_bin(make_interval(secs => g.granularity), c.started, timestamptz 'epoch') AS bucket
       FROM (
         SELECT r.project_id, r.release_id, r.environment_id, to_timestamp(r.minute) AS started,
                r.sessions, r.errored_all, r.crashed, r.abnormal, r.unhandled, r.anr,
                r.anr_foreground, decode(r.users, 'base64') AS entries
         -- Sums of a batch's sessions: 64-bit, like the counters they add to.
         FROM json_to_recordset($2::json) AS r(project_id int, release_id int, environment_id int,
           minute int8, sessions int8, errored_all int8, crashed int8, abnormal int8,
           unhandled int8, anr int8, anr_foreground int8, users text)
       ) AS c
       CROSS JOIN unnest($3::int[]) AS g(granularity)
     ), counters AS (
       INSERT INTO session_counter AS c (project_id, release_id, environment_id, granularity, bucket,
         sessions, errored_all, crashed, abnormal, unhandled, anr, anr_foreground)
       -- Each change counts for its release and for release 0, the project's all-releases row,
       -- so project-wide reads sum one row per bucket instead of one per release.
       SELECT b.project_id, l.release_id, b.environment_id, b.granularity, b.bucket,
              sum(b.sessions), sum(b.errored_all), sum(b.crashed), sum(b.abnormal),
              sum(b.unhandled), sum(b.anr), sum(b.anr_foreground)
       FROM bucketed b CROSS JOIN LATERAL (VALUES (b.release_id), (0)) AS l(release_id)
       GROUP BY b.project_id, l.release_id, b.granularity, b.bucket, b.environment_id
       HAVING sum(b.sessions) <> 0 OR sum(b.errored_all) <> 0 OR sum(b.crashed) <> 0
           OR sum(b.abnormal) <> 0 OR sum(b.unhandled) <> 0 OR sum(b.anr) <> 0
           OR sum(b.anr_foreground) <> 0
       ORDER BY b.project_id, l.release_id, b.granularity, b.bucket, b.environment_id
       ON CONFLICT (project_id, release_id, granularity, bucket, environment_id) DO UPDATE SET
         sessions = c.sessions + EXCLUDED.sessions, errored_all = c.errored_all + EXCLUDED.errored_all,
         crashed = c.crashed + EXCLUDED.crashed, abnormal = c.abnormal + EXCLUDED.abnormal,
         unhandled = c.unhandled + EXCLUDED.unhandled, anr = c.anr + EXCLUDED.anr,
         anr_foreground = c.anr_foreground + EXCLUDED.anr_foreground
     ), users AS (
       -- Appended, never updated: a transaction takes no lock on a user set, and a user seen
       -- twice is folded once (src/metrics/user-sets.fold.ts). 9 bytes a user: hash, fact flags.
       INSERT INTO session_user_delta (project_id, release_id, environment_id, granularity, bucket,
         entries)
       SELECT project_id, release_id, environment_id, granularity, bucket,
              string_agg(entries, ''::bytea)
       FROM bucketed WHERE entries IS NOT NULL
       GROUP BY project_id, release_id, granularity, bucket, environment_id
     ), durations AS (
       -- Appended at minute buckets, never updated: folded into every granularity later
       -- (src/metrics/durations.fold.ts), so a session costs one row here instead of three upserts.
       INSERT INTO session_duration_delta (project_id, release_id, environment_id, bucket, value, count)
       SELECT project_id, release_id, environment_id, to_timestamp(minute), value, count
       FROM json_to_recordset($5::json) AS d(project_id int, release_id int, environment_id int,
         minute int8, value float8, count int)
     )
     ${upsertOutcomesSql('$4')}`,
    [
      JSON.stringify(states),
      JSON.stringify(changes),
      GRANULARITIES,
      JSON.stringify(outcomes),
      JSON.stringify(durations),
    ],
    'writeSessionRows',
  );
}

/** Accepted and dropped items per project, minute of receipt and reason; aggregates add theirs. */
function itemOutcomes(batches: readonly ResolvedBatch[]): OutcomeRows {
  const outcomes = new OutcomeRows();
  for (const batch of batches) {
    outcomes.add(batch.projectId, batch.receivedAt, 'accepted', '', batch.updates.length);
    for (const [reason, count] of batch.rejected) {
      outcomes.add(batch.projectId, batch.receivedAt, 'dropped', reason, count);
    }
  }
  return outcomes;
}

/**
 * A session's state as both statements take it: short keys, facts as bits, times in epoch
 * milliseconds, nulls left out. At 400 bytes a session, the long form's JSON and its socket
 * writes were most of the store's CPU; this form is a third of that.
 */
interface StateJson {
  p: number;
  s: string;
  /** The user's hash, as a decimal string (JSON has no 64-bit integers). */
  u?: string;
  f: number;
  q?: string;
  lt?: number;
  ls?: SessionStatus;
  d?: number;
  /** Release, environment and `started` (ms): only for a state to create, they never change. */
  r?: number;
  e?: number;
  t?: number;
}

function stateJson(projectId: number, s: SessionState, placed = false): StateJson {
  return {
    p: projectId,
    s: s.sid,
    u: s.userHash === null ? undefined : s.userHash.toString(),
    // Bit 0: init seen; above it, the user's fact flags, which are the session's facts.
    f: (s.initSeen ? 1 : 0) | (factFlags(s) << 1),
    q: s.lastSeq === null ? undefined : s.lastSeq.toString(),
    lt: s.lastTimestamp === null ? undefined : s.lastTimestamp.getTime(),
    ls: s.lastStatus ?? undefined,
    d: s.duration ?? undefined,
    r: placed ? s.releaseId : undefined,
    e: placed ? s.environmentId : undefined,
    t: placed ? s.started.getTime() : undefined,
  };
}

/** `StateJson`'s record type, for `json_to_recordset`, and its columns of `session_state`. */
const STATE_JSON = 'p int, s uuid, u bigint, f int, q numeric, lt int8, ls text, d float8';
const STATE_COLUMNS = `v.p AS project_id, v.s AS sid, v.u AS user_hash,
  -- FACT_FLAGS, one bit up.
  v.f & 1 <> 0 AS init_seen, v.f & 2 <> 0 AS errored, v.f & 4 <> 0 AS crashed,
  v.f & 8 <> 0 AS abnormal, v.f & 16 <> 0 AS unhandled, v.f & 32 <> 0 AS anr,
  v.f & 64 <> 0 AS anr_foreground, v.q AS last_seq,
  timestamptz 'epoch' + v.lt * interval '1 millisecond' AS last_timestamp, v.ls AS last_status,
  v.d AS duration`;

/** A locked `session_state` row; 64-bit integers arrive as text. */
interface StateRow {
  project_id: number;
  sid: string;
  user_hash: string | null;
  init_seen: boolean;
  errored: boolean;
  crashed: boolean;
  abnormal: boolean;
  unhandled: boolean;
  anr: boolean;
  anr_foreground: boolean;
  last_seq: string | null;
  last_timestamp: Date | null;
  last_status: SessionStatus | null;
  duration: number | null;
  /**
   * The sessions this statement created, whole, from the caller's merged state: one row per
   * project, their ids joined by commas, every other column but `project_id` null.
   */
  created: string | null;
  release_id: number;
  environment_id: number;
  started: Date;
}

function fromRow(row: StateRow): SessionState {
  return {
    ...emptyState(row.sid, row.release_id, row.environment_id, row.started),
    userHash: row.user_hash === null ? null : BigInt(row.user_hash),
    initSeen: row.init_seen,
    errored: row.errored,
    crashed: row.crashed,
    abnormal: row.abnormal,
    unhandled: row.unhandled,
    anr: row.anr,
    anrForeground: row.anr_foreground,
    lastSeq: row.last_seq === null ? null : BigInt(row.last_seq),
    lastTimestamp: row.last_timestamp,
    lastStatus: row.last_status,
    duration: row.duration,
  };
}
