import { createHash } from 'node:crypto';
import { describe, expect } from 'vitest';
import { FACT_ENTRY_BYTES, FACT_FLAGS } from '../../src/metrics/user-facts.ts';
import { EXACT_USERS_LIMIT, SKETCH_RELATIVE_STANDARD_ERROR } from '../../src/metrics/user-set.ts';
import { sendSessions } from '../support/envelopes.ts';
import { test } from '../support/fixtures.ts';
import type { TestProject, TestServer } from '../support/server.ts';

// The API says whether each user number is exact: small data (every SDK test, every worked
// example) is exact and flagged so; a release past the threshold gets estimates, flagged, with
// their relative standard error, while its session counts stay exact.

const QUERY = /* GraphQL */ `
  query ($org: String!, $slug: String!) {
    project(organizationSlug: $org, slug: $slug) {
      release(version: "app@1.0.0") {
        health(period: "24h") {
          sessions users crashFreeUsers usersExact usersRelativeStandardError
          users24h users24hExact users24hRelativeStandardError
          stats(interval: "1h") { users usersExact usersRelativeStandardError }
        }
      }
    }
    organization(slug: $org) {
      sessions(period: "24h", groupBy: [RELEASE]) {
        groups {
          totals { users crashFreeUsers usersExact usersRelativeStandardError }
          series { usersExact usersRelativeStandardError }
        }
      }
    }
  }`;

interface Numbers {
  users: number;
  crashFreeUsers: number | null;
  usersExact: boolean;
  usersRelativeStandardError: number | null;
}
interface Answer {
  project: {
    release: {
      health: Numbers & {
        sessions: number;
        users24h: number;
        users24hExact: boolean;
        users24hRelativeStandardError: number | null;
        stats: Array<Omit<Numbers, 'crashFreeUsers'>>;
      };
    };
  };
  organization: {
    sessions: {
      groups: Array<{
        totals: Numbers;
        series: { usersExact: boolean[]; usersRelativeStandardError: Array<number | null> };
      }>;
    };
  };
}

async function read(server: TestServer, project: TestProject) {
  const result = await server.gql<Answer>(QUERY, {
    org: project.organizationSlug,
    slug: project.slug,
  });
  expect(result.errors).toBeUndefined();
  return result.data as Answer;
}

/** Adds `n` users to the release's current hour as ingest would (a delta), `crashed` of them crashed. */
async function addUsers(server: TestServer, project: TestProject, n: number, crashed: number) {
  const bytes = Buffer.alloc(n * FACT_ENTRY_BYTES);
  for (let i = 0; i < n; i++) {
    const hash = createHash('sha256').update(`bulk-${i}`).digest().readBigInt64BE(0);
    bytes.writeBigInt64BE(hash, i * FACT_ENTRY_BYTES);
    bytes[i * FACT_ENTRY_BYTES + 8] = i < crashed ? FACT_FLAGS.erroredAll | FACT_FLAGS.crashed : 0;
  }
  await server.db.prisma.$executeRawUnsafe(
    `INSERT INTO session_user_delta (project_id, release_id, environment_id, granularity, bucket, entries)
     SELECT c.project_id, c.release_id, c.environment_id, c.granularity, c.bucket, decode($2, 'hex')
     FROM session_counter c WHERE c.project_id = $1 AND c.release_id <> 0`,
    project.id,
    bytes.toString('hex'),
  );
}

describe('usersExact and usersRelativeStandardError', () => {
  test('small data is exact and says so everywhere', async ({ server, project }) => {
    await sendSessions(server, project, [
      { did: 'u1', status: 'exited' },
      { did: 'u2', status: 'crashed' },
    ]);
    const data = await read(server, project);
    const health = data.project.release.health;
    expect(health).toMatchObject({
      sessions: 2,
      users: 2,
      crashFreeUsers: 50,
      usersExact: true,
      usersRelativeStandardError: null,
      users24h: 2,
      users24hExact: true,
      users24hRelativeStandardError: null,
    });
    expect(health.stats.every((p) => p.usersExact && p.usersRelativeStandardError === null)).toBe(
      true,
    );
    const [group] = data.organization.sessions.groups;
    expect(group?.totals).toEqual({
      users: 2,
      crashFreeUsers: 50,
      usersExact: true,
      usersRelativeStandardError: null,
    });
    expect(group?.series.usersExact.every((e) => e)).toBe(true);
  });

  test('past the threshold, user numbers are estimates within the bound; sessions stay exact', async ({
    server,
    project,
  }) => {
    await sendSessions(server, project, [{ did: 'first', status: 'exited' }]);
    await addUsers(server, project, EXACT_USERS_LIMIT + 1000, 500);
    const n = EXACT_USERS_LIMIT + 1001;
    const data = await read(server, project);
    const health = data.project.release.health;
    expect(health).toMatchObject({
      sessions: 1,
      usersExact: false,
      usersRelativeStandardError: SKETCH_RELATIVE_STANDARD_ERROR,
      users24hExact: false,
      users24hRelativeStandardError: SKETCH_RELATIVE_STANDARD_ERROR,
    });
    const bound = 4 * SKETCH_RELATIVE_STANDARD_ERROR;
    expect(Math.abs(health.users - n) / n).toBeLessThan(bound);
    const crashFree = 100 - (500 / n) * 100;
    expect(Math.abs((health.crashFreeUsers ?? 0) - crashFree) / crashFree).toBeLessThan(bound);
    expect(health.stats.some((p) => !p.usersExact)).toBe(true);
    const [group] = data.organization.sessions.groups;
    expect(group?.totals.usersExact).toBe(false);
    expect(group?.totals.usersRelativeStandardError).toBe(SKETCH_RELATIVE_STANDARD_ERROR);
    expect(group?.series.usersExact).toContain(false);
  });
});
