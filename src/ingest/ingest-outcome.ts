// What ingest did with what it received, counted per project, minute of receipt, outcome and
// reason into `ingest_outcome` (docs/design.md § What was dropped). Accepted and dropped items are
// written by the store in the transaction of their sessions; refused envelopes by
// outcome-recorder.ts, in batches.

export const OUTCOMES = ['accepted', 'aggregated', 'dropped', 'refused'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Why a whole envelope (or legacy request) was refused, from the status it was answered with. */
export type RefusalReason =
  | 'missing_key'
  | 'bad_key'
  | 'invalid_envelope'
  | 'unsupported_media_type'
  | 'too_large'
  | 'rate_limited'
  | 'store_unavailable';

/** The reason an answer stands for; `null` for answers that refuse nothing (2xx, 404, 405). */
export function refusalReason(status: number): RefusalReason | null {
  switch (status) {
    case 400:
      return 'invalid_envelope';
    case 401:
      return 'missing_key';
    case 403:
      return 'bad_key';
    case 413:
      return 'too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'rate_limited';
    case 503:
      return 'store_unavailable';
    default:
      return null;
  }
}

/** A row of `ingest_outcome`, as the write statements take it (one JSON parameter). */
export interface OutcomeColumns {
  project_id: number;
  bucket: Date;
  outcome: Outcome;
  reason: string;
  quantity: number;
}

const MINUTE_MS = 60_000;

/** Sums outcomes per row key, so a statement touches each row once. */
export class OutcomeRows {
  readonly #rows = new Map<string, OutcomeColumns>();

  add(projectId: number, at: Date, outcome: Outcome, reason: string, quantity: number): void {
    if (quantity <= 0) return;
    const bucket = Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS;
    const key = `${projectId}|${bucket}|${outcome}|${reason}`;
    const row = this.#rows.get(key);
    if (row) row.quantity += quantity;
    else
      this.#rows.set(key, {
        project_id: projectId,
        bucket: new Date(bucket),
        outcome,
        reason,
        quantity,
      });
  }

  get size(): number {
    return this.#rows.size;
  }

  rows(): OutcomeColumns[] {
    return [...this.#rows.values()];
  }
}

/**
 * The upsert both writers share; `param` is the JSON of `OutcomeColumns[]`. Rows of projects that
 * do not exist (a refusal for any project id) are left out. Rows go in key order, as every writer
 * takes them, so concurrent writers never deadlock.
 */
export function upsertOutcomesSql(param: string): string {
  return `INSERT INTO ingest_outcome AS o (project_id, bucket, outcome, reason, quantity)
     SELECT v.project_id, v.bucket, v.outcome, v.reason, v.quantity
     FROM json_to_recordset(${param}::json) AS v(project_id int, bucket timestamptz,
       outcome text, reason text, quantity bigint)
     JOIN project p ON p.id = v.project_id
     ORDER BY 1, 2, 3, 4
     ON CONFLICT (project_id, bucket, outcome, reason)
     DO UPDATE SET quantity = o.quantity + EXCLUDED.quantity`;
}
