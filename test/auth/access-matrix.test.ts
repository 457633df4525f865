import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { schema } from '../../src/graphql/schema.ts';
import { expectData } from '../support/gql.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';
import {
  API_TOKENS,
  CREATE_API_TOKEN,
  CREATE_ORGANIZATION,
  CREATE_PROJECT,
  CREATE_PROJECT_KEY,
  createOrganization,
  createToken,
  DEACTIVATE_PROJECT_KEY,
  type Organization,
  REVOKE_API_TOKEN,
  ROTATE_PROJECT_KEY,
} from './access-support.ts';

// Every query root field and mutation × every kind of caller, through real HTTP: what each may
// see and do. A token of organization A sees B's things as null, exactly like missing ones.

const PRINCIPALS = [
  'instance admin',
  'ORG_ADMIN of A',
  'ORG_READ of A',
  'ORG_READ of B',
  'revoked',
  'expired',
  'none',
] as const;
type Principal = (typeof PRINCIPALS)[number];

let server: TestServer;
let now = Date.now();
let a: Organization;
let b: Organization;
const tokens = {} as Record<Principal, string | null>;
const suffix = () => randomBytes(3).toString('hex');

beforeAll(async () => {
  server = await startTestServer({ clock: () => new Date(now) });
  a = await createOrganization(server, `a-${suffix()}`);
  b = await createOrganization(server, `b-${suffix()}`);
  const revoked = await createToken(server, a.slug, ['ORG_ADMIN']);
  await expectData(server, REVOKE_API_TOKEN, { input: { id: revoked.apiToken.id } });
  const expired = await createToken(server, a.slug, ['ORG_ADMIN'], {
    expiresAt: new Date(now + 3_600_000).toISOString(),
  });
  Object.assign(tokens, {
    'instance admin': ADMIN_TOKEN,
    'ORG_ADMIN of A': (await createToken(server, a.slug, ['ORG_ADMIN'])).token,
    'ORG_READ of A': (await createToken(server, a.slug, ['ORG_READ'])).token,
    'ORG_READ of B': (await createToken(server, b.slug, ['ORG_READ'])).token,
    revoked: revoked.token,
    expired: expired.token,
    none: null,
  });
  // The expired token worked a moment ago; two hours later it must not.
  expect(
    (await server.gql('{ organizations { slug } }', {}, { token: expired.token })).status,
  ).toBe(200);
  now += 2 * 3_600_000;
}, 120_000);

afterAll(async () => {
  await server?.close();
});

/** What a caller got, in a form the table below can state. */
type Outcome = unknown;

interface Operation {
  /** The root field under test; the coverage test below compares these with the schema. */
  field: string;
  run(token: string | null): Promise<Outcome>;
  expected: Partial<Record<Principal, Outcome>>;
}

const UNAUTHENTICATED = 'UNAUTHENTICATED';
const FORBIDDEN = 'ForbiddenError';

async function call(query: string, variables: Record<string, unknown>, token: string | null) {
  const result = await server.gql<Record<string, unknown>>(query, variables, { token });
  if (result.status === 401) return UNAUTHENTICATED;
  expect(result.status, JSON.stringify(result)).toBe(200);
  return result;
}

/** The union member a mutation answered with. */
async function mutate(query: string, input: Record<string, unknown>, token: string | null) {
  const result = await call(query, { input }, token);
  if (result === UNAUTHENTICATED) return result;
  expect(result.errors, JSON.stringify(result)).toBeUndefined();
  const [payload] = Object.values(result.data ?? {}) as Array<{ __typename: string }>;
  return payload?.__typename;
}

async function read(query: string, variables: Record<string, unknown>, token: string | null) {
  const result = await call(query, variables, token);
  if (result === UNAUTHENTICATED) return result;
  expect(result.errors, JSON.stringify(result)).toBeUndefined();
  return result.data;
}

const adminOnly = (success: string) => ({
  'instance admin': success,
  'ORG_ADMIN of A': FORBIDDEN,
  'ORG_READ of A': FORBIDDEN,
  'ORG_READ of B': FORBIDDEN,
});
const adminsOfA = (success: string) => ({
  'instance admin': success,
  'ORG_ADMIN of A': success,
  'ORG_READ of A': FORBIDDEN,
  'ORG_READ of B': FORBIDDEN,
});
const readersOfA = (seen: Outcome, hidden: Outcome) => ({
  'instance admin': seen,
  'ORG_ADMIN of A': seen,
  'ORG_READ of A': seen,
  'ORG_READ of B': hidden,
});

/** A fresh DSN key of A's project, so each caller acts on a key nobody else touched. */
async function freshKeyOfA(): Promise<string> {
  const data = await expectData<{ createProjectKey: { projectKey: { id: string } } }>(
    server,
    CREATE_PROJECT_KEY,
    { input: { organizationSlug: a.slug, projectSlug: a.project.slug } },
  );
  return data.createProjectKey.projectKey.id;
}

