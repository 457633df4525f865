import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.ts';
import { bootstrap } from '../src/bootstrap.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import { createLogger } from '../src/log.ts';
import { DAY } from '../src/metrics/metric-store.ts';
import { loadDashboards } from '../src/modules/sessions/dashboards.ts';
import { UNCACHED_ENV } from './checkout.ts';
import { printResponseCache } from './response-cache.ts';
import { seedSessions } from './seed.ts';
import { ADMIN_TOKEN, databaseExists, databaseUrlFor, freshPostgres } from './server.ts';
import { ms, quantile } from './stats.ts';

// Query benchmark on PostgreSQL: N releases × M sessions seeded through the store's bulk path,
// then each document measured over HTTP: p50/p99 latency and SQL statements per request.

/**
 * Sentry's releases list, issue 14's releases-table target (p50 < 25 ms at 10 M sessions): the
 * project's 25 releases with the most sessions in the last 24 h (ranked in the database), each
 * with its health over 24 h, adoption (its share of the project's sessions and users) and its
 * stage in production. Printed as "releases table (25 releases, health, adoption, stage)";
 * `bench/releases-table.ts` runs it alone (docs/design.md § The releases table at 10 M).
 */
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

/**
 * How the bench's client asks, in this process: `http`, node:http on one kept-alive connection,
 * the clock stopped when the body is parsed; `fetch`, the first method: fetch (undici), the clock
 * stopped after the parsed body was printed again. Both are a client's whole wait, request sent
 * to answer in hand; fetch adds about 2 ms of client CPU to each request on this machine
 * (docs/design.md § The releases table at 10 M).
 */
