import { deflateSync, gzipSync } from 'node:zlib';
import { describe, expect } from 'vitest';
import { test } from '../support/fixtures.ts';
import { runPythonApp } from '../support/sentry.ts';
import type { TestProject, TestServer } from '../support/server.ts';

// Relay's other ingest paths (/store/, /minidump/, /security/ …): accepted, authenticated and
// rate limited like envelopes, and skipped with the answer SDKs expect. None stores a session.

const EVENT_ID = '9ec79c33ec9942ab8353589fcb2e04dc';
const OTHER_KEY = '0123456789abcdef0123456789abcdef';

const url = (server: TestServer, project: TestProject, path: string, key?: string | null) =>
  `${server.url}/api/${project.id}/${path}${key === null ? '' : `?sentry_key=${key ?? project.publicKey}`}`;

async function send(target: string, init: RequestInit = {}) {
  const response = await fetch(target, { method: 'POST', ...init });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Plain text or an image: the test sees it raw.
  }
  return { status: response.status, body, headers: response.headers };
}

async function sessionRows(server: TestServer, project: TestProject): Promise<number> {
  return server.db.prisma.sessionCounter.count({ where: { projectId: project.id } });
}

describe('POST /api/<id>/store/', () => {
  test('answers the Python SDK’s error event as it expects, and stores no session', async ({
    server,
    project,
  }) => {
    const run = await runPythonApp(project.dsn, { mode: 'store' });

    expect(run.exitCode).toBe(0);
    expect(run.eventId).toMatch(/^[0-9a-f]{32}$/);
    // Before Vigil answered /store/, the SDK logged "Unexpected status code: 404".
    expect(run.problems).toEqual([]);
    expect(await sessionRows(server, project)).toBe(0);
  }, 120_000);

  test.for<[string, () => string | Buffer, Record<string, string>]>([
    ['JSON', () => JSON.stringify({ event_id: EVENT_ID, message: 'x' }), {}],
    [
      'gzip JSON',
      () => gzipSync(JSON.stringify({ event_id: EVENT_ID })),
      { 'content-encoding': 'gzip' },
    ],
    [
      'base64 of zlib JSON (old SDKs)',
      () => deflateSync(JSON.stringify({ event_id: EVENT_ID })).toString('base64'),
      {},
    ],
    ['JSON with NaN (Python)', () => `{"event_id": "${EVENT_ID}", "extra": {"x": NaN}}`, {}],
  ])('answers a %s event with its id', async ([, body, headers], { server, project }) => {
    const response = await send(url(server, project, 'store/'), {
      body: new Uint8Array(Buffer.from(body())),
      headers: { 'content-type': 'application/json', ...headers },
    });
    expect(response).toMatchObject({ status: 200, body: { id: EVENT_ID } });
  });

  test('gives an event without an id a new one; a GET request gets a pixel', async ({
    server,
    project,
  }) => {
    const posted = await send(url(server, project, 'store/'), { body: '{"message":"no id"}' });
    expect(posted.status).toBe(200);
    expect((posted.body as { id: string }).id).toMatch(/^[0-9a-f]{32}$/);

    const data = encodeURIComponent(JSON.stringify({ event_id: EVENT_ID }));
    const pixel = await fetch(`${url(server, project, 'store/')}&sentry_data=${data}`);
    expect(pixel.status).toBe(200);
    expect(pixel.headers.get('content-type')).toBe('image/gif');
  });

  test.for([
    ['an empty body', ''],
    ['a body that is no event', 'hello'],
    ['a JSON array', '[1, 2]'],
    ['an invalid event_id', '{"event_id": "not-an-id"}'],
  ])('answers 400 to %s', async ([, body], { server, project }) => {
    const response = await send(url(server, project, 'store/'), { body });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ detail: expect.any(String) });
  });

  test('refuses keys as the envelope endpoint does: 401 without, 403 for a wrong one', async ({
    server,
    project,
  }) => {
    const body = JSON.stringify({ event_id: EVENT_ID });
    const missing = await send(url(server, project, 'store/', null), { body });
    const wrong = await send(url(server, project, 'store/', OTHER_KEY), { body });
    const envelopeWrong = await send(url(server, project, 'envelope/', OTHER_KEY), {
      body: '{}\n',
    });

    expect(missing).toMatchObject({ status: 401, body: { detail: 'missing sentry_key' } });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toEqual(envelopeWrong.body);
    // Through the X-Sentry-Auth header, as SDKs send it.
    const header = await send(url(server, project, 'store/', null), {
      body,
      headers: { 'x-sentry-auth': `Sentry sentry_version=7, sentry_key=${project.publicKey}` },
    });
    expect(header).toMatchObject({ status: 200, body: { id: EVENT_ID } });
  });
});

describe('other ingest paths', () => {
  test.for<[string, number, string | null]>([
    ['minidump/', 200, 'text/plain'],
    ['minidump', 200, 'text/plain'],
    ['security/', 200, null],
    ['csp-report/', 200, null],
    ['nel/', 200, null],
    [`events/${EVENT_ID}/attachments/`, 201, null],
    ['cron/nightly-job/', 202, null],
    ['otlp/v1/traces', 202, null],
  ] as const)(
    'accepts and skips POST %s with %i',
    async ([path, status, contentType], { server, project }) => {
      const response = await send(url(server, project, path), {
        body: 'MDMP report bytes',
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(response.status).toBe(status);
      if (contentType) expect(response.headers.get('content-type')).toContain(contentType);
      if (contentType) expect(response.body).toMatch(/^[0-9a-f]{32}$/);
      expect(await sessionRows(server, project)).toBe(0);
    },
  );

  test('takes the key of an Unreal crash report from its path, and refuses a wrong one', async ({
    server,
    project,
  }) => {
    const base = `${server.url}/api/${project.id}/unreal`;
    expect((await send(`${base}/${project.publicKey}/`, { body: 'crash' })).status).toBe(200);
    expect((await send(`${base}/${OTHER_KEY}/`, { body: 'crash' })).status).toBe(403);
  });

  test('answers 404 to a path Relay does not have, and 405 to a GET of /minidump/', async ({
    server,
    project,
  }) => {
    expect((await send(url(server, project, 'nothing-here/'), { body: 'x' })).status).toBe(404);
    const get = await fetch(url(server, project, 'minidump/'));
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, OPTIONS');
  });
});
