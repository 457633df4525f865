import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { type Principal, rateLimitKey } from './principal.ts';

const UNAUTHENTICATED = () =>
  createGraphQLError('A valid API token is required: send "Authorization: Bearer <token>".', {
    extensions: {
      code: 'UNAUTHENTICATED',
      http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } },
    },
  });

const RATE_LIMITED = (seconds: number) =>
  createGraphQLError(`Too many requests for this token; retry in ${seconds} s.`, {
    extensions: {
      code: 'RATE_LIMITED',
      http: { status: 429, headers: { 'Retry-After': String(seconds) } },
    },
  });

const principals = new WeakMap<Request, Principal>();

/** The principal `useBearerAuth` found for this request; the context factory reads it. */
export function principalOf(request: Request): Principal {
  const principal = principals.get(request);
  // The plugin runs before any context is built; a missing principal is a wiring bug.
  if (!principal) throw new Error('request reached GraphQL without authentication');
  return principal;
}

/** The principal of a request that passed authentication, else undefined (not yet, or refused). */
export function authenticatedPrincipal(request: Request): Principal | undefined {
  return principals.get(request);
}

/**
 * Every GraphQL operation needs `Authorization: Bearer <token>`, and each token gets its own rate
 * limit. The check runs once the request's parameters are parsed, so the GraphiQL page itself
 * still loads and the user can paste a token.
 * @param rateLimit returns 0 to let the request pass, else the seconds to wait.
 */
export function useBearerAuth(
  verify: (token: string) => Promise<Principal | null>,
  rateLimit: (key: string) => number,
): Plugin {
  return {
    async onParams({ request }) {
      const header = request.headers.get('authorization') ?? '';
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      const principal = match?.[1] ? await verify(match[1]) : null;
      if (!principal) throw UNAUTHENTICATED();
      const wait = rateLimit(rateLimitKey(principal));
      if (wait > 0) throw RATE_LIMITED(wait);
      principals.set(request, principal);
    },
  };
}
