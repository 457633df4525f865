import type { Database, SqlSession } from '../db/client.ts';
import { foldMetricDeltasSoon } from '../metrics/metric-deltas.fold.ts';
import { GRANULARITIES, MINUTE } from '../metrics/metric-store.ts';
import type { createDimensionCache, ResolvedDimensions } from './dimensions.ts';
import { type OutcomeColumns, OutcomeRows, upsertOutcomesSql } from './ingest-outcome.ts';
import { aggregateChange, type MetricChange, sessionChange } from './metric-changes.ts';
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
    const changes: MetricChange[] = [];
    const outcomes = itemOutcomes(work);
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
  changes: MetricChange[],
): Promise<StateColumns[]> {
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
  let stored = await lockSessionStates(tx, keys);
  if (stored.length < keys.length) {
    // Another transaction created some of these sessions after this statement's snapshot:
    // its rows are committed now, and a second pass sees and locks them.
    const seen = new Set(stored.map((s) => stateKey(s.project_id, s.sid)));
    const missing = keys.filter((k) => !seen.has(stateKey(k.projectId, k.first.sid)));
    stored = stored.concat(await lockSessionStates(tx, missing));
  }
  const changed: StateColumns[] = [];
  for (const row of stored) {
    const key = stateKey(row.project_id, row.sid);
    const entry = updates.get(key);
    if (!entry) continue;
    // A session this statement created was written whole, merged from its empty state.
    const before = row.inserted ? freshState(entry).empty : fromRow(row);
    const after = row.inserted ? freshState(entry).merged : mergeAll(before, entry.all);
    if (after === before) continue;
    const dims = {
      projectId: row.project_id,
      releaseId: before.releaseId,
      environmentId: before.environmentId,
      started: before.started,
    };
    changes.push(
      sessionChange(dims, contributionOf(before), contributionOf(after), after.userHash, after),
    );
    if (!row.inserted) changed.push(toColumns(row.project_id, after));
  }
  return changed;
}

/**
 * Creates the sessions not seen before, whole (their updates merged into an empty state, so no
 * second write), and locks every one of them until commit. Rows are taken in key order, as every
 * writer takes them, so concurrent transactions never deadlock. `inserted` tells the rows this
 * statement created from those that existed (whose stored state the caller merges into).
 */
function lockSessionStates(tx: SqlSession, keys: SessionUpdates[]): Promise<StateRow[]> {
  const rows = keys.map((k) => {
    return {
      ...toColumns(k.projectId, freshState(k).merged),
      release_id: k.releaseId,
      environment_id: k.environmentId,
      started: k.first.started,
    };
  });
  return tx.query<StateRow>(
    `/* lockSessionStates */
     WITH k AS (
       SELECT * FROM json_to_recordset($1::json)
         AS k(project_id int, sid uuid, release_id int, environment_id int, started timestamptz,
           user_hash bigint, init_seen bool, errored bool, crashed bool, abnormal bool,
           unhandled bool, anr bool, anr_foreground bool, last_seq numeric,
           last_timestamp timestamptz, last_status text, duration float8)
     ), inserted AS (
       INSERT INTO session_state (project_id, sid, release_id, environment_id, started, user_hash,
         init_seen, errored, crashed, abnormal, unhandled, anr, anr_foreground, last_seq,
         last_timestamp, last_status, duration)
       SELECT * FROM k ORDER BY project_id, sid
       ON CONFLICT (project_id, sid) DO NOTHING
       RETURNING project_id, sid
     ), existing AS (
       SELECT s.* FROM session_state s JOIN k USING (project_id, sid)
       ORDER BY s.project_id, s.sid FOR UPDATE OF s
     )
     -- A created row's state is the caller's own: only its key comes back (parsing is not free).
     SELECT project_id, sid::text, true AS inserted, NULL::int AS release_id,
            NULL::int AS environment_id, NULL::timestamptz AS started, NULL::text AS user_hash,
            NULL::bool AS init_seen, NULL::bool AS errored, NULL::bool AS crashed,
            NULL::bool AS abnormal, NULL::bool AS unhandled, NULL::bool AS anr,
            NULL::bool AS anr_foreground, NULL::text AS last_seq,
            NULL::timestamptz AS last_timestamp, NULL::text AS last_status,
            NULL::float8 AS duration
     FROM inserted
     UNION ALL
     SELECT project_id, sid::text, false, release_id, environment_id, started, user_hash::text,
            init_seen, errored, crashed, abnormal, unhandled, anr, anr_foreground, last_seq::text,
            last_timestamp, last_status, duration
     FROM existing`,
    [JSON.stringify(rows)],
  );
}

