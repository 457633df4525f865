import { describe, expect, test } from 'vitest';
import { ZERO_SESSION_COUNTS, ZERO_USER_COUNTS } from '../../src/health/crash-free.ts';
import type { DurationRow, MetricsRow } from '../../src/metrics/session-metrics.queries.ts';
import type { ReleaseRow } from '../../src/modules/releases/release.queries.ts';
import type { SessionsRows } from '../../src/modules/sessions/sessions.queries.ts';
import {
  resolveSessionsSpec,
  type SessionsArgs,
  type SessionsGroupBy,
} from '../../src/modules/sessions/sessions-args.ts';
import {
  ALL_PROJECTS,
  groupTotals,
  pageGroups,
  releaseIdsOf,
  resultKeysOf,
  type SessionsTarget,
  seriesQuery,
  totalsQuery,
} from '../../src/modules/sessions/sessions-groups.ts';
import {
  intervalSessions,
  shapeSessionsResults,
} from '../../src/modules/sessions/sessions-shape.ts';

// The sessions query's grouping, paging, adoption denominators and shaping, without a database:
// rows as selectSessionMetrics returns them in, groups and responses out.

const NOW = new Date('2026-05-10T12:30:00Z');
// Two whole hours: two series intervals.
const START = new Date('2026-05-10T10:00:00Z');
const END = new Date('2026-05-10T12:00:00Z');

function specOf(args: SessionsArgs & { series?: string[]; totals?: string[] } = {}) {
  const { series = [], totals = ['sessions'], ...rest } = args;
  return resolveSessionsSpec(
    { start: START, end: END, interval: '1h', ...rest },
    { totals: new Set(totals), series: new Set(series) },
    NOW,
  );
}

function row(
  projectId: number | null,
  releaseId: number | null,
  environment: string | null,
  sessions: number,
  interval: number | null = null,
): MetricsRow {
  return {
    projectId,
    releaseId,
    environment,
    interval,
    sessions: { ...ZERO_SESSION_COUNTS, sessions },
    users: { ...ZERO_USER_COUNTS, users: sessions },
  };
}

const rows = (r: MetricsRow[], durations: DurationRow[] = []): SessionsRows => ({
  rows: r,
  durations,
});

const target = (projectIds: number[], perProject: boolean): SessionsTarget => ({
  projectIds,
  organizationIds: [1],
  perProject,
});

const release = (id: number, version: string, createdAt: string): ReleaseRow => ({
  id,
  organizationId: 1,
  version,
  createdAt: new Date(createdAt),
});

describe('totalsQuery', () => {
  test.each([
    { name: 'no project', projects: [], perProject: false, releaseIds: undefined, env: null },
    { name: 'no release has those versions', projects: [1], perProject: false, releaseIds: [] },
    { name: 'an empty environment list', projects: [1], perProject: false, env: [] },
  ])('sends no statement when the filters select nothing: $name', (c) => {
    const spec = specOf({ environments: c.env ?? null });
    expect(totalsQuery(spec, target(c.projects, c.perProject), c.releaseIds)).toBeNull();
  });

  test.each([
    { groupBy: [], projects: [1, 2], perProject: true, expected: ['project'] },
    { groupBy: ['RELEASE'], projects: [1, 2], perProject: true, expected: ['project', 'release'] },
    {
      groupBy: ['PROJECT', 'RELEASE'],
      projects: [1, 2],
      perProject: true,
      expected: ['project', 'release'],
    },
    { groupBy: ['RELEASE'], projects: [1], perProject: true, expected: ['release'] },
    { groupBy: ['ENVIRONMENT'], projects: [1, 2], perProject: false, expected: ['environment'] },
  ] as const)(
    'groupBy $groupBy over $projects (perProject $perProject) groups the statement by $expected',
    (c) => {
      const spec = specOf({ groupBy: c.groupBy as readonly SessionsGroupBy[] });
      expect(totalsQuery(spec, target([...c.projects], c.perProject), [7])).toMatchObject({
        projectIds: c.projects,
        releaseIds: [7],
        groupBy: c.expected,
        granularity: 3600,
        start: spec.start,
        end: spec.end,
      });
    },
  );
});

