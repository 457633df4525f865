import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { test } from '../support/fixtures.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';

// GraphQL over HTTP as the spec and yoga recommend: JSON POSTs and GET queries only, GET needs
// the CSRF header, CORS only for configured origins and never with credentials, and string input
// that cannot be stored is the client's error.

const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}` };
const ORGANIZATIONS = '{ organizations { slug } }';
const newSlug = () => `org-${randomBytes(4).toString('hex')}`;
const createOrganization = (slug: string) =>
  `mutation { createOrganization(input: { slug: "${slug}", name: "Evil" }) { __typename } }`;

async function organizationSlugs(server: TestServer): Promise<string[]> {
  const result = await server.gql<{ organizations: Array<{ slug: string }> }>(ORGANIZATIONS);
  return (result.data?.organizations ?? []).map((o) => o.slug);
}

async function post(server: TestServer, body: BodyInit, headers: Record<string, string>) {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { ...AUTH, ...headers },
    body,
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe('request bodies', () => {
  const mutationAs = (slug: string): Array<[string, () => { body: BodyInit; type?: string }]> => [
    [
      'application/x-www-form-urlencoded',
      () => ({
        body: new URLSearchParams({ query: createOrganization(slug) }).toString(),
        type: 'application/x-www-form-urlencoded',
      }),
    ],
    [
      'multipart/form-data',
      () => {
        const form = new FormData();
        form.set('operations', JSON.stringify({ query: createOrganization(slug) }));
        form.set('map', '{}');
        return { body: form };
      },
    ],
    [
      'text/plain',
      () => ({ body: JSON.stringify({ query: createOrganization(slug) }), type: 'text/plain' }),
    ],
    [
      'application/graphql',
      () => ({ body: createOrganization(slug), type: 'application/graphql' }),
    ],
  ];

  test.for(mutationAs('form-slug').map(([name]) => name))(
    'a %s POST gets 415 and its mutation does not run',
    async (name, { server }) => {
      const slug = newSlug();
      const make = mutationAs(slug).find(([n]) => n === name)?.[1];
      const { body, type } = (make as () => { body: BodyInit; type?: string })();
      const answer = await post(server, body, type ? { 'content-type': type } : {});
      expect(answer.status).toBe(415);
      expect(JSON.parse(answer.text).errors[0].extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(await organizationSlugs(server)).not.toContain(slug);
    },
  );

  test('a POST without a content type gets 415 and runs nothing', async ({ server }) => {
    const slug = newSlug();
    const answer = await post(
      server,
      new Blob([JSON.stringify({ query: createOrganization(slug) })]),
      {},
    );
    expect(answer.status).toBe(415);
    expect(await organizationSlugs(server)).not.toContain(slug);
  });

  test('application/json with a charset runs, the mutation included', async ({ server }) => {
    const slug = newSlug();
    const answer = await post(server, JSON.stringify({ query: createOrganization(slug) }), {
      'content-type': 'application/json; charset=utf-8',
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({
      data: { createOrganization: { __typename: 'CreateOrganizationSuccess' } },
    });
    expect(await organizationSlugs(server)).toContain(slug);
  });
});

describe('GET and CSRF', () => {
  const get = (server: TestServer, query: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/graphql?${new URLSearchParams({ query })}`, {
      headers: { ...AUTH, accept: 'application/json', ...headers },
    });

  test('a GET query without the CSRF header gets 403; with it, an answer', async ({ server }) => {
    const bare = await get(server, ORGANIZATIONS);
    expect(bare.status).toBe(403);
    expect(((await bare.json()) as { data?: unknown }).data).toBeUndefined();

    const withHeader = await get(server, ORGANIZATIONS, { 'x-graphql-yoga-csrf': '1' });
    expect(withHeader.status).toBe(200);
    expect(await withHeader.json()).toMatchObject({ data: { organizations: expect.any(Array) } });
  });

  test('a GET never runs a mutation, CSRF header or not', async ({ server }) => {
    const slug = newSlug();
    const answer = await get(server, createOrganization(slug), { 'x-graphql-yoga-csrf': '1' });
    expect(answer.status).toBe(405);
    expect(await organizationSlugs(server)).not.toContain(slug);
  });
});

