import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createApp } from '../../src/app.ts';
import { bootstrap } from '../../src/bootstrap.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';
import { createLogger } from '../../src/log.ts';
import { buildDsn } from '../../src/modules/projects/dsn.ts';
import { insertProject } from '../../src/modules/projects/project.queries.ts';
import { newPublicKey } from '../../src/modules/projects/public-key.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestProject {
  id: number;
  slug: string;
  organizationSlug: string;
  publicKey: string;
  dsn: string;
}

export interface GraphQLResult<Data = Record<string, unknown>> {
  status: number;
  data?: Data;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

export interface TestServer {
  url: string;
  db: Database;
  database: TestDatabase;
  /** Counts the SQL statements the database receives while `fn` runs. */
  countStatements<T>(fn: () => Promise<T>): Promise<{ result: T; statements: string[] }>;
  gql<Data = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    options?: { token?: string | null },
  ): Promise<GraphQLResult<Data>>;
  /** A new project of its own in the `default` organization, so tests never share rows. */
  createProject(platform?: string): Promise<TestProject>;
  envelopeUrl(project: { id: number; publicKey: string }): string;
  /** Writes the noted `lastUsedAt` times now rather than at the next periodic flush. */
  flushUsage(): Promise<void>;
  close(): Promise<void>;
}

/** Vigil behind a real HTTP server on a free port, on a database of its own. */
export async function startTestServer(
  options: { config?: Record<string, string>; clock?: () => Date; log?: Logger } = {},
): Promise<TestServer> {
  const database = await createTestDatabase();
  const { db } = database;
  const config: Config = loadConfig({
    VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: 'silent',
    VIGIL_RATE_LIMIT_PER_MINUTE: '0',
    VIGIL_GRAPHQL_RATE_LIMIT_PER_MINUTE: '0',
    ...options.config,
  });
  await bootstrap(db, config.adminToken);
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const app = createApp({
    config: { ...config, publicUrl: config.publicUrl ?? url },
    db,
    log: options.log ?? createLogger(config.logLevel),
    clock: options.clock,
    // lastUsedAt is written by flushUsage() only, so no flush lands inside a statement count.
    usageFlushMs: 24 * 3_600_000,
  });
  server.on('request', app.handler);
  // Tests start once the caches' notifications are listened to: one that became live during a
  // test would clear the caches then (a statement count saw the key read again on a busy machine).
  await db.notifications.settled();

  let recording: string[] | null = null;
  db.onStatement((sql) => recording?.push(sql));
  const org = await db.prisma.organization.findUniqueOrThrow({ where: { slug: 'default' } });

  return {
    url,
    db,
    database,
    async countStatements(fn) {
      recording = [];
      try {
        const result = await fn();
        return { result, statements: recording };
      } finally {
        recording = null;
      }
    },
    async gql(query, variables, { token = ADMIN_TOKEN } = {}) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as Omit<GraphQLResult, 'status'>;
      return { status: response.status, ...body } as GraphQLResult<never>;
    },
    async createProject(platform = 'node') {
      const slug = `p-${randomBytes(4).toString('hex')}`;
      const publicKey = newPublicKey();
      const project = await insertProject(db, {
        organizationId: org.id,
        slug,
        name: slug,
        platform,
        publicKey,
      });
      if (!project) throw new Error('project slug collision');
      return {
        id: project.id,
        slug,
        organizationSlug: org.slug,
        publicKey,
        dsn: buildDsn(url, publicKey, project.id),
      };
    },
    flushUsage: () => app.flushUsage(),
    envelopeUrl: (project) => `${url}/api/${project.id}/envelope/?sentry_key=${project.publicKey}`,
    async close() {
      await app.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.dispose();
    },
  };
}
