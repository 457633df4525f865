import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { openDatabase } from '../src/db/client.ts';
import { readMigrations } from '../src/db/migrate.ts';
import { createEmptyPostgresDatabase, testDatabaseKind } from './support/database.ts';
import { groupGone, killStartedVigils, startVigil } from './support/vigil-process.ts';

// A failed assertion must not leave a server running.
afterEach(killStartedVigils);

async function gql<Data>(
  port: number,
  query: string,
  token: string | undefined,
): Promise<{ status: number; data?: Data; errors?: Array<{ message: string }> }> {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, ...((await response.json()) as object) };
}

const ORGANIZATIONS = '{ organizations { slug } }';
const DEFAULT_PROJECT_DSN = '{ project(organizationSlug: "default", slug: "default") { dsn } }';

async function withDataDir<T>(fn: (dataDir: string) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(join(tmpdir(), 'vigil-process-'));
  try {
    return await fn(dataDir);
  } finally {
    await killStartedVigils();
    await rm(dataDir, { recursive: true, force: true, maxRetries: 5 });
  }
}

// These start their own database whatever the project, so they run in one project only.
describe.skipIf(testDatabaseKind() !== 'pglite')('vigil on embedded PGlite', () => {
  test('first start prints GraphiQL, a new admin token and the DSN, serves them, and stops on SIGTERM', async () => {
    await withDataDir(async (dataDir) => {
      const vigil = await startVigil({ VIGIL_DATA_DIR: dataDir });
      const banner = await vigil.banner;
      const base = `http://127.0.0.1:${vigil.port}`;
      expect(banner.text).toContain(`embedded PGlite (${dataDir})`);
      expect(banner.graphiqlUrl).toBe(`${base}/graphql`);
      expect(banner.token).toMatch(/^vgl_[\w-]{43}$/);
      expect(banner.dsn).toMatch(
        new RegExp(`^http://[0-9a-f]{32}@127\\.0\\.0\\.1:${vigil.port}/\\d+$`),
      );

      const page = await fetch(banner.graphiqlUrl, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toContain('<title>Vigil</title>');

      const organizations = await gql(vigil.port, ORGANIZATIONS, banner.token);
      expect(organizations).toEqual({
        status: 200,
        data: { organizations: [{ slug: 'default' }] },
      });
      const project = await gql(vigil.port, DEFAULT_PROJECT_DSN, banner.token);
      expect(project.data).toEqual({ project: { dsn: banner.dsn } });
      const anonymous = await gql(vigil.port, ORGANIZATIONS, undefined);
      expect(anonymous.status).toBe(401);
      const wrongToken = await gql(vigil.port, ORGANIZATIONS, `${banner.token}x`);
      expect(wrongToken.status).toBe(401);

      expect(await vigil.stop()).toEqual({ code: 0, signal: null });
      expect(vigil.stderr()).toBe('');
    });
  }, 240_000);

  test("`npm start` (the README's command) passes SIGTERM on: Vigil stops and leaves nothing running", async () => {
    await withDataDir(async (dataDir) => {
      const vigil = await startVigil({ VIGIL_DATA_DIR: dataDir }, { viaNpm: true });
      const banner = await vigil.banner;
      expect((await gql(vigil.port, ORGANIZATIONS, banner.token)).status).toBe(200);
      // A service manager (systemd, docker stop) signals the process it started: npm.
      await vigil.stop();
      // Without a shell left in between, Vigil got the signal too and is gone, port and all.
      expect(await groupGone(vigil.child)).toBe(true);
      await expect(fetch(`http://127.0.0.1:${vigil.port}/graphql`)).rejects.toThrow();
    });
  }, 240_000);

  test('a restart on the same data dir keeps what was created and prints no new token', async () => {
    await withDataDir(async (dataDir) => {
      const first = await startVigil({ VIGIL_DATA_DIR: dataDir });
      const { token } = await first.banner;
      const created = await gql<{ createOrganization: { __typename: string } }>(
        first.port,
        'mutation { createOrganization(input: { slug: "acme", name: "Acme" }) { __typename } }',
        token,
      );
      expect(created.data?.createOrganization.__typename).toBe('CreateOrganizationSuccess');
      expect(await first.stop()).toEqual({ code: 0, signal: null });

      const second = await startVigil({ VIGIL_DATA_DIR: dataDir });
      const banner = await second.banner;
      expect(banner.token).toBeUndefined();
      expect(banner.text).not.toContain('Admin token');
      // The first start's token is stored (hashed), so it still works.
      const organizations = await gql(second.port, ORGANIZATIONS, token);
      expect(organizations.data).toEqual({
        organizations: [{ slug: 'acme' }, { slug: 'default' }],
      });
      expect(await second.stop()).toEqual({ code: 0, signal: null });
    });
  }, 300_000);

  test('every envelope answered 200 is still counted after kill -9 and a restart', async () => {
    await withDataDir(async (dataDir) => {
      const first = await startVigil({ VIGIL_DATA_DIR: dataDir });
      const { token, dsn } = await first.banner;
      const { username: key, pathname } = new URL(dsn);
      const url = `http://127.0.0.1:${first.port}/api${pathname}/envelope/?sentry_key=${key}`;
      const now = new Date().toISOString();
      const envelope = () =>
        [
          JSON.stringify({ sent_at: now }),
          JSON.stringify({ type: 'session' }),
          JSON.stringify({
            sid: randomUUID(),
            init: true,
            started: now,
            status: 'crashed',
            attrs: { release: 'durable@1.0.0' },
          }),
        ].join('\n');
      // The kill lands while envelopes are in flight: those answered 200 must all be there after
      // the restart; those cut off may or may not be, as their SDK would send them again.
      let answered = 0;
      const posts = Array.from({ length: 200 }, async () => {
        try {
          const response = await fetch(url, { method: 'POST', body: envelope() });
          if (response.status === 200) answered += 1;
          if (answered === 40) first.kill();
        } catch {
          // Cut off by the kill.
        }
      });
      await Promise.all(posts);
      expect(await first.exit).toEqual({ code: null, signal: 'SIGKILL' });
      expect(answered).toBeGreaterThanOrEqual(40);

      const second = await startVigil({ VIGIL_DATA_DIR: dataDir });
      await second.banner;
      const health = await gql<{
        project: { release: { health: { sessions: number; crashFreeSessions: number } } };
      }>(
        second.port,
        `{ project(organizationSlug: "default", slug: "default") { release(version: "durable@1.0.0") {
            health { ... on ReleaseHealth { sessions crashFreeSessions } } } } }`,
        token,
      );
      const stored = health.data?.project.release.health;
      expect(stored?.crashFreeSessions).toBe(0);
      expect(stored?.sessions).toBeGreaterThanOrEqual(answered);
      expect(stored?.sessions).toBeLessThanOrEqual(200);
      expect(await second.stop()).toEqual({ code: 0, signal: null });
    });
  }, 300_000);

  test('exits 1 before touching the data dir when the configuration is bad, naming every bad variable', async () => {
    await withDataDir(async (dir) => {
      const dataDir = join(dir, 'data');
      const vigil = await startVigil({ PORT: 'abc', LOG_LEVEL: 'loud', VIGIL_DATA_DIR: dataDir });
      expect(await vigil.exit).toEqual({ code: 1, signal: null });
      expect(vigil.stderr()).toMatch(/^Invalid configuration:\n {2}- PORT: .*\n {2}- LOG_LEVEL: /);
      expect(vigil.stdout()).toBe('');
      expect(existsSync(dataDir)).toBe(false);
    });
  }, 120_000);
});

describe.skipIf(testDatabaseKind() !== 'postgres')('vigil on PostgreSQL', () => {
  test('two processes started together on an empty database both come up; migrations and first-start data happen once', async () => {
    const empty = await createEmptyPostgresDatabase();
    try {
      const env = { DATABASE_URL: empty.url };
      const [a, b] = await Promise.all([startVigil(env), startVigil(env)]);
      const [bannerA, bannerB] = await Promise.all([a.banner, b.banner]);
      expect(bannerA.text).toContain('Vigil is running on PostgreSQL.');
      expect(bannerB.text).toContain('Vigil is running on PostgreSQL.');

      // One of them generated the admin token; both accept it, as it is stored.
      const tokens = [bannerA.token, bannerB.token].filter((t) => t !== undefined);
      expect(tokens).toHaveLength(1);
      for (const vigil of [a, b]) {
        const organizations = await gql(vigil.port, ORGANIZATIONS, tokens[0]);
        expect(organizations.data).toEqual({ organizations: [{ slug: 'default' }] });
      }
      // The same default project, so the same DSN apart from each process's own port.
      const withoutPort = (dsn: string) => dsn.replace(/:\d+\//, ':<port>/');
      expect(withoutPort(bannerA.dsn)).toBe(withoutPort(bannerB.dsn));

      const db = await openDatabase({ databaseUrl: empty.url, dataDir: '' });
      try {
        const rows = await db.withSession((s) =>
          s.query<{ migration_name: string; n: number }>(
            `SELECT migration_name, count(*)::int AS n FROM "_prisma_migrations"
                GROUP BY migration_name ORDER BY migration_name`,
          ),
        );
        const names = (await readMigrations()).map((m) => m.name);
        expect(rows).toEqual(names.map((name) => ({ migration_name: name, n: 1 })));
      } finally {
        await db.close();
      }

      const [exitA, exitB] = await Promise.all([a.stop(), b.stop()]);
      expect(exitA).toEqual({ code: 0, signal: null });
      expect(exitB).toEqual({ code: 0, signal: null });
    } finally {
      await empty.dispose();
    }
  }, 300_000);
});