const RULE_INPUT = { name: 'matrix', metric: 'CRASH_FREE_SESSIONS', threshold: 99 };
const typename = (field: string) =>
  `mutation ($input: ${field[0]?.toUpperCase()}${field.slice(1)}Input!) { ${field}(input: $input) { __typename } }`;
const CREATE_RULE = typename('createAlertRule');
const CREATE_HOOK = /* GraphQL */ `
  mutation ($input: CreateWebhookInput!) {
    createWebhook(input: $input) { __typename ... on CreateWebhookSuccess { webhook { id } } }
  }`;

/** A fresh alert rule of A's project, made by the instance admin. */
async function freshRuleOfA(): Promise<string> {
  const data = await expectData<{ createAlertRule: { alertRule: { id: string } } }>(
    server,
    'mutation ($input: CreateAlertRuleInput!) { createAlertRule(input: $input) { ... on CreateAlertRuleSuccess { alertRule { id } } } }',
    { input: { organizationSlug: a.slug, projectSlug: a.project.slug, ...RULE_INPUT } },
  );
  return data.createAlertRule.alertRule.id;
}

/** A fresh webhook of A pointing where nothing listens, made by the instance admin. */
async function freshHookOfA(): Promise<string> {
  const data = await expectData<{ createWebhook: { webhook: { id: string } } }>(
    server,
    CREATE_HOOK,
    {
      input: { organizationSlug: a.slug, url: 'http://127.0.0.1:9/', events: ['INCIDENT_OPENED'] },
    },
  );
  return data.createWebhook.webhook.id;
}

const OPERATIONS: Operation[] = [
  {
    field: 'organizations',
    run: async (token) => {
      const data = await read('{ organizations { slug } }', {}, token);
      if (data === UNAUTHENTICATED) return data;
      const slugs = (data as { organizations: Array<{ slug: string }> }).organizations.map(
        (o) => o.slug,
      );
      return slugs.filter((s) => s === a.slug || s === b.slug);
    },
    expected: {
      'instance admin': ['A', 'B'],
      'ORG_ADMIN of A': ['A'],
      'ORG_READ of A': ['A'],
      'ORG_READ of B': ['B'],
    },
  },
  {
    field: 'organization',
    run: (token) =>
      read('query ($s: String!) { organization(slug: $s) { slug } }', { s: a.slug }, token),
    expected: readersOfA({ organization: { slug: 'A' } }, { organization: null }),
  },
  {
    field: 'project',
    run: (token) =>
      read(
        'query ($o: String!) { project(organizationSlug: $o, slug: "web") { slug organization { slug } } }',
        { o: a.slug },
        token,
      ),
    expected: readersOfA(
      { project: { slug: 'web', organization: { slug: 'A' } } },
      { project: null },
    ),
  },
  {
    field: 'node',
    run: (token) =>
      read(
        'query ($id: ID!) { node(id: $id) { __typename ... on Project { slug } } }',
        { id: a.project.id },
        token,
      ),
    expected: readersOfA({ node: { __typename: 'Project', slug: 'web' } }, { node: null }),
  },
  {
    field: 'nodes',
    run: (token) =>
      read(
        'query ($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on Organization { slug } } }',
        { ids: [a.id, b.id] },
        token,
      ),
    expected: {
      'instance admin': {
        nodes: [
          { __typename: 'Organization', slug: 'A' },
          { __typename: 'Organization', slug: 'B' },
        ],
      },
      'ORG_ADMIN of A': { nodes: [{ __typename: 'Organization', slug: 'A' }, null] },
      'ORG_READ of A': { nodes: [{ __typename: 'Organization', slug: 'A' }, null] },
      'ORG_READ of B': { nodes: [null, { __typename: 'Organization', slug: 'B' }] },
    },
  },
  {
    field: 'createOrganization',
    run: (token) =>
      mutate(CREATE_ORGANIZATION, { slug: `m-${suffix()}`, name: 'Made in the matrix' }, token),
    expected: adminOnly('CreateOrganizationSuccess'),
  },
  {
    field: 'createProject',
    run: (token) =>
      mutate(
        CREATE_PROJECT,
        { organizationSlug: a.slug, slug: `p-${suffix()}`, name: 'P', platform: 'node' },
        token,
      ),
    expected: adminsOfA('CreateProjectSuccess'),
  },
  {
    field: 'createApiToken',
    run: (token) =>
      mutate(
        CREATE_API_TOKEN,
        { organizationSlug: a.slug, name: 'matrix', scopes: ['ORG_READ'] },
        token,
      ),
    expected: adminsOfA('CreateApiTokenSuccess'),
  },
  {
    field: 'revokeApiToken',
    run: async (token) => {
      const victim = await createToken(server, a.slug, ['ORG_READ']);
      return mutate(REVOKE_API_TOKEN, { id: victim.apiToken.id }, token);
    },
    expected: adminsOfA('RevokeApiTokenSuccess'),
  },
  {
    field: 'createProjectKey',
    run: (token) =>
      mutate(CREATE_PROJECT_KEY, { organizationSlug: a.slug, projectSlug: 'web' }, token),
    expected: adminsOfA('CreateProjectKeySuccess'),
  },
  {
    field: 'deactivateProjectKey',
    run: async (token) => mutate(DEACTIVATE_PROJECT_KEY, { id: await freshKeyOfA() }, token),
    expected: adminsOfA('DeactivateProjectKeySuccess'),
  },
  {
    field: 'rotateProjectKey',
    run: async (token) =>
      mutate(ROTATE_PROJECT_KEY, { id: await freshKeyOfA(), gracePeriodSeconds: 60 }, token),
    expected: adminsOfA('RotateProjectKeySuccess'),
  },
  {
    field: 'previewAlertRule',
    run: async (token) => {
      const result = await call(
        'mutation ($input: CreateAlertRuleInput!) { previewAlertRule(input: $input) { __typename } }',
        { input: { organizationSlug: a.slug, projectSlug: a.project.slug, ...RULE_INPUT } },
        token,
      );
      if (result === UNAUTHENTICATED) return result;
      return (result.data as { previewAlertRule: { __typename: string } }).previewAlertRule
        .__typename;
    },
    expected: readersOfA('PreviewAlertRuleSuccess', FORBIDDEN),
  },
  {
    field: 'createAlertRule',
    run: (token) =>
      mutate(
        CREATE_RULE,
        { organizationSlug: a.slug, projectSlug: a.project.slug, ...RULE_INPUT },
        token,
      ),
    expected: adminsOfA('CreateAlertRuleSuccess'),
  },
  {
    field: 'updateAlertRule',
    run: async (token) =>
      mutate(typename('updateAlertRule'), { id: await freshRuleOfA(), threshold: 98 }, token),
    expected: adminsOfA('UpdateAlertRuleSuccess'),
  },
  {
    field: 'deleteAlertRule',
    run: async (token) => mutate(typename('deleteAlertRule'), { id: await freshRuleOfA() }, token),
    expected: adminsOfA('DeleteAlertRuleSuccess'),
  },
  {
    field: 'createWebhook',
    run: (token) =>
      mutate(
        CREATE_HOOK,
        { organizationSlug: a.slug, url: 'https://example.com/hook', events: ['INCIDENT_OPENED'] },
        token,
      ),
    expected: adminsOfA('CreateWebhookSuccess'),
  },
  {
    field: 'deleteWebhook',
    run: async (token) => mutate(typename('deleteWebhook'), { id: await freshHookOfA() }, token),
    expected: adminsOfA('DeleteWebhookSuccess'),
  },
  {
    field: 'testWebhook',
    run: async (token) => mutate(typename('testWebhook'), { id: await freshHookOfA() }, token),
    expected: adminsOfA('TestWebhookSuccess'),
  },
  {
    field: 'setHealthTarget',
    run: (token) =>
      mutate(
        typename('setHealthTarget'),
        { organizationSlug: a.slug, projectSlug: a.project.slug, minSessions: 50 },
        token,
      ),
    expected: adminsOfA('SetHealthTargetSuccess'),
  },
  {
    field: 'resetHealthTarget',
    run: (token) =>
      mutate(
        typename('resetHealthTarget'),
        { organizationSlug: a.slug, projectSlug: a.project.slug },
        token,
      ),
    expected: adminsOfA('ResetHealthTargetSuccess'),
  },
];

