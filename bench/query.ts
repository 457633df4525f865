import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.ts';
import { bootstrap } from '../src/bootstrap.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import { createLogger } from '../src/log.ts';
import { loadDashboards } from '../src/modules/sessions/dashboards.ts';
import { printResponseCache } from './response-cache.ts';
import { seedSessions } from './seed.ts';
import { ADMIN_TOKEN, databaseExists, databaseUrlFor, freshPostgres } from './server.ts';
import { ms, quantile } from './stats.ts';

// Query benchmark on PostgreSQL: N releases × M sessions seeded through the store's bulk path,
// then each document measured over HTTP: p50/p99 latency and SQL statements per request.

export const RELEASES_TABLE = `query ReleasesTable {
  project(organizationSlug: "default", slug: "default") {
    releases(first: 25, sort: SESSIONS, period: "24h") {
      totalCount
      edges { node { version shortVersion
        health(period: "24h") {
          sessions users crashFreeSessions crashFreeUsers sessionsAdoption usersAdoption sessions24h }
        adoptionStage(environment: "production") { stage } } }
    }
  }
}`;

/** The same table with each release's median duration, which costs one more statement. */
export const RELEASES_TABLE_WITH_DURATIONS = RELEASES_TABLE.replace(
  'sessions24h }',
  'sessions24h durationP50 }',
).replace('query ReleasesTable', 'query ReleasesTableWithDurations');

export const RELEASE_STATS_14D = `query ReleaseStats($version: String!) {
  project(organizationSlug: "default", slug: "default") {
    release(version: $version) { health(period: "14d") {
      sessions crashFreeSessions stats { timestamp value crashFreeSessions } } }
  }
}`;

export interface Document {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
}

/** Every dashboard document, over the last 24 hours of all the organization's projects. */
function dashboardDocuments(): Document[] {
  return loadDashboards().map((d) => ({
    name: `dashboard ${d.name}`,
    query: d.text,
    variables: { org: 'default', period: '24h' },
  }));
}

export async function runQueryBench(o: { releases: number; sessions: number; reuse: boolean }) {
  const name = 'vigil_bench_query';
  const reuse = o.reuse && (await databaseExists(name));
  const url = reuse ? databaseUrlFor(name) : await freshPostgres(name);
  const db = await openDatabase({ databaseUrl: url, dataDir: '' });
  await migrate(db);
  const boot = await bootstrap(db, ADMIN_TOKEN);
  const projectId = boot.defaultProject?.id as number;
  const seedStart = performance.now();
  if (!reuse) {
    await seedSessions(db, projectId, {
      releases: o.releases,
      sessions: o.sessions,
      users: Math.max(1000, o.sessions / 50),
      days: 30,
      now: new Date(),
    });
  }
  const [sizes] = await db.prisma.$queryRawUnsafe<Array<{ releases: number; sessions: number }>>(
    `SELECT (SELECT count(*) FROM release)::int AS releases,
            (SELECT coalesce(sum(sessions), 0) FROM session_counter WHERE granularity = 86400)::float8 AS sessions`,
  );
  process.stdout.write(
    `query benchmark on PostgreSQL: ${sizes?.releases} releases, ${sizes?.sessions.toLocaleString('en-US')} sessions over 30 days (${reuse ? 'reused' : `seeded in ${((performance.now() - seedStart) / 1000).toFixed(0)} s`})\n`,
  );
  const config = loadConfig({
    VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
    VIGIL_GRAPHQL_RATE_LIMIT_PER_MINUTE: '0',
    // Every request computes: these are the uncached figures (cached ones: response-cache.ts).
    VIGIL_RESPONSE_CACHE_ENTRIES: '0',
    LOG_LEVEL: 'warn',
  });
  const app = createApp({ config, db, log: createLogger('warn') });
  const server = createServer(app.handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let statements = 0;
  db.onStatement(() => {
    statements += 1;
  });
  const documents: Document[] = [
    // Sentry's releases list: crash-free rates, sessions, users, adoption and stage.
    { name: 'releases table (25 releases, health, adoption, stage)', query: RELEASES_TABLE },
    { name: 'releases table with durationP50', query: RELEASES_TABLE_WITH_DURATIONS },
    {
      name: 'one release, 14-day stats',
      query: RELEASE_STATS_14D,
      variables: { version: `app@1.${o.releases}.0` },
    },
    ...dashboardDocuments(),
  ];
  for (const doc of documents) {
    const latencies: number[] = [];
    let perRequest = 0;
    for (let i = 0; i < 40; i++) {
      const before = statements;
      const t = performance.now();
      const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ query: doc.query, variables: doc.variables }),
      });
      const body = (await response.json()) as { errors?: unknown };
      if (body.errors) throw new Error(`${doc.name}: ${JSON.stringify(body.errors)}`);
      const text = JSON.stringify(body);
      if (text.includes('InvalidArgumentError'))
        throw new Error(`${doc.name}: ${text.slice(0, 300)}`);
      if (i >= 5) latencies.push(performance.now() - t); // the first runs warm caches and plans
      perRequest = statements - before;
    }
    process.stdout.write(
      `  ${doc.name}: p50 ${ms(quantile(latencies, 0.5))}, p99 ${ms(quantile(latencies, 0.99))}, ${perRequest} SQL statements\n`,
    );
  }
  server.close();
  await printResponseCache(db, documents);
  await db.close();
}
