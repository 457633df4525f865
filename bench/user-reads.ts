import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { Database } from '../src/db/client.ts';
import { ADMIN_TOKEN, databaseUrlFor } from './server.ts';
import { ms, quantile } from './stats.ts';

// The two user dashboards (User Counts, User Health) alone, on databases the query bench seeded
// (`npm run bench -- --only query … --reuse` first): a short loop for profiling the user-set read
// path. Reads only; runs no migration.
//   tsx bench/user-reads.ts [--databases vigil_bench_query_1000000_1000000,…] [--rounds 40]
//     [--compare /tmp/base,…]  other checkouts of Vigil (`git worktree add /tmp/base <commit>`,
//                              with node_modules and src/generated), each serving beside this
//                              one on the same database, requests interleaved so that load on a
//                              shared machine falls on all alike; says whether answers agree
//     [--explain]              EXPLAIN (ANALYZE, BUFFERS) of each statement once (this checkout)

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
const here = resolve(import.meta.dirname, '..');
const trees = [here, ...(args.includes('--compare') ? flag('compare', '').split(',') : [])];

interface Statement {
  sql: string;
  params: unknown[];
}

/** One checkout's Vigil on `database`, with its raw statements recorded and timed. */
async function serve(tree: string, database: string) {
  const { createApp } = await import(`${tree}/src/app.ts`);
  const { loadConfig } = await import(`${tree}/src/config.ts`);
  const { openDatabase } = await import(`${tree}/src/db/client.ts`);
  const { createLogger } = await import(`${tree}/src/log.ts`);
  const { loadDashboards } = await import(`${tree}/src/modules/sessions/dashboards.ts`);
  const db: Database = await openDatabase({ databaseUrl: databaseUrlFor(database), dataDir: '' });
  const statements: Statement[] = [];
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
  }) as typeof raw;
  // Reads on the driver (`db.query`, where a checkout has it) are timed and recorded the same way.
  const query = db.query?.bind(db);
  if (query) {
    db.query = (async (sql: string, params: unknown[] = []) => {
      const t = performance.now();
      const rows = await query(sql, params);
      statements.push({ sql, params });
      const tag = `${/\/\* (\w+) \*\//.exec(sql)?.[1] ?? 'other'}${sql.includes('AS interval') ? ' (series)' : ''}`;
      if (!waits.has(tag)) waits.set(tag, []);
      waits.get(tag)?.push(performance.now() - t);
      return rows;
    }) as typeof query;
  }
  const config = loadConfig({
    VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
    VIGIL_GRAPHQL_RATE_LIMIT_PER_MINUTE: '0',
    VIGIL_RESPONSE_CACHE_ENTRIES: '0',
    LOG_LEVEL: 'warn',
  });
  const app = createApp({ config, db, log: createLogger('warn') });
  const server = createServer(app.handler);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  const documents = (loadDashboards() as Array<{ name: string; text: string }>).filter((d) =>
    d.name.startsWith('user-'),
  );
  const ask = async (text: string) => {
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query: text, variables: { org: 'default', period: '24h' } }),
    });
    return response.text();
  };
  const stop = async () => {
    server.close();
    await db.close();
  };
  return { tree, documents, statements, waits, raw, ask, stop };
}

for (const database of databases) {
  const vigils = [];
  for (const tree of trees) vigils.push(await serve(tree, database));
  const latencies = new Map<string, number[]>();
  const answers = new Map<string, string>();
  for (let i = 0; i < rounds + 5; i++) {
    // Interleaved, alternating who goes first, so a burst of load falls on every one.
    for (const doc of vigils[0]?.documents ?? []) {
      for (const vigil of i % 2 ? [...vigils].reverse() : vigils) {
        const t = performance.now();
        const text = await vigil.ask(doc.text);
        const elapsed = performance.now() - t;
        if (text.includes('"errors"')) throw new Error(`${doc.name}: ${text.slice(0, 300)}`);
        const key = `${doc.name}|${vigil.tree}`;
        if (i >= 5) latencies.set(key, [...(latencies.get(key) ?? []), elapsed]);
        answers.set(key, text);
      }
    }
  }
  process.stdout.write(`${database}:\n`);
  for (const vigil of vigils) {
    for (const doc of vigil.documents) {
      const key = `${doc.name}|${vigil.tree}`;
      const l = latencies.get(key) ?? [];
      const agrees =
        vigil.tree === here ? '' : answers.get(key) === answers.get(`${doc.name}|${here}`);
      process.stdout.write(
        `  ${vigil.tree} dashboard ${doc.name}: p50 ${ms(quantile(l, 0.5))}, p90 ${ms(quantile(l, 0.9))}${agrees === '' ? '' : `, same answer as ${here}: ${agrees}`}\n`,
      );
    }
    for (const [tag, times] of vigil.waits) {
      process.stdout.write(
        `  ${vigil.tree} statement ${tag}: p50 ${ms(quantile(times, 0.5))} (${times.length})\n`,
      );
    }
  }
  const [own] = vigils;
  if (own && args.includes('--explain')) {
    for (const doc of own.documents) {
      own.statements.length = 0;
      await own.ask(doc.text);
      for (const s of [...own.statements]) {
        const plan = await own.raw<Array<{ 'QUERY PLAN': string }>>(
          `EXPLAIN (ANALYZE, BUFFERS) ${s.sql}`,
          ...s.params,
        );
        process.stdout.write(
          `--- ${doc.name}: ${s.sql.slice(0, 40).replace(/\s+/g, ' ')}… params ${JSON.stringify(s.params)}\n${plan.map((p) => p['QUERY PLAN']).join('\n')}\n`,
        );
      }
    }
  }
  for (const vigil of vigils) await vigil.stop();
}
