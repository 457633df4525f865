import type { GraphQLResolveInfo } from 'graphql';
import { builder } from '../../graphql/builder.ts';
import { InvalidArgumentError } from '../../graphql/errors.ts';
import { PERIOD_DESCRIPTION } from '../../graphql/time-range.ts';
import { OrganizationRef } from '../organizations/organization.schema.ts';
import { ProjectRef } from '../projects/project.schema.ts';
import { GROUP_BY_VALUES, ORDER_FIELDS, resolveSessionsSpec } from './sessions-args.ts';
import { sessionsSelection } from './sessions-selection.ts';
import type {
  SessionsGroupKey,
  SessionsGroupShape,
  SessionsResultShape,
} from './sessions-shape.ts';
import { SessionsSeriesRef, SessionsValuesRef } from './sessions-values.schema.ts';
import { SESSION_STATUS_GROUPS } from './sessions-values.ts';

// Organization.sessions and Project.sessions: Sentry's /sessions/ API as one typed query
// (shared/spec/sentry-reference.md §5). A bad argument is a BAD_USER_INPUT error naming it.

const SessionStatusEnum = builder.enumType('SessionStatus', {
  description:
    'The exclusive outcome groups of spec §5.5: HEALTHY, ERRORED (handled errors only), UNHANDLED, CRASHED, ABNORMAL.',
  values: SESSION_STATUS_GROUPS,
});

const SessionsGroupByEnum = builder.enumType('SessionsGroupBy', {
  description:
    'SESSION_STATUS is not stored: it splits each other group into one group per SessionStatus, always all five, even when zero.',
  values: GROUP_BY_VALUES,
});

const SessionsOrderFieldEnum = builder.enumType('SessionsOrderField', {
  description:
    'A SessionsValues field over the range, or RELEASE_DATE (when Vigil first saw the release; needs RELEASE in groupBy).',
  values: ORDER_FIELDS,
});

const OrderDirectionEnum = builder.enumType('OrderDirection', { values: ['ASC', 'DESC'] as const });

const SessionsOrderByInput = builder.inputType('SessionsOrderByInput', {
  fields: (t) => ({
    field: t.field({ type: SessionsOrderFieldEnum, required: true }),
    direction: t.field({ type: OrderDirectionEnum, defaultValue: 'DESC' }),
  }),
});

const SessionsGroupKeyRef = builder.objectRef<SessionsGroupKey>('SessionsGroupKey').implement({
  description: 'What a group is a group of. A key the query does not group by is null.',
  fields: (t) => ({
    project: t.field({
      type: ProjectRef,
      nullable: true,
      resolve: (by, _args, ctx) =>
        by.projectId === null ? null : ctx.loaders.projectById.load(by.projectId),
    }),
    projectId: t.int({ nullable: true, resolve: (by) => by.projectId }),
    release: t.string({
      nullable: true,
      description: 'The release version; "" for sessions sent with an empty release.',
      resolve: (by) => by.release,
    }),
    environment: t.string({
      nullable: true,
      description: 'The environment name; "" for sessions without an environment.',
      resolve: (by) => by.environment,
    }),
    sessionStatus: t.field({
      type: SessionStatusEnum,
      nullable: true,
      resolve: (by) => by.sessionStatus,
    }),
  }),
});

const SessionsGroupRef = builder.objectRef<SessionsGroupShape>('SessionsGroup').implement({
  description: 'One group: its key, its values over the range, and the same values per interval.',
  fields: (t) => ({
    by: t.field({ type: SessionsGroupKeyRef, resolve: (g) => g.by }),
    totals: t.field({ type: SessionsValuesRef, resolve: (g) => g.totals }),
    series: t.field({ type: SessionsSeriesRef, resolve: (g) => ({ points: g.series }) }),
  }),
});

const SessionsResultRef = builder.objectRef<SessionsResultShape>('SessionsResult').implement({
  description:
    'Sentry’s sessions response: the range rounded out to whole intervals (totals cover the same range), and the groups.',
  fields: (t) => ({
    start: t.field({ type: 'DateTime', resolve: (r) => r.start }),
    end: t.field({ type: 'DateTime', resolve: (r) => r.end }),
    intervals: t.field({
      type: ['DateTime'],
      description: 'Start of each interval.',
      resolve: (r) => r.intervals,
    }),
    intervalSeconds: t.int({ resolve: (r) => r.intervalSeconds }),
    groups: t.field({ type: [SessionsGroupRef], resolve: (r) => r.groups }),
    totalGroups: t.int({
      description: 'Groups there are in all, of which `groups` is the page `offset`/`limit` chose.',
      resolve: (r) => r.totalGroups,
    }),
    hasMoreGroups: t.boolean({
      description: 'Whether groups follow this page: Vigil never drops groups silently.',
      resolve: (r) => r.hasMoreGroups,
    }),
  }),
});

