import { describe, expect } from 'vitest';
import { type DashboardDocument, loadDashboards } from '../../src/modules/sessions/dashboards.ts';
import type { SessionFields } from '../support/envelopes.ts';
import { sendSessions } from '../support/envelopes.ts';
import { test } from '../support/fixtures.ts';
import { ADMIN_TOKEN, type TestProject, type TestServer } from '../support/server.ts';
import { at, floorTo, HOUR, MINUTE } from './sessions-support.ts';

// Every Session Health dashboard document in dashboards/, run from its file and by its persisted
// id, against 21 sessions in six releases whose numbers are worked out by hand below.
//
// Three hourly intervals from `base`: hour 0 and hour 2 have sessions, hour 1 none (zeros, nulls).
//   release  hour 0                              hour 2
//   r1       a1–a4, shared exited; a6 crashed    —
//   r2       b1, b2 exited                       b3 exited; shared crashed; b5 exited + error
//   r3       —                                   c1–c4 exited
//   r4       d1 abnormal; d2, d3 exited          —
//   r5       —                                   e1 unhandled; e2 exited
//   r6       —                                   f1 crashed
// Each session has its own user but `shared`, healthy in hour 0 and crashed in hour 2.
// Sessions: 21 (11 + 0 + 10); healthy 15 (9, 0, 6), errored 1 (b5), unhandled 1 (e1),
// crashed 3 (a6 | b4, f1), abnormal 1 (d1).
// Users: 20 distinct (11 + 0 + 10 per hour, `shared` in both); crashed {a6, shared, f1},
// abnormal {d1}, unhandled {e1}, errored-only {b5}, healthy 20 − 6 = 14 (9, 0, 6 per hour).

const RELEASES: Array<[string, Array<[number, SessionFields]>]> = [
  [
    'r1',
    [
      ...['a1', 'a2', 'a3', 'a4', 'shared'].map((did): [number, SessionFields] => [0, { did }]),
      [0, { did: 'a6', status: 'crashed' }],
    ],
  ],
  [
    'r2',
    [
      [0, { did: 'b1' }],
      [0, { did: 'b2' }],
      [2, { did: 'b3' }],
      [2, { did: 'shared', status: 'crashed' }],
      [2, { did: 'b5', errors: 1 }],
    ],
  ],
  ['r3', ['c1', 'c2', 'c3', 'c4'].map((did): [number, SessionFields] => [2, { did }])],
  [
    'r4',
    [
      [0, { did: 'd1', status: 'abnormal' }],
      [0, { did: 'd2' }],
      [0, { did: 'd3' }],
    ],
  ],
  [
    'r5',
    [
      [2, { did: 'e1', status: 'unhandled' }],
      [2, { did: 'e2' }],
    ],
  ],
  ['r6', [[2, { did: 'f1', status: 'crashed' }]]],
];

async function seed(server: TestServer, project: TestProject) {
  const base = floorTo(Date.now() - 3 * HOUR, HOUR);
  // One envelope per release, oldest first: RELEASE_DATE orders by when Vigil first saw them.
  for (const [release, rows] of RELEASES) {
    await sendSessions(
      server,
      project,
      rows.map(([hour, s]) => ({ release, ...s, started: at(base, hour * HOUR + 10 * MINUTE) })),
    );
  }
  return {
    org: project.organizationSlug,
    projects: [project.id],
    start: base.toISOString(),
    end: at(base, 3 * HOUR).toISOString(),
    interval: '1h',
  };
}

const DOCUMENTS = new Map(loadDashboards().map((d) => [d.name, d]));
const doc = (name: string): DashboardDocument => {
  const found = DOCUMENTS.get(name);
  if (!found) throw new Error(`dashboards/${name}.graphql is missing`);
  return found;
};

type Response = { status: number; body: { data?: unknown; errors?: unknown[] } };

async function byFile(server: TestServer, d: DashboardDocument, variables: object) {
  const result = await server.gql(d.text, { ...variables });
  return { status: result.status, body: { data: result.data, errors: result.errors } };
}

async function byId(
  server: TestServer,
  sha256: string,
  variables: object,
  token: string | null = ADMIN_TOKEN,
): Promise<Response> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({
      variables,
      extensions: { persistedQuery: { version: 1, sha256Hash: sha256 } },
    }),
  });
  return { status: response.status, body: (await response.json()) as Response['body'] };
}

const sessionsOf = (body: Response['body']) =>
  (body.data as { organization: { sessions: Record<string, unknown> } }).organization.sessions;

// Every rate of the API is a percentage, computed in Sentry's float order (src/health/rates.ts).
const pct = (n: number, d: number) => (n / d) * 100;
const free = (crashed: number, total: number) => 100 - (crashed / total) * 100;

