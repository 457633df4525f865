import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { updateAdoptionStages } from '../../src/jobs/adoption-monitor.ts';
import {
  buildEnvelope,
  postEnvelope,
  sendSessions,
  sessionsEnvelope,
} from '../support/envelopes.ts';
import { test } from '../support/fixtures.ts';
import { expectBadUserInput, expectData } from '../support/gql.ts';
import type { TestProject, TestServer } from '../support/server.ts';

async function query<Data>(
  server: TestServer,
  project: TestProject,
  body: string,
  variables: Record<string, unknown> = {},
  definitions = '',
) {
  const data = await expectData<{ project: Data }>(
    server,
    `query ($org: String!, $slug: String! ${definitions}) { project(organizationSlug: $org, slug: $slug) { ${body} } }`,
    { org: project.organizationSlug, slug: project.slug, ...variables },
  );
  return data.project;
}

const sid = () => randomUUID().replace(/-/g, '');
const minuteAgo = () => new Date(Date.now() - 60_000);

/** sentry-reference §7 A: v1 has two sessions of u1 (60 s and 30 s), v2 one crashed session of u1. */
async function fixtureA(server: TestServer, project: TestProject) {
  const s2 = sid();
  const t0 = minuteAgo();
  await sendSessions(server, project, [
    { did: 'u1', status: 'exited', duration: 60, release: 'foo@1.0.0', started: t0 },
    { sid: s2, did: 'u1', status: 'ok', release: 'foo@1.0.0', started: t0 },
    {
      sid: s2,
      did: 'u1',
      init: false,
      status: 'exited',
      duration: 30,
      release: 'foo@1.0.0',
      started: t0,
      timestamp: new Date(),
    },
    { did: 'u1', status: 'crashed', duration: 60, release: 'foo@2.0.0', started: t0 },
  ]);
}

const TABLE = `releases(sort: $sort, first: $first) {
  totalCount
  edges { node { version shortVersion health {
    sessions users crashFreeSessions crashFreeUsers sessionsAdoption usersAdoption
    sessions24h users24h projectSessions24h projectUsers24h durationP50 durationP90 hasHealthData
  } adoptionStage(environment: "production") { stage adoptedAt unadoptedAt } } }
}`;

interface TableRow {
  version: string;
  shortVersion: string;
  health: Record<string, number | boolean | null>;
  adoptionStage: { stage: string; adoptedAt: string | null; unadoptedAt: string | null };
}
type Table = { releases: { totalCount: number; edges: Array<{ node: TableRow }> } };

const releasesTable = (server: TestServer, project: TestProject, sort = 'DATE', first = 25) =>
  query<Table>(server, project, TABLE, { sort, first }, ', $sort: ReleaseSort, $first: Int').then(
    (p) => p.releases,
  );

