import { publishDataChange } from '../cache/data-changes.ts';
import type { Database } from '../db/client.ts';
import { retentionStart, SESSION_STATE_LIFETIME_SECONDS } from '../metrics/metric-store.ts';
import { startRoundJob } from './job-round.ts';

// What Vigil forgets, and when (the metric store's rules, src/metrics/metric-store.ts): session
// states and aggregate receipts once no update for them can be accepted any more, metrics and
// ingest outcomes after the retention.

export async function pruneExpired(db: Database, now: Date): Promise<void> {
  const stateCutoff = new Date(now.getTime() - SESSION_STATE_LIFETIME_SECONDS * 1000);
  const metricCutoff = retentionStart(now);
  await db.prisma.$executeRawUnsafe(
    '/* pruneSessionStates */ DELETE FROM session_state WHERE started < $1',
    stateCutoff,
  );
  await db.prisma.$executeRawUnsafe(
    '/* pruneAggregateReceipts */ DELETE FROM aggregate_receipt WHERE received_at < $1',
    stateCutoff,
  );
  const tables = [
    'session_counter',
    'session_user_set',
    'session_user_delta',
    'session_duration',
    'session_duration_delta',
    'ingest_outcome',
  ];
  for (const table of tables) {
    await db.prisma.$executeRawUnsafe(
      `/* pruneMetrics */ DELETE FROM ${table} WHERE bucket < $1`,
      metricCutoff,
    );
  }
  // Numbers of ranges that reach back 90 days lose their oldest buckets.
  await publishDataChange(db, { all: true });
}

/** Prunes once per round of `everyMs` across every process on the database (job-round.ts). */
export function startPruner(
  db: Database,
  options: { everyMs?: number; clock?: () => Date; onError: (error: unknown) => void },
) {
  const { everyMs = 3_600_000, clock, onError } = options;
  return startRoundJob(db, 'prune', (now) => pruneExpired(db, now), { everyMs, clock, onError });
}
