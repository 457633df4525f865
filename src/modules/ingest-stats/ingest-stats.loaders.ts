import DataLoader from 'dataloader';
import type { Database } from '../../db/client.ts';
import { loaderFamily } from '../../graphql/loader-family.ts';
import {
  type OutcomeRow,
  type OutcomeWindow,
  selectOrganizationIngestOutcomes,
  selectProjectIngestOutcomes,
} from './ingest-stats.queries.ts';

const windowKey = (w: OutcomeWindow) =>
  `${w.start.toISOString()}/${w.end.toISOString()}/${w.intervalSeconds}`;

function byOwner(
  select: (ids: readonly number[]) => Promise<OutcomeRow[]>,
  name: string,
): DataLoader<number, OutcomeRow[], string> {
  return new DataLoader<number, OutcomeRow[], string>(
    async (ids) => {
      const rows = new Map<number, OutcomeRow[]>(ids.map((id) => [id, []]));
      for (const row of await select(ids)) rows.get(row.ownerId)?.push(row);
      return ids.map((id) => rows.get(id) ?? []);
    },
    { name, cacheKeyFn: String },
  );
}

export function createIngestStatsLoaders(db: Database) {
  return {
    /** Project.ingestStats: one query for every project of a response that asks the same window. */
    ingestOutcomesByProjectId: loaderFamily(
      (window: OutcomeWindow) =>
        byOwner((ids) => selectProjectIngestOutcomes(db, ids, window), 'ingestOutcomesByProjectId'),
      windowKey,
    ),
    /** Organization.ingestStats, summed over its projects in SQL. */
    ingestOutcomesByOrganizationId: loaderFamily(
      (window: OutcomeWindow) =>
        byOwner(
          (ids) => selectOrganizationIngestOutcomes(db, ids, window),
          'ingestOutcomesByOrganizationId',
        ),
      windowKey,
    ),
  };
}
