import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { createLogger } from '../../src/log.ts';
import { ADMIN_TOKEN } from './server.ts';

export interface Gateway {
  db: Database;
  url: string;
  close(): Promise<void>;
}

/**
 * Another Vigil on the same PostgreSQL database, in this process: its own pool, LISTEN connection
 * and HTTP server, as a second gateway behind a load balancer has. Resolves once it listens for
 * notifications, so nothing it should hear is sent before.
 */
export async function startGateway(
  databaseUrl: string,
  options: { clock?: () => Date; onStatement?: (sql: string) => void } = {},
): Promise<Gateway> {
  const db = await openDatabase({ databaseUrl, dataDir: '' });
  if (options.onStatement) db.onStatement(options.onStatement);
  const config = loadConfig({
    VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: 'silent',
    VIGIL_RATE_LIMIT_PER_MINUTE: '0',
    VIGIL_GRAPHQL_RATE_LIMIT_PER_MINUTE: '0',
  });
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const app = createApp({
    config: { ...config, publicUrl: url },
    db,
    log: createLogger('silent'),
    ...(options.clock && { clock: options.clock }),
  });
  http.on('request', app.handler);
  await db.notifications.settled();
  return {
    db,
    url,
    async close() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await app.close();
      await db.close();
    },
  };
}
