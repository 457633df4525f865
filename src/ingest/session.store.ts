import type { Database } from '../db/client.ts';
import type { ResolvedDimensions } from './dimensions.ts';
import { MetricRows } from './metric-rows.ts';
import type { AggregateItem, RejectReason, SessionStatus, SessionUpdate } from './session.item.ts';
import {
  contributionOf,
  emptyState,
  hashUser,
  mergeUpdate,
  type SessionState,
} from './session.merge.ts';

// Envelopes → rows, in one transaction of at most three set-based statements however many
// envelopes and items it holds: arrays travel as single parameters and `unnest` turns them into
// rows; the writes to five tables share one statement through data-modifying CTEs.

export interface EnvelopeBatch {
  projectId: number;
  receivedAt: Date;
  updates: SessionUpdate[];
  /** Each with the digest that recognises the item if the envelope is sent again. */
  aggregates: Array<AggregateItem & { digest: string }>;
  rejected: Map<RejectReason, number>;
}

/** An envelope's batch with the ids of its releases and environments. */
export interface ResolvedBatch extends EnvelopeBatch {
  dims: ResolvedDimensions;
}

type Tx = Parameters<Parameters<Database['prisma']['$transaction']>[0]>[0];

/** Writes envelopes' sessions in one transaction; resolves once they are committed. */
export async function storeEnvelopes(
  db: Database,
  batches: readonly ResolvedBatch[],
): Promise<void> {
  const work = batches.filter((b) => b.updates.length + b.aggregates.length + b.rejected.size > 0);
  if (work.length === 0) return;
  await db.prisma.$transaction(async (tx) => {
    const rows = new MetricRows();
    const states = await mergeSessions(tx, work, rows);
    await addAggregates(tx, work, rows);
    await writeRows(tx, states, rows, work);
  });
}

const stateKey = (projectId: number, sid: string) => `${projectId}|${sid}`;

async function mergeSessions(tx: Tx, batches: readonly ResolvedBatch[], rows: MetricRows) {
  const updates = new Map<
    string,
    { projectId: number; first: SessionUpdate; all: SessionUpdate[]; dims: ResolvedDimensions }
  >();
  for (const batch of batches) {
    for (const u of batch.updates) {
      const key = stateKey(batch.projectId, u.sid);
      const entry = updates.get(key);
      if (entry) entry.all.push(u);
      else updates.set(key, { projectId: batch.projectId, first: u, all: [u], dims: batch.dims });
    }
  }
  if (updates.size === 0) return [];
  // Sorted so that concurrent transactions lock the same sessions in the same order.
  const keys = [...updates.values()].sort(
    (a, b) => a.projectId - b.projectId || (a.first.sid < b.first.sid ? -1 : 1),
  );
  // A new session's row starts from its first update's release, environment and start.
  const stateKeyOf = (k: (typeof keys)[number]): StateKey => ({
    projectId: k.projectId,
    sid: k.first.sid,
    releaseId: k.dims.releaseIds.get(k.first.release) as number,
    environmentId: k.dims.environmentIds.get(k.first.environment) as number,
    started: k.first.started,
  });
  let stored = await lockSessionStates(tx, keys.map(stateKeyOf));
  if (stored.length < keys.length) {
    // Another transaction created some of these sessions after this statement's snapshot:
    // its rows are committed now, and a second pass sees and locks them.
    const seen = new Set(stored.map((s) => stateKey(s.project_id, s.sid)));
    const missing = keys.filter((k) => !seen.has(stateKey(k.projectId, k.first.sid)));
    stored = stored.concat(await lockSessionStates(tx, missing.map(stateKeyOf)));
  }
  const changed: Array<SessionState & { projectId: number }> = [];
  for (const row of stored) {
    const before = fromRow(row);
    let after = before;
    for (const update of updates.get(stateKey(row.project_id, row.sid))?.all ?? []) {
      after = mergeUpdate(after, update);
    }
    if (after === before) continue;
    const dims = {
      projectId: row.project_id,
      releaseId: before.releaseId,
      environmentId: before.environmentId,
      started: before.started,
    };
    rows.addSessionChange(dims, contributionOf(before), contributionOf(after));
    if (after.userHash !== null) {
      const { errored, crashed, abnormal, unhandled } = after;
      rows.addUser(dims, after.userHash, { errored, crashed, abnormal, unhandled });
    }
    changed.push({ ...after, projectId: row.project_id });
  }
  return changed;
}

interface StateKey {
  projectId: number;
  sid: string;
  releaseId: number;
  environmentId: number;
  started: Date;
}

