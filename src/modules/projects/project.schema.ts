import { builder } from '../../graphql/builder.ts';
import {
  ForbiddenError,
  InvalidArgumentError,
  NotFoundError,
  SlugTakenError,
} from '../../graphql/errors.ts';
import { parseIntId } from '../../graphql/global-id.ts';
import { OrganizationRef } from '../organizations/organization.schema.ts';
import { parseSlugAndName, SLUG_RULE } from '../slug.ts';
import { buildDsn } from './dsn.ts';
import { insertProject, type ProjectRow } from './project.queries.ts';
import { ProjectKeyRef } from './project-key.schema.ts';
import { newPublicKey } from './public-key.ts';

export const ProjectRef = builder.objectRef<ProjectRow>('Project');

builder.node(ProjectRef, {
  description: 'An application that reports sessions; `projectId` is the number in its DSN.',
  authScopes: (project) => ({ readOrganization: project.organizationId }),
  id: { resolve: (project) => project.id, parse: parseIntId },
  loadOne: (id, ctx) => ctx.loaders.projectById.load(id),
  fields: (t) => ({
    projectId: t.exposeInt('id', { description: 'The numeric id that DSNs carry.' }),
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    platform: t.exposeString('platform'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    organization: t.field({
      type: OrganizationRef,
      resolve: async (project, _args, ctx) => {
        const org = await ctx.loaders.organizationById.load(project.organizationId);
        // The foreign key guarantees the row; its absence is a bug worth surfacing.
        if (!org)
          throw new Error(
            `organization ${project.organizationId} of project ${project.id} is missing`,
          );
        return org;
      },
    }),
    keys: t.field({
      type: [ProjectKeyRef],
      resolve: (project, _args, ctx) => ctx.loaders.projectKeysByProjectId.load(project.id),
    }),
    dsn: t.string({
      nullable: true,
      description:
        'The DSN of the oldest active key that is not being rotated out; null when every key is revoked.',
      resolve: async (project, _args, ctx) => {
        const keys = (await ctx.loaders.projectKeysByProjectId.load(project.id)).filter(
          (k) => k.isActive && (!k.expiresAt || k.expiresAt > ctx.now),
        );
        const key = keys.find((k) => !k.expiresAt) ?? keys[0];
        return key ? buildDsn(ctx.publicUrl, key.publicKey, project.id) : null;
      },
    }),
  }),
});

builder.objectField(OrganizationRef, 'projects', (t) =>
  t.field({
    type: [ProjectRef],
    resolve: (org, _args, ctx) => ctx.loaders.projectsByOrganizationId.load(org.id),
  }),
);

builder.queryField('project', (t) =>
  t.field({
    type: ProjectRef,
    nullable: true,
    args: {
      organizationSlug: t.arg.string({ required: true }),
      slug: t.arg.string({ required: true }),
    },
    // Outside the token's organizations the answer is null, as for a project that does not exist.
    authScopes: (_root, args) => ({ readOrganizationSlug: args.organizationSlug }),
    unauthorizedResolver: () => null,
    resolve: (_root, args, ctx) =>
      ctx.loaders.projectBySlugs.load({ organizationSlug: args.organizationSlug, slug: args.slug }),
  }),
);

const CreateProjectInput = builder.inputType('CreateProjectInput', {
  fields: (t) => ({
    organizationSlug: t.string({ required: true }),
    slug: t.string({ required: true, description: SLUG_RULE }),
    name: t.string({ required: true }),
    platform: t.string({ required: true, description: 'Sentry platform name, e.g. "node".' }),
  }),
});

const PLATFORM = /^[a-z0-9][a-z0-9._-]{0,63}$/;

builder.mutationField('createProject', (t) =>
  t.field({
    type: ProjectRef,
    args: { input: t.arg({ type: CreateProjectInput, required: true }) },
    authScopes: (_root, { input }) => ({ administerOrganizationSlug: input.organizationSlug }),
    errors: {
      types: [ForbiddenError, InvalidArgumentError, NotFoundError, SlugTakenError],
      result: { name: 'CreateProjectSuccess' },
      union: { name: 'CreateProjectResult' },
      dataField: { name: 'project' },
    },
    resolve: async (_root, { input }, ctx) => {
      const { name } = parseSlugAndName(input);
      if (!PLATFORM.test(input.platform)) {
        throw new InvalidArgumentError(
          'platform',
          'The platform must be a Sentry platform name such as "node" or "javascript-react".',
        );
      }
      const org = await ctx.loaders.organizationBySlug.load(input.organizationSlug);
      if (!org) {
        throw new NotFoundError(
          'Organization',
          `No organization has the slug "${input.organizationSlug}".`,
        );
      }
      const project = await insertProject(ctx.db, {
        organizationId: org.id,
        slug: input.slug,
        name,
        platform: input.platform,
        publicKey: newPublicKey(),
      });
      if (!project) throw new SlugTakenError(input.slug);
      return project;
    },
  }),
);
