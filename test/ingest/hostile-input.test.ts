import http from 'node:http';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { MAX_SESSION_ITEM_BYTES } from '../../src/ingest/envelope.route.ts';
import { MAX_AGGREGATE_COUNT } from '../../src/ingest/session.item.ts';
import { selectSessionMetrics } from '../../src/metrics/session-metrics.queries.ts';
import { buildEnvelope, type HandItem, postEnvelope } from '../support/envelopes.ts';
import { test } from '../support/fixtures.ts';
import { DISK_FULL, whileRefusing } from '../support/refuse-writes.ts';
import { ENVIRONMENT, RELEASE } from '../support/sentry.ts';
import { startTestServer, type TestProject, type TestServer } from '../support/server.ts';
import { sessionItem, sessionUpdate, storeBaseline } from './hand-built.ts';
import { findGroup, rejectedCounts, storedCounts } from './stored-counts.ts';

// What anyone holding a public DSN may send (issue 9): nothing of it gets a 5xx, poisons later
// envelopes, or leaves rows behind when it is refused.

const minute = () => new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();

function aggregatesItem(
  buckets: Array<Record<string, unknown>>,
  attrs: Record<string, unknown> = {},
): HandItem {
  return {
    type: 'sessions',
    payload: {
      aggregates: buckets,
      attrs: { release: RELEASE, environment: ENVIRONMENT, ...attrs },
    },
  };
}

/** The project's releases and environments by name: what refused input must not create. */
async function dimensionNames(server: TestServer, project: TestProject) {
  const releases = await server.db.prisma.releaseProject.findMany({
    where: { projectId: project.id },
    select: { release: { select: { version: true } } },
  });
  const environments = await server.db.prisma.environment.findMany({
    where: { projectId: project.id },
    select: { name: true },
  });
  return {
    releases: releases.map((r) => r.release.version).sort(),
    environments: environments.map((e) => e.name).sort(),
  };
}

