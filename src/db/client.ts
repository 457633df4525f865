import { mkdirSync } from 'node:fs';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
import type { PrismaPGlite } from 'pglite-prisma-adapter';
import type { Config } from '../config.ts';
import { PrismaClient } from '../generated/prisma/client.ts';
import { DURABLE_START_PARAMS, DurableNodeFS, syncTree } from './durable-node-fs.ts';
import {
  createLocalNotifications,
  createPostgresNotifications,
  type Notifications,
} from './notify.ts';
import { initialMemoryDataDir, prepareDataDir, type SnapshotKind } from './pglite-snapshot.ts';

/** One connection used outside Prisma, for what Prisma's raw queries cannot do. */
export interface SqlSession {
  /** Runs a multi-statement script (simple query protocol); migrations need it. */
  exec(sql: string): Promise<void>;
  /**
   * `prepare` names a statement whose text never changes: PostgreSQL then parses and plans it
   * once per connection instead of on every call (PGlite ignores it). Ingest's statements are
   * large CTEs, and planning them cost as much as running them for a small batch.
   */
  query<Row>(sql: string, params?: unknown[], prepare?: string): Promise<Row[]>;
}

/** A connection inside `Database.transaction`. */
export interface TransactionSession extends SqlSession {
  /**
   * Runs the transaction's last statement and commits: on PostgreSQL the COMMIT leaves right
   * behind the statement instead of a round trip later, so the row locks the statement takes are
   * not held while Vigil's event loop gets to sending it. Nothing may run after it.
   */
  queryAndCommit<Row>(sql: string, params?: unknown[], prepare?: string): Promise<Row[]>;
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
  transaction<T>(fn: (tx: TransactionSession) => Promise<T>): Promise<T>;
  /**
   * Runs one read on the driver itself, outside any transaction. For reads whose rows cost more
   * in Prisma's raw-result handling than on the wire: the releases table's (docs/design.md § The
   * releases table at 10 M). Rows come as the driver parses them: cast what a caller reads to
   * int, float8, text or timestamptz (bigint and numeric arrive as strings on pg).
   */
  query<Row>(sql: string, params?: unknown[]): Promise<Row[]>;
  /**
   * Calls `listener` once per SQL statement sent through Prisma or `transaction`: the N+1 guard
   * and the ingest statement count use it.
   */
  onStatement(listener: (sql: string) => void): void;
  /** Messages to every Vigil process on this database (src/db/notify.ts). */
  readonly notifications: Notifications;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /**
   * Told of every connection error: a dropped connection, a server that went away. Vigil keeps
   * running; the requests that needed the connection fail as unavailable and later ones reconnect.
   * @default ignore them
   */
  onConnectionError?: (error: Error) => void;
  /** A new PGlite database starts without Vigil's tables (the migrator's tests). */
  empty?: boolean;
}

/**
 * Opens the database Vigil runs on: PostgreSQL through `@prisma/adapter-pg` when `databaseUrl`
 * is set, otherwise embedded PGlite persisted in `dataDir`. The only place clients are made.
 * On both, a transaction that committed is on stable storage.
 * Each database's driver and adapter are imported only when it is opened: a start on PGlite
 * never loads pg (start-up time, docs/design.md § Start-up).
 */
export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  options: DatabaseOptions = {},
): Promise<Database> {
  return config.databaseUrl
    ? openPostgres(config.databaseUrl, options.onConnectionError ?? (() => {}))
    : openPglite(config.dataDir, options.empty ? 'empty' : 'migrated');
}

