import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { buildEnvelope, type HandItem, postEnvelope } from '../support/envelopes.ts';
import { test } from '../support/fixtures.ts';
import {
  captureEndedSession,
  countingNodeTransport,
  createSdkClient,
  ENVIRONMENT,
  makeSession,
  RELEASE,
  recordSdkEnvelopes,
} from '../support/sentry.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { sessionItem, sessionUpdate, storeBaseline } from './hand-built.ts';
import { rejectedCounts, storedCounts, storedGroup } from './stored-counts.ts';

// The envelope endpoint at the HTTP level (spec §2.1, §2.5): what an SDK gets back for good and
// bad requests, and that a refused request stores nothing.

const FORBIDDEN = { detail: 'invalid or revoked key for this project' };

/** One finished session, serialised by @sentry/node: the init and the final update. */
async function sdkSessionEnvelopes(did = 'sdk-user'): Promise<Buffer[]> {
  return recordSdkEnvelopes((sdk) => void captureEndedSession(sdk, { did, status: 'exited' }));
}

async function sdkFinalUpdate(did?: string): Promise<Buffer> {
  const [, final] = await sdkSessionEnvelopes(did);
  if (!final) throw new Error('the SDK sent fewer than two envelopes');
  return final;
}

const sessionsStored = async (server: TestServer, projectId: number) =>
  (await storedCounts(server.db, projectId)).reduce((n, g) => n + g.sessions.sessions, 0);

describe('accepted envelopes', () => {
  test('answers an SDK envelope with 200, an empty JSON object and an open CORS origin', async ({
    server,
    project,
  }) => {
    const envelopes = await sdkSessionEnvelopes();
    for (const envelope of envelopes) {
      const response = await postEnvelope(server.envelopeUrl(project), envelope);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({});
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
    }
    const { sessions } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions.sessions).toBe(1);
  });

  test.for(['content-type, x-sentry-auth', 'x-evil, cookie', ''])(
    'answers a CORS preflight asking for %j with 204 and a fixed list of headers',
    async (asked, { server, project }) => {
      const response = await fetch(server.envelopeUrl(project), {
        method: 'OPTIONS',
        headers: {
          origin: 'http://app.test',
          'access-control-request-method': 'POST',
          ...(asked ? { 'access-control-request-headers': asked } : {}),
        },
      });
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
      const allowed = response.headers.get('access-control-allow-headers')?.split(', ');
      // What @sentry/browser sends, and Relay's list; never what the request asked for.
      expect(allowed).toEqual(
        expect.arrayContaining(['content-type', 'content-encoding', 'x-sentry-auth', 'baggage']),
      );
      expect(allowed).not.toContain('x-evil');
      expect(allowed).not.toContain('cookie');
    },
  );

  test.for([
    ['gzip', zlib.gzipSync],
    ['deflate', zlib.deflateSync],
    ['br', zlib.brotliCompressSync],
  ] as const)(
    'accepts a %s-compressed envelope',
    async ([encoding, compress], { server, project }) => {
      const response = await postEnvelope(
        server.envelopeUrl(project),
        compress(await sdkFinalUpdate()),
        {
          'content-type': 'application/x-sentry-envelope',
          'content-encoding': encoding,
        },
      );
      expect(response.status).toBe(200);
      const { users } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
      expect(users.users).toBe(1);
    },
  );

  test.for([
    'application/x-sentry-envelope',
    'text/plain;charset=UTF-8',
    'application/octet-stream',
  ])('accepts the content type %s', async (contentType, { server, project }) => {
    const response = await postEnvelope(server.envelopeUrl(project), await sdkFinalUpdate(), {
      'content-type': contentType,
    });
    expect(response.status).toBe(200);
    const { users } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(users.users).toBe(1);
  });

  test('answers a GET with 405 and the allowed methods', async ({ server, project }) => {
    const response = await fetch(server.envelopeUrl(project));
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST, OPTIONS');
    expect(await response.json()).toEqual({ detail: 'method not allowed' });
  });
});

