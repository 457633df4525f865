import { createGraphQLError, type Plugin } from 'graphql-yoga';

const UNAUTHENTICATED = () =>
  createGraphQLError('A valid API token is required: send "Authorization: Bearer <token>".', {
    extensions: {
      code: 'UNAUTHENTICATED',
      http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } },
    },
  });

/**
 * Every GraphQL operation needs `Authorization: Bearer <token>`. The check runs once the request's
 * parameters are parsed, so the GraphiQL page itself still loads and the user can paste a token.
 */
export function useBearerAuth(verify: (token: string) => Promise<boolean>): Plugin {
  return {
    async onParams({ request }) {
      const header = request.headers.get('authorization') ?? '';
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match?.[1] || !(await verify(match[1]))) throw UNAUTHENTICATED();
    },
  };
}
