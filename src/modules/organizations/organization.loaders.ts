import DataLoader from 'dataloader';
import type { Database } from '../../db/client.ts';
import {
  type OrganizationRow,
  selectOrganizations,
  selectOrganizationsByIds,
  selectOrganizationsBySlugs,
} from './organization.queries.ts';

/** The one key of `allOrganizations`: the instance has a single list. */
export const EVERY_ORGANIZATION = 'every';

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
    /** Query.organizations: every organization by slug (the caller keeps the readable ones). */
    allOrganizations: new DataLoader<typeof EVERY_ORGANIZATION, OrganizationRow[]>(
      async (keys) => {
        const rows = await selectOrganizations(db);
        return keys.map(() => rows);
      },
      { name: 'allOrganizations' },
    ),
  };
}