describe('authentication', () => {
  test.for([
    ['the X-Sentry-Auth header', 'header'],
    ['the sentry_key query parameter', 'query'],
    ["the envelope header's dsn", 'dsn'],
  ] as const)('accepts the public key in %s', async ([, where], { server, project }) => {
    const envelope = await sdkFinalUpdate();
    const url = `${server.url}/api/${project.id}/envelope/`;
    const headers: Record<string, string> = { 'content-type': 'application/x-sentry-envelope' };
    let body = envelope;
    if (where === 'header') {
      headers['x-sentry-auth'] =
        `Sentry sentry_version=7, sentry_key=${project.publicKey}, sentry_client=test/1.0`;
    }
    if (where === 'dsn') body = withHeader(envelope, { dsn: project.dsn });
    const response = await postEnvelope(
      where === 'query' ? `${url}?sentry_key=${project.publicKey}&sentry_version=7` : url,
      body,
      headers,
    );
    expect(response.status).toBe(200);
    const { users } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(users.users).toBe(1);
  });

  test('refuses an envelope without a key with 401 and stores nothing', async ({
    server,
    project,
  }) => {
    const baseline = await storeBaseline(server, project);
    const response = await postEnvelope(
      `${server.url}/api/${project.id}/envelope/`,
      await sdkFinalUpdate('intruder'),
    );
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ detail: 'missing sentry_key' });
    await baseline.expectUnchanged();
  });

  test.for([
    'an unknown key',
    'a malformed key',
    'a revoked key of this project',
    "another project's key",
    'an unknown project id',
  ])('refuses %s with the same 403 and stores nothing', async (kind, { server, project }) => {
    const baseline = await storeBaseline(server, project);
    let key = randomBytes(16).toString('hex');
    let projectId = project.id;
    if (kind === 'a malformed key') key = 'not-a-key';
    if (kind === 'a revoked key of this project') {
      // A second key of the project, revoked before it is ever used (answers are cached 30 s).
      await server.db.prisma.projectKey.create({
        data: { projectId: project.id, publicKey: key, isActive: false },
      });
    }
    if (kind === "another project's key") key = (await server.createProject()).publicKey;
    if (kind === 'an unknown project id') {
      key = project.publicKey;
      projectId = 987_654_321;
    }
    const response = await postEnvelope(
      `${server.url}/api/${projectId}/envelope/?sentry_key=${key}`,
      await sdkFinalUpdate('intruder'),
    );
    expect(response.status).toBe(403);
    expect(response.body).toEqual(FORBIDDEN);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    await baseline.expectUnchanged();
  });

  test('refuses a header key that differs from the query key with 400', async ({
    server,
    project,
  }) => {
    const baseline = await storeBaseline(server, project);
    const other = await server.createProject();
    const response = await postEnvelope(server.envelopeUrl(project), await sdkFinalUpdate(), {
      'x-sentry-auth': `Sentry sentry_key=${other.publicKey}`,
    });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ detail: 'conflicting sentry_key values' });
    await baseline.expectUnchanged();
  });

  test("refuses a request key that differs from the envelope header's dsn with 400", async ({
    server,
    project,
  }) => {
    const baseline = await storeBaseline(server, project);
    const other = await server.createProject();
    const envelope = withHeader(await sdkFinalUpdate(), { dsn: other.dsn });
    const response = await postEnvelope(server.envelopeUrl(project), envelope);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ detail: 'conflicting sentry_key values' });
    await baseline.expectUnchanged();
  });
});