/** Creates the sessions not seen before and locks every one of them until commit. */
function lockSessionStates(tx: Tx, keys: StateKey[]): Promise<StateRow[]> {
  return tx.$queryRawUnsafe<StateRow[]>(
    `/* lockSessionStates */
     WITH k AS (
       SELECT * FROM unnest($1::int[], $2::uuid[], $3::int[], $4::int[], $5::timestamptz[])
         AS k(project_id, sid, release_id, environment_id, started)
     ), inserted AS (
       INSERT INTO session_state (project_id, sid, release_id, environment_id, started)
       SELECT * FROM k ORDER BY project_id, sid
       ON CONFLICT (project_id, sid) DO NOTHING
       RETURNING *
     ), existing AS (
       SELECT s.* FROM session_state s JOIN k USING (project_id, sid)
       ORDER BY s.project_id, s.sid FOR UPDATE OF s
     )
     SELECT project_id, sid::text, release_id, environment_id, started, user_hash, init_seen,
            errored, crashed, abnormal, unhandled, last_seq::text, last_timestamp, last_status, duration
     FROM (SELECT * FROM inserted UNION ALL SELECT * FROM existing) AS s`,
    keys.map((k) => k.projectId),
    keys.map((k) => k.sid),
    keys.map((k) => k.releaseId),
    keys.map((k) => k.environmentId),
    keys.map((k) => k.started),
  );
}

async function addAggregates(tx: Tx, batches: readonly ResolvedBatch[], rows: MetricRows) {
  const items = batches.flatMap((b) => b.aggregates.map((item) => ({ batch: b, item })));
  if (items.length === 0) return;
  const fresh = await tx.$queryRawUnsafe<Array<{ project_id: number; digest: string }>>(
    `/* insertAggregateReceipts */
     INSERT INTO aggregate_receipt (project_id, digest, received_at)
     SELECT * FROM unnest($1::int[], $2::text[], $3::timestamptz[]) ORDER BY 1, 2
     ON CONFLICT DO NOTHING RETURNING project_id, digest`,
    items.map((i) => i.batch.projectId),
    items.map((i) => i.item.digest),
    items.map((i) => i.batch.receivedAt),
  );
  const counted = new Set(fresh.map((r) => `${r.project_id}|${r.digest}`));
  for (const { batch, item } of items) {
    // Deleting makes the same item twice in one batch count once too.
    if (!counted.delete(`${batch.projectId}|${item.digest}`)) continue;
    const releaseId = batch.dims.releaseIds.get(item.release) as number;
    const environmentId = batch.dims.environmentIds.get(item.environment) as number;
    for (const bucket of item.buckets) {
      const userHash = bucket.did === null ? null : hashUser(bucket.did);
      rows.addAggregate(
        { projectId: batch.projectId, releaseId, environmentId, started: bucket.started },
        bucket,
        userHash,
      );
    }
  }
}

type Keyed = {
  projectId: number;
  releaseId: number;
  environmentId: number;
  granularity: number;
  bucket: Date;
};
const byKey = (a: Keyed, b: Keyed) =>
  a.projectId - b.projectId ||
  a.releaseId - b.releaseId ||
  a.environmentId - b.environmentId ||
  a.granularity - b.granularity ||
  a.bucket.getTime() - b.bucket.getTime();