/** The table states A and B; the organizations' real slugs are random. */
function named(outcome: Outcome): Outcome {
  return JSON.parse(
    JSON.stringify(outcome ?? null)
      .replaceAll(`"${a.slug}"`, '"A"')
      .replaceAll(`"${b.slug}"`, '"B"'),
  );
}

describe('access matrix', () => {
  const cases = OPERATIONS.flatMap((operation) =>
    PRINCIPALS.map((principal) => [operation.field, principal, operation] as const),
  );
  test.for(cases)('%s as %s', async ([, principal, operation]) => {
    const expected = operation.expected[principal] ?? UNAUTHENTICATED;
    expect(named(await operation.run(tokens[principal]))).toEqual(expected);
  });

  test('covers every query root field and every mutation', () => {
    const fields = [
      ...Object.keys(schema.getQueryType()?.getFields() ?? {}),
      ...Object.keys(schema.getMutationType()?.getFields() ?? {}),
    ].sort();
    expect(OPERATIONS.map((o) => o.field).sort()).toEqual(fields);
  });

  test.for([
    ['instance admin', true],
    ['ORG_ADMIN of A', true],
    ['ORG_READ of A', false],
  ] as const)("A's token list as %s: allowed %s", async ([principal, allowed]) => {
    const result = await server.gql<{ organization: { apiTokens: unknown[] | null } }>(
      API_TOKENS,
      { slug: a.slug },
      { token: tokens[principal] },
    );
    if (allowed) {
      expect(result.errors).toBeUndefined();
      expect(result.data?.organization.apiTokens?.length).toBeGreaterThanOrEqual(4);
    } else {
      expect(result.data?.organization.apiTokens).toBeNull();
      expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });
});