const STATUS_ORDER = ['HEALTHY', 'ERRORED', 'UNHANDLED', 'CRASHED', 'ABNORMAL'];
const byStatus = (unit: string, totals: number[], series: number[][]) =>
  STATUS_ORDER.map((status, i) => ({
    by: { sessionStatus: status },
    totals: { [unit]: totals[i] },
    series: { [unit]: series[i] },
  }));

/** The `groups` each document must return for the data above. */
const EXPECTED: Record<string, unknown[]> = {
  'crash-free-sessions-top-adopted': [
    ['r1', 6, [free(1, 6), null, null]],
    ['r2', 5, [100, null, free(1, 3)]],
    ['r3', 4, [null, null, 100]],
    ['r4', 3, [100, null, null]],
    ['r5', 2, [null, null, 100]],
  ].map(([release, sessions, series]) => ({
    by: { release },
    totals: {
      sessions,
      sessionsAdoption: pct(sessions as number, 21),
      crashFreeSessions: release === 'r1' ? free(1, 6) : release === 'r2' ? free(1, 5) : 100,
    },
    series: { crashFreeSessions: series },
  })),
  'total-sessions-by-release': [
    ['r6', 1, [0, 0, 1]],
    ['r5', 2, [0, 0, 2]],
    ['r4', 3, [3, 0, 0]],
    ['r3', 4, [0, 0, 4]],
    ['r2', 5, [2, 0, 3]],
  ].map(([release, sessions, series]) => ({
    by: { release },
    totals: { sessions },
    series: { sessions: series },
  })),
  'unhealthy-sessions': [
    {
      totals: { sessions: 21, unhealthyRateSessions: pct(6, 21) },
      series: { unhealthyRateSessions: [pct(2, 11), null, pct(4, 10)] },
    },
  ],
  'session-health': [
    {
      totals: {
        sessions: 21,
        healthyRateSessions: pct(15, 21),
        erroredRateSessions: pct(1, 21),
        unhandledRateSessions: pct(1, 21),
        crashRateSessions: pct(3, 21),
        abnormalRateSessions: pct(1, 21),
      },
      series: {
        healthyRateSessions: [pct(9, 11), null, pct(6, 10)],
        erroredRateSessions: [0, null, pct(1, 10)],
        unhandledRateSessions: [0, null, pct(1, 10)],
        crashRateSessions: [pct(1, 11), null, pct(2, 10)],
        abnormalRateSessions: [pct(1, 11), null, 0],
      },
    },
  ],
  'session-counts': byStatus(
    'sessions',
    [15, 1, 1, 3, 1],
    [
      [9, 0, 6],
      [0, 0, 1],
      [0, 0, 1],
      [1, 0, 2],
      [1, 0, 0],
    ],
  ),
  'user-health': [
    {
      totals: {
        users: 20,
        healthyRateUsers: pct(14, 20),
        erroredRateUsers: pct(1, 20),
        unhandledRateUsers: pct(1, 20),
        crashRateUsers: pct(3, 20),
        abnormalRateUsers: pct(1, 20),
      },
      series: {
        healthyRateUsers: [pct(9, 11), null, pct(6, 10)],
        erroredRateUsers: [0, null, pct(1, 10)],
        unhandledRateUsers: [0, null, pct(1, 10)],
        crashRateUsers: [pct(1, 11), null, pct(2, 10)],
        abnormalRateUsers: [pct(1, 11), null, 0],
      },
    },
  ],
  'user-counts': byStatus(
    'users',
    [14, 1, 1, 3, 1],
    [
      [9, 0, 6],
      [0, 0, 1],
      [0, 0, 1],
      [1, 0, 2],
      [1, 0, 0],
    ],
  ),
  'releases-table': [
    ['r6', 0, 0, 1],
    ['r5', 100, 100, 2],
    ['r4', 100, 100, 3],
    ['r3', 100, 100, 4],
    ['r2', free(1, 5), free(1, 5), 5],
    ['r1', free(1, 6), free(1, 6), 6],
  ].map(([release, crashFreeSessions, crashFreeUsers, sessions]) => ({
    by: { release },
    totals: {
      crashFreeSessions,
      crashFreeUsers,
      sessions,
      sessionsAdoption: pct(sessions as number, 21),
    },
  })),
};

