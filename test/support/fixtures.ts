import { test as base } from 'vitest';
import { startTestServer, type TestProject, type TestServer } from './server.ts';

/**
 * `server`: one Vigil per test file, on a database of its own.
 * `project`: a fresh project per test, so no test reads another's rows.
 */
export const test = base.extend<{ server: TestServer; project: TestProject }>({
  server: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest fixtures take their dependencies by destructuring
    async ({}, use) => {
      const server = await startTestServer();
      await use(server);
      await server.close();
    },
    { scope: 'file' },
  ],
  project: async ({ server }, use) => {
    await use(await server.createProject());
  },
});
