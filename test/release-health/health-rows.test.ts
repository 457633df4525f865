import { describe, expect, test } from 'vitest';
import { ZERO_SESSION_COUNTS, ZERO_USER_COUNTS } from '../../src/health/crash-free.ts';
import type { DurationRow, MetricsRow } from '../../src/metrics/session-metrics.queries.ts';
import {
  durationsById,
  healthQuery,
  NO_COUNTS,
  seriesById,
  totalsById,
} from '../../src/modules/release-health/health-rows.ts';

// A health batch from its ids to its statement, and from the statement's rows back to one answer
// per id, in the ids' order, zeros where no row came back.

const range = {
  start: new Date('2026-05-10T00:00:00Z'),
  end: new Date('2026-05-11T00:00:00Z'),
  period: null,
};

const metrics = (
  key: { releaseId?: number; projectId?: number },
  sessions: number,
  interval: number | null = null,
): MetricsRow => ({
  projectId: key.projectId ?? null,
  releaseId: key.releaseId ?? null,
  environment: null,
  interval,
  sessions: { ...ZERO_SESSION_COUNTS, sessions },
  users: { ...ZERO_USER_COUNTS, users: sessions },
});

const durations = (
  key: { releaseId?: number; projectId?: number },
  value: number,
  interval: number | null = null,
): DurationRow => ({
  projectId: key.projectId ?? null,
  releaseId: key.releaseId ?? null,
  environment: null,
  interval,
  durations: [{ value, count: 1 }],
});

describe('healthQuery', () => {
  test.each([
    {
      name: 'releases within one project',
      key: 'release' as const,
      projectId: 7,
      expected: { releaseIds: [1, 2], projectIds: [7], groupBy: ['release'] },
    },
    {
      name: 'releases over every project',
      key: 'release' as const,
      projectId: null,
      expected: { releaseIds: [1, 2], projectIds: undefined, groupBy: ['release'] },
    },
    {
      name: 'projects',
      key: 'project' as const,
      projectId: 7,
      expected: { releaseIds: undefined, projectIds: [1, 2], groupBy: ['project'] },
    },
  ])('$name', ({ key, projectId, expected }) => {
    const filter = { projectId, environments: ['prod', ''], range };
    expect(healthQuery(key, [1, 2], filter, 3600, 600)).toEqual({
      ...expected,
      environments: ['prod', ''],
      start: range.start,
      end: range.end,
      granularity: 3600,
      intervalSeconds: 600,
    });
  });

  test('no environments filter reads every environment', () => {
    const filter = { projectId: null, environments: null, range };
    expect(healthQuery('release', [1], filter, 60).environments).toBeUndefined();
  });
});

describe('totalsById and durationsById', () => {
  test('answers follow the ids, zeros for an id without rows', () => {
    const rows = [metrics({ releaseId: 3 }, 5), metrics({ releaseId: 1 }, 2)];
    expect(totalsById('release', [1, 2, 3], rows).map((c) => c.sessions.sessions)).toEqual([
      2, 0, 5,
    ]);
    expect(totalsById('release', [2], rows)).toEqual([NO_COUNTS]);
  });

  test('a project batch reads the project id, not the release id', () => {
    const rows = [metrics({ projectId: 4, releaseId: 9 }, 6)];
    expect(totalsById('project', [4, 9], rows).map((c) => c.sessions.sessions)).toEqual([6, 0]);
    const d = [durations({ projectId: 4 }, 12)];
    expect(durationsById('project', [9, 4], d)).toEqual([[], [{ value: 12, count: 1 }]]);
  });
});

describe('seriesById', () => {
  test('one point per interval, zeros where no row fell; durations join their interval', () => {
    const series = seriesById(
      'release',
      [1, 2],
      [
        metrics({ releaseId: 1 }, 3, 0),
        metrics({ releaseId: 1 }, 4, 2),
        metrics({ releaseId: 2 }, 1, 1),
      ],
      [durations({ releaseId: 1 }, 30, 2)],
      3,
    );
    expect(series.map((points) => points.map((p) => p.sessions.sessions))).toEqual([
      [3, 0, 4],
      [0, 1, 0],
    ]);
    expect(series[0]?.map((p) => p.durations)).toEqual([[], [], [{ value: 30, count: 1 }]]);
  });

  test('rows of other ids or outside the intervals are left out', () => {
    const series = seriesById(
      'release',
      [1],
      [
        metrics({ releaseId: 5 }, 3, 0),
        metrics({ releaseId: 1 }, 4, 3),
        metrics({ releaseId: 1 }, 2, null),
      ],
      [],
      3,
    );
    expect(series).toEqual([[0, 0, 0].map(() => ({ ...NO_COUNTS, durations: [] }))]);
  });
});