describe('counts past the cap', () => {
  test.for([
    ['2^31 − 1', 2_147_483_647],
    ['3e9', 3e9],
    ['2^53 − 1', Number.MAX_SAFE_INTEGER],
    ['1e300', 1e300],
    ['the cap + 1', MAX_AGGREGATE_COUNT + 1],
  ] as const)(
    'drops a bucket claiming %s sessions, counts it, and keeps taking its release',
    async ([, claimed], { server, project }) => {
      const baseline = await storeBaseline(server, project);
      const envelope = buildEnvelope([
        aggregatesItem([
          { started: minute(), exited: 1 },
          { started: minute(), crashed: claimed },
        ]),
        sessionItem({ did: 'kept' }),
      ]);
      const response = await postEnvelope(server.envelopeUrl(project), envelope);
      expect(response.status).toBe(200);
      expect(await rejectedCounts(server.db, project.id)).toEqual({ count_too_large: 1 });

      // Same release, environment and buckets: nothing was poisoned.
      const next = buildEnvelope([aggregatesItem([{ started: minute(), exited: 2, crashed: 1 }])]);
      expect((await postEnvelope(server.envelopeUrl(project), next)).status).toBe(200);
      const { sessions } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
      expect(sessions).toMatchObject({ sessions: 4, crashed: 1 });
      await baseline.expectBaselineKept();
      const health = await server.gql<{ project: { health: Record<string, number> } }>(
        `query ($org: String!, $slug: String!) {
          project(organizationSlug: $org, slug: $slug) {
            health(period: "24h") { ... on ProjectHealth { sessions sessionsCrashed users } }
          }
        }`,
        { org: project.organizationSlug, slug: project.slug },
      );
      expect(health.errors).toBeUndefined();
      // The baseline's session, the kept one and the next envelope's three.
      expect(health.data?.project.health).toMatchObject({ sessions: 5, sessionsCrashed: 1 });
    },
  );

  test.for([
    ['a fraction', 1.5],
    ['a negative count', -1],
    ['a string', '7'],
  ] as const)(
    'drops a bucket whose count is %s as invalid_payload',
    async ([, claimed], { server, project }) => {
      const envelope = buildEnvelope([aggregatesItem([{ started: minute(), exited: claimed }])]);
      expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
      expect(await rejectedCounts(server.db, project.id)).toEqual({ invalid_payload: 1 });
      expect(await storedCounts(server.db, project.id)).toEqual([]);
    },
  );

  test('stores totals past 2^31 exactly and reads them back as exact numbers', async ({
    server,
    project,
  }) => {
    const cap = MAX_AGGREGATE_COUNT;
    const full = { exited: cap, errored: cap, abnormal: cap, crashed: cap, unhandled: cap };
    // 5 items of 100 buckets of 5 × 10^6 sessions, all in one minute: 2.5 × 10^9 sessions.
    // Each item its own (identical payloads of one envelope count once, as a resend would).
    const items = Array.from({ length: 5 }, (_, i) =>
      aggregatesItem(
        Array.from({ length: 100 }, () => ({ started: minute(), did: `u${i}`, ...full })),
      ),
    );
    expect((await postEnvelope(server.envelopeUrl(project), buildEnvelope(items))).status).toBe(
      200,
    );
    const more = buildEnvelope([sessionItem({ status: 'crashed' })]);
    expect((await postEnvelope(server.envelopeUrl(project), more)).status).toBe(200);

    const expected = {
      sessions: 2_500_000_001,
      erroredAll: 2_000_000_001,
      crashed: 500_000_001,
      abnormal: 500_000_000,
      unhandled: 500_000_000,
      anr: 0,
      anrForeground: 0,
    };
    const { sessions } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions).toEqual(expected);
    // The read path GraphQL uses, at every granularity.
    for (const granularity of [60, 3600, 86400] as const) {
      const [row] = await selectSessionMetrics(server.db, {
        projectIds: [project.id],
        start: new Date(Date.now() - 2 * 86_400_000),
        end: new Date(Date.now() + 86_400_000),
        granularity,
        groupBy: [],
        withoutUsers: true,
      });
      expect(row?.sessions).toEqual(expected);
    }
  });

  test('drops a session whose seq does not fit a 64-bit signed integer', async ({
    server,
    project,
  }) => {
    const payload = JSON.stringify(sessionUpdate({ seq: 1 })).replace(
      '"seq":1',
      '"seq":9223372036854775808',
    );
    const envelope = buildEnvelope([{ type: 'session', payload }, sessionItem()]);
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
    expect(await rejectedCounts(server.db, project.id)).toEqual({ sequence_overflow: 1 });
    const { sessions } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect(sessions.sessions).toBe(1);
  });
});

const badCharacters = [
  ['NUL', '\u0000'],
  ['a lone high surrogate', '\ud800'],
  ['a lone low surrogate', '\udc00'],
  ['a bell', '\u0007'],
  ['an escape', '\u001b'],
  ['DEL', '\u007f'],
] as const;