describe('bodies', () => {
  test.for([
    ['a gzip body that is not gzip', { 'content-encoding': 'gzip' }, 400],
    ['an unknown content encoding', { 'content-encoding': 'compress' }, 415],
    ['a JSON content type', { 'content-type': 'application/json' }, 415],
  ] as const)('refuses %s and stores nothing', async ([, headers, status], { server, project }) => {
    const baseline = await storeBaseline(server, project);
    const response = await postEnvelope(server.envelopeUrl(project), await sdkFinalUpdate(), {
      'content-type': 'application/x-sentry-envelope',
      ...headers,
    });
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ detail: expect.any(String) });
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    await baseline.expectUnchanged();
  });

  describe('with VIGIL_MAX_ENVELOPE_BYTES=2000', () => {
    let limited: TestServer;
    beforeAll(async () => {
      limited = await startTestServer({ config: { VIGIL_MAX_ENVELOPE_BYTES: '2000' } });
    });
    afterAll(() => limited.close());

    // A session item and 3 KB of event: it only fits when the limit is not applied.
    const oversized = () =>
      buildEnvelope([sessionItem(), { type: 'event', payload: { message: 'x'.repeat(3000) } }]);

    test('accepts an envelope under the limit', async () => {
      const project = await limited.createProject();
      const envelope = await sdkFinalUpdate();
      expect(envelope.length).toBeLessThan(2000);
      expect((await postEnvelope(limited.envelopeUrl(project), envelope)).status).toBe(200);
      expect(await storedCounts(limited.db, project.id)).toHaveLength(1);
    });

    test.for([
      ['identity', (b: Buffer) => b],
      ['gzip', zlib.gzipSync],
      ['deflate', zlib.deflateSync],
      ['br', zlib.brotliCompressSync],
    ] as const)(
      'refuses with 413 an envelope over the limit once decoded (%s)',
      async ([encoding, encode]) => {
        const project = await limited.createProject();
        const baseline = await storeBaseline(limited, project);
        const body = encode(oversized());
        if (encoding !== 'identity') expect(body.length).toBeLessThan(2000);
        const response = await postEnvelope(limited.envelopeUrl(project), body, {
          'content-type': 'application/x-sentry-envelope',
          'content-encoding': encoding,
        });
        expect(response.status).toBe(413);
        expect(response.body).toEqual({ detail: expect.stringContaining('2000 bytes') });
        expect(response.headers.get('access-control-allow-origin')).toBe('*');
        await baseline.expectUnchanged();
      },
    );

    test('refuses with 413 a streamed envelope over the limit that declares no length', async () => {
      const project = await limited.createProject();
      const baseline = await storeBaseline(limited, project);
      const body = oversized();
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < body.length; at += 500)
            controller.enqueue(body.subarray(at, at + 500));
          controller.close();
        },
      });
      const response = await fetch(limited.envelopeUrl(project), {
        method: 'POST',
        body: stream,
        duplex: 'half',
        // A stream goes out chunked, without content-length: the limit applies while reading.
      } as RequestInit);
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({ detail: 'envelope exceeds 2000 bytes' });
      await baseline.expectUnchanged();
    });
  });
});

describe('envelope frames', () => {
  const header = `${JSON.stringify({ sent_at: new Date().toISOString() })}\n`;
  const goodItem = (): string => `{"type":"session"}\n${JSON.stringify(sessionUpdate())}\n`;

  const brokenFrames: Array<[string, () => string]> = [
    ['an empty body', () => ''],
    ['an envelope header that is not JSON', () => `{"sent_at":\n${goodItem()}`],
    ['an envelope header that is not an object', () => `[]\n${goodItem()}`],
    ['an item header without a type', () => `${header}${goodItem()}{"length":2}\n{}\n`],
    ['an item header that is not JSON', () => `${header}${goodItem()}{type:session}\n{}\n`],
    [
      'an item length past the end',
      () => `${header}${goodItem()}{"type":"session","length":900}\n{}`,
    ],
    [
      'a payload longer than its length',
      () => `${header}${goodItem()}{"type":"event","length":2}\n{"a":1}\n`,
    ],
    ['a negative item length', () => `${header}${goodItem()}{"type":"event","length":-1}\n{}\n`],
  ];

  test.for(brokenFrames)(
    'refuses %s with 400 and stores none of its items',
    async ([, body], { server, project }) => {
      const baseline = await storeBaseline(server, project);
      const response = await postEnvelope(server.envelopeUrl(project), body());
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ detail: expect.any(String) });
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      await baseline.expectUnchanged();
      expect(await rejectedCounts(server.db, project.id)).toEqual({});
    },
  );

  test('accepts an envelope of exactly 100 session items', async ({ server, project }) => {
    const items = Array.from({ length: 100 }, (_, i) => sessionItem({ did: `u${i}` }));
    const response = await postEnvelope(server.envelopeUrl(project), buildEnvelope(items));
    expect(response.status).toBe(200);
    const { sessions, users } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect([sessions.sessions, users.users]).toEqual([100, 100]);
  });

  test.for([
    ['101 session items', () => Array.from({ length: 101 }, () => sessionItem())],
    ['101 buckets in one sessions item', () => [aggregateItem(101)]],
    ['10 000 session items', () => Array.from({ length: 10_000 }, () => sessionItem())],
  ] as const)(
    'refuses an envelope of %s with 413 and stores nothing',
    { timeout: 10_000 },
    async ([, items], { server, project }) => {
      const baseline = await storeBaseline(server, project);
      const response = await postEnvelope(server.envelopeUrl(project), buildEnvelope(items()));
      expect(response.status).toBe(413);
      expect(response.body).toEqual({ detail: expect.stringContaining('at most 100') });
      await baseline.expectUnchanged();
    },
  );

  test('accepts a sessions item of exactly 100 buckets', async ({ server, project }) => {
    const response = await postEnvelope(
      server.envelopeUrl(project),
      buildEnvelope([aggregateItem(100)]),
    );
    expect(response.status).toBe(200);
    const { sessions } = await storedGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions.sessions).toBe(100);
  });
});

