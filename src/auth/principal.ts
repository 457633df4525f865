/** What an API token may do in its organization (GraphQL enum ApiScope). */
export const API_SCOPES = ['ORG_READ', 'ORG_ADMIN'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/**
 * Who is asking, once the bearer token is checked. The instance admin (VIGIL_ADMIN_TOKEN or the
 * token generated at first start) reaches every organization; an organization token reaches one.
 */
export type Principal =
  | { kind: 'admin'; tokenId: number | null }
  | {
      kind: 'organization';
      tokenId: number;
      organizationId: number;
      scopes: ReadonlySet<ApiScope>;
    };

export function canRead(principal: Principal, organizationId: number): boolean {
  if (principal.kind === 'admin') return true;
  return principal.organizationId === organizationId && principal.scopes.size > 0;
}

export function canAdminister(principal: Principal, organizationId: number): boolean {
  if (principal.kind === 'admin') return true;
  return principal.organizationId === organizationId && principal.scopes.has('ORG_ADMIN');
}

/** The bucket GraphQL rate limits count in: one per token. */
export function rateLimitKey(principal: Principal): string {
  return principal.tokenId === null ? 'admin' : `token:${principal.tokenId}`;
}
