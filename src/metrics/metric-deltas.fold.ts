import type { Database } from '../db/client.ts';
import { DURATION_DELTA_BATCH, foldDurationDeltas } from './durations.fold.ts';
import { foldUserDeltas, USER_DELTA_BATCH } from './user-sets.fold.ts';

// When the deltas ingest appends are folded: shortly after an ingest commit, all of them.

/**
 * How soon after an ingest commit the fold runs. A fold rewrites every user set it touches, so
 * under steady ingest its cost is the touched sets' size per fold: a longer delay folds more
 * transactions per rewrite, and reads add a few seconds of deltas instead.
 */
const DELAY_MS = 5000;

const pending = new WeakMap<Database, Promise<void>>();

/**
 * Schedules a fold of this database's user and duration deltas, unless one is already scheduled.
 * Its statements go through a lent session, outside any request's statement count. A failed fold
 * leaves its deltas, which reads still count, for the next one.
 */
export function foldMetricDeltasSoon(db: Database): void {
  if (pending.has(db)) return;
  const run = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, DELAY_MS);
    timer.unref?.();
  })
    .then(() => {
      pending.delete(db);
      return db.withSession(async (session) => {
        // A full batch means more may be waiting; a short one means this round caught up.
        while ((await foldUserDeltas(session)) >= USER_DELTA_BATCH) {}
        while ((await foldDurationDeltas(session)) >= DURATION_DELTA_BATCH) {}
      });
    })
    .catch(() => {
      // The database went away or closed (a shutdown): the deltas stay and are folded later.
    });
  pending.set(db, run);
}
