import { publishDataChange } from '../cache/data-changes.ts';
import type { Database } from '../db/client.ts';
import { MAX_SESSION_AGE_SECONDS } from '../ingest/session.item.ts';
import { startRoundJob } from './job-round.ts';

// What Vigil forgets, and when: session states and aggregate receipts once no update for them can
// be accepted any more (5 days after start, spec §2.4, plus a day of margin), metrics and ingest
// outcomes after 90 days (Sentry's retention).

const STATE_TTL_MS = (MAX_SESSION_AGE_SECONDS + 86_400) * 1000;
export const RETENTION_DAYS = 90;

export async function pruneExpired(db: Database, now: Date): Promise<void> {
  const stateCutoff = new Date(now.getTime() - STATE_TTL_MS);
  const metricCutoff = new Date(now.getTime() - RETENTION_DAYS * 86_400_000);
  await db.prisma.$executeRawUnsafe(
    '/* pruneSessionStates */ DELETE FROM session_state WHERE started < $1',
    stateCutoff,
  );
  await db.prisma.$executeRawUnsafe(
    '/* pruneAggregateReceipts */ DELETE FROM aggregate_receipt WHERE received_at < $1',
    stateCutoff,
  );
  for (const table of ['session_counter', 'session_users', 'session_duration', 'ingest_outcome']) {
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
