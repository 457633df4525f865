import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import { type SessionFields, sendSessions } from '../support/envelopes.ts';
import { test as base } from '../support/fixtures.ts';
import type { TestServer } from '../support/server.ts';
import { at, byLabel, floorTo, HOUR, MINUTE, sessions } from './sessions-support.ts';

// shared/spec/sentry-reference.md §7 D, F and G: Sentry's own sessions-API tests, sent as real
// envelopes and read back through Organization.sessions. Times are relative to a 6-hour
// boundary ST before now, so every interval below is fixed; durations are seconds (Sentry: ms).

const U = '39887d89-13b2-4c84-8c23-5d13d2102664';

async function fixtureD(server: TestServer) {
  const [p1, p2, p3] = [
    await server.createProject(),
    await server.createProject(),
    await server.createProject(),
  ];
  const st = floorTo(Date.now() - HOUR, 6 * HOUR);
  const row = (o: SessionFields): SessionFields => ({
    did: null,
    status: 'exited',
    release: 'foo@1.0.0',
    environment: 'production',
    started: st,
    ...o,
  });
  await sendSessions(server, p1, [
    row({ started: at(st, 12 * MINUTE), duration: 25 }), // E1
    row({ started: at(st, 24 * MINUTE), release: 'foo@1.1.0', duration: 49 }), // E2
    row({ started: at(st, -HOUR), duration: 25 }), // E3
    row({ started: at(st, -12 * HOUR), duration: 25 }), // E4
  ]);
  await sendSessions(server, p2, [
    row({ status: 'crashed' }), // E5
    row({ environment: 'development', duration: 30 }), // E6
  ]);
  await sendSessions(server, p3, [
    row({ errors: 1, release: 'foo@1.2.0', duration: 37 }), // E7
    row({ did: U, started: at(st, -HOUR), duration: 80 }), // E8
    row({ did: U, errors: 1, duration: 68 }), // E9
  ]);
  return {
    ids: { p1: p1.id, p2: p2.id, p3: p3.id },
    st,
    /** Everything, in 25 hourly intervals. */
    vars: {
      projects: [p1.id, p2.id, p3.id],
      start: at(st, -24 * HOUR).toISOString(),
      end: at(st, HOUR).toISOString(),
      interval: '1h',
    },
  };
}

const test = base.extend<{ d: Awaited<ReturnType<typeof fixtureD>> }>({
  d: async ({ server }, use) => use(await fixtureD(server)),
});