describe('strings as Relay validates them', () => {
  test.for(badCharacters)(
    'drops a session whose release holds %s and creates no release',
    async ([, bad], { server, project }) => {
      const envelope = buildEnvelope([
        sessionItem({}, { release: `app@1.0${bad}`, environment: 'fresh' }),
        aggregatesItem([{ started: minute(), exited: 3 }], { release: `${bad}agg` }),
        sessionItem({ did: 'kept' }),
      ]);
      const response = await postEnvelope(server.envelopeUrl(project), envelope);
      expect(response.status).toBe(200);
      expect(await rejectedCounts(server.db, project.id)).toEqual({ invalid_release: 2 });
      expect(await dimensionNames(server, project)).toEqual({
        releases: [RELEASE],
        environments: [ENVIRONMENT],
      });
    },
  );

  test.for(badCharacters)(
    'keeps a session whose environment holds %s, without environment',
    async ([, bad], { server, project }) => {
      const envelope = buildEnvelope([
        sessionItem({}, { environment: `prod${bad}` }),
        aggregatesItem([{ started: minute(), exited: 2 }], { environment: `${bad}` }),
      ]);
      expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
      const groups = await storedCounts(server.db, project.id);
      expect(groups.map((g) => [g.release, g.environment, g.sessions.sessions])).toEqual([
        [RELEASE, '', 3],
      ]);
      expect(await dimensionNames(server, project)).toEqual({
        releases: [RELEASE],
        environments: [''],
      });
      expect(await rejectedCounts(server.db, project.id)).toEqual({});
    },
  );

  test.for(badCharacters)(
    'counts a session whose user id holds %s, without a user',
    async ([, bad], { server, project }) => {
      const envelope = buildEnvelope([
        sessionItem({ did: `user${bad}` }),
        aggregatesItem([{ started: minute(), did: bad, exited: 2 }]),
      ]);
      expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
      const { sessions, users } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
      expect([sessions.sessions, users.users]).toEqual([3, 0]);
    },
  );

  test('drops an item that is not valid UTF-8 as invalid_json', async ({ server, project }) => {
    const good = JSON.stringify(sessionUpdate({}, { release: 'utf@1' }));
    const broken = Buffer.from(good.replace('utf@1', 'utf@\u00ff'), 'utf8');
    // ÿ is C3 BF in UTF-8; a lone C3 followed by "@" is not UTF-8.
    broken[broken.indexOf(0xbf)] = 0x40;
    const envelope = buildEnvelope([{ type: 'session', payload: broken }, sessionItem()]);
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
    expect(await rejectedCounts(server.db, project.id)).toEqual({ invalid_json: 1 });
    expect((await dimensionNames(server, project)).releases).toEqual([RELEASE]);
  });
});

describe('nothing of a refused or failed envelope is created', () => {
  const fresh = (n = 1) =>
    Array.from({ length: n }, () =>
      sessionItem({}, { release: 'refused@1.0', environment: 'refused' }),
    );

  test.for([
    ['101 session items (413)', () => buildEnvelope(fresh(101)), 413],
    [
      'a broken frame after good items (400)',
      () => Buffer.concat([buildEnvelope(fresh(3)), Buffer.from('{"type":\n')]),
      400,
    ],
  ] as const)('%s', async ([, body, status], { server, project }) => {
    const baseline = await storeBaseline(server, project);
    const response = await postEnvelope(server.envelopeUrl(project), body());
    expect(response.status).toBe(status);
    await baseline.expectUnchanged();
    expect((await dimensionNames(server, project)).releases).not.toContain('refused@1.0');
  });

  test('a write the database refuses (503), until it is sent again', async ({
    server,
    project,
  }) => {
    const baseline = await storeBaseline(server, project);
    const refused = await whileRefusing(server.db, DISK_FULL, () =>
      postEnvelope(server.envelopeUrl(project), buildEnvelope(fresh(2))),
    );
    expect(refused.status).toBe(503);
    await baseline.expectUnchanged();
    const names = await dimensionNames(server, project);
    expect(names.releases).not.toContain('refused@1.0');
    expect(names.environments).not.toContain('refused');

    const retried = await postEnvelope(server.envelopeUrl(project), buildEnvelope(fresh(2)));
    expect(retried.status).toBe(200);
    expect(
      (await findGroup(server.db, project.id, 'refused@1.0', 'refused')).sessions.sessions,
    ).toBe(2);
  });
});

/**
 * Sends the head of a request and keeps its body open: the answer must come without the rest.
 * Resolves with the status; the request is then torn down.
 */
function answerWhileBodyOpen(
  url: string,
  head: Buffer,
  headers: Record<string, string> = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-sentry-envelope', ...headers },
    });
    request.on('response', (response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
      request.destroy();
    });
    request.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
    // Chunked and never ended: Vigil cannot have read the whole body.
    request.write(head);
  });
}

