import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';
import { databaseFreeTestFiles } from './test/support/database-free.ts';
import { isPostgresReachable, POSTGRES_ADMIN_URL } from './test/support/postgres.ts';

// One suite, two databases: every test file that uses a database runs on embedded PGlite and on
// PostgreSQL. A file that uses none (found from its imports) runs once, in the pglite project.
export default defineConfig(async () => {
  const postgres = await isPostgresReachable();
  if (!postgres && process.env.CI) {
    throw new Error(
      `CI runs the suite on PostgreSQL too, but none answers at ${POSTGRES_ADMIN_URL}`,
    );
  }
  const root = fileURLToPath(new URL('.', import.meta.url));
  const database = (name: string, target: string, exclude: string[] = []) => ({
    extends: true as const,
    test: {
      name,
      env: { VIGIL_TEST_DB: target },
      exclude: [...configDefaults.exclude, ...exclude],
    },
  });
  return {
    resolve: {
      // graphql 16 has no "exports" map: Node resolves its CommonJS build (as Pothos and yoga get
      // it at run time) while Vite would pick index.mjs, and two copies of graphql cannot mix.
      alias: {
        graphql: fileURLToPath(new URL('./node_modules/graphql/index.js', import.meta.url)),
      },
    },
    test: {
      include: ['test/**/*.test.ts'],
      globalSetup: ['test/support/global-setup.ts'],
      projects: [
        database('pglite', 'pglite'),
        ...(postgres ? [database('postgres', 'postgres', databaseFreeTestFiles(root))] : []),
      ],
      // Generous: a file's first test also waits for its server to start, which a busy two-core
      // machine has taken over 30 s to do.
      testTimeout: 90_000,
      hookTimeout: 180_000,
      // PGlite is CPU-bound and this machine has two cores.
      maxWorkers: 2,
      // A worker keeps its loaded modules from one file to the next (the schema, yoga, Prisma's
      // client): 37 % less CPU on six server files (docs/design.md § The suite's time). Each file
      // still has its own server and database, and the tests share no global state.
      isolate: false,
    },
  };
});
