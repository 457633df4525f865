import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isOrgToken } from '../../src/auth/token-format.ts';
import { expectData } from '../support/gql.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import {
  API_TOKENS,
  CREATE_API_TOKEN,
  createOrganization,
  createToken,
  type Organization,
  REVOKE_API_TOKEN,
} from './access-support.ts';

// Organization API tokens: their shape, bad input, revocation that takes effect at once,
// lastUsedAt without a write per request, and the per-token GraphQL rate limit.

let server: TestServer;
let acme: Organization;
let bolt: Organization;

beforeAll(async () => {
  server = await startTestServer();
  acme = await createOrganization(server, 'acme');
  bolt = await createOrganization(server, 'bolt');
}, 120_000);

afterAll(async () => {
  await server?.close();
});

type TokenList = {
  organization: {
    apiTokens: Array<{ id: string; revokedAt: string | null; lastUsedAt: string | null }>;
  };
};
const tokensOf = async (slug: string) =>
  (await expectData<TokenList>(server, API_TOKENS, { slug })).organization.apiTokens;

const ORGS = '{ organizations { slug } }';

describe('token format', () => {
  test('a secret with a recognisable prefix and checksum, shown once; the list shows its prefix', async () => {
    const created = await createToken(server, acme.slug, ['ORG_READ'], { name: 'dashboards' });
    expect(created.token).toMatch(/^vglo_[0-9A-Za-z]{36}$/);
    expect(isOrgToken(created.token)).toBe(true);
    expect(created.apiToken).toMatchObject({
      name: 'dashboards',
      scopes: ['ORG_READ'],
      prefix: created.token.slice(0, 9),
    });
    const listed = JSON.stringify(await tokensOf(acme.slug));
    expect(listed).toContain(created.apiToken.id);
    expect(listed).not.toContain(created.token);
    // Only a hash is stored.
    const stored = await server.db.prisma.apiToken.findMany();
    expect(JSON.stringify(stored)).not.toContain(created.token);
  });

  test('a token with a wrong checksum is refused without a query', async () => {
    const { token } = await createToken(server, acme.slug, ['ORG_READ']);
    const last = token.at(-1) === 'a' ? 'b' : 'a';
    const forged = `${token.slice(0, -1)}${last}`;
    expect(isOrgToken(forged)).toBe(false);
    const { result, statements } = await server.countStatements(() =>
      server.gql(ORGS, {}, { token: forged }),
    );
    expect(result.status).toBe(401);
    expect(statements).toEqual([]);
  });
});

describe('bad input gets a clear error and changes nothing', () => {
  test.for([
    ['an empty name', { name: '   ', scopes: ['ORG_READ'] }, 'InvalidArgumentError', 'name'],
    ['no scope', { name: 'x', scopes: [] }, 'InvalidArgumentError', 'scopes'],
    [
      'an expiry in the past',
      { name: 'x', scopes: ['ORG_READ'], expiresAt: '2020-01-01T00:00:00Z' },
      'InvalidArgumentError',
      'expiresAt',
    ],
  ] as const)('%s', async ([, input, typename, field]) => {
    const before = await tokensOf(acme.slug);
    const data = await expectData<{
      createApiToken: { __typename: string; field: string; message: string };
    }>(server, CREATE_API_TOKEN, { input: { organizationSlug: acme.slug, ...input } });
    expect(data.createApiToken).toMatchObject({ __typename: typename, field });
    expect(data.createApiToken.message.length).toBeGreaterThan(10);
    expect(await tokensOf(acme.slug)).toEqual(before);
  });

  test('an unknown scope is refused by the schema', async () => {
    const before = await tokensOf(acme.slug);
    const result = await server.gql(CREATE_API_TOKEN, {
      input: { organizationSlug: acme.slug, name: 'x', scopes: ['ORG_WRITE'] },
    });
    expect(result.data).toBeUndefined();
    expect(result.errors?.[0]?.message).toMatch(/ORG_WRITE.*ApiScope/);
    expect(await tokensOf(acme.slug)).toEqual(before);
  });

  test('an unknown organization, for the instance admin', async () => {
    const data = await expectData<{ createApiToken: { __typename: string } }>(
      server,
      CREATE_API_TOKEN,
      { input: { organizationSlug: 'nowhere', name: 'x', scopes: ['ORG_READ'] } },
    );
    expect(data.createApiToken.__typename).toBe('NotFoundError');
  });

  test("revoking another organization's token is forbidden, and the token keeps working", async () => {
    const adminOfAcme = await createToken(server, acme.slug, ['ORG_ADMIN']);
    const ofBolt = await createToken(server, bolt.slug, ['ORG_READ']);
    const before = await tokensOf(bolt.slug);
    const data = await expectData<{ revokeApiToken: { __typename: string; message: string } }>(
      server,
      REVOKE_API_TOKEN,
      { input: { id: ofBolt.apiToken.id } },
      { token: adminOfAcme.token },
    );
    expect(data.revokeApiToken.__typename).toBe('ForbiddenError');
    expect(await tokensOf(bolt.slug)).toEqual(before);
    expect((await server.gql(ORGS, {}, { token: ofBolt.token })).status).toBe(200);
  });

  test('an id that is no token: NotFoundError for the admin, ForbiddenError for a token', async () => {
    const adminOfAcme = await createToken(server, acme.slug, ['ORG_ADMIN']);
    const input = { id: acme.id }; // an Organization's id
    const asAdmin = await expectData<{ revokeApiToken: { __typename: string } }>(
      server,
      REVOKE_API_TOKEN,
      { input },
    );
    expect(asAdmin.revokeApiToken.__typename).toBe('NotFoundError');
    const asToken = await expectData<{ revokeApiToken: { __typename: string } }>(
      server,
      REVOKE_API_TOKEN,
      { input },
      { token: adminOfAcme.token },
    );
    expect(asToken.revokeApiToken.__typename).toBe('ForbiddenError');
  });
});

