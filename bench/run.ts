import { flag as flagOf } from './checkout.ts';
import { loadIngest, printCeiling, printIngest, rawRatePglite, rawRatePostgres } from './ingest.ts';
import { freshPostgres, startNullServer, startVigil } from './server.ts';

// `npm run bench [-- --seconds 15] [-- --concurrency 64] [-- --only ingest|query|startup|reads|sketch] [-- --sets 200 --sketch-users 5000,100000,1000000] [-- --rounds 5] [-- --releases 1000 --sessions 1000000,10000000 [--users N] [--reuse] [--database a,b] [--client http|fetch]]`
// reads: [-- --clients 16] [-- --database vigil_bench_reads] [-- --documents releases] [-- --databases postgres,pglite] [-- --pglite-sessions 200000]
// Prints figures; asserts nothing (speed targets live here, never in tests).

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => flagOf(args, name, fallback);
const only = flag('only', 'all');
const seconds = Number(flag('seconds', '15'));
// Requests in flight: SDKs of many apps post at once, and group commit needs them to batch.
const concurrency = Number(flag('concurrency', '64'));

if (only === 'all' || only === 'ingest') {
  const pgUrl = await freshPostgres('vigil_bench_ingest');
  const onPostgres = await startVigil(pgUrl);
  const pgFigures = await loadIngest(onPostgres, seconds, concurrency);
  await onPostgres.stop();
  printIngest('PostgreSQL', pgFigures, await rawRatePostgres(pgUrl));

  const onPglite = await startVigil(undefined);
  const pgliteFigures = await loadIngest(onPglite, seconds, concurrency);
  await onPglite.stop();
  printIngest('PGlite', pgliteFigures, await rawRatePglite());

  // Ceilings: Vigil's envelope path with a store that writes nothing (keys and releases still
  // come from PostgreSQL), and a server that only reads the bytes.
  const storeless = await startVigil(
    await freshPostgres('vigil_bench_storeless'),
    'bench/storeless-server.ts',
  );
  printCeiling(
    'Vigil with a store that writes nothing',
    await loadIngest(storeless, seconds, concurrency),
  );
  await storeless.stop();
  const nullServer = await startNullServer();
  printCeiling(
    'a server that reads each body and stores nothing',
    await loadIngest(nullServer, seconds, concurrency),
  );
  await nullServer.stop();
}

if (only === 'all' || only === 'query') {
  const { runQueryBench } = await import('./query.ts');
  // `--sessions 1000000,10000000` measures each size and prints the p50 ratios of the last to the first.
  const sizes = flag('sessions', '1000000').split(',').map(Number);
  // `--database a,b`: one database name per size, in the same order (default: by size and users).
  const databases = args.includes('--database') ? flag('database', '').split(',') : [];
  const results = [];
  for (const [i, sessions] of sizes.entries()) {
    results.push(
      await runQueryBench({
        releases: Number(flag('releases', '1000')),
        sessions,
        users: Number(flag('users', String(Math.max(1000, sessions / 50)))),
        // Keeps the seeded database of an earlier run (seeding 10 million sessions takes minutes).
        reuse: args.includes('--reuse'),
        database: databases[i],
        // `--client fetch`: the first method of measuring (bench/query.ts BenchClient).
        client: flag('client', 'http') === 'fetch' ? 'fetch' : 'http',
      }),
    );
  }
  const first = results[0];
  const last = results[results.length - 1];
  if (first && last && results.length > 1) {
    process.stdout.write(
      `p50 at ${sizes.at(-1)?.toLocaleString('en-US')} ÷ p50 at ${sizes[0]?.toLocaleString('en-US')} sessions:\n`,
    );
    for (const [name, p50] of last) {
      process.stdout.write(`  ${name}: ${(p50 / (first.get(name) ?? Number.NaN)).toFixed(2)}\n`);
    }
  }
}

if (only === 'all' || only === 'startup') {
  const { runStartupBench } = await import('./startup.ts');
  await runStartupBench({ rounds: Number(flag('rounds', '5')) });
}

if (only === 'all' || only === 'reads') {
  const { runReadsBench } = await import('./reads.ts');
  const releases = Number(flag('releases', '1000'));
  await runReadsBench({
    postgres: { releases, sessions: Number(flag('sessions', '1000000')) },
    // PGlite runs inside Vigil's process: a smaller set keeps its seeding short.
    pglite: {
      releases: Number(flag('pglite-releases', String(Math.min(releases, 200)))),
      sessions: Number(flag('pglite-sessions', '200000')),
    },
    reuse: args.includes('--reuse'),
    seconds: Number(flag('seconds', '15')),
    clients: Number(flag('clients', '16')),
    only: args.includes('--documents') ? flag('documents', '') : undefined,
    database: flag('database', 'vigil_bench_reads'),
    databases: flag('databases', 'postgres,pglite').split(',') as Array<'postgres' | 'pglite'>,
  });
}

if (only === 'all' || only === 'sketch') {
  const { runSketchBench } = await import('./sketch.ts');
  runSketchBench({
    sets: Number(flag('sets', '200')),
    sizes: flag('sketch-users', '5000,100000,1000000').split(',').map(Number),
  });
}
