import type { SqlSession } from '../db/client.ts';

// Releases and environments are created on first sight, inside the transaction that writes the
// first sessions naming them: an envelope that is refused or whose write fails leaves no release
// and no environment behind. Their ids never change once committed, so each process remembers
// them after the commit, and an envelope of known names costs no statement here.

/** The project an envelope was authenticated for. */
export interface ProjectRef {
  id: number;
  organizationId: number;
}

/** What one envelope names: its project, and the release versions and environments of its items. */
export interface NamedDimensions {
  project: ProjectRef;
  releases: Iterable<string>;
  environments: Iterable<string>;
}

/** Ids by name, for the envelopes of one transaction. */
export interface ResolvedDimensions {
  releaseId(project: ProjectRef, version: string): number;
  environmentId(projectId: number, name: string): number;
}

// A flood of new names must not grow the cache without bound; forgetting costs one upsert each.
const MAX_REMEMBERED = 100_000;

// Per project, not per organization: a project that reports a known release still links to it.
const releaseKey = (project: ProjectRef, version: string) =>
  `${project.organizationId}|${project.id}|${version}`;
const environmentKey = (projectId: number, name: string) => `${projectId}|${name}`;

export function createDimensionCache() {
  const releases = new Map<string, number>();
  const environments = new Map<string, number>();

  return {
    /**
     * The ids of every name the envelopes use, upserting those not known in `tx` (at most two
     * statements, whatever the number of envelopes). Call `commit()` of the result once `tx` has
     * committed, so that only ids that exist are remembered.
     */
    async resolve(tx: SqlSession, envelopes: readonly NamedDimensions[]) {
      const newReleases = new Map<string, { project: ProjectRef; version: string }>();
      const newEnvironments = new Map<string, { projectId: number; name: string }>();
      for (const { project, releases: versions, environments: names } of envelopes) {
        for (const version of versions) {
          const key = releaseKey(project, version);
          if (!releases.has(key)) newReleases.set(key, { project, version });
        }
        for (const name of names) {
          const key = environmentKey(project.id, name);
          if (!environments.has(key)) newEnvironments.set(key, { projectId: project.id, name });
        }
      }
      const learnedReleases = new Map<string, number>();
      const learnedEnvironments = new Map<string, number>();
      if (newReleases.size > 0) {
        const wanted = [...newReleases.values()];
        const ids = new Map<string, number>();
        for (const row of await upsertReleases(tx, wanted)) {
          ids.set(`${row.organization_id}|${row.version}`, row.id);
        }
        for (const { project, version } of wanted) {
          const id = ids.get(`${project.organizationId}|${version}`);
          if (id !== undefined) learnedReleases.set(releaseKey(project, version), id);
        }
      }
      if (newEnvironments.size > 0) {
        for (const row of await upsertEnvironments(tx, [...newEnvironments.values()])) {
          learnedEnvironments.set(environmentKey(row.project_id, row.name), row.id);
        }
      }
      const lookUp = (known: Map<string, number>, learned: Map<string, number>, key: string) => {
        const id = learned.get(key) ?? known.get(key);
        if (id === undefined) throw new Error(`no id resolved for ${key}`);
        return id;
      };
      const resolved: ResolvedDimensions = {
        releaseId: (project, version) =>
          lookUp(releases, learnedReleases, releaseKey(project, version)),
        environmentId: (projectId, name) =>
          lookUp(environments, learnedEnvironments, environmentKey(projectId, name)),
      };
      return {
        resolved,
        /** Remembers the ids this transaction created or found. */
        commit() {
          remember(releases, learnedReleases);
          remember(environments, learnedEnvironments);
        },
      };
    },
  };
}

function remember(cache: Map<string, number>, learned: Map<string, number>) {
  if (cache.size + learned.size > MAX_REMEMBERED) cache.clear();
  for (const [key, id] of learned) cache.set(key, id);
}

/**
 * Creates missing releases and links them to the projects that reported them; returns the ids of
 * all given. Rows are taken in key order, as every writer takes them, so transactions that create
 * the same release wait for each other instead of deadlocking.
 */
function upsertReleases(
  tx: SqlSession,
  rows: Array<{ project: ProjectRef; version: string }>,
): Promise<Array<{ id: number; organization_id: number; version: string }>> {
  // DO UPDATE (a no-op) rather than DO NOTHING so that existing rows are returned too.
  return tx.query(
    `/* upsertReleases */
     WITH k AS (
       SELECT * FROM unnest($1::int[], $2::int[], $3::text[]) AS k(organization_id, project_id, version)
     ), upserted AS (
       INSERT INTO release (organization_id, version)
       SELECT DISTINCT organization_id, version FROM k ORDER BY organization_id, version
       ON CONFLICT (organization_id, version) DO UPDATE SET version = EXCLUDED.version
       RETURNING id, organization_id, version
     ), linked AS (
       INSERT INTO release_project (release_id, project_id)
       SELECT u.id, k.project_id FROM upserted u JOIN k USING (organization_id, version)
       ORDER BY u.id, k.project_id
       ON CONFLICT DO NOTHING
     )
     SELECT id, organization_id, version FROM upserted`,
    [
      rows.map((r) => r.project.organizationId),
      rows.map((r) => r.project.id),
      rows.map((r) => r.version),
    ],
  );
}

function upsertEnvironments(
  tx: SqlSession,
  rows: Array<{ projectId: number; name: string }>,
): Promise<Array<{ id: number; project_id: number; name: string }>> {
  return tx.query(
    `/* upsertEnvironments */
     INSERT INTO environment (project_id, name)
     SELECT * FROM unnest($1::int[], $2::text[]) AS n(project_id, name) ORDER BY 1, 2
     ON CONFLICT (project_id, name) DO UPDATE SET name = EXCLUDED.name
     RETURNING id, project_id, name`,
    [rows.map((r) => r.projectId), rows.map((r) => r.name)],
  );
}
