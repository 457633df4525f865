import { builder } from '../../graphql/builder.ts';
import { ForbiddenError, InvalidArgumentError, NotFoundError } from '../../graphql/errors.ts';
import { ReleaseRef } from '../releases/release.schema.ts';
import { type AlertRulePreview, type PreviewIncident, previewAlertRule } from './alert-preview.ts';
import { parseAlertRuleInput } from './alert-rule.input.ts';
import { CreateAlertRuleInput, projectOfInput } from './alert-rule.schema.ts';

// Query.previewAlertRule: what a rule would have done over the past 7 days. It saves nothing, so
// reading the project is enough (ORG_READ).

const PreviewIncidentRef = builder
  .objectRef<PreviewIncident & { projectId: number }>('AlertPreviewIncident')
  .implement({
    fields: (t) => ({
      release: t.field({
        type: ReleaseRef,
        nullable: true,
        resolve: async (i, _args, ctx) => {
          const row = await ctx.loaders.releaseById.load(i.releaseId);
          return row && { row, projectId: i.projectId };
        },
      }),
      environment: t.string({
        nullable: true,
        resolve: (i) => (i.environment === '' ? null : i.environment),
      }),
      openedAt: t.expose('openedAt', { type: 'DateTime' }),
      openValue: t.exposeFloat('openValue'),
      resolvedAt: t.expose('resolvedAt', {
        type: 'DateTime',
        nullable: true,
        description: 'Null: still open at the end of the preview.',
      }),
      resolvedValue: t.exposeFloat('resolvedValue', { nullable: true }),
    }),
  });

const AlertRulePreviewRef = builder
  .objectRef<AlertRulePreview & { projectId: number }>('AlertRulePreview')
  .implement({
    description: 'The rule replayed every `stepSeconds` over the past 7 days of stored sessions.',
    fields: (t) => ({
      from: t.expose('from', { type: 'DateTime' }),
      to: t.expose('to', { type: 'DateTime' }),
      stepSeconds: t.exposeInt('stepSeconds'),
      evaluations: t.exposeInt('evaluations'),
      incidents: t.field({
        type: [PreviewIncidentRef],
        resolve: (p) => p.incidents.map((i) => ({ ...i, projectId: p.projectId })),
      }),
    }),
  });

// A mutation by its input and its result union, like the rule mutations it previews; it saves
// nothing.
builder.mutationField('previewAlertRule', (t) =>
  t.field({
    type: AlertRulePreviewRef,
    args: { input: t.arg({ type: CreateAlertRuleInput, required: true }) },
    authScopes: (_root, { input }) => ({ readOrganizationSlug: input.organizationSlug }),
    errors: {
      types: [ForbiddenError, InvalidArgumentError, NotFoundError],
      result: { name: 'PreviewAlertRuleSuccess' },
      union: { name: 'PreviewAlertRuleResult' },
      dataField: { name: 'preview' },
    },
    resolve: async (_root, { input }, ctx) => {
      const project = await projectOfInput(input, ctx);
      const fields = parseAlertRuleInput(input, project.id);
      return { ...(await previewAlertRule(ctx.db, fields, ctx.now)), projectId: project.id };
    },
  }),
);
