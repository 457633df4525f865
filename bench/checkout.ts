import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Database } from '../src/db/client.ts';
import { ADMIN_TOKEN, databaseUrlFor } from './server.ts';

// A checkout of Vigil (this one, or another worktree with its node_modules and src/generated)
// served on a database the query bench seeded, its raw statements recorded and timed: the A/B
// tools (releases-table.ts, user-reads.ts) serve several side by side and interleave requests.

/** The environment of every bench server: rate limits off and no response cache, so every
 * request computes (cached figures: response-cache.ts). */
export const UNCACHED_ENV = {
  VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
  VIGIL_GRAPHQL_RATE_LIMIT_PER_MINUTE: '0',
  VIGIL_RESPONSE_CACHE_ENTRIES: '0',
  LOG_LEVEL: 'warn',
};

export interface Statement {
  sql: string;
  params: unknown[];
}

/** `--name value` from the command line, or `fallback`. */
export function flag(args: readonly string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
}

/**
 * Serves `tree`'s Vigil on `database` (no migration). Each raw statement, through Prisma or on
 * the driver (`db.query`, where the checkout has it), is recorded for EXPLAIN and its wait (sent
 * to rows in hand) kept under `tagOf(sql)`.
 */
export async function serveCheckout(
  tree: string,
  database: string,
  tagOf: (sql: string) => string = (sql) => /\/\* (\w+) \*\//.exec(sql)?.[1] ?? 'other',
) {
  const { createApp } = await import(`${tree}/src/app.ts`);
  const { loadConfig } = await import(`${tree}/src/config.ts`);
  const { openDatabase } = await import(`${tree}/src/db/client.ts`);
  const { createLogger } = await import(`${tree}/src/log.ts`);
  const db: Database = await openDatabase({ databaseUrl: databaseUrlFor(database), dataDir: '' });
  const statements: Statement[] = [];
  let count = 0;
  db.onStatement(() => {
    count += 1;
  });
  const waits = new Map<string, number[]>();
  const timed = async <T>(sql: string, params: unknown[], run: () => Promise<T>) => {
    statements.push({ sql, params });
    const t = performance.now();
    const rows = await run();
    const tag = tagOf(sql);
    if (!waits.has(tag)) waits.set(tag, []);
    waits.get(tag)?.push(performance.now() - t);
    return rows;
  };
  const raw = db.prisma.$queryRawUnsafe.bind(db.prisma);
  db.prisma.$queryRawUnsafe = ((sql: string, ...params: unknown[]) =>
    timed(sql, params, () => raw(sql, ...params))) as typeof raw;
  const query = db.query?.bind(db);
  if (query) {
    db.query = ((sql: string, params: unknown[] = []) =>
      timed(sql, params, () => query(sql, params))) as typeof query;
  }
  const app = createApp({ config: loadConfig(UNCACHED_ENV), db, log: createLogger('warn') });
  const server = createServer(app.handler);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  const stop = async () => {
    server.close();
    await db.close();
  };
  return { tree, port, statements, waits, raw, stop, statementCount: () => count };
}