describe('groupTotals', () => {
  test('without a grouping, every result has one group, zeros when nothing was seen', () => {
    const spec = specOf();
    const groups = groupTotals(spec, [3, 4], rows([row(4, null, null, 5)]));
    expect([...groups.keys()]).toEqual([3, 4]);
    const [zero] = [...(groups.get(3)?.values() ?? [])];
    expect(zero).toMatchObject({ projectId: 3, resultKey: 3, sessions: { sessions: 0 } });
    expect([...(groups.get(4)?.values() ?? [])].map((g) => g.sessions.sessions)).toEqual([5]);
  });

  test('one result for all projects takes every row, and its zero group names no project', () => {
    expect(resultKeysOf(target([1, 2], false))).toEqual([ALL_PROJECTS]);
    const empty = groupTotals(specOf(), [ALL_PROJECTS], rows([]));
    expect([...(empty.get(ALL_PROJECTS)?.values() ?? [])]).toMatchObject([
      { projectId: null, releaseId: null, environment: null, sessions: { sessions: 0 } },
    ]);
    const spec = specOf({ groupBy: ['PROJECT'] });
    const both = groupTotals(
      spec,
      [ALL_PROJECTS],
      rows([row(1, null, null, 2), row(2, null, null, 3)]),
    );
    expect([...(both.get(ALL_PROJECTS)?.values() ?? [])].map((g) => g.projectId)).toEqual([1, 2]);
  });

  test('with a grouping and no rows there are no groups', () => {
    const groups = groupTotals(specOf({ groupBy: ['RELEASE'] }), [ALL_PROJECTS], rows([]));
    expect(groups.get(ALL_PROJECTS)?.size).toBe(0);
  });

  test('durations join the group of their key; a group with durations only has zero counts', () => {
    const spec = specOf({ groupBy: ['RELEASE'] });
    const durations: DurationRow[] = [
      {
        projectId: null,
        releaseId: 1,
        environment: null,
        interval: null,
        durations: [{ value: 10, count: 2 }],
      },
      {
        projectId: null,
        releaseId: 2,
        environment: null,
        interval: null,
        durations: [{ value: 5, count: 1 }],
      },
    ];
    const groups = groupTotals(spec, [ALL_PROJECTS], rows([row(null, 1, null, 4)], durations));
    expect(
      [...(groups.get(ALL_PROJECTS)?.values() ?? [])].map((g) => [
        g.releaseId,
        g.sessions.sessions,
        g.durations,
      ]),
    ).toEqual([
      [1, 4, [{ value: 10, count: 2 }]],
      [2, 0, [{ value: 5, count: 1 }]],
    ]);
  });

  test('a row of a project outside the results is left out', () => {
    const groups = groupTotals(specOf(), [1, 2], rows([row(9, null, null, 5)]));
    expect(
      [...groups.values()].flatMap((g) => [...g.values()].map((x) => x.sessions.sessions)),
    ).toEqual([0, 0]);
  });
});

describe('releaseIdsOf', () => {
  test('each release once, no null', () => {
    expect(
      releaseIdsOf(
        rows([row(1, 5, 'a', 1), row(1, 5, 'b', 1), row(1, null, 'a', 1), row(1, 6, 'a', 1)]),
      ),
    ).toEqual([5, 6]);
  });
});

describe('pageGroups', () => {
  const totals = rows([
    row(null, 1, null, 1),
    row(null, 2, null, 5),
    row(null, 3, null, 3),
    row(null, 4, null, 0),
  ]);
  const releases = new Map([
    [1, release(1, 'a', '2026-05-01T00:00:00Z')],
    [2, release(2, 'b', '2026-05-03T00:00:00Z')],
    [3, release(3, 'c', '2026-05-02T00:00:00Z')],
    [4, release(4, 'd', '2026-05-04T00:00:00Z')],
  ]);
  test.each([
    { args: {}, page: [2, 3, 1, 4] },
    { args: { limit: 2 }, page: [2, 3] },
    { args: { limit: 2, offset: 2 }, page: [1, 4] },
    { args: { offset: 9 }, page: [] },
    { args: { orderBy: { field: 'SESSIONS', direction: 'ASC' as const } }, page: [4, 1, 3, 2] },
    { args: { orderBy: { field: 'RELEASE_DATE' } }, page: [4, 2, 3, 1] },
  ])(
    '$args.limit, $args.offset, $args.orderBy.field $args.orderBy.direction → releases $page, 4 groups of 9 sessions in all',
    ({ args, page }) => {
      const spec = specOf({ groupBy: ['RELEASE'], ...args });
      const pages = pageGroups(spec, groupTotals(spec, [ALL_PROJECTS], totals), releases);
      expect(pages.get(ALL_PROJECTS)?.groups.map((g) => g.releaseId)).toEqual(page);
      expect(pages.get(ALL_PROJECTS)).toMatchObject({ totalGroups: 4, allSessions: 9 });
    },
  );

  test('each result pages its own groups', () => {
    const spec = specOf({ groupBy: ['RELEASE'], limit: 1 });
    const split = rows([row(1, 1, null, 1), row(1, 2, null, 2), row(2, 3, null, 7)]);
    const pages = pageGroups(spec, groupTotals(spec, [1, 2], split), releases);
    expect(pages.get(1)).toMatchObject({ totalGroups: 2, allSessions: 3 });
    expect(pages.get(1)?.groups.map((g) => g.releaseId)).toEqual([2]);
    expect(pages.get(2)?.groups.map((g) => g.releaseId)).toEqual([3]);
  });
});

