import DataLoader from 'dataloader';
import type { Database } from '../../db/client.ts';
import { loaderFamily } from '../../graphql/loader-family.ts';
import type { SessionsSpec } from './sessions-args.ts';
import { ALL_PROJECTS, runSessionsQuery, type SessionsResultShape } from './sessions-result.ts';

export interface ProjectSessionsKey {
  projectId: number;
  organizationId: number;
}

export interface OrganizationSessionsKey {
  organizationId: number;
  /** The organization's projects the query covers, already checked to be its own. */
  projectIds: readonly number[];
}

export function createSessionsLoaders(db: Database) {
  return {
    /**
     * Organization.sessions: one run of the query over the projects, all together. Organizations
     * of one response are told apart by their projects, so each runs its own query.
     */
    sessionsByOrganizationId: loaderFamily(
      (spec: SessionsSpec) =>
        new DataLoader<OrganizationSessionsKey, SessionsResultShape, string>(
          (keys) =>
            Promise.all(
              keys.map(async (k) => {
                const results = await runSessionsQuery(db, spec, {
                  projectIds: k.projectIds,
                  organizationIds: [k.organizationId],
                  perProject: false,
                });
                const result = results.get(ALL_PROJECTS);
                if (!result)
                  throw new Error(`no sessions result for organization ${k.organizationId}`);
                return result;
              }),
            ),
          {
            name: 'sessionsByOrganizationId',
            cacheKeyFn: (k) => `${k.organizationId}|${k.projectIds.join(',')}`,
          },
        ),
    ),
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
