import { resolveArrayConnection } from '@pothos/plugin-relay';
import { describe, expect } from 'vitest';
import { HOUR } from '../../src/metrics/metric-store.ts';
import {
  selectReleasePageByProjectId,
  selectReleaseRankings,
  selectReleasesByProjectId,
} from '../../src/modules/releases/release.queries.ts';
import { orderReleasePage, sortReleases } from '../../src/modules/releases/release-list.ts';
import { sendSessions } from '../support/envelopes.ts';
import { test } from '../support/fixtures.ts';
import { expectData } from '../support/gql.ts';
import type { TestProject, TestServer } from '../support/server.ts';

// The orders the database ranks and pages (DATE, SESSIONS, SESSIONS_24H, ADOPTION) must show
// exactly the whole list's order, cursors and page info, for every window: compared against the
// list read whole (a `last` page without `before` needs the list's size, so it takes that path)
// and cut by Pothos' own array paging.

const PAGE = `query ($org: String!, $slug: String!, $sort: ReleaseSort, $first: Int, $last: Int,
  $after: String, $before: String, $query: String, $environments: [String!]) {
  project(organizationSlug: $org, slug: $slug) {
    releases(sort: $sort, first: $first, last: $last, after: $after, before: $before,
             query: $query, environments: $environments, period: "24h") {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { version } }
    }
  }
}`;

interface Connection {
  totalCount: number;
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  edges: Array<{ cursor: string; node: { version: string } }>;
}

async function releases(
  server: TestServer,
  project: TestProject,
  variables: Record<string, unknown>,
): Promise<Connection> {
  const data = await expectData<{ project: { releases: Connection } }>(server, PAGE, {
    org: project.organizationSlug,
    slug: project.slug,
    ...variables,
  });
  return data.project.releases;
}

const sessions = (release: string, n: number, started = new Date(), environment = 'production') =>
  Array.from({ length: n }, () => ({ release, started, environment }));

/** Ties in sessions and in creation time, versions whose text order is not their order. */
async function seed(server: TestServer, project: TestProject) {
  // Three days ago: releases without sessions in the last 24 hours (ranked last, by version).
  const old = new Date(Date.now() - 3 * 24 * 3600_000);
  await sendSessions(server, project, [
    ...sessions('app@0.1.0', 1, old),
    ...sessions('app@0.2.0', 1, old),
  ]);
  await sendSessions(server, project, [
    ...sessions('app@1.0.0', 3),
    ...sessions('app@1.1.0', 3),
    ...sessions('app@1.10.0', 3),
    ...sessions('app@1.2.0', 1),
    ...sessions('app@0.9.0', 1, new Date(), 'staging'),
    ...sessions('app@2.0.0', 2),
  ]);
  await sendSessions(server, project, sessions('app@3.0.0', 2, new Date(), 'staging'));
}

const versions = (c: Connection) => c.edges.map((e) => e.node.version);

/** What the whole list, paged by Pothos' array paging, shows for these arguments. */
function expected(whole: Connection, args: Record<string, unknown>) {
  const c = resolveArrayConnection(
    {
      args: { ...args, first: (args.first as number | undefined) ?? (args.last ? undefined : 25) },
    },
    versions(whole),
  );
  return {
    totalCount: c.totalCount,
    pageInfo: c.pageInfo,
    edges: c.edges.map((e) => e && { cursor: e.cursor, node: { version: e.node } }),
  };
}

