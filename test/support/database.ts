import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { databaseUrl, POSTGRES_ADMIN_URL } from './postgres.ts';

export type TestDatabaseKind = 'pglite' | 'postgres';

/** Which database this vitest project runs on (see vitest.config.ts). */
export function testDatabaseKind(): TestDatabaseKind {
  return process.env.VIGIL_TEST_DB === 'postgres' ? 'postgres' : 'pglite';
}

export interface TestDatabase {
  db: Database;
  /** DATABASE_URL of a PostgreSQL copy, or undefined on PGlite. */
  url: string | undefined;
  dispose(): Promise<void>;
}

/** A clean, migrated database of its own: a fresh in-memory PGlite, or a copy of the template. */
export async function createTestDatabase(kind = testDatabaseKind()): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const db = await openDatabase({ databaseUrl: undefined, dataDir: 'memory://' });
    await migrate(db);
    return { db, url: undefined, dispose: () => db.close() };
  }
  const name = `vigil_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${inject('templateDatabase')}`);
  const url = databaseUrl(name);
  const db = await openDatabase({ databaseUrl: url, dataDir: '' });
  return {
    db,
    url,
    async dispose() {
      await db.close();
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** An empty PostgreSQL database (no migrations) for the migrator's own tests. */
export async function createEmptyPostgresDatabase(): Promise<{
  url: string;
  dispose(): Promise<void>;
}> {
  const name = `vigil_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  return {
    url: databaseUrl(name),
    dispose: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}
