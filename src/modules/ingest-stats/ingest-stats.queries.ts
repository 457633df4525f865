import type { Database } from '../../db/client.ts';
import type { Outcome } from '../../ingest/ingest-outcome.ts';

/** Outcomes of one project or organization (`ownerId`) in one interval of a series. */
export interface OutcomeRow {
  ownerId: number;
  /** The start of the series interval. */
  time: Date;
  outcome: Outcome;
  reason: string;
  quantity: number;
}

export interface OutcomeWindow {
  start: Date;
  end: Date;
  intervalSeconds: number;
}

/** `ingest_outcome` summed per project, interval of the window, outcome and reason. */
export function selectProjectIngestOutcomes(
  db: Database,
  projectIds: readonly number[],
  window: OutcomeWindow,
): Promise<OutcomeRow[]> {
  return db.prisma.$queryRawUnsafe<OutcomeRow[]>(
    `/* selectProjectIngestOutcomes */
     SELECT o.project_id AS "ownerId",
            date_bin(make_interval(secs => $4), o.bucket, $2::timestamptz) AS "time",
            o.outcome, o.reason, sum(o.quantity)::float8 AS quantity
     FROM ingest_outcome o
     WHERE o.project_id = ANY($1::int[]) AND o.bucket >= $2 AND o.bucket < $3
     GROUP BY 1, 2, 3, 4`,
    [...projectIds],
    window.start,
    window.end,
    window.intervalSeconds,
  );
}

/** The same, summed over each organization's projects. */
export function selectOrganizationIngestOutcomes(
  db: Database,
  organizationIds: readonly number[],
  window: OutcomeWindow,
): Promise<OutcomeRow[]> {
  return db.prisma.$queryRawUnsafe<OutcomeRow[]>(
    `/* selectOrganizationIngestOutcomes */
     SELECT p.organization_id AS "ownerId",
            date_bin(make_interval(secs => $4), o.bucket, $2::timestamptz) AS "time",
            o.outcome, o.reason, sum(o.quantity)::float8 AS quantity
     FROM ingest_outcome o JOIN project p ON p.id = o.project_id
     WHERE p.organization_id = ANY($1::int[]) AND o.bucket >= $2 AND o.bucket < $3
     GROUP BY 1, 2, 3, 4`,
    [...organizationIds],
    window.start,
    window.end,
    window.intervalSeconds,
  );
}
