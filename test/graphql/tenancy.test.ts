import { describe, expect } from 'vitest';
import { test } from '../support/fixtures.ts';
import { expectData } from '../support/gql.ts';

const CREATE_ORG = /* GraphQL */ `
  mutation ($input: CreateOrganizationInput!) {
    createOrganization(input: $input) {
      __typename
      ... on CreateOrganizationSuccess { organization { id slug name } }
      ... on Error { message }
      ... on InvalidArgumentError { field }
      ... on SlugTakenError { slug }
    }
  }`;

const CREATE_PROJECT = /* GraphQL */ `
  mutation ($input: CreateProjectInput!) {
    createProject(input: $input) {
      __typename
      ... on CreateProjectSuccess { project { id projectId slug platform dsn keys { publicKey dsn isActive } } }
      ... on Error { message }
      ... on InvalidArgumentError { field }
    }
  }`;

const ORG_COUNT = /* GraphQL */ `{ organizations { slug projects { slug } } }`;

describe('organizations and projects', () => {
  test('creates an organization and a project whose DSN points at Vigil', async ({ server }) => {
    const org = await server.gql<{
      createOrganization: { __typename: string; organization: { slug: string } };
    }>(CREATE_ORG, { input: { slug: 'acme', name: 'Acme' } });
    expect(org.data?.createOrganization.__typename).toBe('CreateOrganizationSuccess');
    const created = await server.gql<{
      createProject: {
        project: {
          projectId: number;
          dsn: string;
          keys: Array<{ publicKey: string; isActive: boolean }>;
        };
      };
    }>(CREATE_PROJECT, {
      input: { organizationSlug: 'acme', slug: 'web', name: 'Web', platform: 'javascript' },
    });
    const project = created.data?.createProject.project;
    expect(project?.keys).toHaveLength(1);
    expect(project?.keys[0]?.isActive).toBe(true);
    const key = project?.keys[0]?.publicKey;
    expect(key).toMatch(/^[0-9a-f]{32}$/);
    expect(project?.dsn).toBe(`http://${key}@${new URL(server.url).host}/${project?.projectId}`);

    const read = await server.gql<{
      project: { slug: string; organization: { slug: string } } | null;
    }>(`{ project(organizationSlug: "acme", slug: "web") { slug organization { slug } } }`);
    expect(read.data?.project).toEqual({ slug: 'web', organization: { slug: 'acme' } });
  });

  test('resolves organizations and projects by their global ids', async ({ server }) => {
    const list = await server.gql<{
      organization: { id: string; projects: Array<{ id: string; slug: string }> };
    }>(`{ organization(slug: "default") { id projects { id slug } } }`);
    const org = list.data?.organization;
    const project = org?.projects.find((p) => p.slug === 'default');
    const node = await server.gql<{
      a: { __typename: string; slug: string };
      b: { __typename: string; slug: string };
    }>(
      `query ($a: ID!, $b: ID!) { a: node(id: $a) { __typename ... on Organization { slug } } b: node(id: $b) { __typename ... on Project { slug } } }`,
      { a: org?.id, b: project?.id },
    );
    expect(node.data).toEqual({
      a: { __typename: 'Organization', slug: 'default' },
      b: { __typename: 'Project', slug: 'default' },
    });
  });

  test('an unknown slug or id reads as null, not as an error', async ({ server }) => {
    const data = await expectData(
      server,
      `{ organization(slug: "nope") { slug } project(organizationSlug: "default", slug: "nope") { slug } node(id: "UHJvamVjdDo5OTk5OTk=") { id } }`,
    );
    expect(data).toEqual({ organization: null, project: null, node: null });
  });

  test.for([
    ['a duplicate slug', { slug: 'default', name: 'Again' }, 'SlugTakenError'],
    ['a slug with capitals', { slug: 'Acme', name: 'Acme' }, 'InvalidArgumentError'],
    ['a slug of digits only', { slug: '1234', name: 'Digits' }, 'InvalidArgumentError'],
    ['a slug with a space', { slug: 'a b', name: 'Space' }, 'InvalidArgumentError'],
    ['an empty name', { slug: 'empty-name', name: '  ' }, 'InvalidArgumentError'],
  ] as const)('rejects %s and changes nothing', async ([, input, typename], { server }) => {
    const before = await server.gql(ORG_COUNT);
    const result = await server.gql<{
      createOrganization: { __typename: string; message: string };
    }>(CREATE_ORG, {
      input,
    });
    expect(result.data?.createOrganization.__typename).toBe(typename);
    expect(result.data?.createOrganization.message).toBeTruthy();
    expect(await server.gql(ORG_COUNT)).toEqual(before);
  });

  test('rejects a project in an unknown organization or with a taken slug', async ({ server }) => {
    const unknown = await server.gql<{ createProject: { __typename: string; message: string } }>(
      CREATE_PROJECT,
      {
        input: { organizationSlug: 'ghost', slug: 'x', name: 'X', platform: 'node' },
      },
    );
    expect(unknown.data?.createProject).toMatchObject({ __typename: 'NotFoundError' });
    const taken = await server.gql<{ createProject: { __typename: string } }>(CREATE_PROJECT, {
      input: { organizationSlug: 'default', slug: 'default', name: 'X', platform: 'node' },
    });
    expect(taken.data?.createProject.__typename).toBe('SlugTakenError');
    const badPlatform = await server.gql<{ createProject: { __typename: string; field: string } }>(
      CREATE_PROJECT,
      {
        input: { organizationSlug: 'default', slug: 'fine', name: 'X', platform: 'Not A Platform' },
      },
    );
    expect(badPlatform.data?.createProject).toMatchObject({
      __typename: 'InvalidArgumentError',
      field: 'platform',
    });
  });
});

describe('access', () => {
  test.for([
    ['no token', null],
    ['a wrong token', 'wrong-token-wrong-token'],
  ] as const)('answers %s with 401 UNAUTHENTICATED and no data', async ([, token], { server }) => {
    const result = await server.gql(ORG_COUNT, {}, { token });
    expect(result.status).toBe(401);
    expect(result.data).toBeUndefined();
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  test('a mutation without a token changes nothing', async ({ server }) => {
    await server.gql(CREATE_ORG, { input: { slug: 'sneaky', name: 'Sneaky' } }, { token: null });
    const read = await server.gql<{ organization: null }>(
      `{ organization(slug: "sneaky") { slug } }`,
    );
    expect(read.data?.organization).toBeNull();
  });

  test('serves GraphiQL to a browser without a token', async ({ server }) => {
    const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('GraphiQL');
  });

  test('answers liveness and readiness probes', async ({ server }) => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });
});