describe('release list paged in the database', () => {
  test('ranks by sessions with ties by version, releases without sessions last', async ({
    server,
    project,
  }) => {
    await seed(server, project);
    const page = await releases(server, project, { sort: 'SESSIONS', first: 25 });
    expect(versions(page)).toEqual([
      'app@1.10.0',
      'app@1.1.0',
      'app@1.0.0',
      'app@3.0.0',
      'app@2.0.0',
      'app@1.2.0',
      'app@0.9.0',
      'app@0.2.0',
      'app@0.1.0',
    ]);
    expect(page.totalCount).toBe(9);
    const date = await releases(server, project, { sort: 'DATE', first: 25 });
    expect(versions(date)).toEqual([
      'app@3.0.0',
      'app@2.0.0',
      'app@1.10.0',
      'app@1.2.0',
      'app@1.1.0',
      'app@1.0.0',
      'app@0.9.0',
      'app@0.2.0',
      'app@0.1.0',
    ]);
  });

  test('every window of every order it ranks equals the whole list’s', async ({
    server,
    project,
  }) => {
    await seed(server, project);
    const filters = [{}, { query: 'APP@1.' }, { environments: ['staging'] }];
    for (const sort of ['DATE', 'SESSIONS', 'ADOPTION']) {
      for (const filter of filters) {
        const whole = await releases(server, project, { sort, last: 100, ...filter });
        const n = whole.totalCount;
        const cursors = [undefined, ...whole.edges.map((e) => e.cursor)];
        for (const size of [1, 2, 4]) {
          for (const cursor of cursors) {
            for (const args of [
              { first: size, after: cursor },
              { last: size, before: cursor, first: cursor ? undefined : n },
            ]) {
              const got = await releases(server, project, { sort, ...filter, ...args });
              expect(got, JSON.stringify({ sort, filter, args })).toEqual(expected(whole, args));
            }
          }
        }
      }
    }
  }, 120_000);

  test('reads only the page: one statement, and not the whole release list', async ({
    server,
    project,
  }) => {
    await seed(server, project);
    for (const sort of ['DATE', 'SESSIONS', 'ADOPTION']) {
      const { statements } = await server.countStatements(() =>
        releases(server, project, { sort, first: 2 }),
      );
      const releaseReads = statements.filter((s) => /selectRelease(s|Page|Rankings)/.test(s));
      expect(releaseReads.map((s) => s.match(/\/\* (\w+) \*\//)?.[1])).toEqual([
        'selectReleasePageByProjectId',
      ]);
    }
  });

  test('a cursor past the end gives an empty page with the list’s size', async ({
    server,
    project,
  }) => {
    await seed(server, project);
    const whole = await releases(server, project, { sort: 'SESSIONS', last: 100 });
    const farAfter = Buffer.from('OffsetConnection:50').toString('base64');
    for (const args of [
      { first: 3, after: farAfter },
      { last: 3, before: farAfter },
    ]) {
      const got = await releases(server, project, { sort: 'SESSIONS', ...args });
      expect(got).toEqual(expected(whole, args));
    }
    expect(
      (await releases(server, project, { sort: 'SESSIONS', first: 3, after: farAfter })).edges,
    ).toEqual([]);
  });

  test('ranks by the exact sessions of the range whatever hour it ends at', async ({
    server,
    project,
  }) => {
    // Four releases over the last 50 hours, each hour a different count per release, so the
    // order moves with the range: the ranking's day rows minus hours outside the range
    // (counterSpans) must give each range's own hour sums, early and late in a UTC day.
    const now = Date.now();
    const all = Array.from({ length: 50 }, (_, h) =>
      [0, 1, 2, 3].flatMap((i) =>
        sessions(`app@1.${i}.0`, (h * (i + 1)) % 5, new Date(now - h * HOUR * 1000 - 60_000)),
      ),
    ).flat();
    for (let i = 0; i < all.length; i += 100) {
      await sendSessions(server, project, all.slice(i, i + 100));
    }
    const releases = await selectReleasesByProjectId(server.db, project.id, null);
    for (let back = 0; back < 26; back += 1) {
      const end = new Date(now - back * (HOUR + 7 * 60) * 1000);
      const range = { start: new Date(end.getTime() - 24 * HOUR * 1000), end, period: null };
      const page = await selectReleasePageByProjectId(server.db, project.id, {
        search: null,
        sort: 'SESSIONS',
        environments: null,
        range,
        now: end,
        offset: 0,
        limit: 10,
      });
      // The whole list ranked by the range's own hour rows (selectSessionMetrics).
      const rankings = await selectReleaseRankings(server.db, project.id, {
        environments: null,
        range,
        withUsers: false,
      });
      const whole = sortReleases([...releases], rankings, { sort: 'SESSIONS' });
      const ordered = orderReleasePage(page.rows, page.total).releases;
      expect(
        ordered.map((r) => r.version),
        end.toISOString(),
      ).toEqual(whole.map((r) => r.version));
      const sums = new Map(rankings.map((m) => [m.releaseId, m.sessions.sessions || null]));
      for (const row of page.rows) {
        const greater = releases.filter((r) => {
          const mine = sums.get(row.id) ?? null;
          const theirs = sums.get(r.id) ?? null;
          return theirs !== null && (mine === null || theirs > mine);
        }).length;
        expect(row.groupStart, `${row.version} ${end.toISOString()}`).toBe(greater);
      }
    }
  });

  test('a range within one bucket ranks every release last, by version; start after end is refused', async ({
    server,
    project,
  }) => {
    await seed(server, project);
    // Ten seconds inside one minute: no bucket starts in it, so the ranking sums no span at all.
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const inside = `query ($org: String!, $slug: String!, $start: DateTime!, $end: DateTime!) {
      project(organizationSlug: $org, slug: $slug) {
        releases(sort: SESSIONS, first: 3, start: $start, end: $end) {
          totalCount edges { node { version } } } } }`;
    const vars = (start: number, end: number) => ({
      org: project.organizationSlug,
      slug: project.slug,
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
    });
    const page = await expectData<{ project: { releases: Connection } }>(
      server,
      inside,
      vars(minute + 10_000, minute + 20_000),
    );
    expect(page.project.releases.totalCount).toBe(9);
    expect(versions(page.project.releases)).toEqual(['app@3.0.0', 'app@2.0.0', 'app@1.10.0']);
    const refused = await server.gql(inside, vars(minute + 20_000, minute + 10_000));
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'start',
    });
  });
});
