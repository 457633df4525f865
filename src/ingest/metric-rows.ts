import type { AggregateBucket } from './session.item.ts';
import type { Contribution } from './session.merge.ts';

// The rows a batch of envelopes adds to the metric store, summed per key before they are written:
// an `INSERT … ON CONFLICT DO UPDATE` may touch each row only once per statement.

/** Bucket sizes in seconds: minutes for short series, hours and days for long ones. */
export const GRANULARITIES = [60, 3600, 86400] as const;

export interface Dimensions {
  projectId: number;
  releaseId: number;
  environmentId: number;
  started: Date;
}

export interface CounterRow {
  projectId: number;
  releaseId: number;
  environmentId: number;
  granularity: number;
  bucket: Date;
  sessions: number;
  erroredAll: number;
  crashed: number;
  abnormal: number;
  unhandled: number;
}

export interface UserFlags {
  errored: boolean;
  crashed: boolean;
  abnormal: boolean;
  unhandled: boolean;
}

export interface UserRow extends UserFlags {
  projectId: number;
  releaseId: number;
  environmentId: number;
  granularity: number;
  bucket: Date;
  userHash: bigint;
}

export interface DurationRow {
  projectId: number;
  releaseId: number;
  environmentId: number;
  granularity: number;
  bucket: Date;
  value: number;
  count: number;
}

export class MetricRows {
  readonly counters = new Map<string, CounterRow>();
  readonly users = new Map<string, UserRow>();
  readonly durations = new Map<string, DurationRow>();

  /** Adds `after − before` for one session: each fact counts once, whenever it first shows. */
  addSessionChange(dims: Dimensions, before: Contribution, after: Contribution): void {
    this.addCounts(dims, {
      sessions: after.sessions - before.sessions,
      erroredAll: after.erroredAll - before.erroredAll,
      crashed: after.crashed - before.crashed,
      abnormal: after.abnormal - before.abnormal,
      unhandled: after.unhandled - before.unhandled,
    });
    if (before.duration !== after.duration) {
      if (before.duration !== null) this.addDuration(dims, before.duration, -1);
      if (after.duration !== null) this.addDuration(dims, after.duration, 1);
    }
  }

  /** spec §3 for a `sessions` bucket: its `errored` excludes the crashed, abnormal and unhandled. */
  addAggregate(dims: Dimensions, bucket: AggregateBucket, userHash: bigint | null): void {
    const fatal = bucket.abnormal + bucket.crashed + bucket.unhandled;
    this.addCounts(dims, {
      sessions: bucket.exited + bucket.errored + fatal,
      erroredAll: bucket.errored + fatal,
      crashed: bucket.crashed,
      abnormal: bucket.abnormal,
      unhandled: bucket.unhandled,
    });
    if (userHash !== null) {
      this.addUser(dims, userHash, {
        errored: bucket.errored + fatal > 0,
        crashed: bucket.crashed > 0,
        abnormal: bucket.abnormal > 0,
        unhandled: bucket.unhandled > 0,
      });
    }
  }

  addCounts(
    dims: Dimensions,
    delta: Omit<CounterRow, keyof Dimensions | 'granularity' | 'bucket'>,
  ) {
    if (
      !delta.sessions &&
      !delta.erroredAll &&
      !delta.crashed &&
      !delta.abnormal &&
      !delta.unhandled
    ) {
      return;
    }
    for (const [granularity, bucket, key] of buckets(dims)) {
      const row = this.counters.get(key);
      if (row) {
        row.sessions += delta.sessions;
        row.erroredAll += delta.erroredAll;
        row.crashed += delta.crashed;
        row.abnormal += delta.abnormal;
        row.unhandled += delta.unhandled;
      } else {
        this.counters.set(key, { ...dimsOf(dims), granularity, bucket, ...delta });
      }
    }
  }

  addUser(dims: Dimensions, userHash: bigint, flags: UserFlags): void {
    for (const [granularity, bucket, key] of buckets(dims)) {
      const userKey = `${key}|${userHash}`;
      const row = this.users.get(userKey);
      if (row) {
        row.errored ||= flags.errored;
        row.crashed ||= flags.crashed;
        row.abnormal ||= flags.abnormal;
        row.unhandled ||= flags.unhandled;
      } else {
        this.users.set(userKey, { ...dimsOf(dims), granularity, bucket, userHash, ...flags });
      }
    }
  }

  private addDuration(dims: Dimensions, value: number, count: number): void {
    for (const [granularity, bucket, key] of buckets(dims)) {
      const durationKey = `${key}|${value}`;
      const row = this.durations.get(durationKey);
      if (row) row.count += count;
      else this.durations.set(durationKey, { ...dimsOf(dims), granularity, bucket, value, count });
    }
  }
}

function dimsOf(dims: Dimensions) {
  return {
    projectId: dims.projectId,
    releaseId: dims.releaseId,
    environmentId: dims.environmentId,
  };
}

function* buckets(dims: Dimensions): Generator<[number, Date, string]> {
  const ms = dims.started.getTime();
  for (const granularity of GRANULARITIES) {
    const size = granularity * 1000;
    const bucket = Math.floor(ms / size) * size;
    yield [
      granularity,
      new Date(bucket),
      `${dims.projectId}|${dims.releaseId}|${dims.environmentId}|${granularity}|${bucket}`,
    ];
  }
}
