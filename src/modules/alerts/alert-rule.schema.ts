import { builder } from '../../graphql/builder.ts';
import type { Context } from '../../graphql/context.ts';
import { ForbiddenError, InvalidArgumentError, NotFoundError } from '../../graphql/errors.ts';
import { parseIntId } from '../../graphql/global-id.ts';
import { ProjectRef } from '../projects/project.schema.ts';
import { ALERT_METRICS } from './alert-metric.ts';
import { ALERT_WINDOWS, parseAlertRuleInput, windowName } from './alert-rule.input.ts';
import {
  type AlertRuleRow,
  insertAlertRule,
  updateAlertRule,
  updateAlertRuleDeleted,
} from './alert-rule.queries.ts';

// Alert rules: Project.alertRules and their mutations (ORG_ADMIN). Expected failures are union
// members (ForbiddenError, InvalidArgumentError naming the input field, NotFoundError).

export const AlertMetricEnum = builder.enumType('AlertMetric', {
  description:
    'A rate of ReleaseHealth in percent. `<RATE>_<UNIT>`: CRASH_FREE_SESSIONS is crashFreeSessions, CRASH_RATE_USERS is crashRateUsers …',
  values: ALERT_METRICS,
});

export const AlertComparisonEnum = builder.enumType('AlertComparison', {
  description: 'BELOW: fires when the value falls under the threshold; ABOVE: when it rises over.',
  values: ['BELOW', 'ABOVE'] as const,
});

export const AlertRuleKindEnum = builder.enumType('AlertRuleKind', {
  description:
    'THRESHOLD: the metric against a fixed line. REGRESSION: the newest adopted release against the one it replaced in the same environment; `threshold` is the drop in points.',
  values: ['THRESHOLD', 'REGRESSION'] as const,
});

export const AlertReleaseSelectEnum = builder.enumType('AlertReleaseSelect', {
  description:
    'ALL: every release with sessions in the window. NEWEST_ADOPTED: the newest adopted release of each environment. NAMED: one version.',
  values: ['ALL', 'NEWEST_ADOPTED', 'NAMED'] as const,
});

export const AlertReleasesInput = builder.inputType('AlertReleasesInput', {
  fields: (t) => ({
    select: t.field({ type: AlertReleaseSelectEnum, required: true }),
    version: t.string({ description: 'The release version, with NAMED only.' }),
  }),
});

const AlertReleasesRef = builder
  .objectRef<{ select: AlertRuleRow['releaseSelect']; version: string | null }>('AlertReleases')
  .implement({
    fields: (t) => ({
      select: t.field({ type: AlertReleaseSelectEnum, resolve: (r) => r.select }),
      version: t.exposeString('version', { nullable: true }),
    }),
  });

export const AlertRuleRef = builder.objectRef<AlertRuleRow>('AlertRule');

