import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { DateTimeResolver, NonNegativeIntResolver, SafeIntResolver } from 'graphql-scalars';
import { type AuthScopes, createAuthScopes, type GlobalId } from './auth-scopes.ts';
import { isAuthorized } from './authorized.ts';
import type { Context } from './context.ts';
import { BaseError, ForbiddenError } from './errors.ts';

/** The one schema builder. Domain types live in src/modules/*\/*.schema.ts. */
export const builder = new SchemaBuilder<{
  Context: Context;
  DefaultFieldNullability: false;
  AuthScopes: AuthScopes;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    NonNegativeInt: { Input: number; Output: number };
    /** Session, user and item counts: JSON numbers, exact up to 2^53 − 1 (Int stops at 2^31 − 1). */
    SafeInt: { Input: number; Output: number };
  };
}>({
  // Errors first, so a refused mutation becomes its ForbiddenError union member; relay before
  // scope-auth, so authScopes functions receive parsed global ids.
  plugins: [ErrorsPlugin, RelayPlugin, ScopeAuthPlugin],
  defaultFieldNullability: false,
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    // A node outside the token's organizations reads as null, exactly as an unknown id does.
    nodeQueryOptions: {
      authScopes: (_root, { id }) => ({ readNode: id }),
      unauthorizedResolver: () => null as never,
    },
    // Each id is checked with the same scope, and the ones the token may not read become null.
    nodesQueryOptions: {
      authScopes: { authenticated: true },
      resolve: (_root, { ids }, ctx, _info, resolveNodes) =>
        resolveReadableNodes(ids, ctx, resolveNodes),
    },
  },
  errors: { defaultTypes: [BaseError] },
  scopeAuth: {
    authScopes: createAuthScopes,
    // Scope parameters built per field (global ids) are cached by value, not by identity.
    cacheKey: (value) => (typeof value === 'object' ? JSON.stringify(value) : value),
    unauthorizedError: () => new ForbiddenError(),
    // Subscription fields are checked once, when the subscription starts.
    authorizeOnSubscribe: true,
  },
});

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('NonNegativeInt', NonNegativeIntResolver);
builder.addScalarType('SafeInt', SafeIntResolver, {
  description:
    'Every session, user and item count: a JSON number, exact up to 2^53 − 1 (9,007,199,254,740,991); GraphQL Int stops at 2^31 − 1, which 90 days of a busy project pass.',
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

/** Query.nodes: the ids the token may not read answer null, as unknown ids do. */
async function resolveReadableNodes(
  ids: GlobalId[],
  ctx: Context,
  resolveNodes: (ids: { id: string; typename: string }[]) => Promise<unknown[]>,
): Promise<unknown[]> {
  const allowed = await Promise.all(ids.map((id) => isAuthorized(ctx, { readNode: id })));
  // The relay plugin's resolveNodes loads the field's own ids whatever it is given, so the
  // refused ones are loaded too and then dropped here.
  const nodes = await resolveNodes(ids as never);
  return nodes.map((node, i) => (allowed[i] ? node : null));
}
