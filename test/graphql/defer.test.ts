import { describe, expect } from 'vitest';
import { sendSessions } from '../support/envelopes.ts';
import { test } from '../support/fixtures.ts';
import { postIncremental } from '../support/incremental.ts';
import { ADMIN_TOKEN, type TestProject, type TestServer } from '../support/server.ts';

// @defer (graphql-yoga's defer/stream plugin): the fast fields of a page come in the first part
// of a multipart/mixed answer, the slow ones (durations, series) in later parts, and the parts
// put together are exactly the answer of the same query without @defer.

async function seed(server: TestServer, project: TestProject) {
  const started = new Date(Date.now() - 5 * 60_000);
  const sessions = [
    ...Array.from({ length: 6 }, (_, i) => ({
      did: `u${i % 4}`,
      status: 'exited',
      duration: 10 * (i + 1),
      release: 'app@1.0.0',
      started,
    })),
    { did: 'u1', status: 'crashed', release: 'app@1.0.0', started },
    { did: 'u2', status: 'exited', duration: 42, release: 'app@2.0.0', started },
    { did: 'u3', status: 'errored', errors: 1, release: 'app@2.0.0', started },
  ];
  await sendSessions(server, project, sessions);
}

/** The releases page with its slow part (durations and the 14-day series) in `slow`. */
const page = (slow: string) => `query Page($org: String!, $slug: String!) {
  project(organizationSlug: $org, slug: $slug) {
    releases(first: 25, sort: SESSIONS) {
      totalCount
      edges { node { version health(period: "14d") {
        sessions users crashFreeSessions crashFreeUsers
        ${slow}
      } } }
    }
  }
}`;
const SLOW = 'durationP50 durationP90 stats(interval: "1d") { timestamp value crashFreeSessions }';

describe('@defer', () => {
  test('sends fast fields first and the same numbers as without @defer', async ({
    server,
    project,
  }) => {
    await seed(server, project);
    const variables = { org: project.organizationSlug, slug: project.slug };
    const plain = await server.gql(page(SLOW), variables);
    expect(plain.errors).toBeUndefined();

    const deferred = await postIncremental(
      server.url,
      page(`... @defer(label: "slow") { ${SLOW} }`),
      variables,
    );
    expect(deferred.status).toBe(200);
    expect(deferred.contentType).toMatch(/^multipart\/mixed/);
    // One part per release's deferred fragment may be batched; at least the first and one more.
    expect(deferred.parts.length).toBeGreaterThanOrEqual(2);
    const [first] = deferred.parts;
    expect(first?.hasNext).toBe(true);
    const firstText = JSON.stringify(first?.data);
    expect(firstText).toContain('"crashFreeSessions"');
    expect(firstText).not.toContain('durationP50');
    expect(firstText).not.toContain('"stats"');
    expect(deferred.parts.at(-1)?.hasNext).toBe(false);
    for (const part of deferred.parts.slice(1)) {
      for (const entry of part.incremental ?? []) {
        expect((entry as { label?: string }).label).toBe('slow');
      }
    }

    expect(deferred.merged.errors).toBeUndefined();
    expect(deferred.merged.data).toEqual(plain.data);
    // The numbers are the seeded ones, so equality above is not two empty pages.
    const releases = (
      plain.data as {
        project: {
          releases: {
            edges: Array<{
              node: { version: string; health: { sessions: number; durationP50: number | null } };
            }>;
          };
        };
      }
    ).project.releases.edges.map((e) => e.node);
    expect(releases.map((r) => [r.version, r.health.sessions])).toEqual([
      ['app@1.0.0', 7],
      ['app@2.0.0', 2],
    ]);
    expect(releases[1]?.health.durationP50).toBe(42);
  });

  test('a query without @defer comes whole, in one part', async ({ server, project }) => {
    await seed(server, project);
    const answer = await postIncremental(server.url, page(SLOW), {
      org: project.organizationSlug,
      slug: project.slug,
    });
    expect(answer.status).toBe(200);
    expect(answer.parts).toHaveLength(1);
    expect(answer.merged.errors).toBeUndefined();
    expect(JSON.stringify(answer.merged.data)).toContain('"durationP50":35');
  });

  test('a client that accepts only JSON is told which types a deferred answer comes in', async ({
    server,
    project,
  }) => {
    await seed(server, project);
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        authorization: `Bearer ${ADMIN_TOKEN}`,
      },
      body: JSON.stringify({
        query: page(`... @defer { ${SLOW} }`),
        variables: { org: project.organizationSlug, slug: project.slug },
      }),
    });
    expect(response.status).toBe(406);
    expect(response.headers.get('accept')).toContain('multipart/mixed');
  });
});

describe('@defer with bad input', () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      'on a mutation root field',
      'mutation { ... @defer { createApiToken(input: { name: "deferred" }) { __typename } } }',
      /defer/i,
    ],
    [
      'with a label that is a variable',
      'query ($l: String) { ... @defer(label: $l) { __typename } }',
      /label/i,
    ],
    [
      'with one label twice',
      'query { ... @defer(label: "a") { __typename } ... @defer(label: "a") { __typename } }',
      /label/i,
    ],
    [
      'with @stream on a field that is not a list',
      '{ organization(slug: "default") @stream { slug } }',
      /stream/i,
    ],
  ];
  test.for(cases)('is refused %s', async ([, query, message], { server }) => {
    const answer = await postIncremental(server.url, query);
    expect(answer.status).toBe(400);
    expect(answer.merged.data).toBeUndefined();
    expect(answer.merged.errors?.length ?? 0).toBeGreaterThan(0);
    expect(answer.merged.errors?.map((e) => e.message).join('\n')).toMatch(message);
    // Refused before anything ran: the mutation created nothing.
    expect(await server.db.prisma.apiToken.count({ where: { name: 'deferred' } })).toBe(0);
  });
});
