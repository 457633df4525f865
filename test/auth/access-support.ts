import { expect } from 'vitest';
import { expectData } from '../support/gql.ts';
import { ADMIN_TOKEN, type TestServer } from '../support/server.ts';

// GraphQL documents and set-up shared by the access tests: organizations, tokens and keys are
// created through the API itself, as an integration would.

export const CREATE_ORGANIZATION = /* GraphQL */ `
  mutation ($input: CreateOrganizationInput!) {
    createOrganization(input: $input) {
      __typename
      ... on CreateOrganizationSuccess { organization { id slug } }
      ... on Error { message }
    }
  }`;

export const CREATE_PROJECT = /* GraphQL */ `
  mutation ($input: CreateProjectInput!) {
    createProject(input: $input) {
      __typename
      ... on CreateProjectSuccess { project { id projectId slug keys { id publicKey } } }
      ... on Error { message }
    }
  }`;

export const CREATE_API_TOKEN = /* GraphQL */ `
  mutation ($input: CreateApiTokenInput!) {
    createApiToken(input: $input) {
      __typename
      ... on CreateApiTokenSuccess {
        token
        apiToken { id name scopes prefix createdAt lastUsedAt expiresAt revokedAt }
      }
      ... on Error { message }
      ... on InvalidArgumentError { field }
    }
  }`;

export const REVOKE_API_TOKEN = /* GraphQL */ `
  mutation ($input: RevokeApiTokenInput!) {
    revokeApiToken(input: $input) {
      __typename
      ... on RevokeApiTokenSuccess { apiToken { id revokedAt } }
      ... on Error { message }
    }
  }`;

export const CREATE_PROJECT_KEY = /* GraphQL */ `
  mutation ($input: CreateProjectKeyInput!) {
    createProjectKey(input: $input) {
      __typename
      ... on CreateProjectKeySuccess { projectKey { id publicKey isActive rateLimitPerMinute dsn } }
      ... on Error { message }
      ... on InvalidArgumentError { field }
    }
  }`;

export const DEACTIVATE_PROJECT_KEY = /* GraphQL */ `
  mutation ($input: DeactivateProjectKeyInput!) {
    deactivateProjectKey(input: $input) {
      __typename
      ... on DeactivateProjectKeySuccess { projectKey { id isActive } }
      ... on Error { message }
    }
  }`;

export const ROTATE_PROJECT_KEY = /* GraphQL */ `
  mutation ($input: RotateProjectKeyInput!) {
    rotateProjectKey(input: $input) {
      __typename
      ... on RotateProjectKeySuccess {
        projectKey { id publicKey isActive expiresAt rateLimitPerMinute }
        previousKey { id publicKey isActive expiresAt }
      }
      ... on Error { message }
      ... on InvalidArgumentError { field }
    }
  }`;

export const API_TOKENS = /* GraphQL */ `
  query ($slug: String!) {
    organization(slug: $slug) { apiTokens { id name scopes revokedAt lastUsedAt } }
  }`;

export interface Organization {
  id: string;
  slug: string;
  project: {
    id: string;
    projectId: number;
    slug: string;
    keys: Array<{ id: string; publicKey: string }>;
  };
}

/** An organization with one project, created by the instance admin. */
export async function createOrganization(server: TestServer, slug: string): Promise<Organization> {
  const org = await expectData<{
    createOrganization: { organization: { id: string; slug: string } };
  }>(server, CREATE_ORGANIZATION, { input: { slug, name: slug } });
  const project = await expectData<{ createProject: { project: Organization['project'] } }>(
    server,
    CREATE_PROJECT,
    { input: { organizationSlug: slug, slug: 'web', name: 'Web', platform: 'javascript' } },
  );
  return { ...org.createOrganization.organization, project: project.createProject.project };
}

export interface CreatedToken {
  token: string;
  apiToken: { id: string; name: string; scopes: string[]; prefix: string };
}

/** A token of `organizationSlug`, created by `by` (the instance admin unless given). */
export async function createToken(
  server: TestServer,
  organizationSlug: string,
  scopes: string[],
  options: { expiresAt?: string; name?: string; by?: string } = {},
): Promise<CreatedToken> {
  const data = await expectData<{ createApiToken: CreatedToken & { __typename: string } }>(
    server,
    CREATE_API_TOKEN,
    {
      input: {
        organizationSlug,
        name: options.name ?? `${scopes.join('+')} of ${organizationSlug}`,
        scopes,
        expiresAt: options.expiresAt,
      },
    },
    { token: options.by ?? ADMIN_TOKEN },
  );
  expect(data.createApiToken.__typename).toBe('CreateApiTokenSuccess');
  return data.createApiToken;
}
