import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { availableParallelism } from 'node:os';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { type CpuFigures, countCpu } from './cpu.ts';
import type { RunningVigil } from './server.ts';
import { ms, perSecond, quantile } from './stats.ts';

// Ingest benchmark: real envelopes over HTTP to a running Vigil, in the mix SDKs send them.
//  - 60 % JavaScript-style: one session update per envelope (an init, later its end);
//  - 30 % Python-style batches: 50 session updates per envelope;
//  - 10 % server mode: one `sessions` item of 5 minute buckets, 10 sessions each.

const sid = () => randomUUID().replace(/-/g, '');

function line(items: Array<{ type: string; payload: unknown }>): string {
  return [
    JSON.stringify({ sent_at: new Date().toISOString(), sdk: { name: 'bench', version: '1' } }),
    ...items.flatMap((i) => [JSON.stringify({ type: i.type }), JSON.stringify(i.payload)]),
  ].join('\n');
}

function update(release: string, init: boolean, status: string, id = sid()) {
  const now = new Date().toISOString();
  return {
    type: 'session',
    payload: {
      sid: id,
      did: `user-${Math.floor(Math.random() * 5000)}`,
      init,
      started: now,
      timestamp: now,
      status,
      errors: status === 'exited' ? 0 : 1,
      duration: Math.random() * 300,
      attrs: { release, environment: Math.random() < 0.8 ? 'production' : 'staging' },
    },
  };
}

/** One envelope of the mix, and how many session updates and aggregated sessions it carries. */
export function nextEnvelope(): { body: string; updates: number; aggregated: number } {
  const release = `bench@1.${Math.floor(Math.random() * 20)}.0`;
  const r = Math.random();
  if (r < 0.6) {
    const status = Math.random() < 0.5 ? 'ok' : Math.random() < 0.9 ? 'exited' : 'crashed';
    return { body: line([update(release, status === 'ok', status)]), updates: 1, aggregated: 0 };
  }
  if (r < 0.9) {
    const items = Array.from({ length: 50 }, () =>
      update(release, true, Math.random() < 0.95 ? 'exited' : 'crashed'),
    );
    return { body: line(items), updates: 50, aggregated: 0 };
  }
  const minute = Math.floor(Date.now() / 60_000) * 60_000;
  const aggregates = Array.from({ length: 5 }, (_, i) => ({
    started: new Date(minute - i * 60_000).toISOString(),
    exited: 8,
    errored: 1,
    crashed: 1,
  }));
  return {
    body: line([
      { type: 'sessions', payload: { aggregates, attrs: { release, environment: 'production' } } },
    ]),
    updates: 0,
    aggregated: 50,
  };
}

export interface IngestFigures {
  /** Requests in flight at once, as many SDK clients posting at the same time. */
  concurrency: number;
  updatesPerSecond: number;
  aggregatedPerSecond: number;
  envelopesPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** Seconds of run time, and the CPU seconds each part spent meanwhile (Linux only). */
  elapsed: number;
  cpu: CpuFigures | undefined;
}

/**
 * Envelopes for one run, made before the clock starts so that the load generator, which shares
 * the machine's two cores with Vigil and the database, spends its time sending, not building.
 * Times inside stay valid: a run lasts seconds, sessions may be days old.
 */
function prepareEnvelopes(count: number) {
  return Array.from({ length: count }, nextEnvelope);
}

/** One POST on a kept-alive connection; node:http costs the load generator less CPU than fetch. */
function post(url: string, body: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end(body);
  });
}

export async function loadIngest(
  vigil: RunningVigil,
  seconds: number,
  concurrency: number,
): Promise<IngestFigures> {
  const url = `${vigil.url}/api/${vigil.dsn.projectId}/envelope/?sentry_key=${vigil.dsn.publicKey}`;
  // Enough for 4,000 envelopes/s; more are built on the fly if a run outpaces that.
  const prepared = prepareEnvelopes(seconds * 4000);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let updates = 0;
  let aggregated = 0;
  let errors = 0;
  const stopCounting = countCpu(vigil.pid, vigil.database);
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const e = prepared.pop() ?? nextEnvelope();
        const t = performance.now();
        const status = await post(url, e.body, agent);
        latencies.push(performance.now() - t);
        if (status === 200) {
          updates += e.updates;
          aggregated += e.aggregated;
        } else errors += 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = stopCounting();
  agent.destroy();
  return {
    concurrency,
    updatesPerSecond: updates / elapsed,
    aggregatedPerSecond: aggregated / elapsed,
    envelopesPerSecond: latencies.length / elapsed,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    errors,
    elapsed,
    cpu,
  };
}

