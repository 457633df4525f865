import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { messages, PGlite } from '@electric-sql/pglite';
import {
  bindMigrationAwareSqlAdapterFactory,
  DriverAdapterError,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import type { DiffTarget, MigrationList } from '@prisma/schema-engine-wasm/schema_engine_bg';
import * as engineBindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import { PrismaPGlite } from 'pglite-prisma-adapter';

// `prisma migrate diff` without the schema-engine binary, which this environment cannot download:
// Prisma's own engine compiled to Wasm, with an in-process PGlite as its shadow database.

export interface SchemaDiff {
  /** 0: no difference; 2: `sql` turns the source into the schema (as `migrate diff --exit-code`). */
  exitCode: number;
  /** The migration script; empty when there is no difference. */
  sql: string;
}

/**
 * Runs diffs on one PGlite, emptied before each: starting a PGlite is most of a diff's cost
 * (about 1.5 s of 1.6), so callers that diff several times (the tests) keep one differ open.
 */
export interface SchemaDiffer {
  /** Same as `prisma migrate diff --from-migrations <dir> --to-schema <schema> --script --exit-code`. */
  migrationsAgainstSchema(options: {
    migrationsDir: string;
    schemaPath: string;
  }): Promise<SchemaDiff>;
  /** Same as `prisma migrate diff --from-empty --to-schema <schema> --script --exit-code`. */
  emptyAgainstSchema(schemaPath: string): Promise<SchemaDiff>;
  close(): Promise<void>;
}

export function openSchemaDiffer(): SchemaDiffer {
  // One PGlite serves as the main database (the engine only asks its version) and as the shadow
  // database. Created on first use, so a differ that never diffs costs nothing.
  let pglite: PGlite | undefined;
  // Diffs share the database, so they take turns.
  let queue: Promise<unknown> = Promise.resolve();
  const run = (from: DiffTarget, to: DiffTarget): Promise<SchemaDiff> => {
    const next = queue.then(async () => {
      pglite ??= new PGlite();
      await resetDatabase(pglite);
      return diff(pglite, from, to);
    });
    queue = next.catch(() => {});
    return next;
  };
  return {
    async migrationsAgainstSchema(options) {
      const migrations = await readMigrationList(options.migrationsDir);
      return run({ tag: 'migrations', ...migrations }, schemaTarget(options.schemaPath));
    },
    emptyAgainstSchema: (schemaPath) => run({ tag: 'empty' }, schemaTarget(schemaPath)),
    async close() {
      await queue;
      // PGlite keeps timers alive until it is closed: without this the process lingers for 10 s.
      await pglite?.close();
      pglite = undefined;
    },
  };
}

/** Same as `prisma migrate diff --from-migrations <dir> --to-schema <schema> --script --exit-code`. */
export async function diffMigrationsAgainstSchema(options: {
  migrationsDir: string;
  schemaPath: string;
}): Promise<SchemaDiff> {
  return once((differ) => differ.migrationsAgainstSchema(options));
}

/** Same as `prisma migrate diff --from-empty --to-schema <schema> --script --exit-code`. */
export async function diffEmptyAgainstSchema(schemaPath: string): Promise<SchemaDiff> {
  return once((differ) => differ.emptyAgainstSchema(schemaPath));
}

async function once(use: (differ: SchemaDiffer) => Promise<SchemaDiff>): Promise<SchemaDiff> {
  const differ = openSchemaDiffer();
  try {
    return await use(differ);
  } finally {
    await differ.close();
  }
}

/**
 * Leaves the database as a new one: the shadow database must start empty, or what an earlier
 * diff's migrations created would count as already there.
 */
async function resetDatabase(pglite: PGlite): Promise<void> {
  const { rows } = await pglite.query<{ name: string }>(
    `SELECT nspname AS name FROM pg_namespace
      WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%'`,
  );
  const drops = rows.map(({ name }) => `DROP SCHEMA "${name.replaceAll('"', '""')}" CASCADE;`);
  await pglite.exec(`${drops.join('\n')}\nCREATE SCHEMA public;`);
}

async function diff(pglite: PGlite, from: DiffTarget, to: DiffTarget): Promise<SchemaDiff> {
  loadWasm();
  const engine = await engineBindings.SchemaEngine.new(
    { datamodels: undefined },
    () => {},
    bindMigrationAwareSqlAdapterFactory(shadowFactory(pglite)),
  );
  try {
    const result = await engine.diff({
      from,
      to,
      script: true,
      exitCode: true,
      filters: { externalTables: [], externalEnums: [] },
    });
    return { exitCode: result.exitCode, sql: result.exitCode === 0 ? '' : (result.stdout ?? '') };
  } finally {
    engine.free();
  }
}

let wasmLoaded = false;

// The package's entry point imports the .wasm file as an ES module, which Node 20 cannot do, so
// the module is instantiated here against the package's JS glue.
function loadWasm(): void {
  if (wasmLoaded) return;
  // The .wasm file is not in the package's "exports": find it next to the glue module.
  const glue = createRequire(import.meta.url).resolve(
    '@prisma/schema-engine-wasm/schema_engine_bg',
  );
  const module = new WebAssembly.Module(readFileSync(join(dirname(glue), 'schema_engine_bg.wasm')));
  const imports = { './schema_engine_bg.js': { ...engineBindings } } as WebAssembly.Imports;
  const { exports } = new WebAssembly.Instance(module, imports);
  engineBindings.__wbg_set_wasm(exports);
  (exports.__wbindgen_start as () => void)();
  wasmLoaded = true;
}

function shadowFactory(pglite: PGlite): SqlMigrationAwareDriverAdapterFactory {
  const connect = async (): Promise<SqlDriverAdapter> => {
    const adapter = await new PrismaPGlite(pglite).connect();
    // pglite-prisma-adapter 0.7.2 does not await exec() in executeScript: a failing migration
    // would count as applied and then crash the process with an unhandled rejection.
    adapter.executeScript = async (script) => {
      try {
        await pglite.exec(script);
      } catch (error) {
        throw toDriverAdapterError(error);
      }
    };
    return adapter;
  };
  return {
    provider: 'postgres',
    adapterName: 'pglite-prisma-adapter',
    connect,
    connectToShadowDb: connect,
  };
}

/** A PostgreSQL error in the shape the engine reports with its own message, code and hint. */
function toDriverAdapterError(error: unknown): unknown {
  if (!(error instanceof messages.DatabaseError)) return error;
  return new DriverAdapterError({
    kind: 'postgres',
    code: error.code ?? 'N/A',
    severity: error.severity ?? 'ERROR',
    message: error.message,
    detail: error.detail,
    column: error.column,
    hint: error.hint,
  });
}

/** Reads a migrations directory the way the Prisma CLI does: sorted folders, one migration.sql each. */
async function readMigrationList(dir: string): Promise<MigrationList> {
  const baseDir = resolve(dir);
  const lockfile = await readFile(join(baseDir, 'migration_lock.toml'), 'utf8').catch(() => null);
  const names = (await readdir(baseDir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const migrationDirectories = await Promise.all(
    names.map(async (name) => ({
      path: name,
      migrationFile: {
        path: 'migration.sql',
        content: await readFile(join(baseDir, name, 'migration.sql'), 'utf8').then(
          (value) => ({ tag: 'ok' as const, value }),
          (error: Error) => ({ tag: 'error' as const, value: error.message }),
        ),
      },
    })),
  );
  return {
    baseDir,
    lockfile: { path: 'migration_lock.toml', content: lockfile },
    migrationDirectories,
    shadowDbInitScript: '',
  };
}

function schemaTarget(schemaPath: string): DiffTarget {
  const path = resolve(schemaPath);
  return { tag: 'schemaDatamodel', files: [{ path, content: readFileSync(path, 'utf8') }] };
}
