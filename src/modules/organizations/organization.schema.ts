import { keepAuthorized } from '../../graphql/authorized.ts';
import { builder } from '../../graphql/builder.ts';
import { ForbiddenError, InvalidArgumentError, SlugTakenError } from '../../graphql/errors.ts';
import { parseIntId } from '../../graphql/global-id.ts';
import { parseSlugAndName, SLUG_RULE } from '../slug.ts';
import { EVERY_ORGANIZATION } from './organization.loaders.ts';
import { insertOrganization, type OrganizationRow } from './organization.queries.ts';

export const OrganizationRef = builder.objectRef<OrganizationRow>('Organization');

builder.node(OrganizationRef, {
  description: 'A tenant: it owns projects and releases.',
  authScopes: (org) => ({ readOrganization: org.id }),
  id: { resolve: (org) => org.id, parse: parseIntId },
  loadOne: (id, ctx) => ctx.loaders.organizationById.load(id),
  fields: (t) => ({
    slug: t.exposeString('slug'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  organizations: t.field({
    type: [OrganizationRef],
    description: 'Every organization the token may read, by slug.',
    authScopes: { authenticated: true },
    resolve: async (_root, _args, ctx) =>
      keepAuthorized(ctx, await ctx.loaders.allOrganizations.load(EVERY_ORGANIZATION), (org) => ({
        readOrganization: org.id,
      })),
  }),
  organization: t.field({
    type: OrganizationRef,
    nullable: true,
    args: { slug: t.arg.string({ required: true }) },
    // Outside the token's organizations the answer is null, as for a slug that does not exist.
    authScopes: (_root, { slug }) => ({ readOrganizationSlug: slug }),
    unauthorizedResolver: () => null,
    resolve: (_root, { slug }, ctx) => ctx.loaders.organizationBySlug.load(slug),
  }),
}));

const CreateOrganizationInput = builder.inputType('CreateOrganizationInput', {
  fields: (t) => ({
    slug: t.string({ required: true, description: SLUG_RULE }),
    name: t.string({ required: true }),
  }),
});

builder.mutationField('createOrganization', (t) =>
  t.field({
    type: OrganizationRef,
    args: { input: t.arg({ type: CreateOrganizationInput, required: true }) },
    description: 'Only the instance admin token creates organizations.',
    authScopes: { instanceAdmin: true },
    errors: {
      types: [ForbiddenError, InvalidArgumentError, SlugTakenError],
      result: { name: 'CreateOrganizationSuccess' },
      union: { name: 'CreateOrganizationResult' },
      dataField: { name: 'organization' },
    },
    resolve: async (_root, { input }, ctx) => {
      const { name } = parseSlugAndName(input);
      const org = await insertOrganization(ctx.db, { slug: input.slug, name });
      if (!org) throw new SlugTakenError(input.slug);
      return org;
    },
  }),
);
