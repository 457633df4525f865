import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database, SqlSession } from './client.ts';

/** The committed migrations, in Prisma's layout: `<timestamp>_<name>/migration.sql`. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

// The key Prisma's own migrate commands lock with, so `prisma migrate deploy` and Vigil exclude
// each other as well as two Vigil processes starting together.
const PRISMA_ADVISORY_LOCK_KEY = 72707369;

const CREATE_BOOKKEEPING = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export interface LocalMigration {
  name: string;
  sql: string;
  /** SHA-256 of the file, hex: what Prisma stores in `_prisma_migrations.checksum`. */
  checksum: string;
}

export class MigrationError extends Error {
  /**
   * @param rolledBack true when this run tried the migration and undid it; false when an earlier
   * run left it half-applied and nothing was attempted now.
   */
  constructor(
    readonly migration: string,
    cause: unknown,
    readonly rolledBack = true,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      rolledBack
        ? `Migration ${migration} failed and was rolled back; the database is as it was before it: ${reason}`
        : `Migration ${migration} cannot run: ${reason}`,
      { cause },
    );
    this.name = 'MigrationError';
  }
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<LocalMigration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Applies the committed migrations that the database lacks, in order, each in its own
 * transaction, under Prisma's advisory lock; records them in `_prisma_migrations` as Prisma does.
 * @returns the names of the migrations it applied.
 */
export async function migrate(
  db: Pick<Database, 'withSession'>,
  options: { dir?: string; log?: (message: string) => void } = {},
): Promise<string[]> {
  const local = await readMigrations(options.dir);
  return db.withSession(async (session) => {
    if (await upToDate(session, local)) return [];
    await session.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    try {
      await session.exec(CREATE_BOOKKEEPING);
      return await applyPending(session, local, options.log ?? (() => {}));
    } finally {
      await session.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    }
  });
}

/**
 * A restart's usual case in one statement and no lock: every local migration is recorded as
 * applied with its checksum, and none is half-applied. Anything else (no bookkeeping table yet,
 * a new migration, an edited one) takes the locked path, which decides what to do.
 */
async function upToDate(session: SqlSession, local: LocalMigration[]): Promise<boolean> {
  let rows: AppliedRow[];
  try {
    rows = await session.query<AppliedRow>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"',
    );
  } catch {
    return false;
  }
  if (rows.some((r) => r.finished_at === null && r.rolled_back_at === null)) return false;
  const applied = new Set(
    rows.filter((r) => r.rolled_back_at === null).map((r) => `${r.migration_name} ${r.checksum}`),
  );
  return local.every((m) => applied.has(`${m.name} ${m.checksum}`));
}

async function applyPending(
  session: SqlSession,
  local: LocalMigration[],
  log: (message: string) => void,
): Promise<string[]> {
  const rows = await session.query<AppliedRow>(
    'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"',
  );
  const failed = rows.find((r) => r.finished_at === null && r.rolled_back_at === null);
  if (failed) {
    throw new MigrationError(
      failed.migration_name,
      'it is recorded as started but not finished; resolve it with `prisma migrate resolve`',
      false,
    );
  }
  const applied = new Map(
    rows.filter((r) => r.rolled_back_at === null).map((r) => [r.migration_name, r]),
  );
  const done: string[] = [];
  for (const migration of local) {
    const row = applied.get(migration.name);
    if (row) {
      if (row.checksum !== migration.checksum) {
        log(`migration ${migration.name} was edited after it was applied; not applying it again`);
      }
      continue;
    }
    try {
      await session.exec('BEGIN');
      await session.exec(migration.sql);
      await session.query(
        `INSERT INTO "_prisma_migrations"
           (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
         VALUES ($1, $2, now(), $3, now(), 1)`,
        [randomUUID(), migration.checksum, migration.name],
      );
      await session.exec('COMMIT');
    } catch (error) {
      await session.exec('ROLLBACK');
      throw new MigrationError(migration.name, error);
    }
    log(`applied migration ${migration.name}`);
    done.push(migration.name);
  }
  return done;
}
