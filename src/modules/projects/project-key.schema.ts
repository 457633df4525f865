import type { Database } from '../../db/client.ts';
import { builder } from '../../graphql/builder.ts';
import { ForbiddenError, InvalidArgumentError, NotFoundError } from '../../graphql/errors.ts';
import { parseIntId } from '../../graphql/global-id.ts';
import { PROJECT_KEY_CHANNEL } from '../../ingest/project-key.ts';
import { buildDsn } from './dsn.ts';
import {
  insertProjectKey,
  type ProjectKeyRow,
  rotateProjectKeyRows,
  updateProjectKeyDeactivated,
} from './project.queries.ts';
import { newPublicKey } from './public-key.ts';

export const ProjectKeyRef = builder.objectRef<ProjectKeyRow>('ProjectKey');

builder.node(ProjectKeyRef, {
  description: 'A client key: SDKs authenticate with its public key, which their DSN carries.',
  authScopes: (key) => ({ readProject: key.projectId }),
  id: { resolve: (key) => key.id, parse: parseIntId },
  loadOne: (id, ctx) => ctx.loaders.projectKeyById.load(id),
  fields: (t) => ({
    publicKey: t.exposeString('publicKey'),
    isActive: t.exposeBoolean('isActive', {
      description: 'False once deactivated; a rotated key stays active until `expiresAt`.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When a rotated key stops being accepted.',
    }),
    rateLimitPerMinute: t.exposeInt('rateLimitPerMinute', {
      nullable: true,
      description: "Envelopes a minute for this key; null: the instance's default.",
    }),
    lastUsedAt: t.expose('lastUsedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'Kept to within about a minute.',
    }),
    dsn: t.string({
      resolve: (key, _args, ctx) => buildDsn(ctx.publicUrl, key.publicKey, key.projectId),
    }),
  }),
});

const RATE_LIMIT_DESCRIPTION =
  "Envelopes a minute for this key, 1 to 1,000,000; left out or null: the instance's default.";
const MAX_GRACE_SECONDS = 30 * 86_400;

function checkRateLimit(value: number | null | undefined): void {
  if (value != null && (value < 1 || value > 1_000_000)) {
    throw new InvalidArgumentError('rateLimitPerMinute', RATE_LIMIT_DESCRIPTION);
  }
}

/** Ids of another type match no key, as an unknown id does. */
function keyId(id: { typename: string; id: string | number }): number {
  return id.typename === 'ProjectKey' ? parseIntId(String(id.id)) : 0;
}

/** Every process drops its cached answer for these keys now (src/ingest/project-key.ts). */
async function announce(db: Database, keys: ProjectKeyRow[]) {
  for (const key of keys) await db.notifications.publish(PROJECT_KEY_CHANNEL, key.publicKey);
}

const CreateProjectKeyInput = builder.inputType('CreateProjectKeyInput', {
  fields: (t) => ({
    organizationSlug: t.string({ required: true }),
    projectSlug: t.string({ required: true }),
    rateLimitPerMinute: t.int({ description: RATE_LIMIT_DESCRIPTION }),
  }),
});

builder.mutationField('createProjectKey', (t) =>
  t.field({
    type: ProjectKeyRef,
    args: { input: t.arg({ type: CreateProjectKeyInput, required: true }) },
    authScopes: (_root, { input }) => ({ administerOrganizationSlug: input.organizationSlug }),
    errors: {
      types: [ForbiddenError, InvalidArgumentError, NotFoundError],
      result: { name: 'CreateProjectKeySuccess' },
      union: { name: 'CreateProjectKeyResult' },
      dataField: { name: 'projectKey' },
    },
    resolve: async (_root, { input }, ctx) => {
      checkRateLimit(input.rateLimitPerMinute);
      const project = await ctx.loaders.projectBySlugs.load({
        organizationSlug: input.organizationSlug,
        slug: input.projectSlug,
      });
      if (!project) throw new NotFoundError('Project', 'No project has these slugs.');
      const key = await insertProjectKey(ctx.db, {
        projectId: project.id,
        publicKey: newPublicKey(),
        rateLimitPerMinute: input.rateLimitPerMinute ?? null,
      });
      await announce(ctx.db, [key]);
      return key;
    },
  }),
);

