import { describe, expect } from 'vitest';
import { buildEnvelope, postEnvelope, sendSessions, sessionPayload } from '../support/envelopes.ts';
import { test } from '../support/fixtures.ts';
import { expectData } from '../support/gql.ts';
import type { TestServer } from '../support/server.ts';
import { at, createOrganization, floorTo, HOUR, MINUTE, sessions } from './sessions-support.ts';

// What Vigil adds to Sentry's sessions API: groups are paged, never cut silently; adoption per
// interval; Project.sessions batched over many projects; groups name their projects in batches.

describe('groups', () => {
  test('more groups than fit: a default page, totalGroups and hasMoreGroups say so', async ({
    server,
    project,
  }) => {
    const started = new Date(Date.now() - 30 * MINUTE);
    await sendSessions(
      server,
      project,
      Array.from({ length: 12 }, (_, i) => ({ release: `r@${i}`, started })),
    );
    // 16 h in 1-minute intervals: 961 intervals, so 10,000 values hold 10 groups.
    const end = floorTo(Date.now(), MINUTE);
    const result = await sessions(
      server,
      ', groupBy: [RELEASE]',
      'totals { sessions } series { sessions }',
      {
        projects: [project.id],
        start: at(end, -16 * HOUR).toISOString(),
        end: at(end, MINUTE).toISOString(),
        interval: '1m',
      },
    );
    expect(result.intervals).toHaveLength(961);
    expect(result.groups).toHaveLength(10);
    expect(result).toMatchObject({ totalGroups: 12, hasMoreGroups: true });
    const rest = await sessions(server, ', groupBy: [RELEASE], offset: 10', 'totals { sessions }', {
      projects: [project.id],
    });
    expect(rest.groups).toHaveLength(2);
    expect(rest.hasMoreGroups).toBe(false);
  });

  test('adoption per interval counts the groups left off the page too', async ({
    server,
    project,
  }) => {
    const base = floorTo(Date.now() - 2 * HOUR, HOUR);
    const rows = (release: string, hour: number, n: number) =>
      Array.from({ length: n }, () => ({ release, started: at(base, hour * HOUR + MINUTE) }));
    await sendSessions(server, project, [
      ...rows('a', 0, 3),
      ...rows('b', 0, 1),
      ...rows('b', 1, 1),
    ]);
    const result = await sessions(
      server,
      ', groupBy: [RELEASE], limit: 1',
      'by { release } totals { sessionsAdoption } series { sessionsAdoption sessions }',
      { projects: [project.id], start: base.toISOString(), end: at(base, 2 * HOUR).toISOString() },
    );
    expect(result.groups).toEqual([
      {
        by: { release: 'a' },
        totals: { sessionsAdoption: (3 / 5) * 100 },
        series: { sessionsAdoption: [(3 / 4) * 100, 0], sessions: [3, 0] },
      },
    ]);
    expect(result.hasMoreGroups).toBe(true);
  });

  test('sessions without an environment group under ""; projects resolve in one batch', async ({
    server,
    project,
  }) => {
    const noEnvironment = sessionPayload({ release: 'a@1' });
    noEnvironment.attrs = { release: 'a@1' };
    const response = await postEnvelope(
      server.envelopeUrl(project),
      buildEnvelope([{ type: 'session', payload: noEnvironment }]),
    );
    expect(response.status).toBe(200);
    await sendSessions(server, project, [{ release: 'a@1', environment: 'prod' }]);
    const result = await sessions(
      server,
      ', groupBy: [PROJECT, RELEASE]',
      'by { project { slug } release environment } totals { sessions }',
      { projects: [project.id] },
    );
    expect(result.groups).toEqual([
      {
        by: { project: { slug: project.slug }, release: 'a@1', environment: null },
        totals: { sessions: 2 },
      },
    ]);
    const environments = await sessions(
      server,
      ', groupBy: [ENVIRONMENT], orderBy: { field: SESSIONS, direction: ASC }',
      'by { environment } totals { sessions }',
      { projects: [project.id] },
    );
    expect(environments.groups.map((g) => g.by.environment).sort()).toEqual(['', 'prod']);
  });
});

const PROJECT_SESSIONS = (args: string) => /* GraphQL */ `
  query ($org: String!) {
    organization(slug: $org) {
      projects {
        projectId
        sessions(period: "1d", groupBy: [RELEASE] ${args}) {
          groups { by { release } totals { sessions users crashFreeUsers } series { sessions } }
        }
      }
    }
  }`;

interface ProjectSessions {
  projectId: number;
  sessions: { groups: Array<{ by: { release: string }; totals: Record<string, number> }> };
}

async function projectSessions(server: TestServer, org: string, args = '') {
  const { result, statements } = await server.countStatements(() =>
    expectData<{ organization: { projects: ProjectSessions[] } }>(server, PROJECT_SESSIONS(args), {
      org,
    }),
  );
  const projects = result.organization.projects.map((p) => ({
    projectId: p.projectId,
    releases: Object.fromEntries(p.sessions.groups.map((g) => [g.by.release, g.totals])),
  }));
  return { projects, statements: statements.length };
}

async function seedOrganizations(server: TestServer) {
  const single = await createOrganization(server, 1);
  const triple = await createOrganization(server, 3);
  const started = new Date(Date.now() - 20 * MINUTE);
  for (const org of [single, triple]) {
    for (const [i, project] of org.projects.entries()) {
      // v1: i + 1 sessions of one user; v2: one crashed session and one in staging.
      await sendSessions(server, project, [
        ...Array.from({ length: i + 1 }, () => ({ release: 'v1', did: 'same-user', started })),
        { release: 'v2', did: `crash-${i}`, status: 'crashed', started },
        { release: 'v2', environment: 'staging', started },
      ]);
    }
  }
  return { single, triple };
}

describe('Project.sessions', () => {
  test('one query for every project of a response, each with its own numbers', async ({
    server,
  }) => {
    const { single, triple } = await seedOrganizations(server);
    const one = await projectSessions(server, single.slug);
    const three = await projectSessions(server, triple.slug);
    expect(three.statements).toBe(one.statements);
    expect(three.projects).toEqual(
      triple.projects.map((project, i) => ({
        projectId: project.id,
        releases: {
          v1: { sessions: i + 1, users: 1, crashFreeUsers: 100 },
          v2: { sessions: 2, users: 2, crashFreeUsers: 50 },
        },
      })),
    );
  });

  test('one project filters by environment', async ({ server }) => {
    const { single } = await seedOrganizations(server);
    const { projects } = await projectSessions(
      server,
      single.slug,
      ', environments: ["production"]',
    );
    expect(projects[0]?.releases).toEqual({
      v1: { sessions: 1, users: 1, crashFreeUsers: 100 },
      v2: { sessions: 1, users: 1, crashFreeUsers: 0 },
    });
  });

  // Several projects are split by grouping by project, together with the environment join.
  test('several projects filter by environment', async ({ server }) => {
    const { triple } = await seedOrganizations(server);
    const { projects } = await projectSessions(
      server,
      triple.slug,
      ', environments: ["production"]',
    );
    expect(projects.map((p) => p.releases.v2)).toEqual(
      triple.projects.map(() => ({ sessions: 1, users: 1, crashFreeUsers: 0 })),
    );
  });
});