/** A client that reports each SQL statement it sends, for the N+1 guard and debugging. */
function createPrisma(adapter: PrismaPg | PrismaPGlite) {
  const prisma = new PrismaClient({
    adapter,
    log: [{ emit: 'event' as const, level: 'query' as const }],
    // Prisma's defaults (2 s to start, 5 s to finish) fail interactive transactions, the
    // start-up bootstrap among them, on a busy machine or behind PGlite's writer; these are
    // short transactions, so waiting is the right answer.
    transactionOptions: { maxWait: 30_000, timeout: 60_000 },
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
    query: async <Row>(sql: string, params?: unknown[], prepare?: string) =>
      (
        await (prepare === undefined
          ? client.query(sql, params)
          : client.query({ name: prepare, text: sql, values: params }))
      ).rows as Row[],
  };
}

function pgliteSession(conn: PGlite | Transaction): SqlSession {
  return {
    exec: async (sql) => void (await conn.exec(sql)),
    query: async <Row>(sql: string, params?: unknown[]) =>
      (await conn.query<Row>(sql, params)).rows,
  };
}

/**
 * A transaction's session whose `queryAndCommit` calls `commit` right behind its statement, so
 * both leave together; statements after it, or after `end()`, are refused (a statement still
 * pending when its transaction failed must not run outside it). `committing()` is that commit.
 */
function lastStatementCommits(session: SqlSession, commit: () => Promise<unknown>) {
  let committing: Promise<unknown> | undefined;
  let ended = false;
  const open = () => {
    if (committing) throw new Error('the transaction has already committed');
    if (ended) throw new Error('the transaction has ended');
  };
  const tx: TransactionSession = {
    async exec(sql) {
      open();
      return session.exec(sql);
    },
    async query(sql, params, prepare) {
      open();
      return session.query(sql, params, prepare);
    },
    async queryAndCommit<Row>(sql: string, params?: unknown[], prepare?: string) {
      open();
      const rows = session.query<Row>(sql, params, prepare);
      // After a failed statement, PostgreSQL answers COMMIT by rolling back.
      committing = commit();
      return (await Promise.all([rows, committing]))[0];
    },
  };
  return {
    tx,
    committing: () => committing,
    end: () => {
      ended = true;
    },
  };
}

/** The same session, telling `report` of each statement before it is sent. */
function reporting(session: SqlSession, report: (sql: string) => void): SqlSession {
  return {
    exec: (sql) => {
      report(sql);
      return session.exec(sql);
    },
    query: (sql, params, prepare) => {
      report(sql);
      return session.query(sql, params, prepare);
    },
  };
}

// A connection that cannot be had within this time fails the request as unavailable (503),
// instead of holding it while the database is away.
const CONNECT_TIMEOUT_MS = 10_000;
// Serialization failures and deadlocks are retried before they reach a caller.
const CONFLICT_ATTEMPTS = 3;

async function openPostgres(
  connectionString: string,
  onError: (error: Error) => void,
): Promise<Database> {
  const [{ default: pg }, { PrismaPg }] = await Promise.all([
    import('pg'),
    import('@prisma/adapter-pg'),
  ]);
  const pool = new pg.Pool({
    connectionString,
    max: 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // Finds a peer that vanished without closing the connection (a cut network).
    keepAlive: true,
    // A 200 means the WAL is flushed: a role or database set to synchronous_commit=off would
    // acknowledge commits that a crash can lose. (An `options` parameter in DATABASE_URL replaces
    // this one: then the URL's owner decides.)
    options: '-c synchronous_commit=on',
    // Queries sent while earlier ones are out leave at once (pg's pipelining): a transaction's
    // BEGIN travels with its first statement, and COMMIT with its last (`queryAndCommit`).
    // Code that awaits each query, Prisma's included, sees no difference.
    pipeline: true,
  });
  // Errors of idle clients arrive here (pg drops those clients); checked-out ones in `lend`.
  pool.on('error', onError);
  const { prisma, onStatement, report } = createPrisma(
    new PrismaPg(pool, { onConnectionError: onError }),
  );
  const notifications = createPostgresNotifications({
    connectionString,
    query: (sql, params) => pool.query(sql, params),
  });

  /**
   * Checks out a client for `fn`. While checked out, its connection's errors are pg's unhandled
   * 'error' events (a crash) unless someone listens; the query that was running rejects anyway.
   * `fn` calls `drop` when the connection must not go back to the pool.
   */
  async function lend<T>(
    fn: (client: pg.PoolClient, drop: (error: Error) => void) => Promise<T>,
  ): Promise<T> {
    const client = await pool.connect();
    let broken: Error | undefined;
    const drop = (error: Error) => {
      broken ??= error;
    };
    const onClientError = (error: Error) => {
      drop(error);
      onError(error);
    };
    client.on('error', onClientError);
    try {
      return await fn(client, drop);
    } finally {
      client.off('error', onClientError);
      client.release(broken);
    }
  }

  function transactionOnce<T>(fn: (tx: TransactionSession) => Promise<T>): Promise<T> {
    return lend(async (client, drop) => {
      // Not awaited: the first statement leaves right behind it. BEGIN fails only with the
      // connection, and then so does every statement after it.
      const begin = client.query('BEGIN');
      begin.catch(() => {});
      const { tx, committing, end } = lastStatementCommits(
        reporting(pgSession(client), report),
        () => client.query('COMMIT'),
      );
      try {
        const result = await fn(tx);
        await begin;
        await (committing() ?? client.query('COMMIT'));
        return result;
      } catch (error) {
        end();
        // A connection that could not even roll back is dropped.
        await client.query('ROLLBACK').catch(drop);
        throw error;
      } finally {
        end();
      }
    });
  }

  return {
    kind: 'postgres',
    prisma,
    onStatement,
    notifications,
    async transaction(fn) {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await transactionOnce(fn);
        } catch (error) {
          if (attempt >= CONFLICT_ATTEMPTS || !isConflict(error)) throw error;
        }
      }
    },
    withSession: (fn) => lend((client) => fn(pgSession(client))),
    async query<Row>(sql: string, params?: unknown[]) {
      report(sql);
      return (await pool.query(sql, params)).rows as Row[];
    },
    async close() {
      await notifications.close();
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

/** A serialization failure or deadlock: the transaction may simply run again. */
function isConflict(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === '40001' || code === '40P01';
}

async function openPglite(dataDir: string, start: SnapshotKind): Promise<Database> {
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('pglite-prisma-adapter'),
  ]);
  const pglite =
    dataDir === 'memory://'
      ? await PGlite.create({ loadDataDir: await initialMemoryDataDir(start) })
      : await openDurablePglite(dataDir, start);
  const { prisma, onStatement, report } = createPrisma(new PrismaPGlite(pglite));
  const notifications = createLocalNotifications();
  return {
    kind: 'pglite',
    prisma,
    onStatement,
    notifications,
    // PGlite commits when `fn` resolves: its COMMIT has no round trip to save.
    transaction: (fn) =>
      pglite.transaction((t) =>
        fn(lastStatementCommits(reporting(pgliteSession(t), report), async () => {}).tx),
      ),
    // PGlite is one in-process connection: lending it is just using it.
    withSession: (fn) => fn(pgliteSession(pglite)),
    async query<Row>(sql: string, params?: unknown[]) {
      report(sql);
      return (await pglite.query<Row>(sql, params)).rows;
    },
    async close() {
      await notifications.close();
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}

/** PGlite on files, with commits that are synced before they are acknowledged. */
async function openDurablePglite(dataDir: string, start: SnapshotKind): Promise<PGlite> {
  const { PGlite } = await import('@electric-sql/pglite');
  mkdirSync(dataDir, { recursive: true });
  const isNew = await prepareDataDir(dataDir, start);
  const pglite = await PGlite.create({
    fs: new DurableNodeFS(dataDir),
    startParams: [...PGlite.defaultStartParams.filter((p) => p !== '-F'), ...DURABLE_START_PARAMS],
  });
  if (isNew) await syncTree(dataDir);
  return pglite;
}
