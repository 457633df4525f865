import DataLoader from 'dataloader';
import type { Database } from '../../db/client.ts';
import { groupBy } from '../../graphql/group-by.ts';
import { type EnvironmentRow, selectEnvironmentsByProjectIds } from './environment.queries.ts';

export function createEnvironmentLoaders(db: Database) {
  return {
    environmentsByProjectId: new DataLoader<number, EnvironmentRow[]>(
      async (ids) => {
        const rows = groupBy(await selectEnvironmentsByProjectIds(db, ids), (e) => e.projectId);
        return ids.map((id) => rows.get(id) ?? []);
      },
      { name: 'environmentsByProjectId' },
    ),
  };
}
