import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { buildDsn } from '../../src/modules/projects/dsn.ts';
import { verifySignature } from '../../src/modules/webhooks/webhook-signature.ts';
import { createOrganization } from '../auth/access-support.ts';
import { expectData } from '../support/gql.ts';
import { captureEndedSession, createSdkClient, type SessionEnd } from '../support/sentry.ts';
import { ADMIN_TOKEN, type TestServer } from '../support/server.ts';

// Shared by the alert tests: an organization of their own (webhooks are per organization), real
// SDK sessions, a webhook receiver that checks signatures, and an SSE subscriber.

export interface AlertOrg {
  slug: string;
  projectSlug: string;
  dsn: string;
}

export async function createAlertOrg(server: TestServer): Promise<AlertOrg> {
  const slug = `o-${randomBytes(4).toString('hex')}`;
  const org = await createOrganization(server, slug);
  const key = org.project.keys[0];
  if (!key) throw new Error('the project has no key');
  return {
    slug,
    projectSlug: org.project.slug,
    dsn: buildDsn(server.url, key.publicKey, org.project.projectId),
  };
}

/** Sends `count` whole sessions ending `status` through @sentry/node, each with its own user. */
export async function sendSessions(
  dsn: string,
  count: number,
  status: SessionEnd,
  options: { release?: string; environment?: string } = {},
): Promise<void> {
  const sdk = createSdkClient(dsn, options);
  for (let i = 0; i < count; i++) {
    captureEndedSession(sdk, { did: randomBytes(6).toString('hex'), status });
  }
  // A generous flush: several test files send sessions at once on a two-core machine.
  if (!(await sdk.client.flush(60_000))) throw new Error('the Sentry client did not flush in 60 s');
  await sdk.close();
}

/** Evaluation times one minute apart, each in a later round than the one before. */
export function minutes() {
  const start = Date.now();
  let n = 0;
  return () => new Date(start + ++n * 60_000);
}

export const CREATE_ALERT_RULE = /* GraphQL */ `
  mutation ($input: CreateAlertRuleInput!) {
    createAlertRule(input: $input) {
      __typename
      ... on CreateAlertRuleSuccess { alertRule { id name metric comparison threshold resolveThreshold window minSessions kind releases { select version } } }
      ... on Error { message }
      ... on InvalidArgumentError { field }
    }
  }`;

export const CREATE_WEBHOOK = /* GraphQL */ `
  mutation ($input: CreateWebhookInput!) {
    createWebhook(input: $input) {
      __typename
      ... on CreateWebhookSuccess { secret webhook { id url events } }
      ... on Error { message }
      ... on InvalidArgumentError { field }
    }
  }`;

export const INCIDENTS = /* GraphQL */ `
  query ($org: String!, $project: String!, $status: IncidentStatus) {
    project(organizationSlug: $org, slug: $project) {
      incidents(status: $status, first: 10) {
        edges { node { id status value threshold environment openedAt resolvedAt resolvedValue release { version } baselineRelease { version } baselineValue rule { name } } }
      }
    }
  }`;

export interface IncidentNode {
  id: string;
  status: 'OPEN' | 'RESOLVED';
  value: number;
  threshold: number;
  environment: string | null;
  resolvedAt: string | null;
  resolvedValue: number | null;
  release: { version: string } | null;
  baselineRelease: { version: string } | null;
  baselineValue: number | null;
}

export async function incidentsOf(server: TestServer, org: AlertOrg): Promise<IncidentNode[]> {
  const data = await expectData<{
    project: { incidents: { edges: Array<{ node: IncidentNode }> } };
  }>(server, INCIDENTS, { org: org.slug, project: org.projectSlug });
  return data.project.incidents.edges.map((e) => e.node);
}

export async function createRule(
  server: TestServer,
  org: AlertOrg,
  input: Record<string, unknown>,
): Promise<string> {
  const data = await expectData<{
    createAlertRule: { __typename: string; alertRule: { id: string } };
  }>(server, CREATE_ALERT_RULE, {
    input: { organizationSlug: org.slug, projectSlug: org.projectSlug, name: 'crashes', ...input },
  });
  expect(data.createAlertRule.__typename, JSON.stringify(data)).toBe('CreateAlertRuleSuccess');
  return data.createAlertRule.alertRule.id;
}

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/** A webhook receiver on 127.0.0.1: answers `status` and records every request. */
export async function startReceiver() {
  const received: Received[] = [];
  const state = { status: 200 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        status: state.status,
      });
      res
        .writeHead(state.status, { 'content-type': 'text/plain' })
        .end(state.status === 200 ? 'ok' : 'boom');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Checks a delivery the way a receiver must (docs/design.md § Webhooks). */
export function expectSigned(delivery: Received, secret: string) {
  const header = delivery.headers['vigil-signature'];
  expect(typeof header).toBe('string');
  expect(verifySignature(secret, delivery.body, header as string, new Date(), 900)).toBe(true);
  // A wrong secret or a changed body fails: the check is real.
  expect(verifySignature(`${secret}x`, delivery.body, header as string, new Date(), 900)).toBe(
    false,
  );
  expect(verifySignature(secret, `${delivery.body} `, header as string, new Date(), 900)).toBe(
    false,
  );
  const body = JSON.parse(delivery.body) as { id: string; version: number };
  expect(body.version).toBe(1);
  expect(delivery.headers['vigil-delivery']).toBe(body.id);
  return body;
}

export async function createHook(server: TestServer, org: AlertOrg, url: string) {
  const data = await expectData<{
    createWebhook: { __typename: string; secret: string; webhook: { id: string } };
  }>(server, CREATE_WEBHOOK, {
    input: { organizationSlug: org.slug, url, events: ['INCIDENT_OPENED', 'INCIDENT_RESOLVED'] },
  });
  expect(data.createWebhook.__typename).toBe('CreateWebhookSuccess');
  return { secret: data.createWebhook.secret, id: data.createWebhook.webhook.id };
}

/** An SSE subscription through real HTTP, as graphql-yoga serves it. */
export async function subscribe(baseUrl: string, query: string, token = ADMIN_TOKEN) {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    signal: controller.signal,
    headers: {
      accept: 'text/event-stream',
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ query }),
  });
  const events: unknown[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reading = (async () => {
    if (!response.body) return;
    try {
      const reader = response.body.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        buffer += decoder.decode(r.value, { stream: true });
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trim())
            .join('');
          if (data) events.push(JSON.parse(data));
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // Aborted by close().
    }
  })();
  return {
    status: response.status,
    events,
    async close() {
      controller.abort();
      await reading;
    },
  };
}
