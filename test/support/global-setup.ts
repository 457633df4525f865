import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { pgliteSnapshot } from '../../src/db/pglite-snapshot.ts';
import { databaseUrl, isPostgresReachable, POSTGRES_ADMIN_URL } from './postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The migrated template each test file's PostgreSQL database is copied from. */
    templateDatabase: string;
  }
}

/**
 * Builds a migrated template database once per run; each test file then gets a copy of it.
 * Named after this run, so two runs on one machine never drop each other's template.
 * On PGlite the templates are the snapshots new databases load (made here when `npm ci` did not,
 * before workers could race to make them).
 */
export default async function setup(project: TestProject) {
  await pgliteSnapshot('migrated');
  await pgliteSnapshot('empty');
  const template = `vigil_test_template_${process.pid}`;
  project.provide('templateDatabase', template);
  if (!(await isPostgresReachable())) return;
  await admin(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${template}`);
  const db = await openDatabase({ databaseUrl: databaseUrl(template), dataDir: '' });
  try {
    await migrate(db);
  } finally {
    await db.close();
  }
  return async () => {
    await admin(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
  };
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
