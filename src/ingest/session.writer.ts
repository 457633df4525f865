import { isDatabaseUnavailable } from '../db/unavailable.ts';
import type { ResolvedBatch } from './session.store.ts';

// Group commit: envelopes that arrive while a transaction is running wait for the next one and
// then share it. A commit (an fsync) costs the same for one envelope or two hundred, and few
// writers per process means few transactions waiting on the hot counter rows of the current
// minute. Every caller still resolves only after its own rows are committed.

/** Upper bound of envelopes in one shared transaction. */
const MAX_ENVELOPES = 200;

interface Waiting {
  batch: ResolvedBatch;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface WriterOptions {
  /**
   * Transactions in flight at once: 1 on PGlite (one connection anyway); on PostgreSQL a second
   * one overlaps one transaction's round trips with the other's work.
   */
  writers: number;
  /**
   * Session updates per transaction, beyond its first envelope. PGlite runs SQL on this thread,
   * so its transactions are kept short: other requests wait while one runs.
   */
  maxUpdates: number;
}

export function createSessionWriter(
  store: (batches: ResolvedBatch[]) => Promise<void>,
  { writers, maxUpdates }: WriterOptions,
) {
  const queue: Waiting[] = [];
  let active = 0;

  function take(): Waiting[] {
    let updates = 0;
    let n = 0;
    while (n < queue.length && n < MAX_ENVELOPES) {
      updates += (queue[n] as Waiting).batch.updates.length;
      if (n > 0 && updates > maxUpdates) break;
      n += 1;
    }
    return queue.splice(0, n);
  }

  async function drain() {
    active += 1;
    while (queue.length > 0) {
      // Lingers a millisecond so that requests arriving meanwhile join this transaction. PGlite
      // answers without real I/O: without a timer turn here, its event loop never read the next
      // requests between transactions, and every envelope had a transaction of its own.
      await new Promise((resolve) => setTimeout(resolve, 1));
      const taken = take();
      // The other writer may have taken them all meanwhile.
      if (taken.length === 0) continue;
      try {
        await store(taken.map((w) => w.batch));
        for (const w of taken) w.resolve();
      } catch (error) {
        // None of these is acknowledged (a commit cut off may still have landed: resent, its
        // sessions merge into their states and its aggregates meet their receipts, so nothing
        // counts twice). A database that is away fails them all alike; one by one would only wait.
        if (taken.length === 1 || isDatabaseUnavailable(error)) {
          for (const w of taken) w.reject(error);
          continue;
        }
        // One envelope that cannot be stored must not fail the others: retry them one by one.
        for (const w of taken) {
          try {
            await store([w.batch]);
            w.resolve();
          } catch (single) {
            w.reject(single);
          }
        }
      }
    }
    active -= 1;
  }

  return {
    /** Resolves once the batch is committed; rejects when it could not be. */
    write(batch: ResolvedBatch): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        queue.push({ batch, resolve, reject });
        if (active < writers) void drain();
      });
    },
  };
}