describe('revocation', () => {
  test('a revoked token is refused on its next request, though it was cached', async () => {
    const { token, apiToken } = await createToken(server, acme.slug, ['ORG_READ']);
    expect((await server.gql(ORGS, {}, { token })).status).toBe(200);
    // Cached now: the next request of this token reads nothing from the database.
    const warm = await server.countStatements(() => server.gql(ORGS, {}, { token }));
    expect(warm.statements.filter((s) => /api_token/.test(s))).toEqual([]);
    await expectData(server, REVOKE_API_TOKEN, { input: { id: apiToken.id } });
    const refused = await server.gql(ORGS, {}, { token });
    expect(refused.status).toBe(401);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  test('a token may revoke itself', async () => {
    const { token, apiToken } = await createToken(server, acme.slug, ['ORG_ADMIN']);
    const data = await expectData<{ revokeApiToken: { __typename: string } }>(
      server,
      REVOKE_API_TOKEN,
      { input: { id: apiToken.id } },
      { token },
    );
    expect(data.revokeApiToken.__typename).toBe('RevokeApiTokenSuccess');
    expect((await server.gql(ORGS, {}, { token })).status).toBe(401);
  });
});

describe('lastUsedAt', () => {
  test('is kept without a write per request: one statement per flush for every token', async () => {
    const first = await createToken(server, acme.slug, ['ORG_READ']);
    const second = await createToken(server, acme.slug, ['ORG_READ']);
    await server.flushUsage();
    const requests = await server.countStatements(async () => {
      for (const { token } of [first, second, first, second, first]) {
        expect((await server.gql(ORGS, {}, { token })).status).toBe(200);
      }
    });
    expect(requests.statements.filter((s) => /last_used_at/.test(s))).toEqual([]);
    const flush = await server.countStatements(() => server.flushUsage());
    expect(flush.statements.filter((s) => /last_used_at/.test(s))).toHaveLength(1);
    const rows = await tokensOf(acme.slug);
    for (const { apiToken } of [first, second]) {
      expect(rows.find((t) => t.id === apiToken.id)?.lastUsedAt).not.toBeNull();
    }
  });
});

describe('GraphQL rate limit per token', () => {
  test('answers 429 with Retry-After once a token used its minute, and other tokens go on', async () => {
    const limited = await startTestServer({
      config: { VIGIL_GRAPHQL_RATE_LIMIT_PER_MINUTE: '10' },
    });
    try {
      const org = await createOrganization(limited, 'poller');
      const busy = await createToken(limited, org.slug, ['ORG_READ']);
      const quiet = await createToken(limited, org.slug, ['ORG_READ']);
      const statuses: number[] = [];
      let last: Response | undefined;
      // The instance admin's set-up above counts in its own bucket, not in these tokens'.
      for (let i = 0; i < 11; i += 1) {
        last = await fetch(`${limited.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${busy.token}` },
          body: JSON.stringify({ query: ORGS }),
        });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([...Array(10).fill(200), 429]);
      expect(Number(last?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const body = (await last?.json()) as { errors: Array<{ extensions: { code: string } }> };
      expect(body.errors[0]?.extensions.code).toBe('RATE_LIMITED');
      expect((await limited.gql(ORGS, {}, { token: quiet.token })).status).toBe(200);
    } finally {
      await limited.close();
    }
    // A server of its own: on PGlite under load, its set-up alone can take most of a minute.
  }, 180_000);
});
