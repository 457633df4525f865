import DataLoader from 'dataloader';
import type { Database } from '../../db/client.ts';
import { loaderFamily } from '../../graphql/loader-family.ts';
import type { SessionsSpec } from './sessions-args.ts';
import { runSessionsQuery, type SessionsResultShape } from './sessions-result.ts';

export interface ProjectSessionsKey {
  projectId: number;
  organizationId: number;
}

export function createSessionsLoaders(db: Database) {
  return {
    /**
     * Project.sessions for every project of a response that asks the same query: one run of the
     * query grouped by project as well, split per project.
     */
    sessionsByProjectId: loaderFamily(
      (spec: SessionsSpec) =>
        new DataLoader<ProjectSessionsKey, SessionsResultShape, string>(
          async (keys) => {
            const results = await runSessionsQuery(db, spec, {
              projectIds: keys.map((k) => k.projectId),
              organizationIds: [...new Set(keys.map((k) => k.organizationId))],
              perProject: true,
            });
            return keys.map((k) => {
              const result = results.get(k.projectId);
              if (!result) throw new Error(`no sessions result for project ${k.projectId}`);
              return result;
            });
          },
          { name: 'sessionsByProjectId', cacheKeyFn: (k) => String(k.projectId) },
        ),
    ),
  };
}
