import { builder } from '../../graphql/builder.ts';
import { ForbiddenError, InvalidArgumentError, NotFoundError } from '../../graphql/errors.ts';
import { ProjectRef } from '../projects/project.schema.ts';
import { ReleaseHealthRef } from '../release-health/release-health.schema.ts';
import {
  DEFAULT_HEALTH_TARGET,
  effectiveTarget,
  type HealthTargetValues,
  healthStatus,
} from './health-status.ts';
import { deleteHealthTarget, upsertHealthTarget } from './health-target.queries.ts';

// Health targets: what "healthy" means per project (and environment), and ReleaseHealth.status.

export const HealthStatusEnum = builder.enumType('HealthStatus', {
  description:
    'NOT_ENOUGH_DATA below the minimum sessions or users; else CRITICAL below a critical line, WARNING below a target, HEALTHY otherwise.',
  values: ['HEALTHY', 'WARNING', 'CRITICAL', 'NOT_ENOUGH_DATA'] as const,
});

interface HealthTargetShape extends HealthTargetValues {
  environment: string | null;
  isDefault: boolean;
}

const HealthTargetRef = builder.objectRef<HealthTargetShape>('HealthTarget').implement({
  description: `Crash-free lines in percent. Defaults: sessions ${DEFAULT_HEALTH_TARGET.crashFreeSessionsTarget} / ${DEFAULT_HEALTH_TARGET.crashFreeSessionsCritical}, users ${DEFAULT_HEALTH_TARGET.crashFreeUsersTarget} / ${DEFAULT_HEALTH_TARGET.crashFreeUsersCritical}, at least ${DEFAULT_HEALTH_TARGET.minSessions} sessions and ${DEFAULT_HEALTH_TARGET.minUsers} users.`,
  fields: (t) => ({
    environment: t.exposeString('environment', {
      nullable: true,
      description: 'Null: the whole project.',
    }),
    crashFreeSessionsTarget: t.exposeFloat('crashFreeSessionsTarget'),
    crashFreeSessionsCritical: t.exposeFloat('crashFreeSessionsCritical'),
    crashFreeUsersTarget: t.exposeFloat('crashFreeUsersTarget'),
    crashFreeUsersCritical: t.exposeFloat('crashFreeUsersCritical'),
    minSessions: t.exposeInt('minSessions'),
    minUsers: t.exposeInt('minUsers'),
    isDefault: t.exposeBoolean('isDefault', { description: 'Vigil’s defaults: nothing was set.' }),
  }),
});

builder.objectField(ProjectRef, 'healthTargets', (t) =>
  t.field({
    type: [HealthTargetRef],
    description: 'The project’s target (the defaults when none was set), then per environment.',
    resolve: async (project, _args, ctx) => {
      const rows = await ctx.loaders.healthTargetsByProjectId.load(project.id);
      const own = rows.find((r) => r.environment === '');
      return [
        own
          ? { ...own, environment: null, isDefault: false }
          : { ...DEFAULT_HEALTH_TARGET, environment: null, isDefault: true },
        ...rows.filter((r) => r.environment !== '').map((r) => ({ ...r, isDefault: false })),
      ];
    },
  }),
);

builder.objectField(ReleaseHealthRef, 'status', (t) =>
  t.field({
    type: HealthStatusEnum,
    nullable: true,
    description:
      'Against the project’s target (the environment’s own when exactly one environment is asked). Null outside a project.',
    resolve: async (h, _args, ctx) => {
      if (h.filter.projectId === null) return null;
      const targets = await ctx.loaders.healthTargetsByProjectId.load(h.filter.projectId);
      return healthStatus(h, effectiveTarget(targets, h.filter.environments));
    },
  }),
);

