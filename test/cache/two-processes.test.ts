import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { updateAdoptionStages } from '../../src/jobs/adoption-monitor.ts';
import { testDatabaseKind } from '../support/database.ts';
import {
  ADMIN_TOKEN,
  type GraphQLResult,
  startTestServer,
  type TestServer,
} from '../support/server.ts';
import { killStartedVigils, startVigil, type VigilProcess } from '../support/vigil-process.ts';
import { waitFor } from '../support/wait.ts';
import {
  healthOf,
  RELEASE_HEALTH,
  type ReleaseHealthData,
  sendSession,
  variablesOf,
} from './cache-support.ts';

// Two Vigil processes on one PostgreSQL, the second one `src/main.ts` as `npm start` runs it:
// sessions ingested through this test's server are in the child's adoption numbers, which the
// child had cached. Its caches keep an answer until its minute ends, so the wait starts early in a
// minute and fails if that minute ends first: only the notification can explain an earlier change.

let server: TestServer;
let child: VigilProcess;

const minuteOf = (ms: number) => Math.floor(ms / 60_000);

async function postToChild(query: string, variables: Record<string, unknown>) {
  const response = await fetch(`http://127.0.0.1:${child.port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as object) };
}

const readOnChild = async (variables: Record<string, unknown>) =>
  healthOf((await postToChild(RELEASE_HEALTH, variables)) as GraphQLResult<ReleaseHealthData>);

const STAGES = /* GraphQL */ `
  query Stages($org: String!, $slug: String!) {
    project(organizationSlug: $org, slug: $slug) {
      a: release(version: "app@1.0.0") { adoptionStage(environment: "production") { stage } }
      b: release(version: "app@2.0.0") { adoptionStage(environment: "production") { stage } }
    }
  }`;

/** True once the child's adoption job has staged both releases, so it changes nothing more. */
async function bothAdopted(project: { organizationSlug: string; slug: string }) {
  const result = (await postToChild(STAGES, {
    org: project.organizationSlug,
    slug: project.slug,
  })) as {
    data?: { project: Record<string, { adoptionStage: { stage: string } | null }> };
  };
  const stages = Object.values(result.data?.project ?? {}).map((r) => r.adoptionStage?.stage);
  return stages.length === 2 && stages.every((stage) => stage === 'ADOPTED');
}

describe.skipIf(testDatabaseKind() !== 'postgres')('two Vigil processes on one PostgreSQL', () => {
  beforeAll(async () => {
    server = await startTestServer();
    child = await startVigil({
      DATABASE_URL: server.database.url as string,
      VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
      VIGIL_RATE_LIMIT_PER_MINUTE: '0',
      VIGIL_GRAPHQL_RATE_LIMIT_PER_MINUTE: '0',
    });
    await child.banner;
  }, 180_000);

  afterAll(async () => {
    await killStartedVigils();
    await server?.close();
  });

  test('sessions ingested through one are in the other’s cached adoption numbers', {
    timeout: 300_000,
  }, async () => {
    const project = await server.createProject();
    const variables = variablesOf(project);
    const now = () => new Date();
    await sendSession(server.envelopeUrl(project), now());
    await sendSession(server.envelopeUrl(project), now(), 'app@2.0.0');
    // An adoption job rightly drops cached answers when it stages a release; once both are
    // staged, the third session changes no stage, and only the notification can drop the child's
    // answer. Staged here rather than by waiting up to a minute for the child's own round; the
    // child's next round then finds nothing to change.
    await updateAdoptionStages(server.db, now());
    await waitFor(() => bothAdopted(project), 150_000);
    // An attempt reads the child's answer twice (cached), sends a session, and must see it
    // before the minute ends, when the cache would forget on its own. A minute that ends first
    // (a slow machine) makes the attempt inconclusive, and the next one starts early in a new
    // minute; without the notification every attempt ends with its minute. app@1.0.0 keeps at
    // least a fifth of the sessions, so no stage changes (adoption is 10 %).
    let sessions = 2;
    for (let attempt = 1; ; attempt++) {
      // Not in a minute's last 10 s (that wait was up to 40 s for a 40 s margin).
      await waitFor(async () => Date.now() % 60_000 < 50_000, 70_000);
      const minute = minuteOf(Date.now());
      const cached = { sessions: 1, sessionsAdoption: 100 / sessions };
      expect(await readOnChild(variables)).toEqual(cached);
      expect(await readOnChild(variables)).toEqual(cached);

      await sendSession(server.envelopeUrl(project), now(), 'app@2.0.0');
      sessions += 1;
      const started = performance.now();
      let seen = false;
      await waitFor(async () => {
        const health = await readOnChild(variables);
        const inMinute = minuteOf(Date.now()) === minute;
        seen = inMinute && Math.abs((health?.sessionsAdoption ?? 0) - 100 / sessions) < 1e-9;
        return seen || !inMinute;
      }, 60_000);
      if (seen) {
        console.info(
          `the child saw the new session after ${Math.round(performance.now() - started)} ms`,
        );
        return;
      }
      if (attempt === 3) {
        throw new Error(
          'every minute ended first: the child’s caches were never told of the commit',
        );
      }
    }
  });
});
