import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import type { Database } from '../src/db/client.ts';
import { createLogger } from '../src/log.ts';
import { UNCACHED_ENV } from './checkout.ts';
import { ADMIN_TOKEN } from './server.ts';
import { ms, quantile } from './stats.ts';

// The response cache (src/cache/), side by side in one run: each document with the cache off
// (every request computes) and on (after the first, every request is a hit), one client at a
// time, with the SQL statements a request sends. `npm run bench -- --only query`.

export interface CachedDocument {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
}

async function serve(db: Database, entries: string) {
  const config = loadConfig({ ...UNCACHED_ENV, VIGIL_RESPONSE_CACHE_ENTRIES: entries });
  const app = createApp({ config, db, log: createLogger('warn') });
  const server = createServer(app.handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function measure(port: number, doc: CachedDocument, counter: { n: number }, runs: number) {
  const latencies: number[] = [];
  let statements = 0;
  for (let i = 0; i < runs + 1; i++) {
    const before = counter.n;
    const t = performance.now();
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query: doc.query, variables: doc.variables }),
    });
    await response.arrayBuffer();
    // The first request fills the cache (and warms plans); the rest are what is measured.
    if (i > 0) {
      latencies.push(performance.now() - t);
      statements = counter.n - before;
    }
  }
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), statements };
}

/** `clients` loops posting `doc` for `seconds`: requests per second and latency quantiles. */
async function underLoad(port: number, doc: CachedDocument, clients: number, seconds: number) {
  const latencies: number[] = [];
  const body = JSON.stringify({ query: doc.query, variables: doc.variables });
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
          body,
        });
        await response.arrayBuffer();
        latencies.push(performance.now() - t);
      }
    }),
  );
  return {
    perSecond: latencies.length / seconds,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
  };
}

export async function printResponseCache(db: Database, documents: CachedDocument[], runs = 30) {
  const counter = { n: 0 };
  db.onStatement(() => {
    counter.n += 1;
  });
  const off = await serve(db, '0');
  const on = await serve(db, '1000');
  process.stdout.write('response cache, one client (uncached → cached hit):\n');
  for (const doc of documents) {
    const miss = await measure(off.port, doc, counter, runs);
    const hit = await measure(on.port, doc, counter, runs);
    process.stdout.write(
      `  ${doc.name}: p50 ${ms(miss.p50)} → ${ms(hit.p50)} (${(miss.p50 / hit.p50).toFixed(0)}×), p99 ${ms(miss.p99)} → ${ms(hit.p99)}, SQL statements ${miss.statements} → ${hit.statements}\n`,
    );
  }
  // 16 clients at once, as in issue 15, each figure next to `{ __typename }` of the same server.
  const clients = 16;
  const seconds = 5;
  const typename = { name: '{ __typename }', query: '{ __typename }' };
  const loaded = [typename, ...documents.slice(0, 1), ...documents.slice(-3)];
  process.stdout.write(`response cache, ${clients} clients for ${seconds} s each (off → on):\n`);
  const base = { off: 0, on: 0 };
  for (const doc of loaded) {
    const a = await underLoad(off.port, doc, clients, seconds);
    const b = await underLoad(on.port, doc, clients, seconds);
    if (doc === typename) Object.assign(base, { off: a.perSecond, on: b.perSecond });
    const share = (n: number, of: number) => `${((100 * n) / of).toFixed(0)} %`;
    process.stdout.write(
      `  ${doc.name}: ${a.perSecond.toFixed(0)}/s (${share(a.perSecond, base.off)} of __typename) → ${b.perSecond.toFixed(0)}/s (${share(b.perSecond, base.on)}), p50 ${ms(a.p50)} → ${ms(b.p50)}, p99 ${ms(a.p99)} → ${ms(b.p99)}\n`,
    );
  }
  await off.close();
  await on.close();
}