describe('releases table', () => {
  test('adoption and durations of fixture A match Sentry’s numbers', async ({
    server,
    project,
  }) => {
    await fixtureA(server, project);
    const table = await releasesTable(server, project, 'SESSIONS');
    expect(table.totalCount).toBe(2);
    const [v1, v2] = table.edges.map((e) => e.node);
    expect(v1?.version).toBe('foo@1.0.0');
    expect(v1?.shortVersion).toBe('1.0.0');
    expect(v1?.health).toMatchObject({
      sessions: 2,
      users: 1,
      sessions24h: 2,
      users24h: 1,
      usersAdoption: 100,
      sessionsAdoption: 66.66666666666666,
      projectSessions24h: 3,
      projectUsers24h: 1,
      durationP50: 45,
      durationP90: 57,
      crashFreeSessions: 100,
      hasHealthData: true,
    });
    expect(v2?.health).toMatchObject({
      sessions: 1,
      sessionsAdoption: 33.33333333333333,
      crashFreeSessions: 0,
      crashFreeUsers: 0,
      durationP50: null,
    });
  });

  test('adoption follows a new session at once (fixture A-2), though project totals are cached', async ({
    server,
    project,
  }) => {
    await fixtureA(server, project);
    const before = await releasesTable(server, project, 'SESSIONS');
    expect(before.edges[0]?.node.health).toMatchObject({ sessionsAdoption: 66.66666666666666 });
    await sendSessions(server, project, [
      { status: 'crashed', release: 'foo@2.0.0', started: minuteAgo() },
    ]);
    const after = await releasesTable(server, project, 'SESSIONS');
    const v1 = after.edges.find((e) => e.node.version === 'foo@1.0.0')?.node.health;
    const v2 = after.edges.find((e) => e.node.version === 'foo@2.0.0')?.node.health;
    expect(v1).toMatchObject({
      usersAdoption: 50,
      sessionsAdoption: 50,
      projectSessions24h: 4,
      projectUsers24h: 2,
    });
    expect(v2).toMatchObject({
      usersAdoption: 100,
      sessionsAdoption: 50,
      sessions24h: 2,
      users24h: 2,
    });
  });

  test('sorts by crash-free rate with the least crash-free release first', async ({
    server,
    project,
  }) => {
    await fixtureA(server, project);
    await sendSessions(server, project, [{ status: 'exited', release: 'foo@1.0.0' }]);
    const table = await releasesTable(server, project, 'CRASH_FREE_SESSIONS');
    expect(table.edges.map((e) => e.node.version)).toEqual(['foo@2.0.0', 'foo@1.0.0']);
  });

  test('pages through releases with cursors and filters by version text', async ({
    server,
    project,
  }) => {
    await sendSessions(
      server,
      project,
      ['a@1.0.0', 'a@1.1.0', 'a@1.2.0', 'b@9.0.0'].map((release) => ({
        release,
        status: 'exited',
      })),
    );
    const page = await query<{
      releases: {
        totalCount: number;
        pageInfo: { hasNextPage: boolean; endCursor: string };
        edges: Array<{ node: { version: string } }>;
      };
    }>(
      server,
      project,
      `releases(first: 2, query: "A@1", sort: SESSIONS) { totalCount pageInfo { hasNextPage endCursor } edges { node { version } } }`,
    );
    expect(page.releases.totalCount).toBe(3);
    expect(page.releases.edges.map((e) => e.node.version)).toEqual(['a@1.2.0', 'a@1.1.0']);
    const next = await query<{
      releases: { pageInfo: { hasNextPage: boolean }; edges: Array<{ node: { version: string } }> };
    }>(
      server,
      project,
      `releases(first: 2, after: $after, query: "A@1", sort: SESSIONS) { pageInfo { hasNextPage } edges { node { version } } }`.replace(
        '$after',
        JSON.stringify(page.releases.pageInfo.endCursor),
      ),
    );
    expect(next.releases.edges.map((e) => e.node.version)).toEqual(['a@1.0.0']);
    expect(next.releases.pageInfo.hasNextPage).toBe(false);
  });

  test('runs the same number of SQL statements for 1 and for 60 releases', async ({ server }) => {
    const one = await server.createProject();
    const many = await server.createProject();
    await sendSessions(server, one, [{ release: 'r@1', status: 'crashed' }]);
    const sessions = Array.from({ length: 60 }, (_, i) => ({
      release: `r@${i}`,
      status: i % 3 ? 'exited' : 'crashed',
    }));
    await sendSessions(server, many, sessions.slice(0, 30));
    await sendSessions(server, many, sessions.slice(30));
    const countFor = async (project: TestProject) => {
      const { result, statements } = await server.countStatements(() =>
        releasesTable(server, project, 'SESSIONS', 100),
      );
      return { rows: result.edges.length, statements: statements.length };
    };
    const small = await countFor(one);
    const large = await countFor(many);
    expect(small.rows).toBe(1);
    expect(large.rows).toBe(60);
    expect(large.statements).toBe(small.statements);
  });
});

describe('adoption stages', () => {
  test('10 % of the environment adopts; falling below replaces; crossing again re-adopts', async ({
    server,
    project,
  }) => {
    // spec §7 example 6: A has 30 and B 70 of 100 sessions.
    const mix = (a: number, b: number) => [
      ...Array.from({ length: a }, () => ({ release: 'A@1', status: 'exited' })),
      ...Array.from({ length: b }, () => ({ release: 'B@1', status: 'exited' })),
    ];
    await sendSessions(server, project, mix(30, 70));
    const stages = async () =>
      Object.fromEntries(
        (await releasesTable(server, project)).edges.map((e) => [
          e.node.version,
          e.node.adoptionStage,
        ]),
      );
    expect((await stages())['A@1']?.stage).toBe('LOW_ADOPTION');
    const t1 = new Date(Date.now() + 1000);
    await updateAdoptionStages(server.db, t1);
    const adopted = await stages();
    expect(adopted['A@1']).toMatchObject({
      stage: 'ADOPTED',
      adoptedAt: t1.toISOString(),
      unadoptedAt: null,
    });
    expect(adopted['B@1']?.stage).toBe('ADOPTED');

    // Seven hours later only B has sessions in the window: A is replaced, B stays adopted.
    const later = new Date(Date.now() + 7 * 3_600_000);
    await updateAdoptionStages(server.db, later);
    const replaced = await stages();
    expect(replaced['A@1']).toMatchObject({
      stage: 'REPLACED',
      adoptedAt: t1.toISOString(),
      unadoptedAt: later.toISOString(),
    });
  });

  test('sessions without an environment never adopt a release', async ({ server, project }) => {
    await sendSessions(server, project, [{ release: 'X@1', status: 'exited', environment: '' }]);
    await updateAdoptionStages(server.db, new Date(Date.now() + 1000));
    const rows = await server.db.prisma.releaseEnvironment.count({
      where: { projectId: project.id },
    });
    expect(rows).toBe(0);
  });
});

