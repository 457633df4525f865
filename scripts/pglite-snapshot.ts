import { pgliteSnapshot, unpackedSnapshot } from '../src/db/pglite-snapshot.ts';

// Run by `npm ci` (postinstall): makes the migrated PGlite snapshot now, as a tarball (in-memory
// test databases load it) and unpacked (a first start copies it), so that the first start and
// every test file skip PGlite's initdb (docs/design.md, "Start-up").
const started = performance.now();
const snapshot = await pgliteSnapshot();
await unpackedSnapshot('migrated');
const seconds = ((performance.now() - started) / 1000).toFixed(1);
process.stdout.write(`PGlite snapshot ready (${snapshot.length} bytes, ${seconds} s)\n`);
