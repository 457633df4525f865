import type { Database } from '../../db/client.ts';
import {
  type DurationRow,
  type MetricsQuery,
  type MetricsRow,
  selectSessionDurations,
  selectSessionMetrics,
} from '../../metrics/session-metrics.queries.ts';

// The statements of a sessions query (spec §5): counters and users per group, and exited
// durations only when a selected field needs them. Versions of the `releases` filter and of the
// groups come from src/modules/releases/release.queries.ts.

/** What one statement pair reads: totals (no `intervalSeconds`) or a series. */
export interface SessionsRows {
  rows: MetricsRow[];
  durations: DurationRow[];
}

export const NO_SESSIONS_ROWS: SessionsRows = { rows: [], durations: [] };

/** Counters and users, and durations when asked, side by side: two statements at most. */
export async function selectSessionsRows(
  db: Database,
  query: MetricsQuery,
  withDurations: boolean,
): Promise<SessionsRows> {
  const [rows, durations] = await Promise.all([
    selectSessionMetrics(db, query),
    withDurations ? selectSessionDurations(db, query) : [],
  ]);
  return { rows, durations };
}
