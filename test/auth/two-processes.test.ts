import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LISTENER_NAME } from '../../src/db/notify.ts';
import { testDatabaseKind } from '../support/database.ts';
import { postEnvelope, sessionsEnvelope } from '../support/envelopes.ts';
import { expectData } from '../support/gql.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';
import { waitFor } from '../support/wait.ts';
import {
  createOrganization,
  createToken,
  DEACTIVATE_PROJECT_KEY,
  type Organization,
  REVOKE_API_TOKEN,
} from './access-support.ts';

// Revocation reaches a second Vigil process on the same PostgreSQL database: this test's server
// revokes, a child process running Vigil as `npm start` does refuses. The child trusts a known token or key for
// 10 minutes while it listens, so a refusal within the test's wait can only come from the
// notification; the time it took is printed.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let server: TestServer;
let child: ChildProcess | undefined;
let childUrl: string;
let org: Organization;
let admin: pg.Client;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Connections that LISTEN for this database, across both processes. */
async function listeners(): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND application_name = $1 AND query LIKE 'LISTEN%'`,
    [LISTENER_NAME],
  );
  return rows[0]?.n ?? 0;
}

const childStatus = async (token: string) =>
  (
    await fetch(`${childUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ organizations { slug } }' }),
    })
  ).status;

const childEnvelope = async (publicKey: string) =>
  (
    await postEnvelope(
      `${childUrl}/api/${org.project.projectId}/envelope/?sentry_key=${publicKey}`,
      sessionsEnvelope([{}]),
    )
  ).status;

/** Waits until `check` holds on the child, and says how long that took. */
async function timeUntil(check: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  await waitFor(check, 20_000);
  return Math.round(performance.now() - start);
}

describe.skipIf(testDatabaseKind() !== 'postgres')('two Vigil processes on one PostgreSQL', () => {
  beforeAll(async () => {
    server = await startTestServer();
    org = await createOrganization(server, 'shared');
    const url = server.database.url as string;
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const port = await freePort();
    childUrl = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [join(ROOT, 'scripts/start.mjs')], {
      cwd: ROOT,
      env: {
        DATABASE_URL: url,
        HOST: '127.0.0.1',
        PORT: String(port),
        VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
        VIGIL_RATE_LIMIT_PER_MINUTE: '0',
        VIGIL_GRAPHQL_RATE_LIMIT_PER_MINUTE: '0',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    await waitFor(async () => {
      if (child?.exitCode !== null) throw new Error(`the second Vigil exited:\n${out}`);
      return out.includes('GraphiQL:');
    }, 90_000);
  }, 150_000);

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await admin?.end();
    await server?.close();
  });

  /** A token and a DSN key the child has used once, so it holds both in its caches. */
  async function cachedOnChild() {
    const { token, apiToken } = await createToken(server, org.slug, ['ORG_READ']);
    const { publicKey, id: keyId } = (
      await expectData<{
        createProjectKey: { projectKey: { id: string; publicKey: string } };
      }>(
        server,
        `mutation ($input: CreateProjectKeyInput!) { createProjectKey(input: $input) {
        ... on CreateProjectKeySuccess { projectKey { id publicKey } } } }`,
        { input: { organizationSlug: org.slug, projectSlug: org.project.slug } },
      )
    ).createProjectKey.projectKey;
    expect(await childStatus(token)).toBe(200);
    expect(await childEnvelope(publicKey)).toBe(200);
    return { token, tokenId: apiToken.id, publicKey, keyId };
  }

  test('a token revoked on one process is refused by the other', async () => {
    await waitFor(async () => (await listeners()) >= 2, 30_000);
    const { token, tokenId } = await cachedOnChild();
    await expectData(server, REVOKE_API_TOKEN, { input: { id: tokenId } });
    const ms = await timeUntil(async () => (await childStatus(token)) === 401);
    process.stdout.write(`token revocation seen by the second process after ${ms} ms\n`);
  });

  test('a DSN key deactivated on one process is refused by the other', async () => {
    await waitFor(async () => (await listeners()) >= 2, 30_000);
    const { publicKey, keyId } = await cachedOnChild();
    await expectData(server, DEACTIVATE_PROJECT_KEY, { input: { id: keyId } });
    const ms = await timeUntil(async () => (await childEnvelope(publicKey)) === 403);
    process.stdout.write(`key deactivation seen by the second process after ${ms} ms\n`);
  });

  test('after its LISTEN connection is cut, a process still refuses revoked tokens and listens again', async () => {
    await waitFor(async () => (await listeners()) >= 2, 30_000);
    const before = await cachedOnChild();
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = $1`,
      [LISTENER_NAME],
    );
    // Revoked while nobody listens: the message is lost, the short fallback trust must cover it.
    await expectData(server, REVOKE_API_TOKEN, { input: { id: before.tokenId } });
    await timeUntil(async () => (await childStatus(before.token)) === 401);
    // Both processes reconnect, and notifications work as before.
    await waitFor(async () => (await listeners()) >= 2, 30_000);
    const after = await cachedOnChild();
    await expectData(server, REVOKE_API_TOKEN, { input: { id: after.tokenId } });
    await timeUntil(async () => (await childStatus(after.token)) === 401);
  });
});