describe('seriesQuery', () => {
  const totals = rows([row(1, 10, 'prod', 3), row(2, 20, '', 2), row(1, 30, 'dev', 1)]);
  test.each([
    {
      name: 'narrowed to the picked groups',
      series: ['sessions'],
      expected: { projectIds: [1, 2], releaseIds: [10, 20], environments: ['prod', ''] },
    },
    {
      name: 'every group when adoption per interval is selected',
      series: ['sessionsAdoption'],
      expected: { projectIds: [1, 2], releaseIds: undefined, environments: undefined },
    },
  ])('$name', ({ series, expected }) => {
    const spec = specOf({ groupBy: ['PROJECT', 'RELEASE', 'ENVIRONMENT'], limit: 2, series });
    const query = totalsQuery(spec, target([1, 2], false), undefined);
    if (!query) throw new Error('a query was expected');
    const picked =
      pageGroups(spec, groupTotals(spec, [ALL_PROJECTS], totals), new Map()).get(ALL_PROJECTS)
        ?.groups ?? [];
    expect(seriesQuery(spec, query, picked)).toMatchObject({
      ...expected,
      groupBy: ['project', 'release', 'environment'],
      intervalSeconds: 3600,
    });
  });
});

describe('intervalSessions', () => {
  test('sums each result’s sessions per interval; rows outside the intervals are left out', () => {
    const series = rows([
      row(1, 10, null, 3, 0),
      row(1, 11, null, 1, 0),
      row(1, 10, null, 2, 1),
      row(2, 12, null, 5, 1),
      row(2, 12, null, 9, 2),
    ]);
    expect(intervalSessions([1, 2], series, 2)).toEqual(
      new Map([
        [1, [4, 2]],
        [2, [0, 5]],
      ]),
    );
    expect(intervalSessions([ALL_PROJECTS], series, 2)).toEqual(new Map([[ALL_PROJECTS, [4, 7]]]));
  });
});

describe('shapeSessionsResults', () => {
  const releases = new Map([[1, release(1, 'app@1', '2026-05-01T00:00:00Z')]]);

  test('groups name their version; series points without rows are zeros; adoption per interval', () => {
    const spec = specOf({ groupBy: ['RELEASE'], series: ['sessions', 'sessionsAdoption'] });
    const totals = rows([row(null, 1, null, 4), row(null, 2, null, 4)]);
    const pages = pageGroups(spec, groupTotals(spec, [ALL_PROJECTS], totals), releases);
    const series = rows([
      row(null, 1, null, 4, 1),
      row(null, 2, null, 1, 0),
      row(null, 2, null, 3, 1),
    ]);
    const result = shapeSessionsResults(spec, pages, series, releases).get(ALL_PROJECTS);
    expect(result?.intervals).toHaveLength(2);
    expect(
      result?.groups.map((g) => ({
        release: g.by.release,
        projectId: g.by.projectId,
        total: g.totals.sessions.sessions,
        all: g.totals.allSessions,
        points: g.series.map((p) => [p.sessions.sessions, p.allSessions]),
      })),
    ).toEqual([
      // Ties go to the newest release (higher id); release 2 has no row of its own, so no version.
      {
        release: null,
        projectId: null,
        total: 4,
        all: 8,
        points: [
          [1, 1],
          [3, 7],
        ],
      },
      {
        release: 'app@1',
        projectId: null,
        total: 4,
        all: 8,
        points: [
          [0, 1],
          [4, 7],
        ],
      },
    ]);
    expect(result).toMatchObject({ totalGroups: 2, hasMoreGroups: false, intervalSeconds: 3600 });
  });

  test('SESSION_STATUS makes five groups of each, in the fixed order, and counts them in totalGroups', () => {
    const spec = specOf({ groupBy: ['RELEASE', 'SESSION_STATUS'], limit: 1 });
    const totals = rows([row(null, 1, null, 4), row(null, 2, null, 1)]);
    const pages = pageGroups(spec, groupTotals(spec, [ALL_PROJECTS], totals), releases);
    const result = shapeSessionsResults(spec, pages, rows([]), releases).get(ALL_PROJECTS);
    expect(result?.groups.map((g) => [g.by.release, g.by.sessionStatus, g.totals.status])).toEqual([
      ['app@1', 'HEALTHY', 'HEALTHY'],
      ['app@1', 'ERRORED', 'ERRORED'],
      ['app@1', 'UNHANDLED', 'UNHANDLED'],
      ['app@1', 'CRASHED', 'CRASHED'],
      ['app@1', 'ABNORMAL', 'ABNORMAL'],
    ]);
    expect(result?.groups.every((g) => g.series.length === 0)).toBe(true);
    expect(result).toMatchObject({ totalGroups: 10, hasMoreGroups: true });
  });

  test('a key the query does not group by is null, even where the row has it', () => {
    const spec = specOf({ groupBy: ['RELEASE'] });
    const pages = pageGroups(
      spec,
      groupTotals(spec, [1, 2], rows([row(2, 1, 'prod', 3)])),
      releases,
    );
    const results = shapeSessionsResults(spec, pages, rows([]), releases);
    expect(results.get(1)?.groups).toEqual([]);
    expect(results.get(2)?.groups.map((g) => g.by)).toEqual([
      { projectId: null, release: 'app@1', environment: null, sessionStatus: null },
    ]);
  });
});