describe('Session Health dashboards', () => {
  test('dashboards/ holds the eight documents, each one named operation', () => {
    expect([...DOCUMENTS.keys()].sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const d of DOCUMENTS.values()) expect(d.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  test.for(Object.keys(EXPECTED))('%s: by file and by persisted id', async (name, { server }) => {
    const project = await server.createProject();
    const variables = await seed(server, project);
    const d = doc(name);
    const file = await byFile(server, d, variables);
    expect(file.body.errors).toBeUndefined();
    const result = sessionsOf(file.body);
    expect(result.groups).toEqual(EXPECTED[name]);
    if ('intervals' in result) expect(result.intervals).toHaveLength(3);
    const persisted = await byId(server, d.sha256, variables);
    expect(persisted.status).toBe(200);
    expect(persisted.body).toEqual(file.body);
  });

  test('the releases table pages: totalGroups and hasMoreGroups tell what is left', async ({
    server,
    project,
  }) => {
    const variables = { ...(await seed(server, project)), limit: 2, offset: 2 };
    const page = sessionsOf((await byFile(server, doc('releases-table'), variables)).body);
    expect(page).toMatchObject({ totalGroups: 6, hasMoreGroups: true });
    expect((page.groups as Array<{ by: { release: string } }>).map((g) => g.by.release)).toEqual([
      'r4',
      'r3',
    ]);
  });

  test('an empty range gives zero counts and null rates, not missing groups', async ({
    server,
    project,
  }) => {
    const variables = { org: project.organizationSlug, projects: [project.id], period: '1h' };
    const unhealthy = sessionsOf((await byFile(server, doc('unhealthy-sessions'), variables)).body);
    const groups = unhealthy.groups as Array<{
      totals: object;
      series: { unhealthyRateSessions: unknown[] };
    }>;
    expect(groups).toHaveLength(1);
    expect(groups[0]?.totals).toEqual({ sessions: 0, unhealthyRateSessions: null });
    expect(groups[0]?.series.unhealthyRateSessions.every((v) => v === null)).toBe(true);
    const counts = sessionsOf((await byFile(server, doc('session-counts'), variables)).body);
    expect((counts.groups as unknown[]).length).toBe(5);
    const top = sessionsOf(
      (await byFile(server, doc('crash-free-sessions-top-adopted'), variables)).body,
    );
    expect(top.groups).toEqual([]);
  });

  test('each document runs the same number of SQL statements for 1 and for 30 releases', async ({
    server,
  }) => {
    const one = await server.createProject();
    const many = await server.createProject();
    const started = new Date(Date.now() - 30 * MINUTE);
    await sendSessions(server, one, [{ release: 'x@1', started }]);
    await sendSessions(
      server,
      many,
      Array.from({ length: 30 }, (_, i) => ({
        release: `x@${i}`,
        started,
        status: i % 4 ? 'exited' : 'crashed',
      })),
    );
    const vars = (p: TestProject) => ({ org: p.organizationSlug, projects: [p.id], period: '24h' });
    for (const d of DOCUMENTS.values()) {
      const small = await server.countStatements(() => byId(server, d.sha256, vars(one)));
      const large = await server.countStatements(() => byId(server, d.sha256, vars(many)));
      expect(small.result.body.errors, d.name).toBeUndefined();
      expect(large.statements.length, d.name).toBe(small.statements.length);
      expect(large.statements.length, d.name).toBeLessThanOrEqual(5);
    }
  });
});

describe('persisted operations', () => {
  test('a persisted id needs the bearer token like any query', async ({ server }) => {
    const d = doc('session-counts');
    const denied = await byId(server, d.sha256, { org: 'default' }, null);
    expect(denied.status).toBe(401);
    expect(denied.body.errors).toMatchObject([{ extensions: { code: 'UNAUTHENTICATED' } }]);
  });

  test('a GET request carries the id in the query string, as APQ clients send it', async ({
    server,
    project,
  }) => {
    const variables = { org: project.organizationSlug, projects: [project.id], period: '1h' };
    const params = new URLSearchParams({
      variables: JSON.stringify(variables),
      extensions: JSON.stringify({
        persistedQuery: { version: 1, sha256Hash: doc('session-counts').sha256 },
      }),
    });
    const response = await fetch(`${server.url}/graphql?${params}`, {
      // yoga's CSRF prevention: a GET must carry a header a cross-site page cannot add.
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        accept: 'application/json',
        'x-graphql-yoga-csrf': '1',
      },
    });
    const body = (await response.json()) as Response['body'];
    expect(response.status).toBe(200);
    expect((sessionsOf(body).groups as unknown[]).length).toBe(5);
  });

  test('an unknown id is refused; ad-hoc queries stay allowed', async ({ server }) => {
    const unknown = await byId(server, '0'.repeat(64), { org: 'default' });
    expect(unknown.body.errors).toMatchObject([
      { message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST' } },
    ]);
    const adHoc = await server.gql('{ organization(slug: "default") { slug } }');
    expect(adHoc.data).toEqual({ organization: { slug: 'default' } });
  });
});
