import DataLoader from 'dataloader';
import type { Database } from '../../db/client.ts';
import { groupBy } from '../../graphql/group-by.ts';
import type { HealthTargetRow } from './health-status.ts';
import { selectHealthTargetsByProjectIds } from './health-target.queries.ts';

export function createHealthTargetLoaders(db: Database) {
  return {
    healthTargetsByProjectId: new DataLoader<number, HealthTargetRow[]>(
      async (ids) => {
        const byProject = groupBy(
          await selectHealthTargetsByProjectIds(db, ids),
          (r) => r.projectId,
        );
        return ids.map((id) => byProject.get(id) ?? []);
      },
      { name: 'healthTargetsByProjectId' },
    ),
  };
}