const RAW_TABLE = `CREATE TABLE IF NOT EXISTS bench_raw (
  project_id int NOT NULL, sid uuid NOT NULL, release_id int NOT NULL, started timestamptz NOT NULL,
  PRIMARY KEY (project_id, sid))`;
const RAW_INSERT = `INSERT INTO bench_raw SELECT 1, * FROM unnest($1::uuid[], $2::int[], $3::timestamptz[])
  ON CONFLICT (project_id, sid) DO NOTHING`;

/** The database's own multi-row INSERT … ON CONFLICT rate: the yardstick for ingest. */
export async function rawInsertRate(
  run: (sql: string, params?: unknown[]) => Promise<unknown>,
  rows = 200_000,
  batch = 1000,
): Promise<number> {
  await run(RAW_TABLE);
  const started = performance.now();
  for (let done = 0; done < rows; done += batch) {
    const ids = Array.from({ length: batch }, () => randomUUID());
    await run(RAW_INSERT, [ids, ids.map((_, i) => i % 20), ids.map(() => new Date())]);
  }
  const rate = rows / ((performance.now() - started) / 1000);
  await run('DROP TABLE bench_raw');
  return rate;
}

export async function rawRatePostgres(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await rawInsertRate((sql, params) => client.query(sql, params));
  } finally {
    await client.end();
  }
}

export async function rawRatePglite(): Promise<number> {
  const db = await PGlite.create();
  try {
    return await rawInsertRate((sql, params) => (params ? db.query(sql, params) : db.exec(sql)));
  } finally {
    await db.close();
  }
}

export function printIngest(label: string, f: IngestFigures, raw: number) {
  const sessionsPerSecond = f.updatesPerSecond + f.aggregatedPerSecond;
  process.stdout.write(
    [
      `ingest on ${label}, ${f.concurrency} requests in flight:`,
      `  envelopes ${perSecond(f.envelopesPerSecond)}, session updates ${perSecond(f.updatesPerSecond)}, aggregated sessions ${perSecond(f.aggregatedPerSecond)}`,
      `  request latency p50 ${ms(f.p50)}, p99 ${ms(f.p99)}; non-200 answers: ${f.errors}`,
      `  raw multi-row INSERT … ON CONFLICT: ${perSecond(raw)} rows`,
      `  Vigil / raw: ${((100 * sessionsPerSecond) / raw).toFixed(1)} % (updates + aggregated sessions vs raw rows)`,
      ...cpuLines(f),
      '',
    ].join('\n'),
  );
}

export function printCeiling(label: string, f: IngestFigures) {
  process.stdout.write(
    [
      `the same load against ${label}, ${f.concurrency} requests in flight:`,
      `  session updates ${perSecond(f.updatesPerSecond)}, aggregated sessions ${perSecond(f.aggregatedPerSecond)}; p50 ${ms(f.p50)}, p99 ${ms(f.p99)}`,
      ...cpuLines(f),
      '',
    ].join('\n'),
  );
}

/** Cores busy on average, and CPU microseconds per session (update or aggregated), per part. */
function cpuLines(f: IngestFigures): string[] {
  if (!f.cpu) return [];
  const sessions = (f.updatesPerSecond + f.aggregatedPerSecond) * f.elapsed;
  const part = (name: string, seconds: number) =>
    `${name} ${(seconds / f.elapsed).toFixed(2)} (${((seconds * 1e6) / sessions).toFixed(1)} µs/session)`;
  return [
    `  cores busy: ${[
      part('server', f.cpu.vigil),
      ...(f.cpu.database > 0 ? [part('PostgreSQL', f.cpu.database)] : []),
      part('load generator', f.cpu.loadGenerator),
    ].join(', ')} of ${availableParallelism()}`,
  ];
}
