import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, test as base, describe, expect } from 'vitest';
import { migrationDiff } from '../scripts/migration-diff.ts';
import { openSchemaDiffer } from '../scripts/schema-engine.ts';
import { type Database, openDatabase } from '../src/db/client.ts';
import { MIGRATIONS_DIR, MigrationError, migrate } from '../src/db/migrate.ts';
import { createEmptyPostgresDatabase, testDatabaseKind } from './support/database.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCHEMA_PATH = join(ROOT, 'prisma/schema.prisma');
const onPglite = testDatabaseKind() === 'pglite';
const onPostgres = testDatabaseKind() === 'postgres';

const test = base.extend<{
  sharedPglite: Database | undefined;
  emptyDatabase: Database;
  tempDir: string;
}>({
  // On PGlite, one in-memory database for the file, emptied before each test that asks for an
  // empty one: loading a PGlite costs more than any of these tests.
  sharedPglite: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest fixtures take their dependencies by destructuring
    async ({}, use) => {
      if (!onPglite) return use(undefined);
      const db = await openDatabase(
        { databaseUrl: undefined, dataDir: 'memory://' },
        { empty: true },
      );
      await use(db);
      await db.close();
    },
    { scope: 'file' },
  ],
  // A database with nothing in it, on this project's kind: the migrator's starting point.
  emptyDatabase: async ({ sharedPglite }, use) => {
    if (sharedPglite) {
      await emptyAgain(sharedPglite);
      await use(sharedPglite);
      return;
    }
    const empty = await createEmptyPostgresDatabase();
    const db = await openDatabase({ databaseUrl: empty.url, dataDir: '' });
    await use(db);
    await db.close();
    await empty.dispose();
  },
  // biome-ignore lint/correctness/noEmptyPattern: vitest fixtures take their dependencies by destructuring
  tempDir: async ({}, use) => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-migrations-'));
    await use(dir);
    await rm(dir, { recursive: true, force: true });
  },
});

/** Drops every schema a test made or filled, and leaves an empty `public`, as in a new database. */
async function emptyAgain(db: Database): Promise<void> {
  await db.withSession(async (s) => {
    const schemas = await s.query<{ name: string }>(
      `SELECT nspname AS name FROM pg_namespace
        WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%'`,
    );
    const drops = schemas.map(({ name }) => `DROP SCHEMA "${name.replaceAll('"', '""')}" CASCADE;`);
    await s.exec(`${drops.join('\n')}\nCREATE SCHEMA public;`);
  });
  expect(await tableExists(db, '_prisma_migrations')).toBe(false);
}

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

const selectMigrationRows = (db: Database) =>
  db.withSession((s) =>
    s.query<MigrationRow>('SELECT * FROM "_prisma_migrations" ORDER BY migration_name, started_at'),
  );

const tableExists = async (db: Database, table: string) => {
  const [row] = await db.withSession((s) =>
    s.query<{ name: string | null }>('SELECT to_regclass($1)::text AS name', [table]),
  );
  return row?.name !== null;
};

/** The committed migrations as files: names in order, and each file's bytes. */
async function committedMigrations() {
  const names = (await readdir(MIGRATIONS_DIR, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => ({
      name,
      bytes: await readFile(join(MIGRATIONS_DIR, name, 'migration.sql')),
    })),
  );
}

/** Every table the committed migrations create, read from their SQL. */
async function committedTables(): Promise<string[]> {
  const sql = (await committedMigrations()).map((m) => m.bytes.toString('utf8')).join('\n');
  // In order: a table dropped and created again (a conversion's new form) exists.
  const tables = new Set<string>();
  for (const [, verb, table = ''] of sql.matchAll(/(CREATE|DROP) TABLE "([^"]+)"/g)) {
    if (verb === 'CREATE') tables.add(table);
    else tables.delete(table);
  }
  return [...tables];
}

