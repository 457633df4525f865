import type { Database } from '../../db/client.ts';
import type { Project, ProjectKey } from '../../generated/prisma/client.ts';

export type ProjectRow = Project;
export type ProjectKeyRow = ProjectKey;

export function selectProjectsByIds(db: Database, ids: readonly number[]) {
  return db.prisma.project.findMany({ where: { id: { in: [...ids] } } });
}

export function selectProjectsByOrganizationIds(db: Database, organizationIds: readonly number[]) {
  return db.prisma.project.findMany({
    where: { organizationId: { in: [...organizationIds] } },
    orderBy: { slug: 'asc' },
  });
}

/** Projects by (organization slug, project slug), in one statement. */
export function selectProjectsBySlugs(
  db: Database,
  keys: ReadonlyArray<{ organizationSlug: string; slug: string }>,
): Promise<Array<ProjectRow & { organizationSlug: string }>> {
  return db.prisma.$queryRawUnsafe(
    `/* selectProjectsBySlugs */
     SELECT p.id, p.organization_id AS "organizationId", p.slug, p.name, p.platform,
            p.created_at AS "createdAt", o.slug AS "organizationSlug"
     FROM unnest($1::text[], $2::text[]) AS k(organization_slug, slug)
     JOIN organization o ON o.slug = k.organization_slug
     JOIN project p ON p.organization_id = o.id AND p.slug = k.slug`,
    keys.map((k) => k.organizationSlug),
    keys.map((k) => k.slug),
  );
}

export function selectProjectKeysByProjectIds(db: Database, projectIds: readonly number[]) {
  return db.prisma.projectKey.findMany({
    where: { projectId: { in: [...projectIds] } },
    orderBy: { id: 'asc' },
  });
}

/**
 * Creates a project and its first client key in one transaction.
 * @returns the project, or `null` when the slug is taken in that organization.
 */
export async function insertProject(
  db: Database,
  input: {
    organizationId: number;
    slug: string;
    name: string;
    platform: string;
    publicKey: string;
  },
): Promise<ProjectRow | null> {
  return db.prisma.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<ProjectRow[]>`
      /* insertProject */
      INSERT INTO project (organization_id, slug, name, platform)
      VALUES (${input.organizationId}, ${input.slug}, ${input.name}, ${input.platform})
      ON CONFLICT (organization_id, slug) DO NOTHING
      RETURNING id, organization_id AS "organizationId", slug, name, platform,
                created_at AS "createdAt"`;
    const project = rows[0];
    if (!project) return null;
    await tx.projectKey.create({ data: { projectId: project.id, publicKey: input.publicKey } });
    return project;
  });
}
