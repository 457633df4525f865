import DataLoader from 'dataloader';
import type { Database } from '../../db/client.ts';
import {
  type OrganizationRow,
  selectOrganizationsByIds,
  selectOrganizationsBySlugs,
} from './organization.queries.ts';

export function createOrganizationLoaders(db: Database) {
  return {
    organizationById: new DataLoader<number, OrganizationRow | null>(
      async (ids) => {
        const byId = new Map((await selectOrganizationsByIds(db, ids)).map((o) => [o.id, o]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { name: 'organizationById' },
    ),
    organizationBySlug: new DataLoader<string, OrganizationRow | null>(
      async (slugs) => {
        const bySlug = new Map(
          (await selectOrganizationsBySlugs(db, slugs)).map((o) => [o.slug, o]),
        );
        return slugs.map((slug) => bySlug.get(slug) ?? null);
      },
      { name: 'organizationBySlug' },
    ),
  };
}
