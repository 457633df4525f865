import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { migrate, readMigrations } from './migrate.ts';

// Under node_modules, so `npm ci` starts it afresh and git never sees it.
const CACHE_DIR = fileURLToPath(new URL('../../node_modules/.cache/vigil', import.meta.url));

/** `migrated`: initialised and migrated; `empty`: initialised only (the migrator's own tests). */
export type SnapshotKind = 'migrated' | 'empty';

/**
 * What a new PGlite data directory starts from: a tarball of one that is initialised (and
 * migrated). PGlite's initdb costs about 10 s of CPU (docs/design.md, "Start-up"); loading this
 * costs 2. It is made once per PGlite version and set of migrations (by `npm ci` or the first
 * start that lacks it) and kept in node_modules/.cache/vigil. `migrate()` still runs on the loaded
 * copy, so a stale or foreign snapshot could only leave work to do, never skip any.
 * @returns undefined when `dataDir` already holds a database (a restart: nothing to load).
 */
export async function initialDataDir(
  dataDir: string,
  kind: SnapshotKind = 'migrated',
): Promise<Blob | undefined> {
  if (dataDir !== 'memory://' && existsSync(join(dataDir, 'PG_VERSION'))) return undefined;
  return new Blob([await pgliteSnapshot(kind)]);
}

/** The snapshot's bytes, made now when the cache lacks it. */
export async function pgliteSnapshot(
  kind: SnapshotKind = 'migrated',
): Promise<Uint8Array<ArrayBuffer>> {
  const file = join(CACHE_DIR, `pglite-${kind}-${await snapshotKey(kind)}.tgz`);
  try {
    return new Uint8Array(await readFile(file));
  } catch {
    const tarball = await buildSnapshot(kind);
    await mkdir(CACHE_DIR, { recursive: true });
    // Written aside and renamed, so a concurrent start never reads half a file.
    const partial = `${file}.${process.pid}.partial`;
    await writeFile(partial, tarball);
    await rename(partial, file);
    await removeOtherSnapshots(file, `pglite-${kind}-`);
    return tarball;
  }
}

async function buildSnapshot(kind: SnapshotKind): Promise<Uint8Array<ArrayBuffer>> {
  const pglite = await PGlite.create();
  try {
    if (kind === 'migrated') await applyMigrations(pglite);
    const dump = await pglite.dumpDataDir('gzip');
    return new Uint8Array(await dump.arrayBuffer());
  } finally {
    await pglite.close();
  }
}

async function applyMigrations(pglite: PGlite): Promise<void> {
  await migrate({
    withSession: (fn) =>
      fn({
        exec: async (sql) => void (await pglite.exec(sql)),
        query: async (sql, params) => (await pglite.query<never>(sql, params)).rows,
      }),
  });
}

/** PGlite's version (its data format) and, when migrated, every migration's name and checksum. */
async function snapshotKey(kind: SnapshotKind): Promise<string> {
  const require = createRequire(import.meta.url);
  // The package exports no ./package.json; its entry lives in dist/, next to it.
  const manifest = join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
  const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
  const hash = createHash('sha256').update(version);
  if (kind === 'migrated') {
    for (const m of await readMigrations()) hash.update(`\n${m.name} ${m.checksum}`);
  }
  return hash.digest('hex').slice(0, 16);
}

async function removeOtherSnapshots(keep: string, prefix: string): Promise<void> {
  for (const name of await readdir(CACHE_DIR)) {
    const path = join(CACHE_DIR, name);
    if (path !== keep && name.startsWith(prefix) && name.endsWith('.tgz')) {
      await rm(path, { force: true });
    }
  }
}
