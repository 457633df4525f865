import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { bootstrap } from '../src/bootstrap.ts';
import { openDatabase } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import { loadDashboards } from '../src/modules/sessions/dashboards.ts';
import { countCpu } from './cpu.ts';
import { RELEASES_TABLE } from './query.ts';
import { seedSessions } from './seed.ts';
import {
  ADMIN_TOKEN,
  databaseExists,
  databaseUrlFor,
  freshPostgres,
  type RunningVigil,
  startVigil,
} from './server.ts';
import { ms, perSecond, quantile } from './stats.ts';

// Reads under concurrency (issue 15): many readers at once against Vigil in its own process, as a
// user runs it, over seeded sessions. Each document runs for a fixed time with N clients, each
// sending its next request as soon as the last one is answered; figures are printed beside the
// rate of `{ __typename }` in the same run (Vigil's HTTP, auth and GraphQL stack with no I/O), so
// a ratio survives a busier or quieter machine better than a bare rate does.
//
// The load loop is node:http on kept-alive sockets (as the ingest bench), not autocannon: every
// answer is checked (status 200 and no GraphQL `errors`, which autocannon counts as successes),
// latencies keep sub-millisecond precision (autocannon's histogram is in whole milliseconds), and
// it needs no dependency. The load generator's own CPU is printed with the figures.

export interface ReadDocument {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
}

export interface ReadFigures {
  name: string;
  /** Requests answered per second with `clients` in flight. */
  rate: number;
  p50: number;
  p99: number;
  /** p50 of the same document with one client, requests one after the other. */
  singleP50: number;
  failures: number;
  /** p50 with one client on the computed path (response cache off): what "p99/1-p50" divides by. */
  computedSingleP50?: number;
  /** Cores busy during the concurrent run: Vigil, PostgreSQL, the load generator. */
  cores?: { vigil: number; database: number; loadGenerator: number };
}

const TYPENAME = '{ __typename }';

/**
 * How Vigil runs for a pass. The response cache answers repeats without SQL, but every commit of
 * sessions for an organization drops its cached answers, so a project with live traffic mostly
 * reads through the computed path: each pass is printed, the computed one first.
 */
export interface ReadMode {
  label: string;
  env: Record<string, string>;
  /** Session envelopes sent per second to the seeded project while the pass runs. */
  ingestPerSecond: number;
}

export const READ_MODES: readonly ReadMode[] = [
  { label: 'response cache off', env: { VIGIL_RESPONSE_CACHE_ENTRIES: '0' }, ingestPerSecond: 0 },
  { label: 'response cache on', env: {}, ingestPerSecond: 0 },
  { label: 'response cache on, 10 session envelopes/s arriving', env: {}, ingestPerSecond: 10 },
];

const ONE_RELEASE_24H = `query OneRelease($version: String!) {
  project(organizationSlug: "default", slug: "default") {
    release(version: $version) {
      health(period: "24h") {
        sessions users crashFreeSessions crashFreeUsers sessionsAdoption usersAdoption }
    }
  }
}`;

/** The documents measured, in the order printed; the first is the yardstick. */
export function readDocuments(releases: number): ReadDocument[] {
  return [
    { name: '{ __typename }', query: TYPENAME },
    {
      name: "one release's 24 h health",
      query: ONE_RELEASE_24H,
      variables: { version: `app@1.${releases}.0` },
    },
    { name: 'releases table (25, sort SESSIONS, health, adoption, stage)', query: RELEASES_TABLE },
    ...loadDashboards().map((d) => ({
      name: `dashboard ${d.name}`,
      query: d.text,
      variables: { org: 'default', period: '24h' },
    })),
  ];
}

