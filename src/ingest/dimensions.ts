import type { Database } from '../db/client.ts';

// Releases and environments are created on first sight. Their ids never change, so each process
// remembers them and an envelope of known names costs no statement here. It remembers the lookup
// itself, not only its answer: when a new release ships, every SDK reports it at once, and those
// envelopes share one upsert instead of queueing one each (on PGlite, behind the writer).

export interface ResolvedDimensions {
  releaseIds: Map<string, number>;
  environmentIds: Map<string, number>;
}

type IdCache = Map<string, Promise<number>>;

export function createDimensionResolver(db: Database) {
  const releases: IdCache = new Map();
  const environments: IdCache = new Map();

  return async function resolveDimensions(
    project: { id: number; organizationId: number },
    releaseVersions: Iterable<string>,
    environmentNames: Iterable<string>,
  ): Promise<ResolvedDimensions> {
    const releaseKey = (v: string) => `${project.organizationId}|${project.id}|${v}`;
    const envKey = (n: string) => `${project.id}|${n}`;
    const [releaseIds, environmentIds] = await Promise.all([
      lookUp(releases, releaseVersions, releaseKey, async (missing) =>
        (await upsertReleases(db, project, missing)).map((r) => [r.version, r.id]),
      ),
      lookUp(environments, environmentNames, envKey, async (missing) =>
        (await upsertEnvironments(db, project.id, missing)).map((r) => [r.name, r.id]),
      ),
    ]);
    return { releaseIds, environmentIds };
  };
}

/** The ids of `names`, upserting in one statement those neither known nor being looked up. */
async function lookUp(
  cache: IdCache,
  names: Iterable<string>,
  keyOf: (name: string) => string,
  upsert: (missing: string[]) => Promise<Array<[string, number]>>,
): Promise<Map<string, number>> {
  const unique = [...new Set(names)];
  const missing = unique.filter((name) => !cache.has(keyOf(name)));
  if (missing.length > 0) {
    const found = upsert(missing).then((rows) => new Map(rows));
    for (const name of missing) {
      const key = keyOf(name);
      const id = found.then((ids) => ids.get(name) as number);
      cache.set(key, id);
      // A failed lookup is forgotten, so that the next envelope tries again.
      id.catch(() => {
        if (cache.get(key) === id) cache.delete(key);
      });
    }
  }
  const ids = await Promise.all(unique.map((name) => cache.get(keyOf(name)) as Promise<number>));
  return new Map(unique.map((name, i) => [name, ids[i] as number]));
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
