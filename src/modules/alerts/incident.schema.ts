import { resolveCursorConnection } from '@pothos/plugin-relay';
import { Repeater } from 'graphql-yoga';
import { builder } from '../../graphql/builder.ts';
import { InvalidArgumentError } from '../../graphql/errors.ts';
import { parseIntId } from '../../graphql/global-id.ts';
import type { Loaders } from '../../graphql/loaders.ts';
import { ProjectRef } from '../projects/project.schema.ts';
import { ReleaseRef } from '../releases/release.schema.ts';
import { AlertRuleRef } from './alert-rule.schema.ts';
import type { IncidentRow } from './incident.queries.ts';
import { INCIDENT_CHANNEL, type IncidentNotice } from './incident-events.ts';

// Incidents: Project.incidents (a Relay connection, newest first) and Subscription.incidents, fed
// by the notifications every process receives (src/db/notify.ts).

const IncidentStatusEnum = builder.enumType('IncidentStatus', {
  values: ['OPEN', 'RESOLVED'] as const,
});

export const IncidentRef = builder.objectRef<IncidentRow>('Incident');

builder.node(IncidentRef, {
  description: 'A release crossing an alert rule’s threshold, until it crossed back.',
  authScopes: (incident) => ({ readOrganization: incident.organizationId }),
  id: { resolve: (incident) => incident.id, parse: parseIntId },
  loadOne: (id, ctx) => ctx.loaders.incidentById.load(id),
  fields: (t) => {
    const release = (id: number | null, projectId: number, ctx: { loaders: Loaders }) =>
      id === null
        ? null
        : ctx.loaders.releaseById.load(id).then((row) => row && { row, projectId });
    return {
      status: t.field({ type: IncidentStatusEnum, resolve: (i) => i.status }),
      rule: t.field({
        type: AlertRuleRef,
        description: 'The rule, even when it was deleted since.',
        resolve: async (i, _args, ctx) => {
          const rule = await ctx.loaders.alertRuleById.load(i.ruleId);
          if (!rule) throw new Error(`rule ${i.ruleId} of incident ${i.id} is missing`);
          return rule;
        },
      }),
      project: t.field({
        type: ProjectRef,
        resolve: async (i, _args, ctx) => {
          const project = await ctx.loaders.projectById.load(i.projectId);
          if (!project) throw new Error(`project ${i.projectId} of incident ${i.id} is missing`);
          return project;
        },
      }),
      release: t.field({
        type: ReleaseRef,
        nullable: true,
        resolve: (i, _args, ctx) => release(i.releaseId, i.projectId, ctx),
      }),
      environment: t.string({
        nullable: true,
        description: 'Null when the rule covers every environment together.',
        resolve: (i) => (i.environment === '' ? null : i.environment),
      }),
      value: t.exposeFloat('value', { description: 'The metric when the incident opened.' }),
      threshold: t.exposeFloat('threshold'),
      baselineRelease: t.field({
        type: ReleaseRef,
        nullable: true,
        description: 'REGRESSION rules: the release this one replaced.',
        resolve: (i, _args, ctx) => release(i.baselineReleaseId, i.projectId, ctx),
      }),
      baselineValue: t.exposeFloat('baselineValue', { nullable: true }),
      openedAt: t.expose('openedAt', { type: 'DateTime' }),
      resolvedAt: t.expose('resolvedAt', { type: 'DateTime', nullable: true }),
      resolvedValue: t.exposeFloat('resolvedValue', { nullable: true }),
      lastValue: t.exposeFloat('lastValue', { description: 'At the last evaluation.' }),
      lastEvaluatedAt: t.expose('lastEvaluatedAt', { type: 'DateTime' }),
    };
  },
});

const cursorId = (cursor: string | null | undefined, field: string) => {
  if (cursor === null || cursor === undefined) return null;
  const id = parseIntId(cursor);
  if (id === 0)
    throw new InvalidArgumentError(field, `Not a cursor of this connection: "${cursor}".`);
  return id;
};

builder.objectField(ProjectRef, 'incidents', (t) =>
  t.connection({
    type: IncidentRef,
    description: 'Newest first.',
    args: { status: t.arg({ type: IncidentStatusEnum }) },
    resolve: async (project, args, ctx) => {
      if ((args.first ?? 0) > 100 || (args.last ?? 0) > 100) {
        throw new InvalidArgumentError('first', 'A page holds at most 100 incidents.');
      }
      const connection = await resolveCursorConnection<Promise<IncidentRow[]>>(
        {
          args: { ...args, first: args.first ?? (args.last ? undefined : 25) },
          toCursor: (i: IncidentRow) => String(i.id),
        },
        async ({ after, before, limit, inverted }): Promise<IncidentRow[]> =>
          await ctx.loaders
            .incidentsByProjectId({
              status: args.status ?? null,
              after: cursorId(after, 'after'),
              before: cursorId(before, 'before'),
              limit,
              inverted,
            })
            .load(project.id),
      );
      // resolveCursorConnection answers null only when given no arguments to page by.
      if (!connection) throw new Error('no page');
      return connection;
    },
  }),
);

const IncidentEventTypeEnum = builder.enumType('IncidentEventType', {
  values: ['OPENED', 'RESOLVED'] as const,
});

const IncidentEventRef = builder
  .objectRef<{ type: IncidentNotice['type']; incident: IncidentRow }>('IncidentEvent')
  .implement({
    fields: (t) => ({
      type: t.field({ type: IncidentEventTypeEnum, resolve: (e) => e.type }),
      incident: t.field({ type: IncidentRef, resolve: (e) => e.incident }),
    }),
  });

builder.subscriptionField('incidents', (t) =>
  t.field({
    type: IncidentEventRef,
    description:
      'Incidents of the organization as they open and resolve, from every Vigil process (over SSE: Accept: text/event-stream).',
    args: { organizationSlug: t.arg.string({ required: true }) },
    authScopes: (_root, args) => ({ readOrganizationSlug: args.organizationSlug }),
    subscribe: async (_root, args, ctx) => {
      const org = await ctx.loaders.organizationBySlug.load(args.organizationSlug);
      // Listening starts now, not at the first read, so nothing published after the response
      // began is missed.
      const queue: IncidentNotice[] = [];
      let wake = () => {};
      const off = ctx.db.notifications.subscribe(INCIDENT_CHANNEL, (payload) => {
        const notice = JSON.parse(payload) as IncidentNotice;
        if (notice.organizationId !== org?.id) return;
        queue.push(notice);
        wake();
      });
      return new Repeater<IncidentNotice>(async (push, stop) => {
        let stopped = false;
        void stop.then(() => {
          stopped = true;
          wake();
        });
        while (!stopped) {
          for (let next = queue.shift(); next; next = queue.shift()) await push(next);
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
        off();
      });
    },
    resolve: async (notice: IncidentNotice, _args, ctx) => {
      // The subscription's context lives long: read the incident as it is now.
      const incident = await ctx.loaders.incidentById.clear(notice.id).load(notice.id);
      if (!incident) throw new Error(`incident ${notice.id} is missing`);
      return { type: notice.type, incident };
    },
  }),
);
