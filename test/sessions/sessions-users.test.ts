import { createHash } from 'node:crypto';
import { describe, expect } from 'vitest';
import { FACT_ENTRY_BYTES, FACT_FLAGS } from '../../src/metrics/user-facts.ts';
import { SKETCH_RELATIVE_STANDARD_ERROR } from '../../src/metrics/user-set.ts';
import { sendSessions } from '../support/envelopes.ts';
import { test } from '../support/fixtures.ts';
import type { TestProject, TestServer } from '../support/server.ts';
import { at, floorTo, HOUR, MINUTE, type SessionsResult, sessions } from './sessions-support.ts';

// A query that selects a series and user totals reads each user set once: the totals' users are
// the union of the series intervals' sets (src/modules/sessions/sessions-groups.ts,
// usersFromSeries). They must be the numbers a query without a series reads, exact or estimated
// alike: a union, never a sum of the intervals' counts.

const USER_TOTALS = 'users crashFreeUsers usersCrashed usersExact usersRelativeStandardError';

/**
 * Adds users `from` … `to − 1` (the first `crashed` of them crashed) to one hour bucket of every
 * release with sessions there, as ingest would (a delta; release 0's sets come from the fold).
 */
async function addUsers(
  server: TestServer,
  project: TestProject,
  hour: Date,
  from: number,
  to: number,
  crashed: number,
) {
  const bytes = Buffer.alloc((to - from) * FACT_ENTRY_BYTES);
  for (let i = from; i < to; i++) {
    const at = (i - from) * FACT_ENTRY_BYTES;
    bytes.writeBigInt64BE(createHash('sha256').update(`user-${i}`).digest().readBigInt64BE(0), at);
    bytes[at + 8] = i < from + crashed ? FACT_FLAGS.erroredAll | FACT_FLAGS.crashed : 0;
  }
  await server.db.prisma.$executeRawUnsafe(
    `INSERT INTO session_user_delta (project_id, release_id, environment_id, granularity, bucket, entries)
     SELECT c.project_id, c.release_id, c.environment_id, c.granularity, c.bucket, decode($3, 'hex')
     FROM session_counter c
     WHERE c.project_id = $1 AND c.release_id <> 0 AND c.granularity = 3600 AND c.bucket = $2`,
    project.id,
    hour,
    bytes.toString('hex'),
  );
}

/** Two hours with sessions of releases a and b; `users` says who each hour saw. */
async function twoHours(
  server: TestServer,
  project: TestProject,
  users: { first: [number, number]; second: [number, number]; crashed: number },
) {
  const base = floorTo(Date.now() - 3 * HOUR, HOUR);
  const started = (hour: number) => at(base, hour * HOUR + MINUTE);
  await sendSessions(server, project, [
    { release: 'a', started: started(0), did: null },
    { release: 'b', started: started(1), did: null },
  ]);
  await addUsers(server, project, base, ...users.first, users.crashed);
  await addUsers(server, project, at(base, HOUR), ...users.second, users.crashed);
  return {
    projects: [project.id],
    start: base.toISOString(),
    end: at(base, 2 * HOUR).toISOString(),
  };
}

const totalsOf = (r: SessionsResult) => r.groups.map((g) => ({ by: g.by, totals: g.totals }));

describe('user totals read from the series', () => {
  test.for([
    {
      name: 'two exact hours whose union stays exact',
      users: { first: [0, 300], second: [200, 500], crashed: 20 },
      union: 500,
      exact: true,
    },
    {
      name: 'two exact hours whose union crosses the threshold',
      users: { first: [0, 3000], second: [1500, 4500], crashed: 20 },
      union: 4500,
      exact: false,
    },
  ] as const)(
    '$name: the same totals as without a series',
    async ({ users, union, exact }, { server, project }) => {
      const variables = await twoHours(server, project, {
        first: [...users.first],
        second: [...users.second],
        crashed: users.crashed,
      });
      for (const grouping of ['', ', groupBy: [RELEASE]', ', groupBy: [SESSION_STATUS]']) {
        const alone = await sessions(
          server,
          grouping,
          `by { release sessionStatus } totals { ${grouping.includes('STATUS') ? 'users' : USER_TOTALS} }`,
          variables,
        );
        const withSeries = await sessions(
          server,
          grouping,
          `by { release sessionStatus } totals { ${grouping.includes('STATUS') ? 'users' : USER_TOTALS} } series { users }`,
          variables,
        );
        expect(totalsOf(withSeries), grouping).toEqual(totalsOf(alone));
      }
      const [total] = (
        await sessions(server, '', `totals { ${USER_TOTALS} } series { users }`, variables)
      ).groups;
      if (exact) {
        expect(total?.totals).toMatchObject({ users: union, usersCrashed: 40, usersExact: true });
      } else {
        // Not the sum of the hours' 3 000 + 3 000: their union, estimated and flagged.
        expect(total?.totals.usersExact).toBe(false);
        expect(total?.totals.usersRelativeStandardError).toBe(SKETCH_RELATIVE_STANDARD_ERROR);
        const error = Math.abs((total?.totals.users as number) - union) / union;
        expect(error).toBeLessThan(4 * SKETCH_RELATIVE_STANDARD_ERROR);
      }
    },
  );

  test('ordered by users, the totals are read before paging and give the same numbers', async ({
    server,
    project,
  }) => {
    const variables = await twoHours(server, project, {
      first: [0, 10],
      second: [5, 30],
      crashed: 1,
    });
    const ordered = await sessions(
      server,
      ', groupBy: [RELEASE], orderBy: { field: USERS, direction: DESC }, limit: 1',
      `by { release } totals { ${USER_TOTALS} } series { users }`,
      variables,
    );
    expect(totalsOf(ordered)).toEqual([
      {
        by: { release: 'b' },
        totals: {
          users: 25,
          crashFreeUsers: 96,
          usersCrashed: 1,
          usersExact: true,
          usersRelativeStandardError: null,
        },
      },
    ]);
    expect(ordered.hasMoreGroups).toBe(true);
  });

  test('a range without sessions gives zero users, exact, with or without a series', async ({
    server,
    project,
  }) => {
    const base = floorTo(Date.now() - 30 * HOUR, HOUR);
    const variables = {
      projects: [project.id],
      start: base.toISOString(),
      end: at(base, 2 * HOUR).toISOString(),
    };
    for (const series of ['', 'series { users }']) {
      const result = await sessions(server, '', `totals { ${USER_TOTALS} } ${series}`, variables);
      expect(totalsOf(result)).toEqual([
        {
          totals: {
            users: 0,
            crashFreeUsers: null,
            usersCrashed: 0,
            usersExact: true,
            usersRelativeStandardError: null,
          },
        },
      ]);
    }
  });
});
