import DataLoader from 'dataloader';
import type { Database } from '../../db/client.ts';
import { loaderFamily } from '../../graphql/loader-family.ts';
import { ZERO_USER_COUNTS } from '../../health/crash-free.ts';
import { selectReleaseIdsByVersions, selectReleasesByIds } from '../releases/release.queries.ts';
import { NO_SESSIONS_ROWS, type SessionsRows, selectSessionsRows } from './sessions.queries.ts';
import type { SessionsSpec } from './sessions-args.ts';
import {
  ALL_PROJECTS,
  groupKeyOf,
  groupTotals,
  pageGroups,
  pageUsersQuery,
  releaseIdsOf,
  resultKeysOf,
  type SessionsTarget,
  seriesQuery,
  totalsQuery,
  usersAfterPaging,
  usersFromSeries,
} from './sessions-groups.ts';
import { type SessionsResultShape, shapeSessionsResults } from './sessions-shape.ts';

export interface ProjectSessionsKey {
  projectId: number;
  organizationId: number;
}

export interface OrganizationSessionsKey {
  organizationId: number;
  /** The organization's projects the query covers, already checked to be its own. */
  projectIds: readonly number[];
}

/**
 * One run of a sessions query: each statement, then the pure step that decides the next. At most
 * one statement for the `releases` filter, one or two for the totals, one for the groups'
 * releases, one for the page's users when grouped by release without a series, and one or two
 * for the series (which then brings the page's users over the range too), whatever the number of
 * groups or releases.
 * @returns a result for every key of `resultKeysOf(target)`, data or not.
 */
async function loadSessions(
  db: Database,
  spec: SessionsSpec,
  target: SessionsTarget,
): Promise<Map<number, SessionsResultShape>> {
  const releaseIds = spec.releases
    ? await selectReleaseIdsByVersions(db, target.organizationIds, spec.releases)
    : undefined;
  const query = totalsQuery(spec, target, releaseIds);
  const totals = query
    ? await selectSessionsRows(db, query, spec.need.totalsDurations)
    : NO_SESSIONS_ROWS;
  const groups = groupTotals(spec, resultKeysOf(target), totals);
  const named = releaseIdsOf(totals);
  const releases = new Map(
    named.length > 0 ? (await selectReleasesByIds(db, named)).map((r) => [r.id, r]) : [],
  );
  const pages = pageGroups(spec, groups, releases);
  const picked = [...pages.values()].flatMap((p) => p.groups);
  const pickedUsers = (rows: SessionsRows['rows']) => {
    const byKey = new Map(rows.map((r) => [groupKeyOf(r), r.users]));
    for (const group of picked) group.users = byKey.get(group.key) ?? ZERO_USER_COUNTS;
  };
  if (query && usersAfterPaging(spec) && !usersFromSeries(spec) && picked.length > 0) {
    pickedUsers((await selectSessionsRows(db, pageUsersQuery(query, picked), false)).rows);
  }
  // The series is read only for the picked groups (all of them when adoption needs every one).
  const series =
    query && spec.need.series && totals.rows.length > 0 && picked.length > 0
      ? await selectSessionsRows(db, seriesQuery(spec, query, picked), spec.need.seriesDurations)
      : NO_SESSIONS_ROWS;
  // Its rows over the whole range (interval null) carry the picked groups' users.
  if (usersFromSeries(spec)) pickedUsers(series.rows.filter((r) => r.interval === null));
  return shapeSessionsResults(spec, pages, series, releases);
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
                const results = await loadSessions(db, spec, {
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
            const results = await loadSessions(db, spec, {
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