describe('§7 D: the organization sessions fixture', () => {
  test('D-2: 6-hour intervals round the range out and count 0, 0, 1, 2, 6', async ({
    server,
    d,
  }) => {
    const result = await sessions(server, '', 'totals { sessions } series { sessions }', {
      projects: d.vars.projects,
      start: at(d.st, -24 * HOUR).toISOString(),
      end: at(d.st, 27 * MINUTE).toISOString(),
      interval: '6h',
    });
    expect(result.start).toBe(at(d.st, -24 * HOUR).toISOString());
    expect(result.end).toBe(at(d.st, 6 * HOUR).toISOString());
    expect(result.intervals).toEqual(
      [-24, -18, -12, -6, 0].map((h) => at(d.st, h * HOUR).toISOString()),
    );
    expect(result.groups).toEqual([
      { totals: { sessions: 9 }, series: { sessions: [0, 0, 1, 2, 6] } },
    ]);
  });

  test('D-3: 10-minute intervals over P1 and P2', async ({ server, d }) => {
    const result = await sessions(server, '', 'totals { sessions } series { sessions }', {
      projects: [d.ids.p1, d.ids.p2],
      start: d.st.toISOString(),
      end: at(d.st, 30 * MINUTE).toISOString(),
      interval: '10m',
    });
    expect(result.intervals).toHaveLength(3);
    expect(result.groups[0]).toEqual({ totals: { sessions: 4 }, series: { sessions: [2, 1, 1] } });
  });

  test('D-5 … D-9: project filter and groupings', async ({ server, d }) => {
    const q = (args: string, vars: Record<string, unknown> = {}) =>
      sessions(server, args, 'by { projectId release environment } totals { sessions }', {
        ...d.vars,
        ...vars,
      });
    expect(byLabel(await q('', { projects: [d.ids.p2, d.ids.p3] }))).toEqual({
      '': { sessions: 5 },
    });
    const byProject = await q(', groupBy: [PROJECT]');
    expect(byProject.groups.map((g) => [g.by.projectId, g.totals.sessions])).toEqual([
      [d.ids.p1, 4],
      [d.ids.p3, 3],
      [d.ids.p2, 2],
    ]);
    expect(byLabel(await q(', groupBy: [ENVIRONMENT]'))).toEqual({
      production: { sessions: 8 },
      development: { sessions: 1 },
    });
    expect(byLabel(await q(', groupBy: [RELEASE]'))).toEqual({
      'foo@1.0.0': { sessions: 7 },
      'foo@1.1.0': { sessions: 1 },
      'foo@1.2.0': { sessions: 1 },
    });
    expect(byLabel(await q(', groupBy: [RELEASE, ENVIRONMENT]'))).toEqual({
      'foo@1.0.0 production': { sessions: 6 },
      'foo@1.0.0 development': { sessions: 1 },
      'foo@1.1.0 production': { sessions: 1 },
      'foo@1.2.0 production': { sessions: 1 },
    });
  });

  test('D-10, D-11: sessions and users split by status, always all five', async ({ server, d }) => {
    const result = await sessions(
      server,
      ', groupBy: [SESSION_STATUS]',
      'by { sessionStatus } totals { sessions users }',
      d.vars,
    );
    expect(result.groups.map((g) => [g.by.sessionStatus, g.totals])).toEqual([
      ['HEALTHY', { sessions: 6, users: 0 }],
      ['ERRORED', { sessions: 2, users: 1 }],
      ['UNHANDLED', { sessions: 0, users: 0 }],
      ['CRASHED', { sessions: 1, users: 0 }],
      ['ABNORMAL', { sessions: 0, users: 0 }],
    ]);
    const users = await sessions(server, '', 'totals { users }', d.vars);
    expect(users.groups[0]?.totals.users).toBe(1);
  });

  test('D-12 … D-14: environment and release filters', async ({ server, d }) => {
    const total = async (args: string) =>
      (await sessions(server, args, 'totals { sessions }', d.vars)).groups[0]?.totals.sessions;
    expect(await total(', environments: ["development"]')).toBe(1);
    expect(await total(', releases: ["foo@1.1.0"]')).toBe(1);
    expect(await total(', releases: ["foo@1.1.0", "foo@1.2.0"]')).toBe(2);
    const three = await sessions(
      server,
      ', releases: ["foo@1.1.0", "foo@1.2.0", "foo@1.3.0"], groupBy: [RELEASE]',
      'by { release } totals { sessions }',
      d.vars,
    );
    expect(byLabel(three)).toEqual({ 'foo@1.1.0': { sessions: 1 }, 'foo@1.2.0': { sessions: 1 } });
    const unknown = await sessions(
      server,
      ', releases: ["foo@6.6.6"], groupBy: [SESSION_STATUS]',
      'by { sessionStatus } totals { sessions } series { sessions }',
      { ...d.vars, interval: '1d' },
    );
    expect(unknown.groups).toHaveLength(5);
    for (const group of unknown.groups) {
      expect(group.totals.sessions).toBe(0);
      expect(group.series.sessions).toEqual(unknown.intervals.map(() => 0));
    }
  });

  test('D-17: crash rates per release and environment, ordered by crash-free rate', async ({
    server,
    d,
  }) => {
    const result = await sessions(
      server,
      ', releases: ["foo@1.0.0"], groupBy: [RELEASE, ENVIRONMENT], orderBy: { field: CRASH_FREE_SESSIONS, direction: ASC }',
      'by { release environment } totals { crashFreeSessions crashFreeUsers crashRateSessions crashRateUsers } series { crashFreeSessions }',
      d.vars,
    );
    expect(result.groups.map((g) => [g.by.environment, g.totals])).toEqual([
      [
        'production',
        {
          crashFreeSessions: 100 - (1 / 6) * 100,
          crashFreeUsers: 100,
          crashRateSessions: (1 / 6) * 100,
          crashRateUsers: 0,
        },
      ],
      [
        'development',
        {
          crashFreeSessions: 100,
          crashFreeUsers: null,
          crashRateSessions: 0,
          crashRateUsers: null,
        },
      ],
    ]);
    // Hourly series: ST is interval 24; empty hours are null.
    const production = result.groups[0]?.series.crashFreeSessions ?? [];
    expect(production[24]).toBeCloseTo(200 / 3); // E1, E5 (crashed), E9
    expect(production[23]).toBe(100); // E3, E8
    expect(production[12]).toBe(100); // E4
    expect(production.filter((v) => v === null)).toHaveLength(22);
  });

  test('D-18: durations in seconds; with SESSION_STATUS only HEALTHY has them', async ({
    server,
    d,
  }) => {
    const fields =
      'durationAvg durationP50 durationP75 durationP90 durationP95 durationP99 durationMax';
    const result = await sessions(
      server,
      '',
      `totals { ${fields} } series { durationP50 }`,
      d.vars,
    );
    const totals = result.groups[0]?.totals ?? {};
    expect(totals).toMatchObject({ durationAvg: 42.375, durationP50: 33.5, durationMax: 80 });
    expect(totals.durationP75).toBeCloseTo(53.75);
    expect(totals.durationP90).toBeCloseTo(71.6);
    expect(totals.durationP95).toBeCloseTo(75.8);
    expect(totals.durationP99).toBeCloseTo(79.16);
    expect(result.groups[0]?.series.durationP50?.[0]).toBeNull();
    const byStatus = await sessions(
      server,
      ', groupBy: [SESSION_STATUS]',
      `by { sessionStatus } totals { ${fields} }`,
      d.vars,
    );
    for (const group of byStatus.groups) {
      if (group.by.sessionStatus === 'HEALTHY') expect(group.totals.durationP50).toBe(33.5);
      else expect(Object.values(group.totals).every((v) => v === null)).toBe(true);
    }
  });

  test('D-19: ordered by p95 duration over project and release', async ({ server, d }) => {
    // Sentry groups by environment too; every P1 and P3 session is in production, so the groups
    // are the same (see the next test for why environment is left out here).
    const q = (direction: string) =>
      sessions(
        server,
        `, groupBy: [PROJECT, RELEASE], orderBy: { field: DURATION_P95, direction: ${direction} }`,
        'by { projectId release } totals { sessions durationP95 } series { sessions durationP95 }',
        { ...d.vars, projects: [d.ids.p1, d.ids.p3] },
      );
    const expected = [
      [d.ids.p1, 'foo@1.0.0', 3, 25],
      [d.ids.p3, 'foo@1.2.0', 1, 37],
      [d.ids.p1, 'foo@1.1.0', 1, 49],
      [d.ids.p3, 'foo@1.0.0', 2, 79.4],
    ];
    const asc = await q('ASC');
    const rows = asc.groups.map((g) => [g.by.projectId, g.by.release, g.totals.sessions]);
    expect(rows).toEqual(expected.map((r) => r.slice(0, 3)));
    asc.groups.forEach((g, i) => {
      expect(g.totals.durationP95).toBeCloseTo(expected[i]?.[3] as number);
      expect(g.series.sessions?.reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).toBe(expected[i]?.[2]);
    });
    expect((await q('DESC')).groups.map((g) => g.by.release)).toEqual(
      expected.map((r) => r[1]).reverse(),
    );
  });

  // The environment join has its own project_id: grouping must not be ambiguous (42702).
  test('groups by project and environment together', async ({ server, d }) => {
    const result = await sessions(
      server,
      ', groupBy: [PROJECT, ENVIRONMENT]',
      'by { projectId environment } totals { sessions }',
      d.vars,
    );
    expect(result.groups.map((g) => [g.by.projectId, g.by.environment, g.totals.sessions])).toEqual(
      [
        [d.ids.p1, 'production', 4],
        [d.ids.p3, 'production', 3],
        [d.ids.p2, 'development', 1],
        [d.ids.p2, 'production', 1],
      ],
    );
  });
});

