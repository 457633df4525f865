import DataLoader from 'dataloader';
import type { Database } from '../../db/client.ts';
import { groupBy } from '../../graphql/group-by.ts';
import {
  type ProjectKeyRow,
  type ProjectRow,
  selectProjectKeysByIds,
  selectProjectKeysByProjectIds,
  selectProjectsByIds,
  selectProjectsByOrganizationIds,
  selectProjectsBySlugs,
} from './project.queries.ts';

export function createProjectLoaders(db: Database) {
  return {
    projectById: new DataLoader<number, ProjectRow | null>(
      async (ids) => {
        const byId = new Map((await selectProjectsByIds(db, ids)).map((p) => [p.id, p]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { name: 'projectById' },
    ),
    projectBySlugs: new DataLoader<
      { organizationSlug: string; slug: string },
      ProjectRow | null,
      string
    >(
      async (keys) => {
        const rows = await selectProjectsBySlugs(db, keys);
        const byKey = new Map(
          rows.map(({ organizationSlug, ...p }) => [`${organizationSlug}/${p.slug}`, p]),
        );
        return keys.map((k) => byKey.get(`${k.organizationSlug}/${k.slug}`) ?? null);
      },
      { name: 'projectBySlugs', cacheKeyFn: (k) => `${k.organizationSlug}/${k.slug}` },
    ),
    projectsByOrganizationId: new DataLoader<number, ProjectRow[]>(
      async (ids) => {
        const rows = groupBy(
          await selectProjectsByOrganizationIds(db, ids),
          (p) => p.organizationId,
        );
        return ids.map((id) => rows.get(id) ?? []);
      },
      { name: 'projectsByOrganizationId' },
    ),
    projectKeyById: new DataLoader<number, ProjectKeyRow | null>(
      async (ids) => {
        const byId = new Map((await selectProjectKeysByIds(db, ids)).map((k) => [k.id, k]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { name: 'projectKeyById' },
    ),
    projectKeysByProjectId: new DataLoader<number, ProjectKeyRow[]>(
      async (ids) => {
        const rows = groupBy(await selectProjectKeysByProjectIds(db, ids), (k) => k.projectId);
        return ids.map((id) => rows.get(id) ?? []);
      },
      { name: 'projectKeysByProjectId' },
    ),
  };
}