/** A copy of the committed migrations in `dir`, with `edit` applied to each file's SQL. */
async function copyMigrations(dir: string, edit: (sql: string) => string): Promise<string> {
  const copy = join(dir, 'migrations');
  await cp(MIGRATIONS_DIR, copy, { recursive: true });
  let changed = false;
  for (const { name, bytes } of await committedMigrations()) {
    const sql = bytes.toString('utf8');
    const edited = edit(sql);
    changed ||= edited !== sql;
    await writeFile(join(copy, name, 'migration.sql'), edited);
  }
  // Guards the test itself: an edit that matched nothing would make the drift check pass vacuously.
  expect(changed, 'the edit changed no committed migration').toBe(true);
  return copy;
}

/** Drops every statement (Prisma separates them by a blank line and a `-- ` comment) that matches. */
const withoutStatements = (sql: string, pattern: RegExp) =>
  sql
    .split(/\n\n(?=-- )/)
    .filter((statement) => !pattern.test(statement))
    .join('\n\n');

async function writeMigration(dir: string, name: string, sql: string) {
  await mkdir(join(dir, name), { recursive: true });
  await writeFile(join(dir, name, 'migration.sql'), sql);
}

// One differ (one PGlite and the Wasm engine) for every diff of this file: starting a PGlite is
// most of a diff's cost. It is created on first use, so the postgres project never starts it.
const differ = openSchemaDiffer();
afterAll(() => differ.close());

/** Runs `npm run migration:*`'s command in this process, on this file's differ. */
async function runMigrationDiff(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await migrationDiff(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    differ,
  });
  return { code, stdout, stderr };
}

/** Runs scripts/migration-diff.ts as `npm run migration:*` does, in a process of its own. */
function runMigrationDiffProcess(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'scripts/migration-diff.ts'), ...args],
      { cwd: ROOT },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

// The schema engine runs on an in-process PGlite whatever the project, so these run once.
// The file's first diff starts a PGlite and the Wasm engine (about 4 s, more on a busy machine);
// each later one empties that PGlite and takes about 0.3 s.
describe.skipIf(!onPglite)(
  'prisma/schema.prisma and the committed migrations',
  { timeout: 60_000 },
  () => {
    test('agree: the schema engine finds nothing to migrate', async () => {
      const diff = await differ.migrationsAgainstSchema({
        migrationsDir: MIGRATIONS_DIR,
        schemaPath: SCHEMA_PATH,
      });
      expect(diff).toEqual({ exitCode: 0, sql: '' });
    });

    test.for([
      {
        removed: 'a column (project.platform)',
        edit: (sql: string) => sql.replace('    "platform" TEXT NOT NULL,\n', ''),
        expected: /ALTER TABLE "project" ADD COLUMN\s+"platform" TEXT NOT NULL/,
      },
      {
        removed: 'a table (api_token, with its index)',
        edit: (sql: string) => withoutStatements(sql, /"api_token"/),
        expected: /CREATE TABLE "api_token"/,
      },
    ])(
      'detects drift when the migrations lack $removed',
      async ({ edit, expected }, { tempDir }) => {
        const migrationsDir = await copyMigrations(tempDir, edit);
        const diff = await differ.migrationsAgainstSchema({
          migrationsDir,
          schemaPath: SCHEMA_PATH,
        });
        expect(diff.exitCode).toBe(2);
        expect(diff.sql).toMatch(expected);
      },
    );

    test('from an empty database, the schema creates every table the migrations create', async () => {
      const diff = await differ.emptyAgainstSchema(SCHEMA_PATH);
      expect(diff.exitCode).toBe(2);
      const created = [...diff.sql.matchAll(/CREATE TABLE "([^"]+)"/g)].map((m) => m[1]);
      expect(created.sort()).toEqual((await committedTables()).sort());
    });

    test('rejects a schema that does not parse, naming the line', async ({ tempDir }) => {
      const schemaPath = join(tempDir, 'schema.prisma');
      await writeFile(
        schemaPath,
        'datasource db {\n  provider = "postgresql"\n}\n\nmodel Note {\n  id Int @id\n  body Strin\n}\n',
      );
      await expect(differ.emptyAgainstSchema(schemaPath)).rejects.toThrow(
        /Type "Strin" is neither a built-in type[\s\S]*schema\.prisma:7/,
      );
    });

    test('rejects migrations that fail on the shadow database, naming the migration', async ({
      tempDir,
    }) => {
      const migrationsDir = join(tempDir, 'migrations');
      await cp(MIGRATIONS_DIR, migrationsDir, { recursive: true });
      await writeMigration(
        migrationsDir,
        '29990101000000_broken',
        'ALTER TABLE "nope" ADD "x" INT;',
      );
      await expect(
        differ.migrationsAgainstSchema({ migrationsDir, schemaPath: SCHEMA_PATH }),
      ).rejects.toThrow(
        /Migration `29990101000000_broken` failed to apply cleanly to the shadow database/,
      );
    });
  },
);