builder.node(AlertRuleRef, {
  description: 'When a release of a project crosses a line on one of its health rates.',
  authScopes: (rule) => ({ readProject: rule.projectId }),
  id: { resolve: (rule) => rule.id, parse: parseIntId },
  loadOne: async (id, ctx) => {
    const rule = await ctx.loaders.alertRuleById.load(id);
    return rule && !rule.deletedAt ? rule : null;
  },
  fields: (t) => ({
    name: t.exposeString('name'),
    kind: t.field({ type: AlertRuleKindEnum, resolve: (r) => r.kind }),
    metric: t.field({ type: AlertMetricEnum, resolve: (r) => r.metric }),
    comparison: t.field({ type: AlertComparisonEnum, resolve: (r) => r.comparison }),
    threshold: t.exposeFloat('threshold', {
      description: 'Percent; for REGRESSION, the drop in points that opens an incident.',
    }),
    resolveThreshold: t.exposeFloat('resolveThreshold', {
      description: 'Where an open incident resolves: on the healthy side of threshold.',
    }),
    window: t.string({ resolve: (r) => windowName(r.windowSeconds) }),
    windowSeconds: t.exposeInt('windowSeconds'),
    minSessions: t.exposeInt('minSessions'),
    minUsers: t.exposeInt('minUsers'),
    environment: t.exposeString('environment', {
      nullable: true,
      description: 'Null: every environment together (adoption-based selections: each one).',
    }),
    releases: t.field({
      type: AlertReleasesRef,
      resolve: (r) => ({ select: r.releaseSelect, version: r.releaseVersion }),
    }),
    project: t.field({
      type: ProjectRef,
      resolve: async (r, _args, ctx) => {
        const project = await ctx.loaders.projectById.load(r.projectId);
        if (!project) throw new Error(`project ${r.projectId} of alert rule ${r.id} is missing`);
        return project;
      },
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.objectField(ProjectRef, 'alertRules', (t) =>
  t.field({
    type: [AlertRuleRef],
    resolve: (project, _args, ctx) => ctx.loaders.alertRulesByProjectId.load(project.id),
  }),
);

const windowDescription = `One of ${Object.keys(ALERT_WINDOWS).join(', ')} (Sentry's windows). Default 1h.`;

/** The input fields of a rule; createAlertRule, updateAlertRule and previewAlertRule share them. */
export const CreateAlertRuleInput = builder.inputType('CreateAlertRuleInput', {
  fields: (t) => ({
    organizationSlug: t.string({ required: true }),
    projectSlug: t.string({ required: true }),
    name: t.string({ required: true, description: '1 to 100 characters.' }),
    kind: t.field({ type: AlertRuleKindEnum, description: 'Default THRESHOLD.' }),
    metric: t.field({ type: AlertMetricEnum, required: true }),
    comparison: t.field({
      type: AlertComparisonEnum,
      description: 'Default: BELOW for *_FREE_* metrics, ABOVE for the others.',
    }),
    threshold: t.float({ required: true, description: '0–100.' }),
    resolveThreshold: t.float({ description: '0–100; default: threshold (no hysteresis).' }),
    window: t.string({ description: windowDescription }),
    minSessions: t.int({ description: 'Default 100: fewer sessions in the window fire nothing.' }),
    minUsers: t.int({ description: 'Default 0.' }),
    environment: t.string({ description: 'Default: every environment.' }),
    releases: t.field({
      type: AlertReleasesInput,
      description: 'Default ALL (REGRESSION: NEWEST_ADOPTED).',
    }),
  }),
});

/** The project a rule input names, or NotFoundError (the token may administer the org). */
export async function projectOfInput(
  input: { organizationSlug: string; projectSlug: string },
  ctx: Context,
) {
  const project = await ctx.loaders.projectBySlugs.load({
    organizationSlug: input.organizationSlug,
    slug: input.projectSlug,
  });
  if (!project) {
    throw new NotFoundError(
      'Project',
      `No project "${input.projectSlug}" in organization "${input.organizationSlug}".`,
    );
  }
  return project;
}

builder.mutationField('createAlertRule', (t) =>
  t.field({
    type: AlertRuleRef,
    args: { input: t.arg({ type: CreateAlertRuleInput, required: true }) },
    authScopes: (_root, { input }) => ({ administerOrganizationSlug: input.organizationSlug }),
    errors: {
      types: [ForbiddenError, InvalidArgumentError, NotFoundError],
      result: { name: 'CreateAlertRuleSuccess' },
      union: { name: 'CreateAlertRuleResult' },
      dataField: { name: 'alertRule' },
    },
    resolve: async (_root, { input }, ctx) => {
      const project = await projectOfInput(input, ctx);
      return insertAlertRule(ctx.db, parseAlertRuleInput(input, project.id), ctx.now);
    },
  }),
);

const UpdateAlertRuleInput = builder.inputType('UpdateAlertRuleInput', {
  description: 'Fields left out keep their value.',
  fields: (t) => ({
    id: t.globalID({ required: true }),
    name: t.string(),
    kind: t.field({ type: AlertRuleKindEnum }),
    metric: t.field({ type: AlertMetricEnum }),
    comparison: t.field({ type: AlertComparisonEnum }),
    threshold: t.float(),
    resolveThreshold: t.float(),
    window: t.string({ description: windowDescription }),
    minSessions: t.int(),
    minUsers: t.int(),
    environment: t.string({ description: 'null: every environment.' }),
    releases: t.field({ type: AlertReleasesInput }),
  }),
});

const ruleIdOf = (id: { typename: string; id: string | number }) =>
  id.typename === 'AlertRule' ? parseIntId(String(id.id)) : 0;

builder.mutationField('updateAlertRule', (t) =>
  t.field({
    type: AlertRuleRef,
    args: { input: t.arg({ type: UpdateAlertRuleInput, required: true }) },
    authScopes: (_root, { input }) => ({ administerAlertRule: ruleIdOf(input.id) }),
    errors: {
      types: [ForbiddenError, InvalidArgumentError, NotFoundError],
      result: { name: 'UpdateAlertRuleSuccess' },
      union: { name: 'UpdateAlertRuleResult' },
      dataField: { name: 'alertRule' },
    },
    resolve: async (_root, { input }, ctx) => {
      const existing = await ctx.loaders.alertRuleById.load(ruleIdOf(input.id));
      if (!existing || existing.deletedAt) {
        throw new NotFoundError('AlertRule', 'No alert rule has this id.');
      }
      const fields = parseAlertRuleInput(input, existing.projectId, existing);
      const updated = await updateAlertRule(ctx.db, existing.id, fields, ctx.now);
      if (!updated) throw new NotFoundError('AlertRule', 'No alert rule has this id.');
      return updated;
    },
  }),
);

const DeleteAlertRuleInput = builder.inputType('DeleteAlertRuleInput', {
  fields: (t) => ({ id: t.globalID({ required: true }) }),
});

builder.mutationField('deleteAlertRule', (t) =>
  t.field({
    type: AlertRuleRef,
    description: 'Stops the rule. Its incidents stay, as history; open ones stay open.',
    args: { input: t.arg({ type: DeleteAlertRuleInput, required: true }) },
    authScopes: (_root, { input }) => ({ administerAlertRule: ruleIdOf(input.id) }),
    errors: {
      types: [ForbiddenError, NotFoundError],
      result: { name: 'DeleteAlertRuleSuccess' },
      union: { name: 'DeleteAlertRuleResult' },
      dataField: { name: 'alertRule' },
    },
    resolve: async (_root, { input }, ctx) => {
      const deleted = await updateAlertRuleDeleted(ctx.db, ruleIdOf(input.id), ctx.now);
      if (!deleted) throw new NotFoundError('AlertRule', 'No alert rule has this id.');
      return deleted;
    },
  }),
);