export type BenchClient = 'http' | 'fetch';

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** Posts a GraphQL request; the answer, parsed, and the client's wait for it in ms. */
export async function askGraphql(
  port: number,
  body: string,
  client: BenchClient,
): Promise<{ answer: { errors?: unknown; data?: unknown }; elapsed: number }> {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` };
  const t = performance.now();
  if (client === 'fetch') {
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers,
      body,
    });
    const answer = (await response.json()) as { errors?: unknown; data?: unknown };
    JSON.stringify(answer);
    return { answer, elapsed: performance.now() - t };
  }
  const text = await new Promise<string>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  const answer = JSON.parse(text) as { errors?: unknown; data?: unknown };
  return { answer, elapsed: performance.now() - t };
}

export interface QueryBenchOptions {
  releases: number;
  sessions: number;
  /** Distinct users the sessions are drawn from. */
  users: number;
  reuse: boolean;
  /**
   * The database to run on. @default `vigil_bench_query_<sessions>_<users>`; another name lets a
   * run use a copy (`CREATE DATABASE … TEMPLATE …`) while the default one is seeded or in use.
   */
  database?: string;
  /** @default 'http' */
  client?: BenchClient;
}

/** p50 latency of each document, by name, for comparing sizes. */
export type QueryFigures = Map<string, number>;

export async function runQueryBench(o: QueryBenchOptions): Promise<QueryFigures> {
  const name = o.database ?? `vigil_bench_query_${o.sessions}_${o.users}`;
  const reuse = o.reuse && (await databaseExists(name));
  const url = reuse ? databaseUrlFor(name) : await freshPostgres(name);
  let db = await openDatabase({ databaseUrl: url, dataDir: '' });
  // A migration that rewrote tables leaves them as autovacuum would not (it may be off).
  if ((await migrate(db)).length > 0) await db.prisma.$executeRawUnsafe('VACUUM ANALYZE');
  const boot = await bootstrap(db, ADMIN_TOKEN);
  const projectId = boot.defaultProject?.id as number;
  const seedStart = performance.now();
  if (!reuse) {
    await seedSessions(db, projectId, {
      releases: o.releases,
      sessions: o.sessions,
      users: o.users,
      days: 30,
      now: new Date(),
      keepSessions: true,
    });
    // Served through connections of its own, as a running Vigil's would be: right after seeding
    // 10 M sessions through the same pool, every 10 M document measured about twice as slow as
    // in a run that reused the database.
    await db.close();
    db = await openDatabase({ databaseUrl: url, dataDir: '' });
  }
  const [sizes] = await db.prisma.$queryRawUnsafe<Array<{ releases: number; sessions: number }>>(
    `SELECT (SELECT count(*) FROM release)::int AS releases,
            (SELECT coalesce(sum(sessions), 0) FROM session_counter WHERE granularity = ${DAY} AND release_id <> 0)::float8 AS sessions`,
  );
  const sessions = sizes?.sessions ?? 0;
  process.stdout.write(
    `query benchmark on PostgreSQL: ${sizes?.releases} releases, ${sessions.toLocaleString('en-US')} sessions of ${o.users.toLocaleString('en-US')} users over 30 days (${reuse ? 'reused' : `seeded in ${((performance.now() - seedStart) / 1000).toFixed(0)} s`}; ${name}, client ${o.client ?? 'http'})\n`,
  );
  await printStorage(db, sessions);
  // Every request computes: these are the uncached figures (cached ones: response-cache.ts).
  const config = loadConfig(UNCACHED_ENV);
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
  const figures: QueryFigures = new Map();
  const answers = new Map<string, unknown>();
  for (const doc of documents) {
    const latencies: number[] = [];
    let perRequest = 0;
    for (let i = 0; i < 40; i++) {
      const before = statements;
      const { answer: body, elapsed } = await askGraphql(
        port,
        JSON.stringify({ query: doc.query, variables: doc.variables }),
        o.client ?? 'http',
      );
      if (body.errors) throw new Error(`${doc.name}: ${JSON.stringify(body.errors)}`);
      const text = JSON.stringify(body);
      if (text.includes('InvalidArgumentError'))
        throw new Error(`${doc.name}: ${text.slice(0, 300)}`);
      if (i >= 5) latencies.push(elapsed); // the first runs warm caches and plans
      perRequest = statements - before;
      answers.set(doc.name, body.data);
    }
    figures.set(doc.name, quantile(latencies, 0.5));
    process.stdout.write(
      `  ${doc.name}: p50 ${ms(quantile(latencies, 0.5))}, p99 ${ms(quantile(latencies, 0.99))}, ${perRequest} SQL statements\n`,
    );
  }
  await printAccuracy(db, answers);
  server.close();
  await printResponseCache(db, documents);
  await db.close();
  return figures;
}

/** Bytes of the metric tables (with indexes and TOAST) per million sessions. */
async function printStorage(db: Awaited<ReturnType<typeof openDatabase>>, sessions: number) {
  const tables = ['session_counter', 'session_user_set', 'session_user_delta', 'session_duration'];
  const rows = await db.prisma.$queryRawUnsafe<Array<{ name: string; bytes: number }>>(
    `SELECT t AS name, pg_total_relation_size(t)::float8 AS bytes FROM unnest($1::text[]) t`,
    tables,
  );
  const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
  const perMillion = (b: number) => (sessions > 0 ? (b * 1e6) / sessions : 0);
  const total = rows.reduce((sum, r) => sum + r.bytes, 0);
  process.stdout.write(
    `  storage per million sessions: ${mb(perMillion(total))} (${rows.map((r) => `${r.name} ${mb(perMillion(r.bytes))}`).join(', ')})\n`,
  );
}

interface SessionsAnswer {
  organization: {
    sessions: {
      start: string;
      end: string;
      intervals: string[];
      groups: Array<{
        by?: { sessionStatus?: string | null };
        totals: Record<string, number | boolean | null>;
        series: Record<string, Array<number | boolean | null>>;
      }>;
    };
  };
}

/**
 * The worst relative error of the dashboards' user numbers (User Counts, User Health: totals and
 * every hourly point) against exact distinct counts over the seeded sessions themselves (and any
 * ingested since, from their session states).
 */
async function printAccuracy(
  db: Awaited<ReturnType<typeof openDatabase>>,
  answers: Map<string, unknown>,
) {
  const health = answers.get('dashboard user-health') as SessionsAnswer | undefined;
  const counts = answers.get('dashboard user-counts') as SessionsAnswer | undefined;
  const kept = await db.prisma.$queryRawUnsafe<Array<{ n: number }>>(
    "SELECT count(*)::int AS n FROM pg_class WHERE relname = 'bench_sessions'",
  );
  if (!health || !counts || kept[0]?.n !== 1) {
    process.stdout.write('  user-count accuracy: not measured (no seeded sessions kept)\n');
    return;
  }
  const { start, end, intervals } = health.organization.sessions;
  const exact = await db.prisma.$queryRawUnsafe<
    Array<{ interval: number | null; users: number; errored: number; crashed: number }>
  >(
    `SELECT CASE WHEN GROUPING(i) = 1 THEN NULL ELSE i END AS interval, count(DISTINCT user_hash)::float8 AS users,
            count(DISTINCT user_hash) FILTER (WHERE r < 0.07)::float8 AS errored,
            count(DISTINCT user_hash) FILTER (WHERE r < 0.02)::float8 AS crashed
     FROM (SELECT *, floor(extract(epoch FROM date_trunc('hour', started) - $1::timestamptz) / 3600)::int AS i
           FROM (SELECT started, user_hash, r FROM bench_sessions
                 -- Sessions ingested since the seed (the reads bench sends some) count too: their
                 -- states hold the same user hash and facts (r stands for errored, crashed).
                 UNION ALL
                 SELECT started, user_hash, CASE WHEN crashed THEN 0 WHEN errored THEN 0.05 ELSE 1 END
                 FROM session_state WHERE init_seen AND user_hash IS NOT NULL) all_sessions
           WHERE date_trunc('hour', started) >= $1 AND date_trunc('hour', started) < $2) s
     GROUP BY ROLLUP (i)`,
    new Date(start),
    new Date(end),
  );
  let worst = 0;
  let worstWhat = '';
  let compared = 0;
  const compare = (what: string, estimate: unknown, truth: number | null) => {
    if (typeof estimate !== 'number' || truth === null || truth === 0) return;
    compared += 1;
    const error = Math.abs(estimate - truth) / Math.abs(truth);
    if (error > worst) {
      worst = error;
      worstWhat = `${what}: ${estimate} vs ${truth}`;
    }
  };
  const expected = (e: { users: number; errored: number; crashed: number }) => ({
    users: e.users,
    usersHealthy: e.users - e.errored,
    usersErrored: e.errored - e.crashed,
    usersCrashed: e.crashed,
    healthyRateUsers: ((e.users - e.errored) / e.users) * 100,
    erroredRateUsers: ((e.errored - e.crashed) / e.users) * 100,
    crashRateUsers: (e.crashed / e.users) * 100,
  });
  const at = (i: number | null) => exact.find((e) => e.interval === i);
  const [group] = health.organization.sessions.groups;
  for (let i = -1; i < intervals.length; i++) {
    const e = at(i < 0 ? null : i);
    if (!e || !group) continue;
    const x = expected(e);
    const value = (field: string) =>
      i < 0 ? group.totals[field] : (group.series[field] as unknown[] | undefined)?.[i];
    for (const field of ['users', 'healthyRateUsers', 'erroredRateUsers', 'crashRateUsers']) {
      compare(
        `user-health ${field}${i < 0 ? '' : `[${i}]`}`,
        value(field),
        x[field as keyof typeof x],
      );
    }
    for (const g of counts.organization.sessions.groups) {
      const status = g.by?.sessionStatus;
      const key = { HEALTHY: 'usersHealthy', ERRORED: 'usersErrored', CRASHED: 'usersCrashed' }[
        status ?? ''
      ] as keyof typeof x | undefined;
      if (!key) continue;
      compare(
        `user-counts ${status}${i < 0 ? '' : `[${i}]`}`,
        i < 0 ? g.totals.users : g.series.users?.[i],
        x[key],
      );
    }
  }
  process.stdout.write(
    `  user-count accuracy: worst relative error ${(worst * 100).toFixed(2)} % over ${compared} dashboard numbers (worst: ${worstWhat})\n`,
  );
}
