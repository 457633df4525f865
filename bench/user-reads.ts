import { resolve } from 'node:path';
import { flag as flagOf, serveCheckout } from './checkout.ts';
import { ADMIN_TOKEN } from './server.ts';
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
const flag = (name: string, fallback: string) => flagOf(args, name, fallback);
const databases = flag(
  'databases',
  'vigil_bench_query_1000000_1000000,vigil_bench_query_10000000_1000000',
).split(',');
const rounds = Number(flag('rounds', '40'));
const here = resolve(import.meta.dirname, '..');
const trees = [here, ...(args.includes('--compare') ? flag('compare', '').split(',') : [])];

/** One checkout's Vigil on `database`, asking its own user dashboards. */
async function serve(tree: string, database: string) {
  // A series' statements are told apart from the totals' by their tag.
  const vigil = await serveCheckout(
    tree,
    database,
    (sql) =>
      `${/\/\* (\w+) \*\//.exec(sql)?.[1] ?? 'other'}${sql.includes('AS interval') ? ' (series)' : ''}`,
  );
  const { loadDashboards } = await import(`${tree}/src/modules/sessions/dashboards.ts`);
  const documents = (loadDashboards() as Array<{ name: string; text: string }>).filter((d) =>
    d.name.startsWith('user-'),
  );
  const ask = async (text: string) => {
    const response = await fetch(`http://127.0.0.1:${vigil.port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query: text, variables: { org: 'default', period: '24h' } }),
    });
    return response.text();
  };
  return { ...vigil, documents, ask };
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