describe('authenticated and rate-limited before the body', () => {
  const head = (header: Record<string, unknown>) =>
    Buffer.concat([
      Buffer.from(`${JSON.stringify(header)}\n`),
      Buffer.from('{"type":"attachment","length":1000000}\n'),
      Buffer.alloc(1000, 0x61),
    ]);

  test('refuses a wrong key in the query before reading the body', async ({ server, project }) => {
    const other = await server.createProject();
    const url = `${server.url}/api/${project.id}/envelope/?sentry_key=${other.publicKey}`;
    expect(await answerWhileBodyOpen(url, head({}))).toBe(403);
  });

  test("refuses a wrong key in the envelope header's dsn after its header line", async ({
    server,
    project,
  }) => {
    const other = await server.createProject();
    const url = `${server.url}/api/${project.id}/envelope/`;
    const dsn = other.dsn.replace(`/${other.id}`, `/${project.id}`);
    expect(await answerWhileBodyOpen(url, head({ dsn }))).toBe(403);
    expect(await answerWhileBodyOpen(url, head({}))).toBe(401);
  });

  test('refuses an envelope header line longer than 64 KiB with 413', async ({
    server,
    project,
  }) => {
    const url = `${server.url}/api/${project.id}/envelope/`;
    const long = Buffer.from(`{"dsn":"${'x'.repeat(70_000)}`);
    expect(await answerWhileBodyOpen(url, long)).toBe(413);
  });

  test('refuses an item whose length passes the envelope limit at once, with 413', async ({
    server,
    project,
  }) => {
    const body = Buffer.from('{}\n{"type":"attachment","length":200000000}\n');
    expect(await answerWhileBodyOpen(server.envelopeUrl(project), body)).toBe(413);
  });

  describe('with VIGIL_RATE_LIMIT_PER_MINUTE=1', () => {
    let limited: TestServer;
    beforeAll(async () => {
      limited = await startTestServer({ config: { VIGIL_RATE_LIMIT_PER_MINUTE: '1' } });
    });
    afterAll(() => limited.close());

    test('answers 429 before reading the body, with the key in the query or the dsn', async () => {
      const project = await limited.createProject();
      const first = await postEnvelope(
        limited.envelopeUrl(project),
        buildEnvelope([sessionItem()]),
      );
      expect(first.status).toBe(200);
      expect(await answerWhileBodyOpen(limited.envelopeUrl(project), head({}))).toBe(429);
      const url = `${limited.url}/api/${project.id}/envelope/`;
      expect(await answerWhileBodyOpen(url, head({ dsn: project.dsn }))).toBe(429);
    });
  });
});

describe('items Vigil keeps or skips', () => {
  test('drops a session item larger than its limit as too_large, framed or not', async ({
    server,
    project,
  }) => {
    const padded = { ...sessionUpdate(), pad: 'x'.repeat(MAX_SESSION_ITEM_BYTES) };
    const envelope = buildEnvelope([
      { type: 'session', payload: padded, withLength: true },
      { type: 'session', payload: { ...padded, sid: undefined } },
      sessionItem({ did: 'kept' }),
    ]);
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
    expect(await rejectedCounts(server.db, project.id)).toEqual({ too_large: 2 });
    const { sessions, users } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect([sessions.sessions, users.users]).toEqual([1, 1]);
  });

  test('skips 200,000 items of other types and counts the sessions among them', async ({
    server,
    project,
  }) => {
    const skipped = Buffer.from('{"type":"client_report"}\n{}\n'.repeat(100_000));
    const framed = Buffer.from('{"type":"event","length":2}\n{}\n'.repeat(100_000));
    const envelope = Buffer.concat([
      buildEnvelope([sessionItem({ did: 'first' })]),
      skipped,
      framed,
      buildEnvelope([sessionItem({ did: 'last' })]).subarray(buildEnvelope([]).length),
    ]);
    expect(envelope.length).toBeGreaterThan(4_000_000);
    expect((await postEnvelope(server.envelopeUrl(project), envelope)).status).toBe(200);
    const { sessions, users } = await findGroup(server.db, project.id, RELEASE, ENVIRONMENT);
    expect([sessions.sessions, users.users]).toEqual([2, 2]);
  });
});
