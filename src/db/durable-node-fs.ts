import fs from 'node:fs';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

// PGlite persists through Emscripten's NODEFS, whose streams have no `fsync`: the C library's
// fsync() then does nothing, and PGlite starts PostgreSQL with `-F` (fsync off) anyway. A commit
// therefore reached the page cache only, so an OS crash or power loss could lose acknowledged
// sessions. This file system gives NODEFS streams a real fsync; `openPglite` turns PostgreSQL's
// fsync back on with `wal_sync_method=fsync` (fdatasync() is a no-op in PGlite's C library, fsync()
// is not), so every commit syncs its WAL once, and checkpoints sync data files and directories
// before the WAL they replace is recycled, as on a PostgreSQL server.

/** PostgreSQL settings that make PGlite's commits durable on top of `DurableNodeFS`. */
export const DURABLE_START_PARAMS = ['-c', 'fsync=on', '-c', 'wal_sync_method=fsync'];

interface NodeStream {
  nfd: number;
}

interface NodeFsInternals {
  stream_ops: { fsync?: (stream: NodeStream) => number };
  /** Turns a Node error into the errno PostgreSQL sees, as NODEFS's own operations do. */
  tryFSOperation?: <T>(fn: () => T) => T;
}

export class DurableNodeFS extends NodeFS {
  override async init(pg: PGlite, opts: Parameters<NodeFS['init']>[1]) {
    const { emscriptenOpts } = await super.init(pg, opts);
    const preRun = [
      ...(emscriptenOpts.preRun ?? []),
      (mod: { NODEFS: unknown }) => {
        const nodefs = mod.NODEFS as NodeFsInternals;
        nodefs.stream_ops.fsync = (stream) => {
          const sync = () => fs.fsyncSync(stream.nfd);
          // A failed fsync must reach PostgreSQL, which then stops rather than acknowledge.
          if (nodefs.tryFSOperation) nodefs.tryFSOperation(sync);
          else sync();
          return 0;
        };
      },
    ];
    return { emscriptenOpts: { ...emscriptenOpts, preRun } };
  }
}

/**
 * Syncs every file and directory under `dir` once: PGlite copies a new database's initial files
 * into place without syncing them; later changes go through PostgreSQL's own syncs. The files are
 * synced side by side (measured: 0.3 s for a new data dir, 0.7 s one after another).
 */
export async function syncTree(dir: string): Promise<void> {
  const entries = await fs.promises.readdir(dir, { withFileTypes: true, recursive: true });
  const inside = (kind: 'file' | 'dir') =>
    entries
      .filter((e) => (kind === 'file' ? e.isFile() : e.isDirectory()))
      .map((e) => path.join(e.parentPath, e.name));
  // Files before the directories that name them.
  await Promise.all(inside('file').map(syncPath));
  await Promise.all([...inside('dir'), dir].map(syncPath));
}

async function syncPath(file: string): Promise<void> {
  const handle = await fs.promises.open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