/** One POST on a kept-alive connection; resolves to an error text, or null when it answered well. */
function post(url: string, body: string, agent: Agent): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.once('end', () => {
          if (res.statusCode !== 200) resolve(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
          else if (text.includes('"errors"')) resolve(text.slice(0, 300));
          else resolve(null);
        });
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

/** Posts one session (an app's start) every 1/rate s until stopped: each is one commit. */
function sessionsArriving(vigil: RunningVigil, perSecond: number, version: string): () => void {
  if (perSecond <= 0) return () => {};
  const url = `${vigil.url}/api/${vigil.dsn.projectId}/envelope/?sentry_key=${vigil.dsn.publicKey}`;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const timer = setInterval(() => {
    const session = {
      sid: randomUUID(),
      did: `reader-${Math.floor(Math.random() * 1000)}`,
      init: true,
      started: new Date().toISOString(),
      status: 'exited',
      duration: 30,
      attrs: { release: version, environment: 'production' },
    };
    const body = `{}\n{"type":"session"}\n${JSON.stringify(session)}\n`;
    const req = request(url, { method: 'POST', agent }, (res) => res.resume());
    req.once('error', () => {});
    req.end(body);
  }, 1000 / perSecond);
  return () => {
    clearInterval(timer);
    agent.destroy();
  };
}

async function measure(
  vigil: RunningVigil,
  doc: ReadDocument,
  o: { seconds: number; clients: number },
): Promise<ReadFigures> {
  const url = `${vigil.url}/graphql`;
  const body = JSON.stringify({ query: doc.query, variables: doc.variables });
  const agent = new Agent({ keepAlive: true, maxSockets: o.clients });
  const expectOk = (error: string | null) => {
    if (error) throw new Error(`${doc.name}: ${error}`);
  };
  // Warm-up: plans, caches, JIT; then one client alone (at most 40 requests or 5 s).
  for (let i = 0; i < 5; i++) expectOk(await post(url, body, agent));
  const single: number[] = [];
  const singleUntil = performance.now() + 5000;
  while (single.length < 40 && (single.length < 5 || performance.now() < singleUntil)) {
    const t = performance.now();
    expectOk(await post(url, body, agent));
    single.push(performance.now() - t);
  }
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | null = null;
  const stopCounting = countCpu(vigil.pid, vigil.database);
  const started = performance.now();
  const deadline = started + o.seconds * 1000;
  await Promise.all(
    Array.from({ length: o.clients }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        const error = await post(url, body, agent);
        latencies.push(performance.now() - t);
        if (error) {
          failures += 1;
          firstFailure ??= error;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = stopCounting();
  agent.destroy();
  if (firstFailure) process.stderr.write(`  ${doc.name}: first failure: ${firstFailure}\n`);
  return {
    name: doc.name,
    rate: (latencies.length - failures) / elapsed,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    singleP50: quantile(single, 0.5),
    failures,
    cores: cpu && {
      vigil: cpu.vigil / elapsed,
      database: cpu.database / elapsed,
      loadGenerator: cpu.loadGenerator / elapsed,
    },
  };
}

export function printReads(label: string, clients: number, figures: ReadFigures[]) {
  const base = figures[0]?.rate ?? Number.NaN;
  const pct = (n: number) => `${((100 * n) / base).toFixed(n / base < 0.1 ? 2 : 1)} %`;
  const width = Math.max(...figures.map((f) => f.name.length));
  const lines = [
    `reads on ${label}, ${clients} clients (load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} on ${availableParallelism()} cores):`,
    `  ${'document'.padEnd(width)}  ${'req/s'.padStart(8)}  ${'of {__typename}'.padStart(15)}  ${'p50'.padStart(10)}  ${'p99'.padStart(10)}  ${'1-client p50'.padStart(12)}  ${'p99/1-p50*'.padStart(10)}  cores vigil+db+load`,
  ];
  for (const f of figures) {
    lines.push(
      `  ${f.name.padEnd(width)}  ${perSecond(f.rate).padStart(8)}  ${pct(f.rate).padStart(15)}  ${ms(f.p50).padStart(10)}  ${ms(f.p99).padStart(10)}  ${ms(f.singleP50).padStart(12)}  ${(f.p99 / (f.computedSingleP50 ?? f.singleP50)).toFixed(1).padStart(10)}  ${
        f.cores
          ? `${f.cores.vigil.toFixed(2)}+${f.cores.database.toFixed(2)}+${f.cores.loadGenerator.toFixed(2)}`
          : ''
      }${f.failures ? `  FAILED ${f.failures}` : ''}`,
    );
  }
  lines.push(
    '  * p99 with all clients ÷ the p50 of one client alone on the computed path (response cache off)',
  );
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

interface SeedSize {
  releases: number;
  sessions: number;
}

/** Migrates, bootstraps and seeds one database, as `runQueryBench` does. */
async function seed(databaseUrl: string | undefined, dataDir: string, size: SeedSize) {
  const db = await openDatabase({ databaseUrl, dataDir });
  try {
    await migrate(db);
    const boot = await bootstrap(db, ADMIN_TOKEN);
    await seedSessions(db, boot.defaultProject?.id as number, {
      releases: size.releases,
      sessions: size.sessions,
      users: Math.max(1000, size.sessions / 50),
      days: 30,
      now: new Date(),
    });
  } finally {
    await db.close();
  }
}

/** What a database holds (a reused one may differ from the flags). */
async function seededSize(url: string): Promise<SeedSize> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<SeedSize>(
      `SELECT (SELECT count(*) FROM release)::int AS releases,
              (SELECT coalesce(sum(sessions), 0) FROM session_counter WHERE granularity = 86400 AND release_id <> 0)::float8 AS sessions`,
    );
    return rows[0] as SeedSize;
  } finally {
    await client.end();
  }
}

async function runOn(
  label: string,
  start: (env: Record<string, string>) => Promise<RunningVigil>,
  releases: number,
  o: { seconds: number; clients: number; only?: string },
) {
  const documents = readDocuments(releases).filter(
    (doc) => !o.only || doc.name === '{ __typename }' || doc.name.includes(o.only),
  );
  // The computed path's single-client p50 of each document: the yardstick for p99 in every pass.
  const computedSingle = new Map<string, number>();
  for (const mode of READ_MODES) {
    const vigil = await start(mode.env);
    try {
      const figures: ReadFigures[] = [];
      for (const doc of documents) {
        const stop = sessionsArriving(vigil, mode.ingestPerSecond, `app@1.${releases}.0`);
        try {
          const f = await measure(vigil, doc, o);
          if (!computedSingle.has(doc.name)) computedSingle.set(doc.name, f.singleP50);
          figures.push({ ...f, computedSingleP50: computedSingle.get(doc.name) ?? f.singleP50 });
        } finally {
          stop();
        }
      }
      printReads(`${label}, ${mode.label}`, o.clients, figures);
    } finally {
      await vigil.stop();
    }
  }
}

export async function runReadsBench(o: {
  postgres: SeedSize;
  pglite: SeedSize;
  reuse: boolean;
  seconds: number;
  clients: number;
  /** Only documents whose name contains this (and `{ __typename }`). */
  only?: string;
  /** The PostgreSQL database seeded (and kept for `--reuse`). @default vigil_bench_reads */
  database?: string;
  /** Skip PGlite (or PostgreSQL) entirely. */
  databases: ReadonlyArray<'postgres' | 'pglite'>;
}) {
  if (o.databases.includes('postgres')) {
    const name = o.database ?? 'vigil_bench_reads';
    const reuse = o.reuse && (await databaseExists(name));
    const url = reuse ? databaseUrlFor(name) : await freshPostgres(name);
    const t = performance.now();
    if (!reuse) await seed(url, '', o.postgres);
    const seeded = await seededSize(url);
    await runOn(
      `PostgreSQL, ${seeded.releases} releases, ${seeded.sessions.toLocaleString('en-US')} sessions over 30 days (${reuse ? 'reused' : `seeded in ${((performance.now() - t) / 1000).toFixed(0)} s`})`,
      (env) => startVigil(url, 'src/main.ts', undefined, env),
      seeded.releases,
      o,
    );
  }
  if (o.databases.includes('pglite')) {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-bench-reads-'));
    try {
      await seed(undefined, dataDir, o.pglite);
      await runOn(
        `PGlite, ${o.pglite.releases} releases, ${o.pglite.sessions.toLocaleString('en-US')} sessions over 30 days`,
        (env) => startVigil(undefined, 'src/main.ts', dataDir, env),
        o.pglite.releases,
        o,
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
}
