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
  // On the driver: the first statement of most documents, and Prisma's raw-query handling cost
  // more than the statement (design.md § The releases table at 10 M).
  return db.query(
    `/* selectProjectsBySlugs */
     SELECT p.id, p.organization_id AS "organizationId", p.slug, p.name, p.platform,
            p.created_at AS "createdAt", o.slug AS "organizationSlug"
     FROM unnest($1::text[], $2::text[]) AS k(organization_slug, slug)
     JOIN organization o ON o.slug = k.organization_slug
     JOIN project p ON p.organization_id = o.id AND p.slug = k.slug`,
    [keys.map((k) => k.organizationSlug), keys.map((k) => k.slug)],
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

export function selectProjectKeysByIds(db: Database, ids: readonly number[]) {
  return db.prisma.projectKey.findMany({ where: { id: { in: [...ids] } } });
}

export function insertProjectKey(
  db: Database,
  input: { projectId: number; publicKey: string; rateLimitPerMinute: number | null },
): Promise<ProjectKeyRow> {
  return db.prisma.projectKey.create({ data: input });
}

/** @returns the key, or null when unknown. Deactivating twice changes nothing more. */
export async function updateProjectKeyDeactivated(
  db: Database,
  id: number,
): Promise<ProjectKeyRow | null> {
  await db.prisma.projectKey.updateMany({ where: { id }, data: { isActive: false } });
  return db.prisma.projectKey.findUnique({ where: { id } });
}

/**
 * A new key for the same project, and an end for the old one, in one transaction.
 * @returns both keys, or null when the old one is unknown.
 */
export function rotateProjectKeyRows(
  db: Database,
  input: { id: number; publicKey: string; endsAt: Date; rateLimitPerMinute?: number | null },
): Promise<{ key: ProjectKeyRow; previousKey: ProjectKeyRow } | null> {
  return db.prisma.$transaction(async (tx) => {
    const old = await tx.projectKey.findUnique({ where: { id: input.id } });
    if (!old) return null;
    const key = await tx.projectKey.create({
      data: {
        projectId: old.projectId,
        publicKey: input.publicKey,
        rateLimitPerMinute:
          input.rateLimitPerMinute === undefined
            ? old.rateLimitPerMinute
            : input.rateLimitPerMinute,
      },
    });
    // An earlier end stays: a rotation never lengthens an old key's life.
    const endsAt = old.expiresAt && old.expiresAt < input.endsAt ? old.expiresAt : input.endsAt;
    const previousKey = await tx.projectKey.update({
      where: { id: old.id },
      data: { expiresAt: endsAt },
    });
    return { key, previousKey };
  });
}

/** Writes the newest use of many keys in one statement (src/auth/usage.ts batches them). */
export function updateProjectKeysLastUsed(db: Database, ids: number[], times: Date[]) {
  return db.prisma.$executeRawUnsafe(
    `/* updateProjectKeysLastUsed */
     UPDATE project_key k SET last_used_at = u.at
     FROM unnest($1::int[], $2::timestamptz[]) AS u(id, at)
     WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)`,
    ids,
    times,
  );
}
