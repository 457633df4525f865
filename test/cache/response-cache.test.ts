import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { publishDataChange } from '../../src/cache/data-changes.ts';
import {
  API_TOKENS,
  CREATE_ORGANIZATION,
  createOrganization,
  createToken,
} from '../auth/access-support.ts';
import { expectData } from '../support/gql.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';
import {
  frozenClock,
  healthOf,
  RELEASE_HEALTH,
  type ReleaseHealthData,
  sendSession,
  variablesOf,
} from './cache-support.ts';

// The response cache (src/cache/): a repeated query over unchanged data runs no SQL, and every
// change that a read would show drops it first. The clock stands still, so nothing here can pass
// because an entry's minute ended.

const time = frozenClock();
let server: TestServer;

/** Called (then cleared by itself) at the next SQL statement the server sends. */
let whenStatement: (() => void) | undefined;

beforeAll(async () => {
  server = await startTestServer({ clock: time.clock });
  server.db.onStatement(() => whenStatement?.());
});
afterAll(async () => {
  await server?.close();
});

async function cachedHealth(variables: Record<string, unknown>, token = ADMIN_TOKEN) {
  return server.countStatements(() =>
    server.gql<ReleaseHealthData>(RELEASE_HEALTH, variables, { token }),
  );
}

describe('response cache', () => {
  test('a repeated query over unchanged data runs no SQL statement', async () => {
    const project = await server.createProject();
    await sendSession(server.envelopeUrl(project), time.at());
    const variables = variablesOf(project);
    const first = await cachedHealth(variables);
    expect(first.statements.length).toBeGreaterThan(0);
    const second = await cachedHealth(variables);
    expect(second.statements).toEqual([]);
    expect(second.result).toEqual(first.result);
    expect(healthOf(second.result)).toEqual({ sessions: 1, sessionsAdoption: 100 });
  });

  test('a read right after an ingest commit returns the new numbers', async () => {
    const project = await server.createProject();
    const variables = variablesOf(project);
    await sendSession(server.envelopeUrl(project), time.at());
    await cachedHealth(variables);
    expect((await cachedHealth(variables)).statements).toEqual([]);
    await sendSession(server.envelopeUrl(project), time.at());
    expect(healthOf((await cachedHealth(variables)).result)).toEqual({
      sessions: 2,
      sessionsAdoption: 100,
    });
    await sendSession(server.envelopeUrl(project), time.at(), 'app@2.0.0');
    expect(healthOf((await cachedHealth(variables)).result)).toMatchObject({
      sessionsAdoption: (2 / 3) * 100,
    });
  });

  test('requests that arrive together for one answer compute it once', async () => {
    const alone = await server.createProject();
    await sendSession(server.envelopeUrl(alone), time.at());
    const once = (await cachedHealth(variablesOf(alone))).statements.length;
    const project = await server.createProject();
    await sendSession(server.envelopeUrl(project), time.at());
    const { result, statements } = await server.countStatements(() =>
      Promise.all(
        Array.from({ length: 8 }, () =>
          server.gql<ReleaseHealthData>(RELEASE_HEALTH, variablesOf(project)),
        ),
      ),
    );
    expect(statements).toHaveLength(once);
    for (const answer of result) {
      expect(healthOf(answer)).toEqual({ sessions: 1, sessionsAdoption: 100 });
    }
  });

  test('readers that arrive after a change share one new computation, not one each', async () => {
    const alone = await server.createProject();
    await sendSession(server.envelopeUrl(alone), time.at());
    // A statement each computation of this query sends once.
    const computing = (sql: string) => sql.includes('selectReleasesByProjectVersions');
    const single = (await cachedHealth(variablesOf(alone))).statements;
    expect(single.filter(computing)).toHaveLength(1);
    const project = await server.createProject();
    await sendSession(server.envelopeUrl(project), time.at());
    const { organizationId } = await server.db.prisma.project.findUniqueOrThrow({
      where: { id: project.id },
    });
    const read = () => server.gql<ReleaseHealthData>(RELEASE_HEALTH, variablesOf(project));
    // When the first read's first statement is sent, a change is announced and seven more
    // readers start: none may wait for the first read, and they must not compute one each.
    const { result, statements } = await server.countStatements(async () => {
      let late: Promise<Array<Awaited<ReturnType<typeof read>>>> | undefined;
      const started = new Promise<void>((resolve) => {
        whenStatement = () => {
          whenStatement = undefined;
          void publishDataChange(server.db, {
            projects: [project.id],
            organizations: [organizationId],
          });
          late = Promise.all(Array.from({ length: 7 }, read));
          resolve();
        };
      });
      const first = await read();
      await started;
      return [first, ...(await (late as NonNullable<typeof late>))];
    });
    // Two computations (before and after the change), or one if something else sent the first
    // statement; the eight readers computing each was the herd of issue 15.
    // Two computations (before and after the change), or one if something else sent the first
    // statement; the eight readers computing each was the herd of issue 15. (The second may
    // find the project's adoption total cached by the first: count a statement each runs once.)
    const computations = statements.filter(computing);
    expect(computations.length).toBeGreaterThanOrEqual(1);
    expect(computations.length).toBeLessThanOrEqual(2);
    for (const answer of result) {
      expect(healthOf(answer)).toEqual({ sessions: 1, sessionsAdoption: 100 });
    }
  });

  test('a reader that arrives after an ingest commit never gets the answer begun before it', async () => {
    const project = await server.createProject();
    await sendSession(server.envelopeUrl(project), time.at());
    const read = () => server.gql<ReleaseHealthData>(RELEASE_HEALTH, variablesOf(project));
    let late: Promise<Array<Awaited<ReturnType<typeof read>>>> | undefined;
    const sent = new Promise<void>((resolve, reject) => {
      whenStatement = () => {
        whenStatement = undefined;
        // The second session is committed (and announced) before its 200; then readers start.
        sendSession(server.envelopeUrl(project), time.at())
          .then(() => {
            late = Promise.all(Array.from({ length: 4 }, read));
            resolve();
          })
          .catch(reject);
      };
    });
    const first = await read();
    await sent;
    expect(healthOf(first)?.sessions).toBeGreaterThanOrEqual(1);
    for (const answer of await (late as NonNullable<typeof late>)) {
      expect(healthOf(answer)).toEqual({ sessions: 2, sessionsAdoption: 100 });
    }
    expect(healthOf(await read())).toEqual({ sessions: 2, sessionsAdoption: 100 });
  });

  test('one organization never gets another’s cached answer to the same query text', async () => {
    const a = await createOrganization(server, 'cache-a');
    const b = await createOrganization(server, 'cache-b');
    const tokenA = (await createToken(server, a.slug, ['ORG_READ'])).token;
    const tokenB = (await createToken(server, b.slug, ['ORG_READ'])).token;
    const query = '{ organizations { slug } }';
    const read = (token: string) =>
      server.countStatements(() => expectData(server, query, undefined, { token }));
    expect((await read(tokenA)).result).toEqual({ organizations: [{ slug: 'cache-a' }] });
    const again = await read(tokenA);
    expect(again.statements).toEqual([]);
    expect((await read(tokenB)).result).toEqual({ organizations: [{ slug: 'cache-b' }] });
    // Another token of the same organization has entries of its own, too.
    const tokenA2 = (await createToken(server, a.slug, ['ORG_READ'])).token;
    await read(tokenA);
    const other = await read(tokenA2);
    expect(other.statements.length).toBeGreaterThan(0);
    expect(other.result).toEqual({ organizations: [{ slug: 'cache-a' }] });
  });

  test('authentication runs before the cache: an expired or missing token gets nothing', async () => {
    const org = await createOrganization(server, 'cache-expiry');
    const expiresAt = new Date(time.at().getTime() + 20_000).toISOString();
    const { token } = await createToken(server, org.slug, ['ORG_READ'], { expiresAt });
    const query = '{ organizations { slug } }';
    await expectData(server, query, undefined, { token });
    expect(
      (await server.countStatements(() => expectData(server, query, undefined, { token })))
        .statements,
    ).toEqual([]);
    time.advance(30_000);
    const expired = await server.gql(query, undefined, { token });
    expect(expired.status).toBe(401);
    expect(expired.data ?? null).toBeNull();
    const none = await server.gql(query, undefined, { token: null });
    expect(none.status).toBe(401);
    const wrong = await server.gql(query, undefined, { token: `${token.slice(0, -1)}x` });
    expect(wrong.status).toBe(401);
  });

  test('a mutation drops cached answers at once', async () => {
    const query = '{ organizations { slug } }';
    const before = await expectData<{ organizations: Array<{ slug: string }> }>(server, query);
    expect((await server.countStatements(() => expectData(server, query))).statements).toEqual([]);
    await expectData(server, CREATE_ORGANIZATION, {
      input: { slug: 'cache-new', name: 'cache-new' },
    });
    const after = await expectData<{ organizations: Array<{ slug: string }> }>(server, query);
    expect(after.organizations.map((o) => o.slug)).toEqual(
      [...before.organizations.map((o) => o.slug), 'cache-new'].sort(),
    );
  });

  test('lastUsedAt written by the usage flush shows at once', async () => {
    const org = await createOrganization(server, 'cache-usage');
    const { token } = await createToken(server, org.slug, ['ORG_READ']);
    type Tokens = { organization: { apiTokens: Array<{ lastUsedAt: string | null }> } };
    const read = () => expectData<Tokens>(server, API_TOKENS, { slug: org.slug });
    await server.flushUsage();
    expect((await read()).organization.apiTokens[0]?.lastUsedAt).toBeNull();
    await expectData(server, '{ organizations { slug } }', undefined, { token });
    await server.flushUsage();
    expect((await read()).organization.apiTokens[0]?.lastUsedAt).toBe(time.at().toISOString());
  });
});
