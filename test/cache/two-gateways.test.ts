import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testDatabaseKind } from '../support/database.ts';
import { type Gateway, startGateway } from '../support/gateway.ts';
import {
  ADMIN_TOKEN,
  type GraphQLResult,
  startTestServer,
  type TestServer,
} from '../support/server.ts';
import { waitFor } from '../support/wait.ts';
import {
  frozenClock,
  healthOf,
  RELEASE_HEALTH,
  type ReleaseHealthData,
  sendSession,
  variablesOf,
} from './cache-support.ts';

// Two Vigil gateways on one PostgreSQL, each with its own pool, LISTEN connection and caches (as
// two `npm start`s behind a load balancer): sessions ingested through one are in the other's
// adoption numbers as soon as the notification arrives. Both clocks stand still in one minute, so
// neither the response cache nor the per-minute adoption cache can expire during the test: only
// the notification can make the second gateway change its answer.

const time = frozenClock();
let server: TestServer;
let second: Gateway;
let secondStatements: string[] = [];

async function readOnSecond(variables: Record<string, unknown>) {
  const response = await fetch(`${second.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ query: RELEASE_HEALTH, variables }),
  });
  return healthOf({
    status: response.status,
    ...((await response.json()) as object),
  } as GraphQLResult<ReleaseHealthData>);
}

describe.skipIf(testDatabaseKind() !== 'postgres')('two gateways on one PostgreSQL', () => {
  beforeAll(async () => {
    server = await startTestServer({ clock: time.clock });
    second = await startGateway(server.database.url as string, {
      clock: time.clock,
      onStatement: (sql) => secondStatements.push(sql),
    });
  }, 180_000);

  afterAll(async () => {
    await second?.close();
    await server?.close();
  });

  test('sessions ingested through one gateway are in the other’s adoption numbers', async () => {
    const project = await server.createProject();
    const variables = variablesOf(project);
    await sendSession(server.envelopeUrl(project), time.at());
    await sendSession(server.envelopeUrl(project), time.at(), 'app@2.0.0');
    expect(await readOnSecond(variables)).toEqual({ sessions: 1, sessionsAdoption: 50 });
    // The second gateway now answers from memory: a stale answer is what it would give. (On a
    // busy machine the notification of the last send may arrive after the read above began; that
    // read is then not kept, rightly, and the next one is.)
    await waitFor(async () => {
      await readOnSecond(variables);
      secondStatements = [];
      const cached = await readOnSecond(variables);
      expect(cached).toEqual({ sessions: 1, sessionsAdoption: 50 });
      return secondStatements.length === 0;
    });

    await sendSession(server.envelopeUrl(project), time.at(), 'app@2.0.0');
    const started = performance.now();
    const third = (health: Awaited<ReturnType<typeof readOnSecond>>) =>
      Math.abs((health?.sessionsAdoption ?? 0) - 100 / 3) < 1e-9;
    await waitFor(async () => third(await readOnSecond(variables)));
    console.info(
      `second gateway saw the new session after ${Math.round(performance.now() - started)} ms`,
    );
    const after = await readOnSecond(variables);
    expect(after?.sessions).toBe(1);
    expect(after?.sessionsAdoption).toBeCloseTo(100 / 3, 9);
  });

  test('a mutation on one gateway drops the other’s cached answers', async () => {
    const query = JSON.stringify({ query: '{ organizations { slug } }' });
    const read = async () => {
      const response = await fetch(`${second.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: query,
      });
      const body = (await response.json()) as { data: { organizations: Array<{ slug: string }> } };
      return body.data.organizations.map((o) => o.slug);
    };
    expect(await read()).not.toContain('via-first');
    await server.gql(
      'mutation ($input: CreateOrganizationInput!) { createOrganization(input: $input) { __typename } }',
      { input: { slug: 'via-first', name: 'via-first' } },
    );
    await waitFor(async () => (await read()).includes('via-first'));
  });
});