describe('CORS', () => {
  const ALLOWED = 'https://app.example.com';
  let configured: TestServer;
  beforeAll(async () => {
    configured = await startTestServer({
      config: { VIGIL_CORS_ORIGINS: `${ALLOWED}, https://admin.example.com` },
    });
  });
  afterAll(() => configured.close());

  const preflight = (server: TestServer, origin: string) =>
    fetch(`${server.url}/graphql`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, x-evil',
      },
    });
  const query = (server: TestServer, origin: string) =>
    fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { ...AUTH, origin, 'content-type': 'application/json' },
      body: JSON.stringify({ query: ORGANIZATIONS }),
    });

  test('an allowed origin may call, without credentials and with a fixed list of headers', async () => {
    const pre = await preflight(configured, ALLOWED);
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET, POST');
    expect(pre.headers.get('access-control-allow-headers')).toBe(
      'authorization, content-type, x-request-id, x-graphql-yoga-csrf',
    );

    const answer = await query(configured, ALLOWED);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
    expect(answer.headers.get('vary')).toContain('Origin');
  });

  test.each([
    ['another origin', 'https://evil.example.com'],
    ['an allowed host on another scheme', 'http://app.example.com'],
    ['the "null" origin of sandboxed pages', 'null'],
  ])('%s gets no CORS headers at all', async (_, origin) => {
    for (const answer of [await preflight(configured, origin), await query(configured, origin)]) {
      expect(answer.headers.get('access-control-allow-origin')).toBeNull();
      expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
      expect(answer.headers.get('access-control-allow-headers')).toBeNull();
    }
  });

  test('with no origins configured (the default), no origin gets CORS headers', async ({
    server,
  }) => {
    for (const origin of [ALLOWED, 'https://evil.example.com']) {
      const answer = await query(server, origin);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('access-control-allow-origin')).toBeNull();
      expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });
});

describe('string input that cannot be stored', () => {
  const PROJECT = /* GraphQL */ `
    query ($org: String!, $slug: String!, $version: String!, $query: String, $envs: [String!]) {
      project(organizationSlug: $org, slug: $slug) {
        release(version: $version) { version }
        releases(query: $query, environments: $envs) { edges { node { version } } }
      }
    }`;
  const good = { org: 'default', slug: 'default', version: 'a@1', query: 'a', envs: ['prod'] };

  test.for([
    ['a NUL in the slug', { slug: 'def\u0000ault' }],
    ['a NUL in the version', { version: 'a@1\u0000' }],
    ['a NUL in the releases query', { query: '\u0000' }],
    ['a NUL in an environment', { envs: ['prod', 'st\u0000age'] }],
    ['an unpaired surrogate in the version', { version: 'a@\ud8001' }],
  ] as const)('%s (a variable) is BAD_USER_INPUT', async ([, bad], { server }) => {
    const result = await server.gql(PROJECT, { ...good, ...bad });
    expect(result.status).toBe(200);
    expect(result.data).toBeUndefined();
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toMatch(/^Variable \$\w+ contains a NUL character/);
  });

  test('the same variables without the bad character run', async ({ server }) => {
    const result = await server.gql(PROJECT, good);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ project: { release: null, releases: { edges: [] } } });
  });

  test('a NUL in a literal argument is BAD_USER_INPUT and its mutation does not run', async ({
    server,
  }) => {
    const before = await organizationSlugs(server);
    const result = await server.gql(
      'mutation { createOrganization(input: { slug: "evil", name: "E\\u0000vil" }) { __typename } }',
    );
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toMatch(/^A string argument contains a NUL character/);
    expect(result.data).toBeUndefined();
    expect(await organizationSlugs(server)).toEqual(before);
  });

  test('a NUL inside an input object variable of a mutation: BAD_USER_INPUT, nothing created', async ({
    server,
  }) => {
    const before = await organizationSlugs(server);
    const result = await server.gql(
      'mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { __typename } }',
      { input: { slug: newSlug(), name: 'E\u0000vil' } },
    );
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await organizationSlugs(server)).toEqual(before);
  });
});