// The command runs in this process, on the file's differ; one test runs it as npm does, through
// tsx in a process of its own, for its arguments, output and exit code.
describe.skipIf(!onPglite)('npm run migration:new / migration:check', { timeout: 120_000 }, () => {
  const RELEASE_NOTE_MODEL = `
model ReleaseNote {
  id   Int    @id @default(autoincrement())
  body String

  @@map("release_note")
}
`;

  test('check fails with the SQL; new writes it as the last migration; check then passes', async ({
    tempDir,
  }) => {
    const migrations = join(tempDir, 'migrations');
    const schema = join(tempDir, 'schema.prisma');
    await cp(MIGRATIONS_DIR, migrations, { recursive: true });
    await writeFile(schema, `${await readFile(SCHEMA_PATH, 'utf8')}${RELEASE_NOTE_MODEL}`);
    const paths = ['--migrations', migrations, '--schema', schema];

    const drift = await runMigrationDiff(['check', ...paths]);
    expect(drift.code).toBe(2);
    expect(drift.stdout).toMatch(/CREATE TABLE "release_note"/);

    const created = await runMigrationDiff(['new', 'add_release_notes', ...paths]);
    expect(created.code, created.stderr).toBe(0);
    const names = (await readdir(migrations, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    const newest = names.at(-1) ?? '';
    expect(newest).toMatch(/^\d{14}_add_release_notes$/);
    expect(names).toHaveLength((await committedMigrations()).length + 1);
    const sql = await readFile(join(migrations, newest, 'migration.sql'), 'utf8');
    expect(sql).toMatch(/CREATE TABLE "release_note"/);

    const agreed = await runMigrationDiff(['check', ...paths]);
    expect(agreed.code, agreed.stdout).toBe(0);
  });

  test('new refuses to write when the schema matches the migrations', async ({ tempDir }) => {
    const migrations = join(tempDir, 'migrations');
    await cp(MIGRATIONS_DIR, migrations, { recursive: true });
    const result = await runMigrationDiff(['new', 'nothing', '--migrations', migrations]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/nothing to write/);
    expect(await readdir(migrations)).toEqual(await readdir(MIGRATIONS_DIR));
  });

  test('new rejects a name that is not snake_case, before doing anything', async ({ tempDir }) => {
    const result = await runMigrationDiffProcess(['new', 'Add-Notes', '--migrations', tempDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/invalid migration name "Add-Notes"/);
    expect(await readdir(tempDir)).toEqual([]);
  });
});

describe('migrate()', () => {
  test('20261202170000_all_releases_counters fills release 0 with the sums of the stored releases', async ({
    emptyDatabase: db,
    tempDir,
  }) => {
    const BACKFILL = '20261202170000_all_releases_counters';
    const all = await committedMigrations();
    const copyUpTo = async (last: string) => {
      for (const { name, bytes } of all.filter((m) => m.name <= last)) {
        await writeMigration(tempDir, name, bytes.toString('utf8'));
      }
    };
    await copyUpTo(all[all.findIndex((m) => m.name === BACKFILL) - 1]?.name ?? '');
    await migrate(db, { dir: tempDir });
    // Two releases, two environments, two buckets; the second bucket has one release only.
    await db.prisma.$executeRawUnsafe(`
      INSERT INTO session_counter (project_id, release_id, environment_id, granularity, bucket,
        sessions, errored_all, crashed, abnormal, unhandled, anr, anr_foreground) VALUES
        (1, 7, 1, 3600, '2026-12-01T10:00:00Z', 10, 4, 1, 1, 1, 1, 0),
        (1, 8, 1, 3600, '2026-12-01T10:00:00Z', 5, 1, 1, 0, 0, 0, 0),
        (1, 8, 2, 3600, '2026-12-01T10:00:00Z', 3, 0, 0, 0, 0, 0, 0),
        (1, 7, 1, 3600, '2026-12-01T11:00:00Z', 2, 2, 2, 0, 0, 1, 1)`);
    await copyUpTo(BACKFILL);
    expect(await migrate(db, { dir: tempDir })).toEqual([BACKFILL]);
    const rows = await db.prisma.$queryRawUnsafe(
      `SELECT environment_id, to_char(bucket AT TIME ZONE 'UTC', 'HH24') AS hour, sessions::int,
              errored_all::int, crashed::int, abnormal::int, unhandled::int, anr::int,
              anr_foreground::int
       FROM session_counter WHERE release_id = 0 ORDER BY 1, 2`,
    );
    expect(rows).toEqual([
      {
        environment_id: 1,
        hour: '10',
        sessions: 15,
        errored_all: 5,
        crashed: 2,
        abnormal: 1,
        unhandled: 1,
        anr: 1,
        anr_foreground: 0,
      },
      {
        environment_id: 1,
        hour: '11',
        sessions: 2,
        errored_all: 2,
        crashed: 2,
        abnormal: 0,
        unhandled: 0,
        anr: 1,
        anr_foreground: 1,
      },
      {
        environment_id: 2,
        hour: '10',
        sessions: 3,
        errored_all: 0,
        crashed: 0,
        abnormal: 0,
        unhandled: 0,
        anr: 0,
        anr_foreground: 0,
      },
    ]);
  });

  test('applies every committed migration once and records it as Prisma does', async ({
    emptyDatabase: db,
  }) => {
    const files = await committedMigrations();
    expect(await migrate(db)).toEqual(files.map((f) => f.name));

    const columns = await db.withSession((s) =>
      s.query<{ column_name: string; data_type: string; is_nullable: string }>(
        `SELECT column_name, data_type, is_nullable FROM information_schema.columns
          WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
      ),
    );
    // Prisma's own definition (schema-engine, sql-migration-connector/src/flavour/postgres.rs).
    expect(columns.map((c) => `${c.column_name} ${c.data_type} ${c.is_nullable}`)).toEqual([
      'id character varying NO',
      'checksum character varying NO',
      'finished_at timestamp with time zone YES',
      'migration_name character varying NO',
      'logs text YES',
      'rolled_back_at timestamp with time zone YES',
      'started_at timestamp with time zone NO',
      'applied_steps_count integer NO',
    ]);

    const rows = await selectMigrationRows(db);
    expect(rows.map((r) => [r.migration_name, r.checksum])).toEqual(
      files.map((f) => [f.name, createHash('sha256').update(f.bytes).digest('hex')]),
    );
    for (const row of rows) {
      expect(row.id).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.logs).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
    for (const table of await committedTables()) {
      expect(await tableExists(db, table), table).toBe(true);
    }

    expect(await migrate(db)).toEqual([]);
    expect(await selectMigrationRows(db)).toEqual(rows);
  });

  test('rolls a failing migration back entirely and names it; the earlier one stays applied', async ({
    emptyDatabase: db,
    tempDir,
  }) => {
    await writeMigration(tempDir, '20240101000000_good', 'CREATE TABLE "good" ("id" INTEGER);');
    await writeMigration(
      tempDir,
      '20240102000000_broken',
      'CREATE TABLE "half" ("id" INTEGER);\nINSERT INTO "missing" VALUES (1);',
    );

    const error = await migrate(db, { dir: tempDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect(error).toMatchObject({
      migration: '20240102000000_broken',
      message: expect.stringMatching(/20240102000000_broken.*"missing"/),
    });
    expect(await tableExists(db, 'good')).toBe(true);
    expect(await tableExists(db, 'half')).toBe(false);
    expect((await selectMigrationRows(db)).map((r) => r.migration_name)).toEqual([
      '20240101000000_good',
    ]);

    // Nothing of the failure is left behind: once fixed, the migration applies.
    await writeMigration(tempDir, '20240102000000_broken', 'CREATE TABLE "half" ("id" INTEGER);');
    expect(await migrate(db, { dir: tempDir })).toEqual(['20240102000000_broken']);
    expect(await tableExists(db, 'half')).toBe(true);
  });

  test('does not re-apply a migration edited after it was applied, and says so', async ({
    emptyDatabase: db,
    tempDir,
  }) => {
    await writeMigration(tempDir, '20240101000000_notes', 'CREATE TABLE "note" ("id" INTEGER);');
    await migrate(db, { dir: tempDir });
    await writeMigration(tempDir, '20240101000000_notes', 'CREATE TABLE "note2" ("id" INTEGER);');

    const messages: string[] = [];
    expect(await migrate(db, { dir: tempDir, log: (m) => messages.push(m) })).toEqual([]);
    expect(messages).toEqual([
      'migration 20240101000000_notes was edited after it was applied; not applying it again',
    ]);
    expect(await tableExists(db, 'note2')).toBe(false);
  });

  test('refuses to run while a migration is recorded as started but not finished', async ({
    emptyDatabase: db,
    tempDir,
  }) => {
    await writeMigration(tempDir, '20240101000000_notes', 'CREATE TABLE "note" ("id" INTEGER);');
    await migrate(db, { dir: tempDir });
    await db.withSession((s) =>
      s.exec(`INSERT INTO "_prisma_migrations" (id, checksum, migration_name)
              VALUES ('00000000-0000-4000-8000-000000000000', 'x', '20240102000000_interrupted')`),
    );
    await writeMigration(tempDir, '20240103000000_later', 'CREATE TABLE "later" ("id" INTEGER);');

    await expect(migrate(db, { dir: tempDir })).rejects.toThrow(
      /Migration 20240102000000_interrupted cannot run: .*started but not finished/,
    );
    expect(await tableExists(db, 'later')).toBe(false);
  });

  test.skipIf(!onPostgres)(
    'two migrators racing on separate connections apply each migration exactly once',
    async () => {
      const empty = await createEmptyPostgresDatabase();
      const first = await openDatabase({ databaseUrl: empty.url, dataDir: '' });
      const second = await openDatabase({ databaseUrl: empty.url, dataDir: '' });
      try {
        const names = (await committedMigrations()).map((f) => f.name);
        const applied = await Promise.all([migrate(first), migrate(second)]);
        // One of them applies everything; the other waits for the lock and finds nothing to do.
        expect(applied.map((list) => list.length).sort()).toEqual([0, names.length]);
        const counts = await first.withSession((s) =>
          s.query<{ migration_name: string; n: number }>(
            `SELECT migration_name, count(*)::int AS n FROM "_prisma_migrations"
              GROUP BY migration_name ORDER BY migration_name`,
          ),
        );
        expect(counts).toEqual(names.map((name) => ({ migration_name: name, n: 1 })));
      } finally {
        await first.close();
        await second.close();
        await empty.dispose();
      }
    },
  );
});
