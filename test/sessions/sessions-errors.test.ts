import { describe, expect } from 'vitest';
import { test } from '../support/fixtures.ts';
import { expectBadUserInput, expectData, expectErrors } from '../support/gql.ts';
import type { TestServer } from '../support/server.ts';
import { createOrganization } from './sessions-support.ts';

// Bad arguments to the sessions query: each is a BAD_USER_INPUT error that names the argument
// and says why (Sentry's wording where Sentry has one), never a silent cut.

const query = (args: string, groups: string) => `query ($projects: [Int!]) {
  organization(slug: "default") {
    sessions(projects: $projects ${args}) { __typename groups { ${groups} } }
  }
}`;

async function refusal(server: TestServer, args: string, groups = 'totals { sessions }') {
  return expectBadUserInput(server, query(args, groups), { projects: [] });
}

const TOO_MANY =
  'Your interval and date range would create too many results. Use a larger interval, or a smaller date range.';

const REFUSALS: Array<[args: string, field: string, message: string]> = [
  [', interval: "10s"', 'interval', 'The interval has to be a whole number of minutes.'],
  [', interval: "7m"', 'interval', 'The interval should divide one day without a remainder.'],
  [', interval: "2d"', 'interval', 'The interval has to be less than one day.'],
  [', interval: "hourly"', 'interval', 'Invalid interval "hourly": use e.g. 1m, 5m, 1h, 1d.'],
  [
    ', period: "30d", interval: "1m"',
    'interval',
    `${TOO_MANY} The smallest interval for this range is 45m.`,
  ],
  [
    ', period: "7d", interval: "5m"',
    'interval',
    `${TOO_MANY} The smallest interval for this range is 12m.`,
  ],
  [', period: "5000d"', 'period', `${TOO_MANY} This range is longer than 1000 days.`],
  [
    ', period: "3x"',
    'period',
    'Unknown period "3x": use one of 1h, 24h, 1d, 48h, 2d, 7d, 14d, 30d, 90d.',
  ],
  [
    ', start: "2026-01-02T00:00:00Z", end: "2026-01-01T00:00:00Z"',
    'start',
    'start must be before end.',
  ],
  [
    ', period: "1d", start: "2026-01-01T00:00:00Z"',
    'period',
    'Give either period or start/end, not both.',
  ],
  [
    ', period: "1d", interval: "1h", groupBy: [RELEASE], limit: 500',
    'limit',
    'A limit of 500 groups × 25 intervals would return 12500 values; at most 10000 fit in one response. Use a limit of at most 400, a larger interval or a shorter range.',
  ],
  [', limit: 0', 'limit', 'limit must be at least 1.'],
  [', offset: -1', 'offset', 'offset cannot be negative.'],
  [
    ', groupBy: [SESSION_STATUS], orderBy: { field: SESSIONS }',
    'orderBy',
    'Cannot use orderBy when grouping by SESSION_STATUS: the statuses of a group come in a fixed order.',
  ],
  [
    ', groupBy: [PROJECT], orderBy: { field: RELEASE_DATE }',
    'orderBy',
    'Ordering by RELEASE_DATE needs RELEASE in groupBy.',
  ],
];

describe('sessions query arguments', () => {
  test.for(REFUSALS)('%s → %s', async ([args, field, message], { server }) => {
    const series = 'series { sessions }';
    expect(await refusal(server, args, `totals { sessions } ${series}`)).toEqual({
      field,
      message,
    });
  });

  test('the limit only counts intervals when a series is selected', async ({ server }) => {
    const args = ', period: "1d", interval: "1h", groupBy: [RELEASE], limit: 500';
    const fits = await expectData<{ organization: { sessions: unknown } }>(
      server,
      query(args, 'totals { sessions }'),
      { projects: [] },
    );
    expect(fits.organization.sessions).toEqual({ __typename: 'SessionsResult', groups: [] });
    const statuses = ', period: "1d", interval: "1h", groupBy: [SESSION_STATUS], limit: 100';
    expect(await refusal(server, statuses, 'series { sessions }')).toMatchObject({
      field: 'limit',
      message: expect.stringContaining('100 groups × 25 intervals × 5 statuses'),
    });
  });

  test('a rate grouped by session status is refused, wherever the selection names it', async ({
    server,
  }) => {
    const message = (name: string) =>
      `Cannot group field ${name} by session status: with SESSION_STATUS only sessions, users and the duration fields can be selected.`;
    expect(
      await refusal(server, ', groupBy: [SESSION_STATUS]', 'totals { crashFreeSessions }'),
    ).toEqual({ field: 'groupBy', message: message('crashFreeSessions') });
    const inFragment = await expectBadUserInput(
      server,
      `query {
        organization(slug: "default") {
          sessions(projects: [], groupBy: [RELEASE, SESSION_STATUS]) { ...Result }
        }
      }
      fragment Result on SessionsResult { groups { series { ...Rates } } }
      fragment Rates on SessionsSeries { sessions crashRateUsers }`,
    );
    expect(inFragment.message).toBe(message('crashRateUsers'));
    // A field the query skips is not selected.
    const skipped = await server.gql(
      `query ($skip: Boolean!) {
        organization(slug: "default") {
          sessions(projects: [], groupBy: [SESSION_STATUS]) {
            __typename
            groups { totals { sessions sessionsAdoption @skip(if: $skip) } }
          }
        }
      }`,
      { skip: true },
    );
    expect(skipped.data).toMatchObject({
      organization: { sessions: { __typename: 'SessionsResult' } },
    });
  });

  test('an unknown groupBy fails validation: it is an enum', async ({ server }) => {
    const result = await expectErrors(
      server,
      '{ organization(slug: "default") { sessions(groupBy: [ISSUE]) { __typename } } }',
    );
    expect(result.data, result.why).toBeUndefined();
    expect(result.errors, result.why).toMatchObject([
      {
        message: 'Value "ISSUE" does not exist in "SessionsGroupBy" enum.',
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      },
    ]);
    // An application/json response carries a validation error with status 200 (GraphQL over HTTP).
    expect(result.status).toBe(200);
  });

  test('a project of another organization is refused', async ({ server, project }) => {
    const other = await createOrganization(server, 1);
    const refused = await expectBadUserInput(
      server,
      `query ($org: String!, $projects: [Int!]) {
        organization(slug: $org) { sessions(projects: $projects) { totalGroups } }
      }`,
      { org: other.slug, projects: [other.projects[0]?.id, project.id] },
    );
    expect(refused).toEqual({
      field: 'projects',
      message: `Project ${project.id} is not a project of organization "${other.slug}".`,
    });
  });
});
