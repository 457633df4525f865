import { mkdirSync } from 'node:fs';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { Config } from '../config.ts';
import { PrismaClient } from '../generated/prisma/client.ts';
import { initialDataDir, type SnapshotKind } from './pglite-snapshot.ts';

/** One connection used outside Prisma, for what Prisma's raw queries cannot do. */
export interface SqlSession {
  /** Runs a multi-statement script (simple query protocol); migrations need it. */
  exec(sql: string): Promise<void>;
  query<Row>(sql: string, params?: unknown[]): Promise<Row[]>;
}

export interface Database {
  readonly kind: 'pglite' | 'postgres';
  readonly prisma: PrismaClient;
  /** Lends one connection for the duration of `fn` (session-level advisory locks need that). */
  withSession<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` in one transaction on the driver itself, committed when it resolves. The ingest
   * hot path uses it: Prisma's raw queries spent more CPU turning large array parameters into
   * values than the database spent on the statements (`npm run bench -- --only ingest`).
   */
  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T>;
  /**
   * Calls `listener` once per SQL statement sent through Prisma or `transaction`: the N+1 guard
   * and the ingest statement count use it.
   */
  onStatement(listener: (sql: string) => void): void;
  close(): Promise<void>;
}

/**
 * Opens the database Vigil runs on: PostgreSQL through `@prisma/adapter-pg` when `databaseUrl`
 * is set, otherwise embedded PGlite persisted in `dataDir`. The only place clients are made.
 */
export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  /** `empty`: a new PGlite database starts without Vigil's tables (the migrator's tests). */
  options: { empty?: boolean } = {},
): Promise<Database> {
  if (config.databaseUrl) return openPostgres(config.databaseUrl);
  return openPglite(config.dataDir, options.empty ? 'empty' : 'migrated');
}

/** A client that reports each SQL statement it sends, for the N+1 guard and debugging. */
function createPrisma(adapter: PrismaPg | PrismaPGlite) {
  const prisma = new PrismaClient({
    adapter,
    log: [{ emit: 'event' as const, level: 'query' as const }],
  });
  const listeners: Array<(sql: string) => void> = [];
  const report = (sql: string) => {
    for (const listener of listeners) listener(sql);
  };
  prisma.$on('query', (event) => report(event.query));
  return {
    prisma: prisma as unknown as PrismaClient,
    onStatement: (listener: (sql: string) => void) => void listeners.push(listener),
    report,
  };
}

function pgSession(client: pg.PoolClient): SqlSession {
  return {
    exec: async (sql) => void (await client.query(sql)),
    query: async <Row>(sql: string, params?: unknown[]) =>
      (await client.query(sql, params)).rows as Row[],
  };
}

function pgliteSession(conn: PGlite | Transaction): SqlSession {
  return {
    exec: async (sql) => void (await conn.exec(sql)),
    query: async <Row>(sql: string, params?: unknown[]) =>
      (await conn.query<Row>(sql, params)).rows,
  };
}

/** The same session, telling `report` of each statement before it is sent. */
function reporting(session: SqlSession, report: (sql: string) => void): SqlSession {
  return {
    exec: (sql) => {
      report(sql);
      return session.exec(sql);
    },
    query: (sql, params) => {
      report(sql);
      return session.query(sql, params);
    },
  };
}

function openPostgres(connectionString: string): Database {
  const pool = new pg.Pool({ connectionString, max: 10 });
  // An idle client that errors (server restart) must not crash the process; pg reconnects.
  pool.on('error', () => {});
  const { prisma, onStatement, report } = createPrisma(new PrismaPg(pool));
  return {
    kind: 'postgres',
    prisma,
    onStatement,
    async transaction(fn) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(reporting(pgSession(client), report));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((e: Error) => {
          broken = e;
        });
        throw error;
      } finally {
        // A connection that could not even roll back is dropped, not returned to the pool.
        client.release(broken);
      }
    },
    async withSession(fn) {
      const client = await pool.connect();
      try {
        return await fn(pgSession(client));
      } finally {
        client.release();
      }
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function openPglite(dataDir: string, start: SnapshotKind): Promise<Database> {
  if (dataDir !== 'memory://') mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir === 'memory://' ? undefined : dataDir, {
    loadDataDir: await initialDataDir(dataDir, start),
  });
  const { prisma, onStatement, report } = createPrisma(new PrismaPGlite(pglite));
  return {
    kind: 'pglite',
    prisma,
    onStatement,
    transaction: (fn) => pglite.transaction((tx) => fn(reporting(pgliteSession(tx), report))),
    // PGlite is one in-process connection: lending it is just using it.
    withSession: (fn) => fn(pgliteSession(pglite)),
    async close() {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}
