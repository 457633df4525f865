import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { openSchemaDiffer, type SchemaDiffer } from './schema-engine.ts';

// `npm run migration:new -- <name>`: writes what prisma/schema.prisma adds to the committed
//   migrations as prisma/migrations/<UTC yyyymmddHHMMSS>_<name>/migration.sql.
// `npm run migration:check`: exits 2 and prints the SQL when the two differ, 0 when they agree.
// Both take --migrations <dir> and --schema <file>; errors and bad usage exit 1.

const USAGE = `usage: tsx scripts/migration-diff.ts new <name> | check [--migrations <dir>] [--schema <file>]
  <name>: lowercase letters, digits and "_", starting with a letter (e.g. add_release_notes)`;

const root = fileURLToPath(new URL('..', import.meta.url));

/** Where a run writes, and the differ it uses (the tests run the command in their own process). */
export interface MigrationDiffIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  differ: SchemaDiffer;
}

interface Paths {
  migrationsDir: string;
  schemaPath: string;
}

/** The command itself: `argv` as after `tsx scripts/migration-diff.ts`; resolves to the exit code. */
export async function migrationDiff(argv: string[], io: MigrationDiffIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    io.stderr(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function run(argv: string[], io: MigrationDiffIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      migrations: { type: 'string', default: join(root, 'prisma/migrations') },
      schema: { type: 'string', default: join(root, 'prisma/schema.prisma') },
    },
  });
  const [command, name, ...extra] = positionals;
  const paths = { migrationsDir: values.migrations, schemaPath: values.schema };
  if (command === 'check' && name === undefined) return check(paths, io);
  if (command === 'new' && name !== undefined && extra.length === 0) {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) {
      return fail(io, `invalid migration name "${name}"\n${USAGE}`);
    }
    return create(name, paths, io);
  }
  return fail(io, USAGE);
}

async function check(paths: Paths, io: MigrationDiffIo): Promise<number> {
  const diff = await io.differ.migrationsAgainstSchema(paths);
  if (diff.exitCode === 0) {
    io.stderr('The migrations and the schema agree.\n');
    return 0;
  }
  io.stdout(diff.sql);
  io.stderr(
    `The schema differs from the migrations by the SQL above: run \`npm run migration:new -- <name>\`.\n`,
  );
  return 2;
}

async function create(name: string, paths: Paths, io: MigrationDiffIo): Promise<number> {
  const diff = await io.differ.migrationsAgainstSchema(paths);
  if (diff.exitCode === 0) {
    return fail(io, 'The schema matches the migrations: there is nothing to write.');
  }
  const existing = (await readdir(paths.migrationsDir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const dir = join(paths.migrationsDir, `${nextTimestamp(existing.at(-1))}_${name}`);
  await mkdir(dir);
  const file = join(dir, 'migration.sql');
  await writeFile(file, diff.sql);
  io.stderr(`Wrote ${relative(process.cwd(), file)}\n`);
  return 0;
}

/**
 * Now, as UTC yyyymmddHHMMSS; or one second after the newest migration when a clock behind it
 * would sort the new migration before one it builds on.
 */
function nextTimestamp(newest: string | undefined): string {
  const now = formatTimestamp(new Date());
  const last = newest?.slice(0, 14);
  if (!last || !/^\d{14}$/.test(last) || now > last) return now;
  const iso = last.replace(/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/, '$1-$2-$3T$4:$5:$6Z');
  return formatTimestamp(new Date(Date.parse(iso) + 1000));
}

function formatTimestamp(date: Date): string {
  return date.toISOString().replace(/\D/g, '').slice(0, 14);
}

function fail(io: MigrationDiffIo, message: string): number {
  io.stderr(`${message}\n`);
  return 1;
}

// Run as a script (not imported by a test): one diff, then the PGlite is closed.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const differ = openSchemaDiffer();
  try {
    process.exitCode = await migrationDiff(process.argv.slice(2), {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      differ,
    });
  } finally {
    await differ.close();
  }
}
