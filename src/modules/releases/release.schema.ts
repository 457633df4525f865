import {
  offsetForArgs,
  resolveArrayConnection,
  resolveOffsetConnection,
} from '@pothos/plugin-relay';
import { builder } from '../../graphql/builder.ts';
import { InvalidArgumentError } from '../../graphql/errors.ts';
import { parseIntId } from '../../graphql/global-id.ts';
import { PERIOD_DESCRIPTION, resolveRange } from '../../health/time-range.ts';
import { effectiveTarget } from '../health-targets/health-status.ts';
import { ProjectRef } from '../projects/project.schema.ts';
import type { ReleaseRow } from './release.queries.ts';
import { pageableSort, RELEASE_SORTS, releasesInWindow } from './release-list.ts';
import { shortVersion } from './release-version.ts';

/** A release as a field sees it: through a project (its numbers are that project's) or not. */
export interface ReleaseShape {
  row: ReleaseRow;
  projectId: number | null;
}

export const ReleaseRef = builder.objectRef<ReleaseShape>('Release');

export const ReleaseSortEnum = builder.enumType('ReleaseSort', {
  values: RELEASE_SORTS,
  description:
    'DATE: newest first. Health orders rank most first; CRASH_FREE_* rank the least crash-free first, as Sentry does; HEALTH_STATUS ranks CRITICAL, WARNING, HEALTHY, NOT_ENOUGH_DATA. Releases without data come last; ties go to the newest version.',
});

builder.node(ReleaseRef, {
  description:
    'A version of an app. Reached through a project, its health and bounds are that project’s; through node(id), every project’s.',
  authScopes: (r) => ({ readOrganization: r.row.organizationId }),
  id: { resolve: (r) => r.row.id, parse: parseIntId },
  loadOne: async (id, ctx) => {
    const row = await ctx.loaders.releaseById.load(id);
    return row && { row, projectId: null };
  },
  fields: (t) => ({
    version: t.string({ resolve: (r) => r.row.version }),
    shortVersion: t.string({
      description: 'The version without its package, a commit hash cut to 12 characters.',
      resolve: (r) => shortVersion(r.row.version),
    }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When Vigil first saw the release.',
      resolve: (r) => r.row.createdAt,
    }),
    firstSessionAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'Start of the first minute with a session of this release.',
      resolve: async (r, _args, ctx) =>
        (await ctx.loaders.releaseTimeBoundsByReleaseId(r.projectId).load(r.row.id)).first,
    }),
    lastSessionAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'Start of the last minute with a session of this release.',
      resolve: async (r, _args, ctx) =>
        (await ctx.loaders.releaseTimeBoundsByReleaseId(r.projectId).load(r.row.id)).last,
    }),
    project: t.field({
      type: ProjectRef,
      nullable: true,
      description: 'The project this release was reached through, if any.',
      resolve: (r, _args, ctx) =>
        r.projectId === null ? null : ctx.loaders.projectById.load(r.projectId),
    }),
    projects: t.field({
      type: [ProjectRef],
      description: 'Every project that reported this release.',
      resolve: async (r, _args, ctx) => {
        const ids = await ctx.loaders.projectIdsByReleaseId.load(r.row.id);
        const projects = await ctx.loaders.projectById.loadMany(ids);
        return projects.filter(
          (p): p is Exclude<typeof p, Error | null> => !!p && !(p instanceof Error),
        );
      },
    }),
  }),
});

builder.objectField(ProjectRef, 'release', (t) =>
  t.field({
    type: ReleaseRef,
    nullable: true,
    args: { version: t.arg.string({ required: true }) },
    resolve: async (project, { version }, ctx) => {
      const row = await ctx.loaders.releaseByProjectVersion.load({
        projectId: project.id,
        version,
      });
      return row && { row, projectId: project.id };
    },
  }),
);

/** The list positions a page's cursors ask for, or null when they need the list's size. */
function windowOf(args: Parameters<typeof offsetForArgs>[0]['args']) {
  try {
    const { offset, limit } = offsetForArgs({ args });
    return { offset, limit };
  } catch {
    return null;
  }
}

builder.objectField(ProjectRef, 'releases', (t) =>
  t.connection(
    {
      type: ReleaseRef,
      args: {
        sort: t.arg({ type: ReleaseSortEnum, defaultValue: 'DATE' }),
        query: t.arg.string({ description: 'Keeps versions that contain this text (any case).' }),
        environments: t.arg.stringList({ description: 'Health orders count only these.' }),
        period: t.arg.string({ description: PERIOD_DESCRIPTION }),
        start: t.arg({ type: 'DateTime' }),
        end: t.arg({ type: 'DateTime' }),
      },
      resolve: async (project, args, ctx) => {
        // Like every query field: a bad argument is a BAD_USER_INPUT error (graphql/errors.ts).
        if ((args.first ?? 0) > 100 || (args.last ?? 0) > 100) {
          throw new InvalidArgumentError('first', 'A page holds at most 100 releases.');
        }
        const range = resolveRange(args, ctx.now);
        const sort = args.sort ?? 'DATE';
        const pageArgs = { ...args, first: args.first ?? (args.last ? undefined : 25) };
        const list = {
          search: args.query ?? null,
          sort,
          environments: args.environments ?? null,
          range,
          now: ctx.now,
        };
        // The database ranks and cuts the page when it can; the window comes from the cursors
        // alone, so a page that needs the list's size first (`last` without `before`, a cursor
        // past the end) reads the whole list as before.
        const window = pageableSort(sort) ? windowOf(pageArgs) : null;
        if (window) {
          const page = await ctx.loaders
            .releasePageByProjectId({ ...list, ...window })
            .load(project.id);
          const shown = (o: { offset: number; limit: number }) =>
            releasesInWindow(page, o.offset, o.limit);
          if (shown(offsetForArgs({ args: pageArgs, totalCount: page.totalCount }))) {
            return resolveOffsetConnection({ args: pageArgs, totalCount: page.totalCount }, (o) =>
              (shown(o) ?? []).map((row) => ({ row, projectId: project.id })),
            );
          }
        }
        const releases = await ctx.loaders
          .releasesByProjectId({
            ...list,
            healthTarget:
              args.sort === 'HEALTH_STATUS'
                ? effectiveTarget(
                    await ctx.loaders.healthTargetsByProjectId.load(project.id),
                    args.environments ?? null,
                  )
                : undefined,
          })
          .load(project.id);
        return resolveArrayConnection(
          { args: pageArgs },
          releases.map((row) => ({ row, projectId: project.id })),
        );
      },
    },
    {
      name: 'ReleaseConnection',
      fields: (c) => ({
        totalCount: c.int({ resolve: (connection) => connection.totalCount }),
      }),
    },
  ),
);
