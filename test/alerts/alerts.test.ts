import { afterEach, describe, expect } from 'vitest';
import { evaluateAlertRules } from '../../src/jobs/alert-evaluator.ts';
import { deliverDueWebhooks } from '../../src/jobs/webhook-deliverer.ts';
import { test } from '../support/fixtures.ts';
import { expectData } from '../support/gql.ts';
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

// Crash-rate alerts end to end: real SDK sessions, the evaluator and deliverer called as their
// timers call them (with the clock injected), webhooks to a real receiver, SSE subscribers.

const receivers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
});

describe('alert rules, incidents and webhooks', { timeout: 120_000 }, () => {
  test('a release going below a threshold and back opens one incident, resolves it, and delivers two signed webhooks', async ({
    server,
  }) => {
    const org = await createAlertOrg(server);
    const receiver = await startReceiver();
    receivers.push(receiver);
    const hook = await createHook(server, org, receiver.url);
    await createRule(server, org, {
      metric: 'CRASH_FREE_SESSIONS',
      threshold: 80,
      resolveThreshold: 85,
      window: '1h',
      minSessions: 10,
    });
    const sse = await subscribe(
      server.url,
      `subscription { incidents(organizationSlug: "${org.slug}") { type incident { release { version } } } }`,
    );
    expect(sse.status).toBe(200);
    await waitFor(async () => server.db.notifications.live);
    const tick = minutes();
    const statuses = async () => (await incidentsOf(server, org)).map((i) => i.status);
    await sendSessions(org.dsn, 10, 'exited');
    await evaluateAlertRules(server.db, { now: tick() });
    expect(await statuses()).toEqual([]);

    // 5 of 15 crashed: 66.7 % crash-free, below 80.
    await sendSessions(org.dsn, 5, 'crashed');
    const round = tick();
    await evaluateAlertRules(server.db, { now: round });
    // Once per round: evaluating again in the same round claims nothing.
    expect(await evaluateAlertRules(server.db, { now: round })).toMatchObject({ rules: 0 });
    const open = await incidentsOf(server, org);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({
      status: 'OPEN',
      threshold: 80,
      release: { version: 'app@1.0.0' },
    });
    expect(open[0]?.value).toBeCloseTo(66.667, 2);

    // 5 of 20 crashed is 75 %: past neither line, nothing changes (hysteresis).
    await sendSessions(org.dsn, 5, 'exited');
    expect(await evaluateAlertRules(server.db, { now: tick() })).toMatchObject({
      opened: 0,
      resolved: 0,
    });

    // 5 of 35 crashed: 85.7 %, back above resolveThreshold.
    await sendSessions(org.dsn, 15, 'exited');
    const last = tick();
    await evaluateAlertRules(server.db, { now: last });
    const resolved = await incidentsOf(server, org);
    expect(resolved).toHaveLength(1);
    expect(resolved[0]?.status).toBe('RESOLVED');
    expect(resolved[0]?.resolvedValue).toBeCloseTo(85.714, 2);

    await deliverDueWebhooks(server.db, { now: last });
    expect(receiver.received).toHaveLength(2);
    const bodies = receiver.received.map((d) => expectSigned(d, hook.secret)) as unknown as Array<{
      type: string;
      incident: { status: string; release: string };
    }>;
    expect(bodies.map((b) => b.type).sort()).toEqual(['incident.opened', 'incident.resolved']);
    expect(bodies.every((b) => b.incident.release === 'app@1.0.0')).toBe(true);

    await waitFor(async () => sse.events.length >= 2);
    expect(sse.events).toEqual([
      {
        data: {
          incidents: {
            type: 'OPENED',
            incident: { release: { version: 'app@1.0.0' } },
          },
        },
      },
      {
        data: {
          incidents: {
            type: 'RESOLVED',
            incident: { release: { version: 'app@1.0.0' } },
          },
        },
      },
    ]);
    await sse.close();
  });

  test('a receiver answering 500 gets the delivery again, with the same idempotency id, once it answers 200', async ({
    server,
  }) => {
    const org = await createAlertOrg(server);
    const receiver = await startReceiver();
    receivers.push(receiver);
    const hook = await createHook(server, org, receiver.url);
    await createRule(server, org, { metric: 'CRASH_RATE_SESSIONS', threshold: 10, minSessions: 5 });
    await sendSessions(org.dsn, 5, 'crashed');
    const evaluatedAt = minutes()();
    await evaluateAlertRules(server.db, { now: evaluatedAt });
    expect((await incidentsOf(server, org)).map((i) => i.status)).toEqual(['OPEN']);

    const policy = { baseMs: 60_000 };
    const t0 = evaluatedAt.getTime();
    receiver.state.status = 500;
    expect(await deliverDueWebhooks(server.db, { now: new Date(t0), policy })).toBeGreaterThan(0);
    // Not due again before the backoff has passed.
    await deliverDueWebhooks(server.db, { now: new Date(t0 + 30_000), policy });
    expect(receiver.received).toHaveLength(1);
    receiver.state.status = 200;
    await deliverDueWebhooks(server.db, { now: new Date(t0 + 61_000), policy });
    expect(receiver.received.map((r) => r.status)).toEqual([500, 200]);
    const [first, second] = receiver.received.map((r) => expectSigned(r, hook.secret));
    expect(second?.id).toBe(first?.id);
    expect(receiver.received[1]?.body).toBe(receiver.received[0]?.body);

    const data = await server.gql<{
      node: {
        deliveries: Array<{
          deliveryId: string;
          status: string;
          attemptCount: number;
          attempts: Array<{ statusCode: number; responseBody: string }>;
        }>;
      };
    }>(
      `query ($id: ID!) { node(id: $id) { ... on Webhook { deliveries { deliveryId status attemptCount attempts { statusCode responseBody } } } } }`,
      { id: hook.id },
    );
    expect(data.data?.node.deliveries).toEqual([
      {
        deliveryId: first?.id,
        status: 'DELIVERED',
        attemptCount: 2,
        attempts: [
          { statusCode: 500, responseBody: 'boom' },
          { statusCode: 200, responseBody: 'ok' },
        ],
      },
    ]);
  });

  test('a release with fewer sessions than minSessions fires nothing, whatever its rate', async ({
    server,
  }) => {
    const org = await createAlertOrg(server);
    await createRule(server, org, {
      metric: 'CRASH_FREE_SESSIONS',
      threshold: 99,
      minSessions: 10,
    });
    await sendSessions(org.dsn, 9, 'crashed');
    const tick = minutes();
    await evaluateAlertRules(server.db, { now: tick() });
    expect(await incidentsOf(server, org)).toEqual([]);
    // The tenth session makes the same rate count.
    await sendSessions(org.dsn, 1, 'crashed');
    await evaluateAlertRules(server.db, { now: tick() });
    expect((await incidentsOf(server, org)).map((i) => i.status)).toEqual(['OPEN']);
  });

  test('testWebhook sends a signed sample at once', async ({ server }) => {
    const org = await createAlertOrg(server);
    const receiver = await startReceiver();
    receivers.push(receiver);
    const hook = await createHook(server, org, receiver.url);
    const result = await server.gql<{
      testWebhook: { __typename: string; delivery: { status: string; attemptCount: number } };
    }>(
      `mutation ($id: ID!) { testWebhook(input: { id: $id }) { __typename ... on TestWebhookSuccess { delivery { status attemptCount } } } }`,
      { id: hook.id },
    );
    expect(result.data?.testWebhook).toEqual({
      __typename: 'TestWebhookSuccess',
      delivery: { status: 'DELIVERED', attemptCount: 1 },
    });
    expect(receiver.received).toHaveLength(1);
    expect(expectSigned(receiver.received[0] as never, hook.secret)).toMatchObject({
      type: 'webhook.test',
    });
  });

  test('deliveries(first:) gives each webhook its own newest deliveries, in one statement', async ({
    server,
  }) => {
    const org = await createAlertOrg(server);
    const receiver = await startReceiver();
    receivers.push(receiver);
    const hooks = [
      await createHook(server, org, receiver.url),
      await createHook(server, org, receiver.url),
    ];
    const TEST = `mutation ($id: ID!) { testWebhook(input: { id: $id }) { __typename } }`;
    // Three deliveries for the first webhook, one for the second.
    for (const id of [hooks[0]?.id, hooks[0]?.id, hooks[0]?.id, hooks[1]?.id]) {
      await expectData(server, TEST, { id });
    }
    const DELIVERIES = `query ($slug: String!) {
      organization(slug: $slug) { webhooks { id deliveries(first: 2) { deliveryId } } }
    }`;
    const { result, statements } = await server.countStatements(() =>
      expectData<{
        organization: {
          webhooks: Array<{ id: string; deliveries: Array<{ deliveryId: string }> }>;
        };
      }>(server, DELIVERIES, { slug: org.slug }),
    );
    const byHook = new Map(result.organization.webhooks.map((w) => [w.id, w.deliveries]));
    expect(byHook.get(hooks[0]?.id ?? '')).toHaveLength(2);
    expect(byHook.get(hooks[1]?.id ?? '')).toHaveLength(1);
    // The newest first: the receiver got them in order, so the last two ids of the first webhook.
    const sent = receiver.received.map((r) => r.headers['vigil-delivery']);
    expect(byHook.get(hooks[0]?.id ?? '')?.map((d) => d.deliveryId)).toEqual([sent[2], sent[1]]);
    expect(statements.filter((sql) => sql.includes('selectDeliveriesByWebhookIds'))).toHaveLength(
      1,
    );
  });
});
