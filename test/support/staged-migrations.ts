import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { MIGRATIONS_DIR, migrate } from '../../src/db/migrate.ts';
import { createEmptyPostgresDatabase, testDatabaseKind } from './database.ts';

/**
 * An empty database for one migration's own test: apply the committed migrations before it,
 * write the rows a store would hold, then apply it (and only it) and read what it made of them.
 */
export async function openStagedDatabase(migration: string) {
  let db: Database;
  let dispose = async () => {};
  if (testDatabaseKind() === 'pglite') {
    db = await openDatabase({ databaseUrl: undefined, dataDir: 'memory://' }, { empty: true });
  } else {
    const empty = await createEmptyPostgresDatabase();
    db = await openDatabase({ databaseUrl: empty.url, dataDir: '' });
    dispose = empty.dispose;
  }
  const dir = await mkdtemp(join(tmpdir(), 'vigil-staged-'));
  return {
    db,
    /** Applies the migrations before `migration`, or through it; resolves with those applied. */
    async migrate(through: boolean): Promise<string[]> {
      for (const name of await readdir(MIGRATIONS_DIR)) {
        if (through ? name <= migration : name < migration)
          await cp(join(MIGRATIONS_DIR, name), join(dir, name), { recursive: true });
      }
      return migrate(db, { dir });
    },
    async close() {
      await db.close();
      await dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