const SetHealthTargetInput = builder.inputType('SetHealthTargetInput', {
  description: 'Fields left out take Vigil’s defaults.',
  fields: (t) => ({
    organizationSlug: t.string({ required: true }),
    projectSlug: t.string({ required: true }),
    environment: t.string({ description: 'Leave out for the whole project.' }),
    crashFreeSessionsTarget: t.float(),
    crashFreeSessionsCritical: t.float(),
    crashFreeUsersTarget: t.float(),
    crashFreeUsersCritical: t.float(),
    minSessions: t.int(),
    minUsers: t.int(),
  }),
});

function parseTarget(input: Partial<Record<keyof HealthTargetValues, number | null>>) {
  const v = { ...DEFAULT_HEALTH_TARGET };
  for (const key of Object.keys(v) as Array<keyof HealthTargetValues>) {
    const value = input[key];
    if (value === null || value === undefined) continue;
    const count = key === 'minSessions' || key === 'minUsers';
    if (count ? !Number.isSafeInteger(value) || value < 0 : !(value >= 0 && value <= 100)) {
      throw new InvalidArgumentError(
        key,
        count ? `${key} must be a whole number, 0 or more.` : `${key} must lie between 0 and 100.`,
      );
    }
    v[key] = value;
  }
  if (v.crashFreeSessionsCritical > v.crashFreeSessionsTarget) {
    throw new InvalidArgumentError(
      'crashFreeSessionsCritical',
      'The critical line must not lie above the target.',
    );
  }
  if (v.crashFreeUsersCritical > v.crashFreeUsersTarget) {
    throw new InvalidArgumentError(
      'crashFreeUsersCritical',
      'The critical line must not lie above the target.',
    );
  }
  return v;
}

builder.mutationField('setHealthTarget', (t) =>
  t.field({
    type: HealthTargetRef,
    args: { input: t.arg({ type: SetHealthTargetInput, required: true }) },
    authScopes: (_root, { input }) => ({ administerOrganizationSlug: input.organizationSlug }),
    errors: {
      types: [ForbiddenError, InvalidArgumentError, NotFoundError],
      result: { name: 'SetHealthTargetSuccess' },
      union: { name: 'SetHealthTargetResult' },
      dataField: { name: 'healthTarget' },
    },
    resolve: async (_root, { input }, ctx) => {
      const environment = input.environment?.trim() ?? '';
      if (input.environment !== null && input.environment !== undefined && environment === '') {
        throw new InvalidArgumentError(
          'environment',
          'Leave environment out for the whole project.',
        );
      }
      const values = parseTarget(input);
      const project = await ctx.loaders.projectBySlugs.load({
        organizationSlug: input.organizationSlug,
        slug: input.projectSlug,
      });
      if (!project) throw new NotFoundError('Project', `No project "${input.projectSlug}".`);
      const row = await upsertHealthTarget(ctx.db, project.id, environment, values, ctx.now);
      return { ...row, environment: row.environment || null, isDefault: false };
    },
  }),
);

const ResetHealthTargetInput = builder.inputType('ResetHealthTargetInput', {
  fields: (t) => ({
    organizationSlug: t.string({ required: true }),
    projectSlug: t.string({ required: true }),
    environment: t.string({ description: 'Leave out for the whole project.' }),
  }),
});

builder.mutationField('resetHealthTarget', (t) =>
  t.boolean({
    description: 'Back to the project’s target (or the defaults); false when none was set.',
    args: { input: t.arg({ type: ResetHealthTargetInput, required: true }) },
    authScopes: (_root, { input }) => ({ administerOrganizationSlug: input.organizationSlug }),
    errors: {
      types: [ForbiddenError, NotFoundError],
      result: { name: 'ResetHealthTargetSuccess' },
      union: { name: 'ResetHealthTargetResult' },
      dataField: { name: 'reset' },
    },
    resolve: async (_root, { input }, ctx) => {
      const project = await ctx.loaders.projectBySlugs.load({
        organizationSlug: input.organizationSlug,
        slug: input.projectSlug,
      });
      if (!project) throw new NotFoundError('Project', `No project "${input.projectSlug}".`);
      return deleteHealthTarget(ctx.db, project.id, input.environment?.trim() ?? '');
    },
  }),
);
