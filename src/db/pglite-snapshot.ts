import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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
 * What a new in-memory PGlite starts from: a tar file of one that is initialised (and migrated).
 * PGlite's initdb costs about 10 s of CPU (docs/design.md, "Start-up"); loading this costs 1.
 * It is made once per PGlite version and set of migrations (by `npm ci` or the first start that
 * lacks it) and kept in node_modules/.cache/vigil. `migrate()` still runs on the loaded copy, so a
 * stale or foreign snapshot could only leave work to do, never skip any.
 */
export async function initialMemoryDataDir(kind: SnapshotKind = 'migrated'): Promise<Blob> {
  return new Blob([await pgliteSnapshot(kind)]);
}

/**
 * Makes `dataDir` a copy of the snapshot unpacked, unless it already holds a database (a restart).
 * Copying files is cheaper than PGlite unpacking the tarball into its file system (0.7 s of CPU
 * against 2.0, with the sync). PG_VERSION, which marks a data directory as made, is copied last:
 * a start cut off while copying begins again the next time.
 * @returns whether the directory is new (its files still need syncing to disk).
 */
export async function prepareDataDir(
  dataDir: string,
  kind: SnapshotKind = 'migrated',
): Promise<boolean> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return false;
  const unpacked = await unpackedSnapshot(kind);
  await cp(unpacked, dataDir, {
    recursive: true,
    filter: (source) => source !== join(unpacked, 'PG_VERSION'),
  });
  await cp(join(unpacked, 'PG_VERSION'), join(dataDir, 'PG_VERSION'));
  return true;
}

/** The snapshot as a data directory next to its tarball, unpacked now when missing. */
export async function unpackedSnapshot(kind: SnapshotKind): Promise<string> {
  const dir = join(CACHE_DIR, `pglite-${kind}-${await snapshotKey(kind)}`);
  if (existsSync(dir)) return dir;
  const tarball = await pgliteSnapshot(kind);
  // Unpacked aside and renamed, so a concurrent start never copies half a directory.
  const partial = `${dir}.${process.pid}.partial`;
  await rm(partial, { recursive: true, force: true });
  const pglite = await PGlite.create({ dataDir: partial, loadDataDir: new Blob([tarball]) });
  // A clean shutdown: the files are complete and consistent, ready to copy.
  await pglite.close();
  try {
    await rename(partial, dir);
  } catch (error) {
    // Another start renamed its copy first: that one is as good.
    await rm(partial, { recursive: true, force: true });
    if (!existsSync(dir)) throw error;
  }
  await removeOtherSnapshots(dir, `pglite-${kind}-`);
  return dir;
}

/** The snapshot's bytes, made now when the cache lacks it. */
export async function pgliteSnapshot(
  kind: SnapshotKind = 'migrated',
): Promise<Uint8Array<ArrayBuffer>> {
  const file = join(CACHE_DIR, `pglite-${kind}-${await snapshotKey(kind)}.tar`);
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
    // Not gzipped: loading a gzipped one costs every test database 0.4 s more of CPU (41 MB here).
    const dump = await pglite.dumpDataDir('none');
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

/** Removes the tarballs and unpacked directories of other keys (`keep` is either of this one's). */
async function removeOtherSnapshots(keep: string, prefix: string): Promise<void> {
  const base = keep.replace(/\.tar$/, '');
  for (const name of await readdir(CACHE_DIR)) {
    const path = join(CACHE_DIR, name);
    // Earlier versions kept gzipped tarballs (.tgz): removed too.
    const snapshot = name.endsWith('.tar') || name.endsWith('.tgz') || !name.includes('.');
    if (path !== base && path !== `${base}.tar` && name.startsWith(prefix) && snapshot) {
      await rm(path, { recursive: true, force: true });
    }
  }
}
