import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { expectData } from '../support/gql.ts';
import type { TestServer } from '../support/server.ts';

// Helpers for the sessions-query suites: sending sessions, building queries, and aligned times
// so that the expected series do not depend on the minute a test runs.

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export function floorTo(time: number, stepMs: number): Date {
  return new Date(Math.floor(time / stepMs) * stepMs);
}

export const at = (base: Date, offsetMs: number) => new Date(base.getTime() + offsetMs);

export interface Values {
  [field: string]: number | null;
}
export interface Group {
  by: {
    projectId?: number | null;
    release?: string | null;
    environment?: string | null;
    sessionStatus?: string | null;
  };
  totals: Values;
  series: Record<string, Array<number | null>>;
}
export interface SessionsResult {
  __typename: string;
  start: string;
  end: string;
  intervals: string[];
  totalGroups: number;
  hasMoreGroups: boolean;
  groups: Group[];
}

/**
 * Runs `organization(slug: $org) { sessions(<args>) { … groups { <groups> } } }`; `args` is
 * GraphQL argument text and may use $org, $projects, $start, $end, $period and $interval.
 */
export async function sessions(
  server: TestServer,
  args: string,
  groups: string,
  variables: Record<string, unknown>,
): Promise<SessionsResult> {
  const query = /* GraphQL */ `
    query ($org: String!, $projects: [Int!], $start: DateTime, $end: DateTime, $period: String,
           $interval: String) {
      organization(slug: $org) {
        sessions(projects: $projects, start: $start, end: $end, period: $period,
                 interval: $interval ${args}) {
          __typename start end intervals totalGroups hasMoreGroups
          groups { ${groups} }
        }
      }
    }`;
  const data = await expectData<{ organization: { sessions: SessionsResult } }>(server, query, {
    org: 'default',
    ...variables,
  });
  return data.organization.sessions;
}

/** The groups as `label → totals`, labels joined from the `by` values that are set. */
export function byLabel(result: SessionsResult): Record<string, Values> {
  return Object.fromEntries(
    result.groups.map((g) => [
      Object.values(g.by)
        .filter((v) => v !== null && v !== undefined)
        .join(' '),
      g.totals,
    ]),
  );
}

/** A new organization with `count` projects of its own, through the GraphQL mutations. */
export async function createOrganization(server: TestServer, count: number) {
  const slug = `o-${randomBytes(4).toString('hex')}`;
  const org = await server.gql(
    `mutation ($slug: String!) { createOrganization(input: { slug: $slug, name: $slug }) { __typename } }`,
    { slug },
  );
  expect(org.errors).toBeUndefined();
  const projects: Array<{ id: number; publicKey: string; slug: string }> = [];
  for (let i = 0; i < count; i++) {
    const created = await server.gql<{
      createProject: {
        project: { projectId: number; slug: string; keys: [{ publicKey: string }] };
      };
    }>(
      `mutation ($org: String!, $slug: String!) {
        createProject(input: { organizationSlug: $org, slug: $slug, name: $slug, platform: "node" }) {
          ... on CreateProjectSuccess { project { projectId slug keys { publicKey } } }
        }
      }`,
      { org: slug, slug: `p${i}` },
    );
    const project = created.data?.createProject.project;
    if (!project) throw new Error(JSON.stringify(created));
    projects.push({
      id: project.projectId,
      slug: project.slug,
      publicKey: project.keys[0].publicKey,
    });
  }
  return { slug, projects };
}