describe('§7 F and G', () => {
  test('F: users with mixed histories split into abnormal 1, crashed 1, errored 1, healthy 3', async ({
    server,
    project,
  }) => {
    const started = new Date(Date.now() - 30 * MINUTE);
    const s1 = randomUUID();
    const s2b = randomUUID();
    const row = (o: SessionFields): SessionFields => ({ started, status: 'exited', ...o });
    await sendSessions(server, project, [
      row({ sid: s1, did: 'u1', status: 'ok' }),
      row({ sid: s1, did: 'u1', init: false, seq: 1, status: 'errored', errors: 1 }),
      row({ sid: s1, did: 'u1', init: false, seq: 2, status: 'crashed' }),
      row({ did: 'u2', status: 'ok' }),
      row({ sid: s2b, did: 'u2', status: 'ok' }),
      row({ sid: s2b, did: 'u2', seq: 0, status: 'abnormal' }),
      row({ did: 'u3', status: 'errored', errors: 123 }),
      row({}),
      row({}),
      row({}),
    ]);
    const result = await sessions(
      server,
      ', groupBy: [SESSION_STATUS]',
      'by { sessionStatus } totals { users }',
      { projects: [project.id], period: '1d' },
    );
    expect(
      Object.fromEntries(result.groups.map((g) => [g.by.sessionStatus, g.totals.users])),
    ).toEqual({ HEALTHY: 3, ERRORED: 1, UNHANDLED: 0, CRASHED: 1, ABNORMAL: 1 });
    const all = await sessions(server, '', 'totals { users }', { projects: [project.id] });
    expect(all.groups[0]?.totals.users).toBe(6);
  });

  test('G-1: per-release status split', async ({ server, project }) => {
    const many = (n: number, o: SessionFields) =>
      Array.from({ length: n }, () => ({ did: null, ...o }));
    await sendSessions(server, project, [
      ...many(4, { release: '1B', status: 'crashed' }),
      ...many(10, { release: '1B' }),
      ...many(3, { release: '1B', errors: 1 }),
      ...many(2, { release: '1A', status: 'crashed' }),
      ...many(1, { release: '1A' }),
      ...many(3, { release: '1A', errors: 1 }),
    ]);
    const result = await sessions(
      server,
      ', groupBy: [RELEASE, SESSION_STATUS]',
      'by { release sessionStatus } totals { sessions }',
      { projects: [project.id] },
    );
    expect(byLabel(result)).toEqual({
      '1B HEALTHY': { sessions: 10 },
      '1B ERRORED': { sessions: 3 },
      '1B UNHANDLED': { sessions: 0 },
      '1B CRASHED': { sessions: 4 },
      '1B ABNORMAL': { sessions: 0 },
      '1A HEALTHY': { sessions: 1 },
      '1A ERRORED': { sessions: 3 },
      '1A UNHANDLED': { sessions: 0 },
      '1A CRASHED': { sessions: 2 },
      '1A ABNORMAL': { sessions: 0 },
    });
    // The release with more sessions comes first, its five statuses together.
    expect(result.groups.map((g) => g.by.release)).toEqual([
      ...Array(5).fill('1B'),
      ...Array(5).fill('1A'),
    ]);
    expect(result.totalGroups).toBe(10);
  });

  test('G-2: crash-free rate per release, newest release first', async ({ server, project }) => {
    const rows = (release: string, exited: number, crashed: number): SessionFields[] => [
      ...Array.from({ length: exited }, () => ({ did: null, release })),
      ...Array.from({ length: crashed }, () => ({ did: null, release, status: 'crashed' })),
    ];
    // Sent one release at a time, so Vigil sees 1B first and 1D last.
    await sendSessions(server, project, rows('1B', 1, 2));
    await sendSessions(server, project, rows('1C', 2, 1));
    await sendSessions(server, project, rows('1D', 4, 1));
    const result = await sessions(
      server,
      ', groupBy: [RELEASE], orderBy: { field: RELEASE_DATE, direction: DESC }',
      'by { release } totals { crashFreeSessions }',
      { projects: [project.id] },
    );
    expect(result.groups.map((g) => [g.by.release, g.totals.crashFreeSessions])).toEqual([
      ['1D', 80],
      ['1C', 100 - (1 / 3) * 100],
      ['1B', 100 - (2 / 3) * 100],
    ]);
  });
});