describe('query fields return their type (issue 11)', () => {
  const QUERY = (period: string) =>
    `{ project(organizationSlug: "default", slug: "default") { release(version: "x") { health(period: "${period}") { sessions crashFreeSessions } } } }`;

  test('a health query without fragments works; a bad period is BAD_USER_INPUT naming it', async ({
    server,
  }) => {
    const key = await server.db.prisma.projectKey.findFirstOrThrow({
      where: { project: { slug: 'default', organization: { slug: 'default' } } },
    });
    const project = { id: key.projectId, publicKey: key.publicKey };
    await postEnvelope(
      server.envelopeUrl(project),
      sessionsEnvelope([
        ...[1, 2, 3].map(() => ({ release: 'x', status: 'exited' as const })),
        { release: 'x', status: 'crashed' },
      ]),
    );
    expect(await expectData(server, QUERY('24h'))).toEqual({
      project: { release: { health: { sessions: 4, crashFreeSessions: 75 } } },
    });
    expect(await expectBadUserInput(server, QUERY('2y'))).toMatchObject({ field: 'period' });
    // One unit: the sessions query gives the same percentage for the same sessions.
    const query = await server.gql(
      `{ project(organizationSlug: "default", slug: "default") { sessions(period: "24h", releases: ["x"]) { groups { totals { crashFreeSessions } } } } }`,
    );
    expect(query.data).toEqual({
      project: { sessions: { groups: [{ totals: { crashFreeSessions: 75 } }] } },
    });
  });
});

describe('bad arguments', () => {
  const refuse = async (server: TestServer, project: TestProject, body: string) =>
    expectBadUserInput(
      server,
      `query ($org: String!, $slug: String!) { project(organizationSlug: $org, slug: $slug) { ${body} } }`,
      { org: project.organizationSlug, slug: project.slug },
    );

  test.for([
    ['an unknown period', 'health(period: "5y")', 'period'],
    [
      'start after end',
      'health(start: "2026-01-02T00:00:00Z", end: "2026-01-01T00:00:00Z")',
      'start',
    ],
    ['period with start', 'health(period: "24h", start: "2026-01-01T00:00:00Z")', 'period'],
  ] as const)(
    '%s is a BAD_USER_INPUT error naming the argument',
    async ([, field, name], { server, project }) => {
      await sendSessions(server, project, [{ release: 'v@1', status: 'exited' }]);
      const error = await refuse(
        server,
        project,
        `release(version: "v@1") { ${field} { sessions } }`,
      );
      expect(error.field).toBe(name);
      expect(error.message.length).toBeGreaterThan(10);
    },
  );

  test('Project.health refuses a bad period the same way', async ({ server, project }) => {
    expect(await refuse(server, project, 'health(period: "5y") { sessions }')).toMatchObject({
      field: 'period',
    });
  });

  test('an interval that makes too many points is refused with Sentry’s message', async ({
    server,
    project,
  }) => {
    await sendSessions(server, project, [{ release: 'v@1', status: 'exited' }]);
    const error = await refuse(
      server,
      project,
      'release(version: "v@1") { health(period: "90d") { stats(interval: "1m") { value } } }',
    );
    expect(error.field).toBe('interval');
    expect(error.message).toContain('too many results');
  });
});

describe('series', () => {
  test('stats give one point per hour with empty hours as zeros', async ({ server, project }) => {
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await sendSessions(server, project, [
      { release: 'v@1', status: 'exited', started: twoHoursAgo },
      { release: 'v@1', status: 'crashed' },
      { release: 'v@1', status: 'exited' },
    ]);
    const data = await query<{
      release: {
        health: {
          stats: Array<{ timestamp: string; value: number; crashFreeSessions: number | null }>;
        };
      };
    }>(
      server,
      project,
      `release(version: "v@1") { health(period: "24h") { stats { timestamp value crashFreeSessions } } }`,
    );
    const points = data.release.health.stats;
    expect(points.length).toBeGreaterThanOrEqual(24);
    expect(points.reduce((n, p) => n + p.value, 0)).toBe(3);
    expect(points.at(-1)).toMatchObject({ value: 2, crashFreeSessions: 50 });
    expect(points.filter((p) => p.value === 0).every((p) => p.crashFreeSessions === null)).toBe(
      true,
    );
  });
});

test('server-mode aggregates: exited 10, errored 3, crashed 2 (spec §7 example 5)', async ({
  server,
  project,
}) => {
  const started = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
  const body = buildEnvelope([
    {
      type: 'sessions',
      payload: {
        aggregates: [{ started, exited: 10, errored: 3, crashed: 2 }],
        attrs: { release: 'api@1', environment: 'production' },
      },
    },
  ]);
  expect((await postEnvelope(server.envelopeUrl(project), body)).status).toBe(200);
  const data = await query<{ release: { health: Record<string, number> } }>(
    server,
    project,
    `release(version: "api@1") { health { sessions sessionsErrored sessionsCrashed sessionsHealthy crashFreeSessions } }`,
  );
  expect(data.release.health).toMatchObject({
    sessions: 15,
    sessionsErrored: 3,
    sessionsCrashed: 2,
    sessionsHealthy: 10,
  });
  expect(data.release.health.crashFreeSessions).toBeCloseTo(86.67, 2);
});