async function addAggregates(
  tx: SqlSession,
  batches: readonly ResolvedBatch[],
  dims: ResolvedDimensions,
  changes: MetricChange[],
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
      changes.push(aggregateChange(dims, bucket, userHash));
      sessions +=
        bucket.exited + bucket.errored + bucket.abnormal + bucket.crashed + bucket.unhandled;
    }
    outcomes.add(batch.projectId, batch.receivedAt, 'aggregated', '', sessions);
  }
}

/**
 * Session states, counters, user and duration deltas, and ingest outcomes: one statement, five tables. Each
 * change is bucketed into every granularity and summed per primary key (ON CONFLICT DO UPDATE
 * may touch a row once per statement), in primary-key order so lock order never deadlocks.
 */
async function writeRows(
  tx: SqlSession,
  states: StateColumns[],
  changes: MetricChange[],
  outcomes: OutcomeColumns[],
) {
  if (states.length + changes.length + outcomes.length === 0) return;
  await tx.query(
    `/* writeSessionRows */
     WITH states AS (
       UPDATE session_state AS s SET user_hash = v.user_hash, init_seen = v.init_seen,
         errored = v.errored, crashed = v.crashed, abnormal = v.abnormal, unhandled = v.unhandled,
         anr = v.anr, anr_foreground = v.anr_foreground, last_seq = v.last_seq, last_timestamp = v.last_timestamp, last_status = v.last_status,
         duration = v.duration
       FROM json_to_recordset($1::json) AS v(project_id int, sid uuid, user_hash bigint,
         init_seen bool, errored bool, crashed bool, abnormal bool, unhandled bool, anr bool,
         anr_foreground bool, last_seq numeric,
         last_timestamp timestamptz, last_status text, duration float8)
       WHERE s.project_id = v.project_id AND s.sid = v.sid
     ), bucketed AS MATERIALIZED (
       -- One change holds at most 5 × MAX_AGGREGATE_COUNT sessions, so int: sum(int) is a bigint,
       -- cheaper than sum(bigint)'s numeric, and so are the counters it adds to.
       SELECT c.*, g.granularity,
              date_bin(make_interval(secs => g.granularity), c.started, timestamptz 'epoch') AS bucket
       FROM json_to_recordset($2::json) AS c(project_id int, release_id int, environment_id int,
         started timestamptz, sessions int, errored_all int, crashed int, abnormal int, unhandled int,
         anr int, anr_foreground int, user_hash bigint, user_errored bool, user_crashed bool,
         user_abnormal bool, user_unhandled bool, user_anr bool, user_anr_foreground bool,
         duration_removed float8, duration_added float8)
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
              string_agg(int8send(user_hash) || set_byte('\\x00'::bytea, 0,
                user_errored::int | (user_crashed::int << 1) | (user_abnormal::int << 2)
                | (user_unhandled::int << 3) | (user_anr::int << 4)
                | (user_anr_foreground::int << 5)), ''::bytea)
       FROM bucketed WHERE user_hash IS NOT NULL
       GROUP BY project_id, release_id, granularity, bucket, environment_id
     ), durations AS (
       -- Appended at minute buckets, never updated: folded into every granularity later
       -- (src/metrics/durations.fold.ts), so a session costs one row here instead of three upserts.
       INSERT INTO session_duration_delta (project_id, release_id, environment_id, bucket, value, count)
       SELECT project_id, release_id, environment_id, bucket, value, sum(delta)
       FROM (
         SELECT *, duration_removed AS value, -1 AS delta FROM bucketed
         WHERE duration_removed IS NOT NULL AND granularity = ${MINUTE}
         UNION ALL
         SELECT *, duration_added, 1 FROM bucketed
         WHERE duration_added IS NOT NULL AND granularity = ${MINUTE}
       ) AS moved
       GROUP BY project_id, release_id, bucket, environment_id, value
       HAVING sum(delta) <> 0
     )
     ${upsertOutcomesSql('$4')}`,
    [JSON.stringify(states), JSON.stringify(changes), GRANULARITIES, JSON.stringify(outcomes)],
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

/** A row of the write statement's `states` parameter: `session_state`'s columns that change. */
interface StateColumns {
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
}

function toColumns(projectId: number, s: SessionState): StateColumns {
  return {
    project_id: projectId,
    sid: s.sid,
    user_hash: s.userHash === null ? null : s.userHash.toString(),
    init_seen: s.initSeen,
    errored: s.errored,
    crashed: s.crashed,
    abnormal: s.abnormal,
    unhandled: s.unhandled,
    anr: s.anr,
    anr_foreground: s.anrForeground,
    last_seq: s.lastSeq === null ? null : s.lastSeq.toString(),
    last_timestamp: s.lastTimestamp,
    last_status: s.lastStatus,
    duration: s.duration,
  };
}

/** A locked `session_state` row; 64-bit integers arrive as text, as they are sent. */
interface StateRow extends StateColumns {
  /** Created by this statement, whole, from the caller's merged state: the other columns are null. */
  inserted: boolean;
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