describe('with VIGIL_RATE_LIMIT_PER_MINUTE=2', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({ config: { VIGIL_RATE_LIMIT_PER_MINUTE: '2' } });
  });
  afterAll(() => limited.close());

  test('answers the third envelope of a minute with 429 and Sentry rate-limit headers', async () => {
    const project = await limited.createProject();
    const url = limited.envelopeUrl(project);
    const envelopes = await Promise.all([
      sdkFinalUpdate('a'),
      sdkFinalUpdate('b'),
      sdkFinalUpdate('c'),
    ]);
    const statuses: number[] = [];
    let limitedResponse: Response | undefined;
    for (const envelope of envelopes) {
      const response = await fetch(url, { method: 'POST', body: Uint8Array.from(envelope) });
      statuses.push(response.status);
      if (response.status === 429) limitedResponse = response;
    }
    expect(statuses).toEqual([200, 200, 429]);
    const retryAfter = Number(limitedResponse?.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // <seconds>:<categories>:<scope>:<reason>; no categories means every category.
    expect(limitedResponse?.headers.get('x-sentry-rate-limits')).toMatch(
      new RegExp(`^${retryAfter}::key:\\w+$`),
    );
    expect(await limitedResponse?.json()).toEqual({ detail: 'rate limited' });
    expect(limitedResponse?.headers.get('access-control-allow-origin')).toBe('*');
    const { users } = await storedGroup(limited.db, project.id, RELEASE, ENVIRONMENT);
    expect(users.users).toBe(2);
  });

  test('makes @sentry/node stop sending sessions after a 429', async () => {
    const project = await limited.createProject();
    const counting = countingNodeTransport();
    const sdk = createSdkClient(project.dsn, { transport: counting.transport });
    // Two envelopes (init and exit) use up the minute.
    captureEndedSession(sdk, { did: 'first', status: 'exited' });
    await sdk.flush();
    expect(counting.requests()).toBe(2);
    sdk.client.captureSession(makeSession({ did: 'limited' }));
    await sdk.flush();
    expect(counting.requests()).toBe(3);

    captureEndedSession(sdk, { did: 'held-back', status: 'exited' });
    await sdk.flush();
    await sdk.close();

    expect(counting.requests()).toBe(3);
    expect(await sessionsStored(limited, project.id)).toBe(1);
  });
});

/** The envelope with fields added to (or replacing) its header line. */
function withHeader(envelope: Buffer, fields: Record<string, unknown>): Buffer {
  const text = envelope.toString('utf8');
  const newline = text.indexOf('\n');
  const header = JSON.parse(text.slice(0, newline)) as Record<string, unknown>;
  return Buffer.from(JSON.stringify({ ...header, ...fields }) + text.slice(newline));
}

function aggregateItem(buckets: number): HandItem {
  const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
  return {
    type: 'sessions',
    payload: {
      aggregates: Array.from({ length: buckets }, () => ({ started: minute, exited: 1 })),
      attrs: { release: RELEASE, environment: ENVIRONMENT },
    },
  };
}
