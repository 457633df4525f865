import { RequestCache } from '@pothos/plugin-scope-auth';
import type { AuthScopes } from './auth-scopes.ts';
import { builder } from './builder.ts';
import type { Context } from './context.ts';

/**
 * Whether this request passes `scopes`, evaluated by scope-auth itself (same scope loaders, same
 * per-request cache). For fields that return several things and must leave out the ones the
 * token may not see (Query.organizations, Query.nodes) rather than fail as a whole.
 */
export async function isAuthorized(ctx: Context, scopes: Partial<AuthScopes>): Promise<boolean> {
  const cache = RequestCache.fromContext(ctx as never, builder as never) as RequestCache<never>;
  const failure = await cache.evaluateScopeMap(scopes as never);
  return failure === null;
}

/** `items` without those the request may not see, in order. */
export async function keepAuthorized<T>(
  ctx: Context,
  items: readonly T[],
  scopesOf: (item: T) => Partial<AuthScopes>,
): Promise<T[]> {
  const allowed = await Promise.all(items.map((item) => isAuthorized(ctx, scopesOf(item))));
  return items.filter((_item, i) => allowed[i]);
}
