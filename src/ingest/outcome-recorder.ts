import type { Logger } from 'pino';
import type { Database } from '../db/client.ts';
import { OutcomeRows, refusalReason, upsertOutcomesSql } from './ingest-outcome.ts';

// Refused envelopes are counted in `ingest_outcome` too, so a user can see why numbers are
// missing. A refusal has no transaction of its own to ride in: they are summed in memory and
// written together once a second (one statement, whatever the number of refusals), so a flood of
// bad requests costs no more than one write a second.

const PROJECT_IN_PATH = /^\/api\/(\d{1,9})\//;
/** Distinct (project, minute, reason) rows kept before the next write; the rest are not counted. */
const MAX_PENDING_ROWS = 10_000;

export interface RefusalRecorderOptions {
  /** @default 1000 */
  lingerMs?: number;
  /** Told which projects' counts were written. */
  onStored?: (projectIds: number[]) => void;
}

/** Counts answers that refused an envelope (or legacy request) of a project named in its path. */
export function createRefusalRecorder(
  db: Database,
  log: Logger,
  { lingerMs = 1000, onStored }: RefusalRecorderOptions = {},
) {
  let pending = new OutcomeRows();
  let timer: NodeJS.Timeout | null = null;

  async function upsertRefusedOutcomes(): Promise<void> {
    timer = null;
    const rows = pending.rows();
    pending = new OutcomeRows();
    if (rows.length === 0) return;
    try {
      await db.transaction((tx) =>
        tx.query(`/* upsertRefusedOutcomes */ ${upsertOutcomesSql('$1')}`, [JSON.stringify(rows)]),
      );
      onStored?.([...new Set(rows.map((row) => row.project_id))]);
    } catch (err) {
      log.warn({ err, rows: rows.length }, 'refused envelopes could not be counted');
    }
  }

  return {
    /** Notes the answer given to `request`; refusals of a project id are counted. */
    noteAnswer(request: Request, status: number, at: Date): void {
      const reason = request.method === 'OPTIONS' ? null : refusalReason(status);
      if (!reason) return;
      const projectId = PROJECT_IN_PATH.exec(new URL(request.url).pathname)?.[1];
      if (!projectId || pending.size >= MAX_PENDING_ROWS) return;
      pending.add(Number(projectId), at, 'refused', reason, 1);
      if (!timer) {
        timer = setTimeout(() => void upsertRefusedOutcomes(), lingerMs);
        timer.unref();
      }
    },
  };
}

const SUMMARY_MS = 60_000;

/**
 * Logs dropped items: each reason at `debug`, and per project a summary at `info` a minute after
 * its first drop, so at most once a minute and only when something was dropped.
 */
export function createDropLog(log: Logger) {
  const pending = new Map<number, Map<string, number>>();
  return (projectId: number, dropped: ReadonlyMap<string, number>): void => {
    if (dropped.size === 0) return;
    let counts = pending.get(projectId);
    if (!counts) {
      const summary = new Map<string, number>();
      counts = summary;
      pending.set(projectId, summary);
      setTimeout(() => {
        pending.delete(projectId);
        log.info(
          { projectId, dropped: Object.fromEntries(summary) },
          'session items dropped in the last minute',
        );
      }, SUMMARY_MS).unref();
    }
    for (const [reason, items] of dropped) {
      log.debug({ projectId, reason, items }, 'session item dropped');
      counts.set(reason, (counts.get(reason) ?? 0) + items);
    }
  };
}
