import type { Database } from '../db/client.ts';

// Releases and environments are created on first sight. Their ids never change, so each process
// remembers them and an envelope of known names costs no statement here.

export interface ResolvedDimensions {
  releaseIds: Map<string, number>;
  environmentIds: Map<string, number>;
}

export function createDimensionResolver(db: Database) {
  const releases = new Map<string, number>();
  const environments = new Map<string, number>();

  return async function resolveDimensions(
    project: { id: number; organizationId: number },
    releaseVersions: Iterable<string>,
    environmentNames: Iterable<string>,
  ): Promise<ResolvedDimensions> {
    const releaseKey = (v: string) => `${project.organizationId}|${project.id}|${v}`;
    const envKey = (n: string) => `${project.id}|${n}`;
    const newReleases = [...new Set(releaseVersions)].filter((v) => !releases.has(releaseKey(v)));
    const newEnvironments = [...new Set(environmentNames)].filter(
      (n) => !environments.has(envKey(n)),
    );
    if (newReleases.length > 0) {
      const rows = await upsertReleases(db, project, newReleases);
      for (const row of rows) releases.set(releaseKey(row.version), row.id);
    }
    if (newEnvironments.length > 0) {
      const rows = await upsertEnvironments(db, project.id, newEnvironments);
      for (const row of rows) environments.set(envKey(row.name), row.id);
    }
    const releaseIds = new Map<string, number>();
    for (const v of releaseVersions) releaseIds.set(v, releases.get(releaseKey(v)) as number);
    const environmentIds = new Map<string, number>();
    for (const n of environmentNames) environmentIds.set(n, environments.get(envKey(n)) as number);
    return { releaseIds, environmentIds };
  };
}

/** Creates missing releases and links them to the project; returns the ids of all given. */
async function upsertReleases(
  db: Database,
  project: { id: number; organizationId: number },
  versions: string[],
): Promise<Array<{ id: number; version: string }>> {
  // DO UPDATE (a no-op) rather than DO NOTHING so that existing rows are returned too.
  return db.prisma.$queryRawUnsafe(
    `/* upsertReleases */
     WITH upserted AS (
       INSERT INTO release (organization_id, version)
       SELECT $1::int, v FROM unnest($2::text[]) AS v ORDER BY v
       ON CONFLICT (organization_id, version) DO UPDATE SET version = EXCLUDED.version
       RETURNING id, version
     ), linked AS (
       INSERT INTO release_project (release_id, project_id)
       SELECT id, $3::int FROM upserted ORDER BY id
       ON CONFLICT DO NOTHING
     )
     SELECT id, version FROM upserted`,
    project.organizationId,
    versions,
    project.id,
  );
}

async function upsertEnvironments(
  db: Database,
  projectId: number,
  names: string[],
): Promise<Array<{ id: number; name: string }>> {
  return db.prisma.$queryRawUnsafe(
    `/* upsertEnvironments */
     INSERT INTO environment (project_id, name)
     SELECT $1::int, n FROM unnest($2::text[]) AS n ORDER BY n
     ON CONFLICT (project_id, name) DO UPDATE SET name = EXCLUDED.name
     RETURNING id, name`,
    projectId,
    names,
  );
}
