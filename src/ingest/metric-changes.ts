import type { AggregateBucket } from './session.item.ts';
import type { Contribution } from './session.merge.ts';

// What a batch of envelopes changes in the metric store: one row per changed session or counted
// aggregate bucket, at its exact `started`. The write statement buckets each row into every
// granularity and sums per key in SQL; doing that fan-out here cost most of the ingest CPU.

export interface Dimensions {
  projectId: number;
  releaseId: number;
  environmentId: number;
  started: Date;
}

export interface UserFlags {
  errored: boolean;
  crashed: boolean;
  abnormal: boolean;
  unhandled: boolean;
  anr: boolean;
  anrForeground: boolean;
}

/** A row of the write statement's `changes` parameter; names are its SQL column names. */
export interface MetricChange {
  project_id: number;
  release_id: number;
  environment_id: number;
  started: Date;
  sessions: number;
  errored_all: number;
  crashed: number;
  abnormal: number;
  unhandled: number;
  anr: number;
  anr_foreground: number;
  /** The user, as a decimal string (JSON has no 64-bit integers), and what happened to them. */
  user_hash: string | null;
  user_errored: boolean;
  user_crashed: boolean;
  user_abnormal: boolean;
  user_unhandled: boolean;
  user_anr: boolean;
  user_anr_foreground: boolean;
  /** Representative durations leaving and entering the histogram. */
  duration_removed: number | null;
  duration_added: number | null;
}

// Plain object literals of one shape: this runs once per session update, and spreads made it the
// ingest path's costliest function.

/** `after − before` for one session: each fact counts once, whenever it first shows. */
export function sessionChange(
  dims: Dimensions,
  before: Contribution,
  after: Contribution,
  userHash: bigint | null,
  /** What happened to the session's user, counted only when there is one. */
  user: UserFlags,
): MetricChange {
  const durationMoved = before.duration !== after.duration;
  return {
    project_id: dims.projectId,
    release_id: dims.releaseId,
    environment_id: dims.environmentId,
    started: dims.started,
    sessions: after.sessions - before.sessions,
    errored_all: after.erroredAll - before.erroredAll,
    crashed: after.crashed - before.crashed,
    abnormal: after.abnormal - before.abnormal,
    unhandled: after.unhandled - before.unhandled,
    anr: after.anr - before.anr,
    anr_foreground: after.anrForeground - before.anrForeground,
    user_hash: userHash === null ? null : userHash.toString(),
    user_errored: user.errored,
    user_crashed: user.crashed,
    user_abnormal: user.abnormal,
    user_unhandled: user.unhandled,
    user_anr: user.anr,
    user_anr_foreground: user.anrForeground,
    duration_removed: durationMoved ? before.duration : null,
    duration_added: durationMoved ? after.duration : null,
  };
}

/** spec §3 for a `sessions` bucket: its `errored` excludes the crashed, abnormal and unhandled. */
export function aggregateChange(
  dims: Dimensions,
  bucket: AggregateBucket,
  userHash: bigint | null,
): MetricChange {
  const fatal = bucket.abnormal + bucket.crashed + bucket.unhandled;
  return {
    project_id: dims.projectId,
    release_id: dims.releaseId,
    environment_id: dims.environmentId,
    started: dims.started,
    sessions: bucket.exited + bucket.errored + fatal,
    errored_all: bucket.errored + fatal,
    crashed: bucket.crashed,
    abnormal: bucket.abnormal,
    unhandled: bucket.unhandled,
    // Aggregates carry no mechanism (Relay: always none).
    anr: 0,
    anr_foreground: 0,
    user_hash: userHash === null ? null : userHash.toString(),
    user_errored: bucket.errored + fatal > 0,
    user_crashed: bucket.crashed > 0,
    user_abnormal: bucket.abnormal > 0,
    user_unhandled: bucket.unhandled > 0,
    user_anr: false,
    user_anr_foreground: false,
    duration_removed: null,
    duration_added: null,
  };
}