const ARGS_DESCRIPTION = {
  environments: 'Only these environments; "" is sessions without one.',
  releases: 'Only these release versions.',
  interval:
    'Series interval: whole minutes to 1d that divide a day (1m, 5m, 10m, 1h, 6h, 1d …). Default 1h, or 1d when the range holds more than 1000 hours. At most 1000 intervals.',
  groupBy: 'Default: no grouping, one group.',
  orderBy:
    'Orders the groups before `limit`; default SESSIONS, DESC. Not with SESSION_STATUS grouping.',
  limit:
    'Most (project, release, environment) groups returned; each becomes five with SESSION_STATUS. The values returned (groups, × intervals when a series is selected) may not exceed 10,000; default: as many groups as fit.',
  offset: 'Groups to skip, for the next page.',
} as const;

builder.objectField(OrganizationRef, 'sessions', (t) =>
  t.field({
    type: SessionsResultRef,
    description:
      'Sessions and users of the organization’s projects, grouped and over time, as Sentry’s sessions API.',
    args: {
      projects: t.arg.intList({
        description: 'Numeric project ids of this organization; default: all of them.',
      }),
      environments: t.arg.stringList({ description: ARGS_DESCRIPTION.environments }),
      releases: t.arg.stringList({ description: ARGS_DESCRIPTION.releases }),
      period: t.arg.string({ description: PERIOD_DESCRIPTION }),
      start: t.arg({ type: 'DateTime' }),
      end: t.arg({ type: 'DateTime' }),
      interval: t.arg.string({ description: ARGS_DESCRIPTION.interval }),
      groupBy: t.arg({ type: [SessionsGroupByEnum], description: ARGS_DESCRIPTION.groupBy }),
      orderBy: t.arg({ type: SessionsOrderByInput, description: ARGS_DESCRIPTION.orderBy }),
      limit: t.arg.int({ description: ARGS_DESCRIPTION.limit }),
      offset: t.arg.int({ description: ARGS_DESCRIPTION.offset }),
    },
    resolve: async (org, args, ctx, info: GraphQLResolveInfo) => {
      const spec = resolveSessionsSpec(args, sessionsSelection(info), ctx.now);
      const projects = await ctx.loaders.projectsByOrganizationId.load(org.id);
      for (const project of projects) ctx.loaders.projectById.prime(project.id, project);
      const own = new Set(projects.map((p) => p.id));
      const unknown = args.projects?.find((id) => !own.has(id));
      if (unknown !== undefined) {
        throw new InvalidArgumentError(
          'projects',
          `Project ${unknown} is not a project of organization "${org.slug}".`,
        );
      }
      const projectIds = args.projects ? [...new Set(args.projects)] : [...own];
      return ctx.loaders
        .sessionsByOrganizationId(spec)
        .load({ organizationId: org.id, projectIds });
    },
  }),
);

builder.objectField(ProjectRef, 'sessions', (t) =>
  t.field({
    type: SessionsResultRef,
    description:
      'Sessions and users of this project, grouped and over time: Organization.sessions with the project fixed.',
    args: {
      environments: t.arg.stringList({ description: ARGS_DESCRIPTION.environments }),
      releases: t.arg.stringList({ description: ARGS_DESCRIPTION.releases }),
      period: t.arg.string({ description: PERIOD_DESCRIPTION }),
      start: t.arg({ type: 'DateTime' }),
      end: t.arg({ type: 'DateTime' }),
      interval: t.arg.string({ description: ARGS_DESCRIPTION.interval }),
      groupBy: t.arg({ type: [SessionsGroupByEnum], description: ARGS_DESCRIPTION.groupBy }),
      orderBy: t.arg({ type: SessionsOrderByInput, description: ARGS_DESCRIPTION.orderBy }),
      limit: t.arg.int({ description: ARGS_DESCRIPTION.limit }),
      offset: t.arg.int({ description: ARGS_DESCRIPTION.offset }),
    },
    resolve: (project, args, ctx, info: GraphQLResolveInfo) => {
      const selection = sessionsSelection(info);
      const spec = resolveSessionsSpec(args, selection, ctx.now);
      return ctx.loaders
        .sessionsByProjectId(spec)
        .load({ projectId: project.id, organizationId: project.organizationId });
    },
  }),
);
