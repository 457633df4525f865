import { afterEach, describe, expect } from 'vitest';
import { openDatabase } from '../../src/db/client.ts';
import { evaluateAlertRules } from '../../src/jobs/alert-evaluator.ts';
import { deliverDueWebhooks } from '../../src/jobs/webhook-deliverer.ts';
import { testDatabaseKind } from '../support/database.ts';
import { test } from '../support/fixtures.ts';
import { type Gateway, startGateway } from '../support/gateway.ts';
import { waitFor } from '../support/wait.ts';
import {
  createAlertOrg,
  createHook,
  createRule,
  expectSigned,
  incidentsOf,
  minutes,
  sendSessions,
  startReceiver,
  subscribe,
} from './alert-support.ts';

// Several Vigil processes on one PostgreSQL: each is an app with its own pool and LISTEN
// connection, as a second `npm start` would have. PostgreSQL-only by nature.

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Another Vigil on the same database, closed after the test. */
async function startInstance(url: string): Promise<Gateway> {
  const gateway = await startGateway(url);
  cleanups.push(() => gateway.close());
  return gateway;
}

describe.runIf(testDatabaseKind() === 'postgres')(
  'two Vigil processes on one PostgreSQL',
  {
    timeout: 120_000,
  },
  () => {
    test('one incident, one delivery, and a subscriber on each process sees it', async ({
      server,
    }) => {
      const url = server.database.url as string;
      const other = await startInstance(url);
      const org = await createAlertOrg(server);
      const receiver = await startReceiver();
      cleanups.push(receiver.close);
      const hook = await createHook(server, org, receiver.url);
      await createRule(server, org, {
        metric: 'CRASH_RATE_SESSIONS',
        threshold: 20,
        minSessions: 5,
      });
      const query = `subscription { incidents(organizationSlug: "${org.slug}") { type incident { release { version } } } }`;
      const subscribers = [await subscribe(server.url, query), await subscribe(other.url, query)];
      cleanups.push(async () => {
        for (const s of subscribers) await s.close();
      });
      await waitFor(async () => server.db.notifications.live && other.db.notifications.live);

      await sendSessions(org.dsn, 5, 'crashed');
      const now = minutes()();
      const rounds = await Promise.all([
        evaluateAlertRules(server.db, { now }),
        evaluateAlertRules(other.db, { now }),
      ]);
      expect(rounds.reduce((n, r) => n + r.opened, 0)).toBe(1);
      expect((await incidentsOf(server, org)).map((i) => i.status)).toEqual(['OPEN']);

      await Promise.all([
        deliverDueWebhooks(server.db, { now }),
        deliverDueWebhooks(other.db, { now }),
      ]);
      expect(receiver.received).toHaveLength(1);
      expect(expectSigned(receiver.received[0] as never, hook.secret)).toMatchObject({
        type: 'incident.opened',
      });

      const event = {
        data: { incidents: { type: 'OPENED', incident: { release: { version: 'app@1.0.0' } } } },
      };
      await waitFor(async () => subscribers.every((s) => s.events.length >= 1));
      for (const s of subscribers) expect(s.events).toEqual([event]);
    });

    test('a delivery queued before a process stops is sent by the next one', async ({ server }) => {
      const url = server.database.url as string;
      const org = await createAlertOrg(server);
      const receiver = await startReceiver();
      cleanups.push(receiver.close);
      const hook = await createHook(server, org, receiver.url);
      await createRule(server, org, {
        metric: 'CRASH_RATE_SESSIONS',
        threshold: 20,
        minSessions: 5,
      });
      await sendSessions(org.dsn, 5, 'crashed');

      // The first process opens the incident, fails to deliver (500), and goes away.
      const first = await openDatabase({ databaseUrl: url, dataDir: '' });
      const now = minutes()();
      await evaluateAlertRules(first, { now });
      receiver.state.status = 500;
      await deliverDueWebhooks(first, { now });
      await first.close();

      receiver.state.status = 200;
      const next = await openDatabase({ databaseUrl: url, dataDir: '' });
      cleanups.push(() => next.close());
      await deliverDueWebhooks(next, { now: new Date(now.getTime() + 31_000) });
      expect(receiver.received.map((r) => r.status)).toEqual([500, 200]);
      const [a, b] = receiver.received.map((r) => expectSigned(r, hook.secret));
      expect(b?.id).toBe(a?.id);
    });
  },
);
