import DataLoader from 'dataloader';
import type { Database } from '../../db/client.ts';
import { groupBy } from '../../graphql/group-by.ts';
import {
  type ApiTokenRow,
  selectApiTokensByIds,
  selectApiTokensByOrganizationIds,
} from './api-token.queries.ts';

export function createApiTokenLoaders(db: Database) {
  return {
    apiTokenById: new DataLoader<number, ApiTokenRow | null>(
      async (ids) => {
        const byId = new Map((await selectApiTokensByIds(db, ids)).map((t) => [t.id, t]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { name: 'apiTokenById' },
    ),
    apiTokensByOrganizationId: new DataLoader<number, ApiTokenRow[]>(
      async (ids) => {
        const rows = groupBy(
          await selectApiTokensByOrganizationIds(db, ids),
          (t) => t.organizationId,
        );
        return ids.map((id) => rows.get(id) ?? []);
      },
      { name: 'apiTokensByOrganizationId' },
    ),
  };
}
