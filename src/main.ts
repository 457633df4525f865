import { createServer } from 'node:http';
import { createApp } from './app.ts';
import { bootstrap } from './bootstrap.ts';
import { ConfigError, loadConfig } from './config.ts';
import { openDatabase } from './db/client.ts';
import { MigrationError, migrate } from './db/migrate.ts';
import { startAdoptionMonitor } from './jobs/adoption-monitor.ts';
import { startAlertEvaluator } from './jobs/alert-evaluator.ts';
import { startPruner } from './jobs/prune.ts';
import { startWebhookDeliverer } from './jobs/webhook-deliverer.ts';
import { createLogger } from './log.ts';
import { buildDsn } from './modules/projects/dsn.ts';

/** CPU and wall milliseconds since the process began, at the end of each start-up phase. */
const startup: Record<string, { wallMs: number; cpuMs: number }> = {};
function mark(phase: string) {
  const { user, system } = process.cpuUsage();
  startup[phase] = {
    wallMs: Math.round(performance.now()),
    cpuMs: Math.round((user + system) / 1000),
  };
}

// The process entry: configuration → database → migrations → first-start data → HTTP server.
async function main() {
  mark('modules');
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.logLevel, { pretty: process.stdout.isTTY === true });
  const db = await openDatabase(config, {
    onConnectionError: (err) =>
      log.warn({ err }, 'database connection lost; reconnecting on demand'),
  });
  mark('database');
  try {
    await migrate(db, { log: (message) => log.info(message) });
  } catch (error) {
    if (error instanceof MigrationError) {
      process.stderr.write(`${error.message}\n`);
      await db.close();
      process.exit(1);
    }
    throw error;
  }
  mark('migrations');
  const boot = await bootstrap(db, config.adminToken);
  mark('bootstrap');
  const app = createApp({ config, db, log });
  const server = createServer(app.handler);
  server.keepAliveTimeout = 65_000;
  server.listen(config.port, config.host, () => {
    const lines = [
      `Vigil is running on ${config.databaseUrl ? 'PostgreSQL' : `embedded PGlite (${config.dataDir})`}.`,
      `  GraphiQL: ${app.publicUrl}/graphql`,
    ];
    if (boot.generatedToken) {
      lines.push(`  Admin token (shown once, keep it): ${boot.generatedToken}`);
    }
    if (boot.defaultProject) {
      const { id, publicKey } = boot.defaultProject;
      lines.push(`  DSN of project default/default: ${buildDsn(app.publicUrl, publicKey, id)}`);
    }
    mark('listening');
    // `npm run bench -- --only startup` reads this (with LOG_LEVEL=debug).
    log.debug({ startup }, 'start-up phases');
    process.stdout.write(`${lines.join('\n')}\n`);
  });

  const adoption = startAdoptionMonitor(db, {
    onError: (err) => log.error({ err }, 'adoption stages could not be updated'),
  });
  const alerts = startAlertEvaluator(db, {
    onError: (err) => log.error({ err }, 'alert rules could not be evaluated'),
  });
  const webhooks = startWebhookDeliverer(db, {
    onError: (err) => log.error({ err }, 'webhook deliveries could not be sent'),
  });
  const prune = startPruner(db, { onError: (err) => log.error({ err }, 'pruning failed') });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: finishing in-flight requests');
    app.drain();
    // Stop accepting, let in-flight requests finish, then close the database they write to.
    server.close(async () => {
      await prune.stop();
      await adoption.stop();
      await alerts.stop();
      await webhooks.stop();
      await app.close();
      await db.close();
      log.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
    setTimeout(() => {
      log.warn('in-flight requests did not finish within 25 s; closing them');
      server.closeAllConnections();
    }, 25_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

await main();
