import { pgliteSnapshot } from '../src/db/pglite-snapshot.ts';

// Run by `npm ci` (postinstall): makes the migrated PGlite snapshot now, so that the first start
// and every test file skip PGlite's initdb (docs/design.md, "Start-up").
const started = performance.now();
const snapshot = await pgliteSnapshot();
const seconds = ((performance.now() - started) / 1000).toFixed(1);
process.stdout.write(`PGlite snapshot ready (${snapshot.length} bytes, ${seconds} s)\n`);
