import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

// Which test files touch no database: they run in one project only (vitest.config.ts), since a
// second run on the other database would test nothing new. Decided from the source, so a file
// that starts using a database runs on both again without anyone having to remember a list.

/** What in a test file, or a test helper it imports, means it uses a database. */
const USES_DATABASE =
  /support\/(server|database|postgres|vigil-process)\.ts|src\/db\/|testDatabaseKind|VIGIL_TEST_DB|openDatabase/;

const RELATIVE_IMPORT = /(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/** Test files (paths relative to `root`, with `/`) that use no database, directly or through helpers. */
export function databaseFreeTestFiles(root: string): string[] {
  const testDir = join(root, 'test');
  // A file uses a database when it, or any helper under test/ it reaches by imports, says so.
  const usesDatabase = (file: string): boolean => {
    const seen = new Set<string>();
    const pending = [file];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      if (seen.has(next)) continue;
      seen.add(next);
      const source = readFileSync(next, 'utf8');
      if (USES_DATABASE.test(source)) return true;
      for (const [, specifier] of source.matchAll(RELATIVE_IMPORT)) {
        const target = resolve(dirname(next), specifier ?? '');
        // Modules of src/ count by their path only (src/db/ above); helpers are read too.
        if (target.startsWith(testDir + sep) && /\.[cm]?[jt]s$/.test(target)) pending.push(target);
      }
    }
    return false;
  };
  return readdirSync(testDir, { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.test.ts'))
    .map((path) => join(testDir, path))
    .filter((file) => !usesDatabase(file))
    .map((file) => relative(root, file).split(sep).join('/'))
    .sort();
}
