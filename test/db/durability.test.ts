import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { createApp } from '../../src/app.ts';
import { bootstrap } from '../../src/bootstrap.ts';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/log.ts';
import { sessionItem } from '../ingest/hand-built.ts';
import { createTestDatabase, testDatabaseKind } from '../support/database.ts';
import { buildEnvelope, postEnvelope } from '../support/envelopes.ts';
import { POSTGRES_ADMIN_URL } from '../support/postgres.ts';

// A 200 means on stable storage: PGlite's commit fsyncs its WAL before Vigil answers, and on
// PostgreSQL every session of the pool waits for the WAL flush at commit.

type Event = { kind: 'sync'; path: string } | { kind: 'respond'; path: string; status: number };

describe.skipIf(testDatabaseKind() !== 'pglite')('on embedded PGlite', () => {
  test("an envelope's 200 is written only after the commit's WAL was fsynced", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vigil-durability-'));
    const events: Event[] = [];
    // Every fsync this process makes, by the file it names (the fd's target in /proc).
    const fsyncSync = fs.fsyncSync;
    fs.fsyncSync = (fd: number) => {
      let path = `fd ${fd}`;
      try {
        path = fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        // Not Linux: the fd number will do for the message.
      }
      fsyncSync(fd);
      events.push({ kind: 'sync', path });
    };
    const db = await openDatabase({ databaseUrl: undefined, dataDir });
    const server = createServer();
    try {
      await migrate(db);
      const { defaultProject } = await bootstrap(db, 'durability-test-token-0123');
      if (!defaultProject) throw new Error('bootstrap made no default project');
      const config = loadConfig({ LOG_LEVEL: 'silent', VIGIL_RATE_LIMIT_PER_MINUTE: '0' });
      const app = createApp({ config, db, log: createLogger('silent') });
      server.on('request', (request, response: ServerResponse) => {
        // The first byte of the answer is what an SDK can see: note when it is about to go out.
        const writeHead = response.writeHead.bind(response);
        response.writeHead = ((...args: Parameters<typeof writeHead>) => {
          events.push({ kind: 'respond', path: request.url ?? '', status: args[0] });
          return writeHead(...args);
        }) as typeof response.writeHead;
        app.handler(request, response);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const { id, publicKey } = defaultProject;
      const url = `http://127.0.0.1:${port}/api/${id}/envelope/?sentry_key=${publicKey}`;

      // The first envelope also creates its release and environment, in commits of their own;
      // the second one's only commit is its sessions'.
      expect((await postEnvelope(url, buildEnvelope([sessionItem()]))).status).toBe(200);
      events.length = 0;
      const answer = await postEnvelope(url, buildEnvelope([sessionItem({ status: 'crashed' })]));

      expect(answer.status).toBe(200);
      const responded = events.findIndex((e) => e.kind === 'respond');
      expect(events[responded]).toMatchObject({
        status: 200,
        path: expect.stringContaining(`/api/${id}/envelope/`),
      });
      const walSyncs = events
        .slice(0, responded)
        .filter((e) => e.kind === 'sync' && e.path.startsWith(join(dataDir, 'pg_wal')));
      // One sync per transaction: group commit shares it among the envelopes of a transaction.
      expect(walSyncs, JSON.stringify(events)).toHaveLength(1);
      const [stored] = await db.prisma.$queryRaw<Array<{ crashed: number }>>`
        SELECT sum(crashed)::int AS crashed FROM session_counter
        WHERE project_id = ${id} AND release_id <> 0 AND granularity = 60`;
      expect(stored?.crashed).toBe(1);
    } finally {
      fs.fsyncSync = fsyncSync;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});

describe.skipIf(testDatabaseKind() !== 'postgres')('on PostgreSQL', () => {
  test('commits wait for the WAL flush even where the database is set to synchronous_commit=off', async () => {
    const { url, dispose } = await createTestDatabase('postgres');
    const name = new URL(url as string).pathname.slice(1);
    const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE ${name} SET synchronous_commit = off`);
      const db = await openDatabase({ databaseUrl: url, dataDir: '' });
      try {
        const setting = (rows: Array<{ synchronous_commit: string }>) =>
          rows[0]?.synchronous_commit;
        // The setting the database gives new sessions is off…
        const plain = new pg.Client({ connectionString: url });
        await plain.connect();
        expect(setting((await plain.query('SHOW synchronous_commit')).rows)).toBe('off');
        await plain.end();
        // …but Vigil's sessions, the ingest driver's and Prisma's alike, flush at commit.
        const inTransaction = await db.transaction((tx) =>
          tx.query<{ synchronous_commit: string }>('SHOW synchronous_commit'),
        );
        expect(setting(inTransaction)).toBe('on');
        const throughPrisma =
          await db.prisma.$queryRawUnsafe<Array<{ synchronous_commit: string }>>(
            'SHOW synchronous_commit',
          );
        expect(setting(throughPrisma)).toBe('on');
      } finally {
        await db.close();
      }
    } finally {
      await admin.end();
      await dispose();
    }
  });
});