const DeactivateProjectKeyInput = builder.inputType('DeactivateProjectKeyInput', {
  fields: (t) => ({ id: t.globalID({ required: true }) }),
});

builder.mutationField('deactivateProjectKey', (t) =>
  t.field({
    type: ProjectKeyRef,
    description: 'Refuses the key from now on, on every Vigil process.',
    args: { input: t.arg({ type: DeactivateProjectKeyInput, required: true }) },
    authScopes: (_root, { input }) => ({ administerProjectKey: keyId(input.id) }),
    errors: {
      types: [ForbiddenError, NotFoundError],
      result: { name: 'DeactivateProjectKeySuccess' },
      union: { name: 'DeactivateProjectKeyResult' },
      dataField: { name: 'projectKey' },
    },
    resolve: async (_root, { input }, ctx) => {
      const key = await updateProjectKeyDeactivated(ctx.db, keyId(input.id));
      if (!key) throw new NotFoundError('ProjectKey', 'No project key has this id.');
      await announce(ctx.db, [key]);
      return key;
    },
  }),
);

const RotateProjectKeyInput = builder.inputType('RotateProjectKeyInput', {
  fields: (t) => ({
    id: t.globalID({ required: true, description: 'The key to replace.' }),
    gracePeriodSeconds: t.int({
      required: true,
      description: 'How long the old key is still accepted: 0 (not at all) to 30 days.',
    }),
    rateLimitPerMinute: t.int({
      description: `${RATE_LIMIT_DESCRIPTION} Left out: the old key's.`,
    }),
  }),
});

const RotateProjectKeySuccess = builder
  .objectRef<{ projectKey: ProjectKeyRow; previousKey: ProjectKeyRow }>('RotateProjectKeySuccess')
  .implement({
    fields: (t) => ({
      projectKey: t.field({
        type: ProjectKeyRef,
        description: 'The new key.',
        resolve: (r) => r.projectKey,
      }),
      previousKey: t.field({
        type: ProjectKeyRef,
        description: 'The old key, accepted until its `expiresAt`.',
        resolve: (r) => r.previousKey,
      }),
    }),
  });

builder.mutationField('rotateProjectKey', (t) =>
  t.field({
    type: RotateProjectKeySuccess,
    description: 'A new key now; the old one is accepted for the grace period, then refused.',
    args: { input: t.arg({ type: RotateProjectKeyInput, required: true }) },
    authScopes: (_root, { input }) => ({ administerProjectKey: keyId(input.id) }),
    errors: {
      types: [ForbiddenError, InvalidArgumentError, NotFoundError],
      union: { name: 'RotateProjectKeyResult' },
      directResult: true,
    },
    resolve: async (_root, { input }, ctx) => {
      if (input.gracePeriodSeconds < 0 || input.gracePeriodSeconds > MAX_GRACE_SECONDS) {
        throw new InvalidArgumentError(
          'gracePeriodSeconds',
          'The grace period must be 0 to 2,592,000 seconds (30 days).',
        );
      }
      checkRateLimit(input.rateLimitPerMinute);
      const rotated = await rotateProjectKeyRows(ctx.db, {
        id: keyId(input.id),
        publicKey: newPublicKey(),
        endsAt: new Date(ctx.now.getTime() + input.gracePeriodSeconds * 1000),
        rateLimitPerMinute: input.rateLimitPerMinute,
      });
      if (!rotated) throw new NotFoundError('ProjectKey', 'No project key has this id.');
      await announce(ctx.db, [rotated.previousKey, rotated.key]);
      return { projectKey: rotated.key, previousKey: rotated.previousKey };
    },
  }),
);
