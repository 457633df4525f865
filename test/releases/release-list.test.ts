import { describe, expect, test } from 'vitest';
import { ZERO_SESSION_COUNTS, ZERO_USER_COUNTS } from '../../src/health/crash-free.ts';
import type { MetricsRow } from '../../src/metrics/session-metrics.queries.ts';
import { DEFAULT_HEALTH_TARGET } from '../../src/modules/health-targets/health-status.ts';
import type { ReleaseRow } from '../../src/modules/releases/release.queries.ts';
import {
  orderReleasePage,
  pageableSort,
  type ReleaseSort,
  rankingRange,
  ranksByUsers,
  releasesInWindow,
  sortReleases,
} from '../../src/modules/releases/release-list.ts';

// The release list's orders (spec §4.4), from rows as the loader reads them to the order shown.

const release = (id: number, version: string, createdAt: string): ReleaseRow => ({
  id,
  organizationId: 1,
  version,
  createdAt: new Date(createdAt),
});

const ranking = (releaseId: number, sessions: number, crashed = 0, users = 0): MetricsRow => ({
  projectId: null,
  releaseId,
  environment: null,
  interval: null,
  sessions: { ...ZERO_SESSION_COUNTS, sessions, crashed },
  users: { ...ZERO_USER_COUNTS, users },
});

// Created in an order that differs from their versions' order.
const releases = () => [
  release(1, 'app@1.0.0', '2026-05-03T00:00:00Z'),
  release(2, 'app@2.0.0', '2026-05-01T00:00:00Z'),
  release(3, 'app@1.5.0', '2026-05-02T00:00:00Z'),
  release(4, 'other', '2026-05-04T00:00:00Z'),
];

describe('sortReleases', () => {
  test.each<{ sort: ReleaseSort; rankings: MetricsRow[]; expected: number[] }>([
    { sort: 'DATE', rankings: [], expected: [4, 1, 3, 2] },
    // Most sessions first; releases without sessions last, newest version first among them.
    {
      sort: 'SESSIONS',
      rankings: [ranking(1, 5), ranking(3, 9), ranking(2, 0)],
      expected: [3, 1, 2, 4],
    },
    // Ties go to the newest version.
    { sort: 'SESSIONS_24H', rankings: [ranking(1, 5), ranking(3, 5)], expected: [3, 1, 2, 4] },
    { sort: 'USERS', rankings: [ranking(1, 5, 0, 1), ranking(2, 5, 0, 3)], expected: [2, 1, 3, 4] },
    // Sentry's crash rate order: the least crash-free first.
    {
      sort: 'CRASH_FREE_SESSIONS',
      rankings: [ranking(1, 10, 1), ranking(2, 10, 5), ranking(3, 10, 0)],
      expected: [2, 1, 3, 4],
    },
  ])('$sort', ({ sort, rankings, expected }) => {
    expect(sortReleases(releases(), rankings, { sort }).map((r) => r.id)).toEqual(expected);
  });

  test('HEALTH_STATUS: CRITICAL, HEALTHY, NOT_ENOUGH_DATA, then releases without sessions', () => {
    // 90 % crash-free sessions is below the default critical line; 5 sessions are too few.
    const rankings = [ranking(1, 100, 0, 100), ranking(2, 100, 10, 100), ranking(3, 5, 0, 5)];
    const sorted = sortReleases(releases(), rankings, {
      sort: 'HEALTH_STATUS',
      healthTarget: DEFAULT_HEALTH_TARGET,
    });
    expect(sorted.map((r) => r.id)).toEqual([2, 1, 3, 4]);
  });
});

describe('rankingRange and ranksByUsers', () => {
  const now = new Date('2026-05-10T12:00:00Z');
  const range = { start: new Date('2026-04-10T12:00:00Z'), end: now, period: null };
  test.each<{ sort: ReleaseSort; last24h: boolean; users: boolean }>([
    { sort: 'SESSIONS', last24h: false, users: false },
    { sort: 'USERS', last24h: false, users: true },
    { sort: 'CRASH_FREE_USERS', last24h: false, users: true },
    { sort: 'SESSIONS_24H', last24h: true, users: false },
    { sort: 'USERS_24H', last24h: true, users: true },
    { sort: 'ADOPTION', last24h: true, users: false },
    { sort: 'HEALTH_STATUS', last24h: false, users: true },
  ])('$sort: last 24 h $last24h, users $users', ({ sort, last24h, users }) => {
    const ranked = rankingRange({ sort, range, now });
    expect(ranked.end.getTime() - ranked.start.getTime()).toBe(
      last24h ? 86_400_000 : range.end.getTime() - range.start.getTime(),
    );
    expect(ranksByUsers(sort)).toBe(users);
  });
});

describe('paging in the database', () => {
  test.each<[ReleaseSort, 'DATE' | 'SESSIONS' | null]>([
    ['DATE', 'DATE'],
    ['SESSIONS', 'SESSIONS'],
    ['SESSIONS_24H', 'SESSIONS'],
    ['ADOPTION', 'SESSIONS'],
    // Users are sketches merged in Vigil; rates and status rank in Vigil too.
    ['USERS', null],
    ['USERS_24H', null],
    ['CRASH_FREE_SESSIONS', null],
    ['CRASH_FREE_USERS', null],
    ['HEALTH_STATUS', null],
  ])('%s is ranked by %s', (sort, expected) => {
    expect(pageableSort(sort)).toBe(expected);
  });

  test('orders a tie group by version, newest first, after the groups before it', () => {
    const [r1, r2, r3, r4] = releases() as [ReleaseRow, ReleaseRow, ReleaseRow, ReleaseRow];
    const page = orderReleasePage(
      [
        { ...r4, groupStart: 5 },
        { ...r1, groupStart: 3 },
        { ...r2, groupStart: 3 },
        { ...r3, groupStart: 3 },
      ],
      9,
    );
    expect(page.start).toBe(3);
    expect(page.totalCount).toBe(9);
    expect(page.releases.map((r) => r.id)).toEqual([2, 3, 1, 4]);
    expect(orderReleasePage([], 4)).toEqual({ start: 0, releases: [], totalCount: 4 });
  });

  // A page read holds list positions 3..6 of 9.
  const page = { start: 3, releases: releases(), totalCount: 9 };
  test.each<{ offset: number; limit: number; expected: number[] | null }>([
    { offset: 3, limit: 4, expected: [1, 2, 3, 4] },
    { offset: 4, limit: 2, expected: [2, 3] },
    // Asks for positions the read does not hold: the caller reads the whole list.
    { offset: 2, limit: 2, expected: null },
    { offset: 5, limit: 3, expected: null },
    // Past the end of the list: nothing to show, whatever was read.
    { offset: 9, limit: 3, expected: [] },
    { offset: 20, limit: 1, expected: [] },
  ])('window [$offset, +$limit)', ({ offset, limit, expected }) => {
    expect(releasesInWindow(page, offset, limit)?.map((r) => r.id) ?? null).toEqual(expected);
  });

  test('a window that reaches past the list needs only the rows up to its end', () => {
    const end = { start: 7, releases: releases().slice(0, 2), totalCount: 9 };
    expect(releasesInWindow(end, 7, 26)?.map((r) => r.id)).toEqual([1, 2]);
  });
});