/** Session states, counters, users, durations and rejections: one statement, five tables. */
async function writeRows(
  tx: Tx,
  states: Array<SessionState & { projectId: number }>,
  rows: MetricRows,
  batches: readonly ResolvedBatch[],
) {
  // Sorted by primary key, as every writer does, so lock order never deadlocks.
  const counters = [...rows.counters.values()].sort(byKey);
  const users = [...rows.users.values()].sort(
    (a, b) => byKey(a, b) || (a.userHash < b.userHash ? -1 : a.userHash > b.userHash ? 1 : 0),
  );
  const durations = [...rows.durations.values()]
    .filter((d) => d.count !== 0)
    .sort((a, b) => byKey(a, b) || a.value - b.value);
  const rejected = rejectedRows(batches);
  if (states.length + counters.length + users.length + durations.length + rejected.length === 0)
    return;
  await tx.$executeRawUnsafe(
    `/* writeSessionRows */
     WITH states AS (
       UPDATE session_state AS s SET user_hash = v.user_hash, init_seen = v.init_seen,
         errored = v.errored, crashed = v.crashed, abnormal = v.abnormal, unhandled = v.unhandled,
         last_seq = v.last_seq, last_timestamp = v.last_timestamp, last_status = v.last_status,
         duration = v.duration
       FROM unnest($1::int[], $2::uuid[], $3::bigint[], $4::bool[], $5::bool[], $6::bool[],
                   $7::bool[], $8::bool[], $9::numeric[], $10::timestamptz[], $11::text[], $12::float8[])
         AS v(project_id, sid, user_hash, init_seen, errored, crashed, abnormal, unhandled, last_seq,
              last_timestamp, last_status, duration)
       WHERE s.project_id = v.project_id AND s.sid = v.sid
     ), counters AS (
       INSERT INTO session_counter AS c (project_id, release_id, environment_id, granularity, bucket,
         sessions, errored_all, crashed, abnormal, unhandled)
       SELECT * FROM unnest($13::int[], $14::int[], $15::int[], $16::int[], $17::timestamptz[],
         $18::int[], $19::int[], $20::int[], $21::int[], $22::int[])
       ON CONFLICT (project_id, release_id, environment_id, granularity, bucket) DO UPDATE SET
         sessions = c.sessions + EXCLUDED.sessions, errored_all = c.errored_all + EXCLUDED.errored_all,
         crashed = c.crashed + EXCLUDED.crashed, abnormal = c.abnormal + EXCLUDED.abnormal,
         unhandled = c.unhandled + EXCLUDED.unhandled
     ), users AS (
       INSERT INTO session_users AS u (project_id, release_id, environment_id, granularity, bucket,
         user_hash, errored, crashed, abnormal, unhandled)
       SELECT * FROM unnest($23::int[], $24::int[], $25::int[], $26::int[], $27::timestamptz[],
         $28::bigint[], $29::bool[], $30::bool[], $31::bool[], $32::bool[])
       ON CONFLICT (project_id, release_id, environment_id, granularity, bucket, user_hash) DO UPDATE SET
         errored = u.errored OR EXCLUDED.errored, crashed = u.crashed OR EXCLUDED.crashed,
         abnormal = u.abnormal OR EXCLUDED.abnormal, unhandled = u.unhandled OR EXCLUDED.unhandled
       -- Most repeats change nothing: skip the write.
       WHERE (EXCLUDED.errored AND NOT u.errored) OR (EXCLUDED.crashed AND NOT u.crashed)
          OR (EXCLUDED.abnormal AND NOT u.abnormal) OR (EXCLUDED.unhandled AND NOT u.unhandled)
     ), durations AS (
       INSERT INTO session_duration AS d (project_id, release_id, environment_id, granularity, bucket,
         value, count)
       SELECT * FROM unnest($33::int[], $34::int[], $35::int[], $36::int[], $37::timestamptz[],
         $38::float8[], $39::int[])
       ON CONFLICT (project_id, release_id, environment_id, granularity, bucket, value) DO UPDATE SET
         count = d.count + EXCLUDED.count
     )
     INSERT INTO rejected_item AS r (project_id, reason, bucket, count)
     SELECT * FROM unnest($40::int[], $41::text[], $42::timestamptz[], $43::int[])
     ON CONFLICT (project_id, reason, bucket) DO UPDATE SET count = r.count + EXCLUDED.count`,
    ...columns(states, [
      'projectId',
      'sid',
      'userHash',
      'initSeen',
      'errored',
      'crashed',
      'abnormal',
      'unhandled',
    ]),
    states.map((s) => (s.lastSeq === null ? null : s.lastSeq.toString())),
    ...columns(states, ['lastTimestamp', 'lastStatus', 'duration']),
    ...columns(counters, [
      'projectId',
      'releaseId',
      'environmentId',
      'granularity',
      'bucket',
      'sessions',
      'erroredAll',
      'crashed',
      'abnormal',
      'unhandled',
    ]),
    ...columns(users, [
      'projectId',
      'releaseId',
      'environmentId',
      'granularity',
      'bucket',
      'userHash',
      'errored',
      'crashed',
      'abnormal',
      'unhandled',
    ]),
    ...columns(durations, [
      'projectId',
      'releaseId',
      'environmentId',
      'granularity',
      'bucket',
      'value',
      'count',
    ]),
    ...columns(rejected, ['projectId', 'reason', 'bucket', 'count']),
  );
}

/** Rejections per project, reason and hour of receipt. */
function rejectedRows(batches: readonly ResolvedBatch[]) {
  const rows = new Map<
    string,
    { projectId: number; reason: string; bucket: Date; count: number }
  >();
  for (const batch of batches) {
    const hour = new Date(Math.floor(batch.receivedAt.getTime() / 3_600_000) * 3_600_000);
    for (const [reason, count] of batch.rejected) {
      const key = `${batch.projectId}|${reason}|${hour.getTime()}`;
      const row = rows.get(key);
      if (row) row.count += count;
      else rows.set(key, { projectId: batch.projectId, reason, bucket: hour, count });
    }
  }
  return [...rows.values()].sort(
    (a, b) =>
      a.projectId - b.projectId ||
      (a.reason < b.reason ? -1 : 1) ||
      a.bucket.getTime() - b.bucket.getTime(),
  );
}

/** Column arrays for `unnest`, in the order the statement lists them. */
function columns<Row, Key extends keyof Row>(rows: Row[], keys: Key[]): unknown[][] {
  return keys.map((key) => rows.map((row) => row[key]));
}

interface StateRow {
  project_id: number;
  sid: string;
  release_id: number;
  environment_id: number;
  started: Date;
  user_hash: bigint | null;
  init_seen: boolean;
  errored: boolean;
  crashed: boolean;
  abnormal: boolean;
  unhandled: boolean;
  last_seq: string | null;
  last_timestamp: Date | null;
  last_status: SessionStatus | null;
  duration: number | null;
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
    lastSeq: row.last_seq === null ? null : BigInt(row.last_seq),
    lastTimestamp: row.last_timestamp,
    lastStatus: row.last_status,
    duration: row.duration,
  };
}
