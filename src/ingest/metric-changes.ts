import { FACT_ENTRY_BYTES, FACT_FLAGS } from '../metrics/user-facts.ts';
import type { AggregateBucket } from './session.item.ts';
import type { Contribution } from './session.merge.ts';

// What a batch of envelopes changes in the metric store, summed here per minute bucket of each
// release and environment: a transaction of 300 sessions sends a few dozen rows instead of 300,
// and the write statement derives the hour and day buckets (which hold whole minutes) from them.
// The per-session object and its JSON were most of the store's CPU (docs/design.md § The write
// path).

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
export interface MinuteChange {
  project_id: number;
  release_id: number;
  environment_id: number;
  /** The minute bucket, in seconds since the epoch. */
  minute: number;
  sessions: number;
  errored_all: number;
  crashed: number;
  abnormal: number;
  unhandled: number;
  anr: number;
  anr_foreground: number;
  /** Users seen in this bucket, 9 bytes each (hash, fact flags), base64; null: none. */
  users: string | null;
}

/** A row of the write statement's `durations` parameter: value counts moved in a minute bucket. */
export interface DurationChange {
  project_id: number;
  release_id: number;
  environment_id: number;
  minute: number;
  value: number;
  count: number;
}

interface Bucket {
  row: MinuteChange;
  userHashes: bigint[];
  userFlags: number[];
}

const MINUTE_MS = 60_000;

export class MetricChanges {
  readonly #buckets = new Map<string, Bucket>();
  readonly #durations = new Map<string, DurationChange>();

  /** `after − before` for one session: each fact counts once, whenever it first shows. */
  addSession(
    dims: Dimensions,
    before: Contribution,
    after: Contribution,
    userHash: bigint | null,
    /** What happened to the session's user, counted only when there is one. */
    user: UserFlags,
  ): void {
    const b = this.#bucket(dims);
    const row = b.row;
    row.sessions += after.sessions - before.sessions;
    row.errored_all += after.erroredAll - before.erroredAll;
    row.crashed += after.crashed - before.crashed;
    row.abnormal += after.abnormal - before.abnormal;
    row.unhandled += after.unhandled - before.unhandled;
    row.anr += after.anr - before.anr;
    row.anr_foreground += after.anrForeground - before.anrForeground;
    if (userHash !== null) this.#addUser(b, userHash, user);
    if (before.duration !== after.duration) {
      if (before.duration !== null) this.#moveDuration(dims, row.minute, before.duration, -1);
      if (after.duration !== null) this.#moveDuration(dims, row.minute, after.duration, 1);
    }
  }

  /** spec §3 for a `sessions` bucket: its `errored` excludes the crashed, abnormal and unhandled. */
  addAggregate(dims: Dimensions, bucket: AggregateBucket, userHash: bigint | null): void {
    const b = this.#bucket(dims);
    const row = b.row;
    const fatal = bucket.abnormal + bucket.crashed + bucket.unhandled;
    row.sessions += bucket.exited + bucket.errored + fatal;
    row.errored_all += bucket.errored + fatal;
    row.crashed += bucket.crashed;
    row.abnormal += bucket.abnormal;
    row.unhandled += bucket.unhandled;
    // Aggregates carry no mechanism (Relay: always none), so no ANR.
    if (userHash !== null) {
      this.#addUser(b, userHash, {
        errored: bucket.errored + fatal > 0,
        crashed: bucket.crashed > 0,
        abnormal: bucket.abnormal > 0,
        unhandled: bucket.unhandled > 0,
        anr: false,
        anrForeground: false,
      });
    }
  }

  /** The statement's parameters; a bucket whose counters and users did not move is left out. */
  rows(): { changes: MinuteChange[]; durations: DurationChange[] } {
    const changes: MinuteChange[] = [];
    for (const { row, userHashes, userFlags } of this.#buckets.values()) {
      if (userHashes.length > 0) {
        const bytes = Buffer.allocUnsafe(userHashes.length * FACT_ENTRY_BYTES);
        for (let i = 0; i < userHashes.length; i++) {
          bytes.writeBigInt64BE(userHashes[i] as bigint, i * FACT_ENTRY_BYTES);
          bytes[i * FACT_ENTRY_BYTES + 8] = userFlags[i] as number;
        }
        row.users = bytes.toString('base64');
      } else if (!countersMoved(row)) continue;
      changes.push(row);
    }
    const durations = [...this.#durations.values()].filter((d) => d.count !== 0);
    return { changes, durations };
  }

  #bucket(dims: Dimensions): Bucket {
    const minute = Math.floor(dims.started.getTime() / MINUTE_MS) * 60;
    const key = `${dims.projectId}|${dims.releaseId}|${dims.environmentId}|${minute}`;
    let b = this.#buckets.get(key);
    if (!b) {
      b = {
        row: {
          project_id: dims.projectId,
          release_id: dims.releaseId,
          environment_id: dims.environmentId,
          minute,
          sessions: 0,
          errored_all: 0,
          crashed: 0,
          abnormal: 0,
          unhandled: 0,
          anr: 0,
          anr_foreground: 0,
          users: null,
        },
        userHashes: [],
        userFlags: [],
      };
      this.#buckets.set(key, b);
    }
    return b;
  }

  #addUser(b: Bucket, userHash: bigint, u: UserFlags): void {
    b.userHashes.push(userHash);
    b.userFlags.push(factFlags(u));
  }

  #moveDuration(dims: Dimensions, minute: number, value: number, delta: number): void {
    const key = `${dims.projectId}|${dims.releaseId}|${dims.environmentId}|${minute}|${value}`;
    const d = this.#durations.get(key);
    if (d) d.count += delta;
    else
      this.#durations.set(key, {
        project_id: dims.projectId,
        release_id: dims.releaseId,
        environment_id: dims.environmentId,
        minute,
        value,
        count: delta,
      });
  }
}

/** The flag byte of a user's fact entry (user-facts.ts reads it). */
export function factFlags(u: UserFlags): number {
  return (
    (u.errored ? FACT_FLAGS.erroredAll : 0) |
    (u.crashed ? FACT_FLAGS.crashed : 0) |
    (u.abnormal ? FACT_FLAGS.abnormal : 0) |
    (u.unhandled ? FACT_FLAGS.unhandled : 0) |
    (u.anr ? FACT_FLAGS.anr : 0) |
    (u.anrForeground ? FACT_FLAGS.anrForeground : 0)
  );
}

function countersMoved(row: MinuteChange): boolean {
  return (
    row.sessions !== 0 ||
    row.errored_all !== 0 ||
    row.crashed !== 0 ||
    row.abnormal !== 0 ||
    row.unhandled !== 0 ||
    row.anr !== 0 ||
    row.anr_foreground !== 0
  );
}
