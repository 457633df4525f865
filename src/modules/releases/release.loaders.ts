import DataLoader from 'dataloader';
import type { Database } from '../../db/client.ts';
import { groupBy } from '../../graphql/group-by.ts';
import { loaderFamily } from '../../graphql/loader-family.ts';
import {
  type ReleaseRow,
  selectProjectIdsByReleaseIds,
  selectReleasePageByProjectId,
  selectReleaseRankings,
  selectReleasesByIds,
  selectReleasesByProjectId,
  selectReleasesByProjectVersions,
  selectReleaseTimeBounds,
} from './release.queries.ts';
import {
  orderReleasePage,
  pageableSort,
  type ReleaseListOptions,
  type ReleasePage,
  rankingRange,
  ranksByUsers,
  sortReleases,
} from './release-list.ts';

/** A window [offset, offset + limit) of a release list whose order the database ranks. */
export interface ReleasePageOptions extends Omit<ReleaseListOptions, 'projectId' | 'healthTarget'> {
  offset: number;
  limit: number;
}

export interface ReleaseTimeBounds {
  first: Date | null;
  last: Date | null;
}

/** One project's release list: the releases, and for a health order their ranking beside them. */
async function loadReleaseList(db: Database, o: ReleaseListOptions): Promise<ReleaseRow[]> {
  const [releases, rankings] = await Promise.all([
    selectReleasesByProjectId(db, o.projectId, o.search),
    o.sort === 'DATE'
      ? []
      : selectReleaseRankings(db, o.projectId, {
          environments: o.environments,
          range: rankingRange(o),
          withUsers: ranksByUsers(o.sort),
        }),
  ]);
  return sortReleases(releases, rankings, o);
}

/** One window of a project's release list, ranked and cut in one statement. */
async function loadReleasePage(
  db: Database,
  projectId: number,
  o: ReleasePageOptions,
): Promise<ReleasePage> {
  const sort = pageableSort(o.sort);
  if (!sort) throw new Error(`the database does not rank releases by ${o.sort}`);
  const { rows, total } = await selectReleasePageByProjectId(db, projectId, {
    search: o.search,
    sort,
    environments: o.environments,
    range: rankingRange(o),
    now: o.now,
    offset: o.offset,
    limit: o.limit,
  });
  return orderReleasePage(rows, total);
}

export function createReleaseLoaders(db: Database) {
  return {
    releaseById: new DataLoader<number, ReleaseRow | null>(
      async (ids) => {
        const byId = new Map((await selectReleasesByIds(db, ids)).map((r) => [r.id, r]));
        return ids.map((id) => byId.get(id) ?? null);
      },
      { name: 'releaseById' },
    ),
    releaseByProjectVersion: new DataLoader<
      { projectId: number; version: string },
      ReleaseRow | null,
      string
    >(
      async (keys) => {
        const rows = await selectReleasesByProjectVersions(db, keys);
        const byKey = new Map(rows.map((r) => [`${r.projectId}|${r.version}`, r]));
        return keys.map((k) => byKey.get(`${k.projectId}|${k.version}`) ?? null);
      },
      { name: 'releaseByProjectVersion', cacheKeyFn: (k) => `${k.projectId}|${k.version}` },
    ),
    projectIdsByReleaseId: new DataLoader<number, number[]>(
      async (ids) => {
        const rows = groupBy(await selectProjectIdsByReleaseIds(db, ids), (r) => r.releaseId);
        return ids.map((id) => (rows.get(id) ?? []).map((r) => r.projectId));
      },
      { name: 'projectIdsByReleaseId' },
    ),
    /**
     * Project.releases: a project's releases, filtered and ordered by the list's arguments (one
     * loader per argument set). Each project's list is its own two statements.
     */
    releasesByProjectId: loaderFamily(
      (options: Omit<ReleaseListOptions, 'projectId'>) =>
        new DataLoader<number, ReleaseRow[], string>(
          (ids) =>
            Promise.all(ids.map((projectId) => loadReleaseList(db, { ...options, projectId }))),
          { name: 'releasesByProjectId', cacheKeyFn: String },
        ),
    ),
    /**
     * Project.releases in an order the database ranks (`pageableSort`): only the page's window
     * and its tie groups, one statement per project.
     */
    releasePageByProjectId: loaderFamily(
      (options: ReleasePageOptions) =>
        new DataLoader<number, ReleasePage, string>(
          (ids) => Promise.all(ids.map((projectId) => loadReleasePage(db, projectId, options))),
          { name: 'releasePageByProjectId', cacheKeyFn: String },
        ),
    ),
    /** Keyed by release id; one loader per project (null: every project). */
    releaseTimeBoundsByReleaseId: loaderFamily(
      (projectId: number | null) =>
        new DataLoader<number, ReleaseTimeBounds, string>(
          async (ids) => {
            const rows = await selectReleaseTimeBounds(db, projectId, ids);
            const byId = new Map(rows.map((r) => [r.releaseId, r]));
            return ids.map((id) => {
              const row = byId.get(id);
              return { first: row?.first ?? null, last: row?.last ?? null };
            });
          },
          { name: 'releaseTimeBoundsByReleaseId', cacheKeyFn: String },
        ),
      String,
    ),
  };
}
