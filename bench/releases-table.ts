import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { resolve } from 'node:path';
import { flag as flagOf, serveCheckout } from './checkout.ts';
import { askGraphql, type BenchClient, RELEASES_TABLE } from './query.ts';
import { ms, quantile } from './stats.ts';

// The releases table alone (bench/query.ts's RELEASES_TABLE), on a database the query bench
// seeded: a short loop for A/B runs and profiles of issue 14's releases-table target. Reads only;
// runs no migration (apply this checkout's first: the query bench with `--database` does).
//   tsx bench/releases-table.ts --databases <name>,… [--rounds 40]
//     [--compare /tmp/base,…]  other checkouts of Vigil (with node_modules and src/generated),
//                              each serving beside this one on the same database, requests
//                              interleaved so that load on a shared machine falls on all alike;
//                              counts the rounds whose answers differ from this checkout's
//     [--explain]              EXPLAIN (ANALYZE, BUFFERS) of each statement once (this checkout)
//     [--client http|fetch]    the query bench's client (bench/query.ts BenchClient)
//     [--only-this]            no requests to other checkouts
//     [--profile <file>]       a CPU profile (.cpuprofile) of the measured rounds only: no
//                              start-up, no module loading, no warm-up

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => flagOf(args, name, fallback);
const databases = flag('databases', 'vigil_bench_query_1000000_1000000').split(',');
const rounds = Number(flag('rounds', '40'));
const client: BenchClient = flag('client', 'http') === 'fetch' ? 'fetch' : 'http';
const here = resolve(import.meta.dirname, '..');
const trees = [here, ...(args.includes('--compare') ? flag('compare', '').split(',') : [])];

/** One checkout's Vigil on `database`, asking the releases table as the query bench does. */
async function serve(tree: string, database: string) {
  const vigil = await serveCheckout(tree, database);
  // As the query bench measures (its `--client`).
  const ask = (client: BenchClient) =>
    askGraphql(vigil.port, JSON.stringify({ query: RELEASES_TABLE }), client);
  return { ...vigil, ask };
}

/**
 * The answer with every object's keys sorted: yoga's executor orders a response's keys as its
 * fields resolve (promiseForObject), so two servers give the same answer in different orders.
 */
function canonical(answer: unknown): string {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sorted)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([k, x]) => [k, sorted(x)]),
          )
        : v;
  return JSON.stringify(sorted(answer));
}

for (const database of databases) {
  const vigils = [];
  for (const tree of args.includes('--only-this') ? [here] : trees) {
    vigils.push(await serve(tree, database));
  }
  const latencies = new Map<string, number[]>();
  const answers = new Map<string, string>();
  const perRequest = new Map<string, number>();
  const differing = new Map<string, number>();
  const profile = args.includes('--profile') ? new Session() : null;
  for (let i = 0; i < rounds + 5; i++) {
    if (profile && i === 5) {
      profile.connect();
      await profile.post('Profiler.enable');
      await profile.post('Profiler.start');
    }
    // Interleaved, alternating who goes first, so a burst of load falls on every one.
    for (const vigil of i % 2 ? [...vigils].reverse() : vigils) {
      const before = vigil.statementCount();
      const { answer, elapsed } = await vigil.ask(client);
      const text = canonical(answer);
      if (text.includes('"errors"')) throw new Error(`${vigil.tree}: ${text.slice(0, 300)}`);
      if (i >= 5) latencies.set(vigil.tree, [...(latencies.get(vigil.tree) ?? []), elapsed]);
      perRequest.set(vigil.tree, vigil.statementCount() - before);
      answers.set(vigil.tree, text);
    }
    // Each round's answers side by side (the same minute for all; a difference is kept to show).
    const own = answers.get(here);
    for (const vigil of vigils) {
      if (vigil.tree !== here && answers.get(vigil.tree) !== own) {
        differing.set(vigil.tree, (differing.get(vigil.tree) ?? 0) + 1);
        writeFileSync(`/tmp/releases-table-${i}-a.json`, own ?? '');
        writeFileSync(`/tmp/releases-table-${i}-b.json`, answers.get(vigil.tree) ?? '');
      }
    }
  }
  if (profile) {
    const { profile: taken } = await profile.post('Profiler.stop');
    writeFileSync(flag('profile', 'releases-table.cpuprofile'), JSON.stringify(taken));
    profile.disconnect();
  }
  process.stdout.write(`${database}:\n`);
  for (const vigil of vigils) {
    const l = latencies.get(vigil.tree) ?? [];
    const same =
      vigil.tree === here
        ? ''
        : `, answers unlike this checkout's: ${differing.get(vigil.tree) ?? 0} of ${rounds + 5}`;
    process.stdout.write(
      `  ${vigil.tree}: p50 ${ms(quantile(l, 0.5))}, p90 ${ms(quantile(l, 0.9))}, ${perRequest.get(vigil.tree)} statements${same}\n`,
    );
    for (const [tag, times] of vigil.waits) {
      process.stdout.write(`    ${tag}: p50 ${ms(quantile(times, 0.5))} (${times.length})\n`);
    }
  }
  const [own] = vigils;
  if (own && args.includes('--explain')) {
    own.statements.length = 0;
    await own.ask(client);
    for (const s of [...own.statements]) {
      const plan = await own.raw<Array<{ 'QUERY PLAN': string }>>(
        `EXPLAIN (ANALYZE, BUFFERS) ${s.sql}`,
        ...s.params,
      );
      process.stdout.write(
        `--- ${s.sql.slice(0, 60).replace(/\s+/g, ' ')}… params ${JSON.stringify(s.params).slice(0, 300)}\n${plan.map((p) => p['QUERY PLAN']).join('\n')}\n`,
      );
    }
  }
  if (args.includes('--answer')) process.stdout.write(`${answers.get(here)}\n`);
  for (const vigil of vigils) await vigil.stop();
}
