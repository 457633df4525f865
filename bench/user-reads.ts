import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/client.ts';
import { createLogger } from '../src/log.ts';
import { loadDashboards } from '../src/modules/sessions/dashboards.ts';
import { ADMIN_TOKEN, databaseUrlFor } from './server.ts';
import { ms, quantile } from './stats.ts';

// The two user dashboards (User Counts, User Health) alone, on databases the query bench seeded
// (`npm run bench -- --only query … --reuse` first): a short loop for profiling the user-set read
// path. Reads only; runs no migration.
//   tsx bench/user-reads.ts [--databases vigil_bench_query_1000000_1000000,…] [--rounds 40]
//                           [--explain]   (EXPLAIN (ANALYZE, BUFFERS) of each statement once)

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const databases = flag(
  'databases',
  'vigil_bench_query_1000000_1000000,vigil_bench_query_10000000_1000000',
).split(',');
const rounds = Number(flag('rounds', '40'));
const documents = loadDashboards().filter((d) => d.name.startsWith('user-'));

for (const name of databases) {
  const db = await openDatabase({ databaseUrl: databaseUrlFor(name), dataDir: '' });
  const statements: Array<{ sql: string; params: unknown[] }> = [];
  const raw = db.prisma.$queryRawUnsafe.bind(db.prisma);
  // Each raw statement's time as Vigil waits for it (send to rows in hand), by its tag and
  // whether it is a series; and the statement with its parameters, for EXPLAIN.
  const waits = new Map<string, number[]>();
  db.prisma.$queryRawUnsafe = (async (sql: string, ...params: unknown[]) => {
    statements.push({ sql, params });
    const t = performance.now();
    const rows = await raw(sql, ...params);
    const tag = `${/\/\* (\w+) \*\//.exec(sql)?.[1] ?? 'other'}${sql.includes('AS interval') ? ' (series)' : ''}`;
    if (!waits.has(tag)) waits.set(tag, []);
    waits.get(tag)?.push(performance.now() - t);
    return rows;
  }) as typeof db.prisma.$queryRawUnsafe;
  const config = loadConfig({
    VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
    VIGIL_GRAPHQL_RATE_LIMIT_PER_MINUTE: '0',
    VIGIL_RESPONSE_CACHE_ENTRIES: '0',
    LOG_LEVEL: 'warn',
  });
  const app = createApp({ config, db, log: createLogger('warn') });
  const server = createServer(app.handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const latencies = new Map<string, number[]>(documents.map((d) => [d.name, []]));
  const bytes = new Map<string, number>();
  for (let i = 0; i < rounds + 5; i++) {
    // Alternated, so a burst of load on the machine falls on both.
    for (const doc of documents) {
      statements.length = 0;
      const t = performance.now();
      const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ query: doc.text, variables: { org: 'default', period: '24h' } }),
      });
      const text = await response.text();
      if (text.includes('"errors"')) throw new Error(`${doc.name}: ${text.slice(0, 300)}`);
      if (i >= 5) latencies.get(doc.name)?.push(performance.now() - t);
      bytes.set(doc.name, text.length);
    }
  }
  process.stdout.write(`${name}:\n`);
  for (const doc of documents) {
    const l = latencies.get(doc.name) ?? [];
    process.stdout.write(
      `  dashboard ${doc.name}: p50 ${ms(quantile(l, 0.5))}, p90 ${ms(quantile(l, 0.9))}, ${bytes.get(doc.name)} bytes of JSON\n`,
    );
  }
  for (const [tag, times] of waits) {
    process.stdout.write(`  statement ${tag}: p50 ${ms(quantile(times, 0.5))} (${times.length})\n`);
  }
  if (args.includes('--explain')) {
    for (const doc of documents) {
      statements.length = 0;
      await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ query: doc.text, variables: { org: 'default', period: '24h' } }),
      }).then((r) => r.text());
      for (const s of [...statements]) {
        const plan = await raw<Array<{ 'QUERY PLAN': string }>>(
          `EXPLAIN (ANALYZE, BUFFERS) ${s.sql}`,
          ...s.params,
        );
        process.stdout.write(
          `--- ${doc.name}: ${s.sql.slice(0, 40).replace(/\s+/g, ' ')}… params ${JSON.stringify(s.params)}\n${plan.map((p) => p['QUERY PLAN']).join('\n')}\n`,
        );
      }
    }
  }
  server.close();
  await db.close();
}
