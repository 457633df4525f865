import type { Database } from '../../db/client.ts';
import type { Organization } from '../../generated/prisma/client.ts';

export type OrganizationRow = Organization;

export function selectOrganizationsByIds(db: Database, ids: readonly number[]) {
  return db.prisma.organization.findMany({ where: { id: { in: [...ids] } } });
}

export function selectOrganizationsBySlugs(db: Database, slugs: readonly string[]) {
  return db.prisma.organization.findMany({ where: { slug: { in: [...slugs] } } });
}

export function selectOrganizations(db: Database) {
  return db.prisma.organization.findMany({ orderBy: { slug: 'asc' } });
}

/** @returns the new row, or `null` when the slug is taken (the unique index decides, no race). */
export async function insertOrganization(
  db: Database,
  input: { slug: string; name: string },
): Promise<OrganizationRow | null> {
  const rows = await db.prisma.$queryRaw<OrganizationRow[]>`
    /* insertOrganization */
    INSERT INTO organization (slug, name) VALUES (${input.slug}, ${input.name})
    ON CONFLICT (slug) DO NOTHING
    RETURNING id, slug, name, created_at AS "createdAt"`;
  return rows[0] ?? null;
}
