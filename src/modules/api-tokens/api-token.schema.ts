import { API_SCOPES, type ApiScope } from '../../auth/principal.ts';
import { DISPLAY_PREFIX_LENGTH, generateOrgToken } from '../../auth/token-format.ts';
import { API_TOKEN_CHANNEL, hashToken } from '../../auth/tokens.ts';
import { builder } from '../../graphql/builder.ts';
import { ForbiddenError, InvalidArgumentError, NotFoundError } from '../../graphql/errors.ts';
import { parseIntId } from '../../graphql/global-id.ts';
import { OrganizationRef } from '../organizations/organization.schema.ts';
import { type ApiTokenRow, insertApiToken, updateApiTokenRevoked } from './api-token.queries.ts';

export const ApiScopeEnum = builder.enumType('ApiScope', {
  description: 'What an API token may do in its organization.',
  values: {
    ORG_READ: { description: 'Every read in the organization.' },
    ORG_ADMIN: {
      description: 'Every read, and managing its projects, DSN keys and API tokens.',
    },
  } satisfies Record<ApiScope, unknown>,
});

export const ApiTokenRef = builder.objectRef<ApiTokenRow>('ApiToken');

builder.node(ApiTokenRef, {
  description: 'A credential for GraphQL. Its secret is shown once, when it is created.',
  // Tokens are for their organization's admins; instance admin tokens for the instance admin.
  authScopes: (token) =>
    token.organizationId === null
      ? { instanceAdmin: true }
      : { administerOrganization: token.organizationId },
  id: { resolve: (token) => token.id, parse: parseIntId },
  loadOne: (id, ctx) => ctx.loaders.apiTokenById.load(id),
  fields: (t) => ({
    name: t.exposeString('name'),
    scopes: t.field({
      type: [ApiScopeEnum],
      // Stored as text; anything a later version dropped is left out rather than failing.
      resolve: (token) =>
        token.scopes.filter((s): s is ApiScope => (API_SCOPES as readonly string[]).includes(s)),
    }),
    prefix: t.exposeString('prefix', {
      description: 'The first characters of the secret, to tell tokens apart.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'Kept to within about a minute.',
    }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

builder.objectField(OrganizationRef, 'apiTokens', (t) =>
  t.field({
    type: [ApiTokenRef],
    nullable: true,
    description: "The organization's API tokens, revoked ones included; ORG_ADMIN only.",
    authScopes: (org) => ({ administerOrganization: org.id }),
    resolve: (org, _args, ctx) => ctx.loaders.apiTokensByOrganizationId.load(org.id),
  }),
);

const CreateApiTokenInput = builder.inputType('CreateApiTokenInput', {
  fields: (t) => ({
    organizationSlug: t.string({ required: true }),
    name: t.string({ required: true, description: '1 to 100 characters.' }),
    scopes: t.field({ type: [ApiScopeEnum], required: true }),
    expiresAt: t.field({ type: 'DateTime', description: 'Never, when left out.' }),
  }),
});

const CreateApiTokenSuccess = builder
  .objectRef<{ token: string; apiToken: ApiTokenRow }>('CreateApiTokenSuccess')
  .implement({
    fields: (t) => ({
      token: t.exposeString('token', {
        description: 'The secret: shown now and never again. Send it as a Bearer token.',
      }),
      apiToken: t.field({ type: ApiTokenRef, resolve: (payload) => payload.apiToken }),
    }),
  });

builder.mutationField('createApiToken', (t) =>
  t.field({
    type: CreateApiTokenSuccess,
    args: { input: t.arg({ type: CreateApiTokenInput, required: true }) },
    authScopes: (_root, { input }) => ({ administerOrganizationSlug: input.organizationSlug }),
    errors: {
      types: [ForbiddenError, InvalidArgumentError, NotFoundError],
      union: { name: 'CreateApiTokenResult' },
      // The secret sits beside the token, so the success type is this payload itself.
      directResult: true,
    },
    resolve: async (_root, { input }, ctx) => {
      const name = input.name.trim();
      if (name.length === 0 || name.length > 100) {
        throw new InvalidArgumentError('name', 'The name must have 1 to 100 characters.');
      }
      if (input.scopes.length === 0) {
        throw new InvalidArgumentError('scopes', 'A token needs at least one scope.');
      }
      if (input.expiresAt && input.expiresAt <= ctx.now) {
        throw new InvalidArgumentError('expiresAt', 'The expiry must be in the future.');
      }
      const org = await ctx.loaders.organizationBySlug.load(input.organizationSlug);
      if (!org) {
        throw new NotFoundError(
          'Organization',
          `No organization has the slug "${input.organizationSlug}".`,
        );
      }
      const token = generateOrgToken();
      const apiToken = await insertApiToken(ctx.db, {
        organizationId: org.id,
        name,
        tokenHash: hashToken(token),
        prefix: token.slice(0, DISPLAY_PREFIX_LENGTH),
        scopes: [...new Set(input.scopes)],
        expiresAt: input.expiresAt ?? null,
      });
      // Other processes may have cached "unknown" for this secret; the id tells them to forget.
      await ctx.db.notifications.publish(API_TOKEN_CHANNEL, String(apiToken.id));
      return { token, apiToken };
    },
  }),
);

const RevokeApiTokenInput = builder.inputType('RevokeApiTokenInput', {
  fields: (t) => ({ id: t.globalID({ required: true }) }),
});

builder.mutationField('revokeApiToken', (t) =>
  t.field({
    type: ApiTokenRef,
    args: { input: t.arg({ type: RevokeApiTokenInput, required: true }) },
    authScopes: (_root, { input }) => ({
      administerApiToken: input.id.typename === 'ApiToken' ? Number(input.id.id) : 0,
    }),
    errors: {
      types: [ForbiddenError, NotFoundError],
      result: { name: 'RevokeApiTokenSuccess' },
      union: { name: 'RevokeApiTokenResult' },
      dataField: { name: 'apiToken' },
    },
    resolve: async (_root, { input }, ctx) => {
      const id = input.id.typename === 'ApiToken' ? parseIntId(String(input.id.id)) : 0;
      const token = await updateApiTokenRevoked(ctx.db, id, ctx.now);
      if (!token) throw new NotFoundError('ApiToken', 'No API token has this id.');
      // Every process drops the token from its cache now, not when the cache would expire.
      await ctx.db.notifications.publish(API_TOKEN_CHANNEL, String(token.id));
      return token;
    },
  }),
);
