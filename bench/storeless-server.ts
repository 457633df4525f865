import { createServer } from 'node:http';
import { createServerAdapter } from '@whatwg-node/server';
import { bootstrap } from '../src/bootstrap.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/client.ts';
import { migrate } from '../src/db/migrate.ts';
import { createEnvelopeRoute } from '../src/ingest/envelope.route.ts';
import { createLogger } from '../src/log.ts';
import { buildDsn } from '../src/modules/projects/dsn.ts';

// Vigil's envelope endpoint with everything but the session store: HTTP, body, parsing, Relay's
// validation, key and release lookups, group commit. Its rate is the most any store could give.
const config = loadConfig();
const db = await openDatabase(config);
await migrate(db);
const boot = await bootstrap(db, config.adminToken);
const route = createEnvelopeRoute({
  db,
  log: createLogger(config.logLevel),
  clock: () => new Date(),
  config,
  store: async () => {},
});
const server = createServer(createServerAdapter(route));
server.keepAliveTimeout = 65_000;
server.listen(config.port, config.host, () => {
  const url = `http://127.0.0.1:${config.port}`;
  const project = boot.defaultProject as { id: number; publicKey: string };
  process.stdout.write(`DSN ${buildDsn(url, project.publicKey, project.id)}\n`);
});
process.on('SIGTERM', () => server.close(async () => process.exit(0)));
