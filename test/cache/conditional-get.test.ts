import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadDashboards } from '../../src/modules/sessions/dashboards.ts';
import { createOrganization, createToken } from '../auth/access-support.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';
import { frozenClock, sendSession } from './cache-support.ts';

// A dashboard document fetched with GET by its persisted hash: an ETag of the answer's bytes and
// a private, must-revalidate Cache-Control, a 304 without SQL while nothing changed, and the new
// numbers once sessions arrive. The clock stands still, so only new data can change an answer.

const time = frozenClock();
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ clock: time.clock });
});
afterAll(async () => {
  await server?.close();
});

const SESSION_COUNTS = loadDashboards().find((d) => d.name === 'session-counts') as {
  sha256: string;
};

function dashboardUrl(variables: Record<string, unknown>): string {
  const params = new URLSearchParams({
    variables: JSON.stringify(variables),
    extensions: JSON.stringify({
      persistedQuery: { version: 1, sha256Hash: SESSION_COUNTS.sha256 },
    }),
  });
  return `${server.url}/graphql?${params}`;
}

function get(url: string, headers: Record<string, string> = {}, token = ADMIN_TOKEN) {
  return fetch(url, {
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      'x-graphql-yoga-csrf': '1',
      ...headers,
    },
  });
}

interface Counts {
  data: { organization: { sessions: { groups: Array<{ totals: { sessions: number } }> } } };
}
const total = (body: Counts) =>
  body.data.organization.sessions.groups.reduce((sum, g) => sum + g.totals.sessions, 0);

describe('HTTP caching of persisted documents', () => {
  test('an unchanged answer is a 304 without SQL; new sessions make it a 200 with new numbers', async () => {
    const project = await server.createProject();
    await sendSession(server.envelopeUrl(project), time.at());
    const url = dashboardUrl({ org: project.organizationSlug, projects: [project.id] });

    const first = await get(url);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    expect(first.headers.get('cache-control')).toBe('private, max-age=0, must-revalidate');
    expect(first.headers.get('vary')?.toLowerCase()).toContain('authorization');
    expect(first.headers.get('last-modified')).toBeNull();
    expect(total((await first.json()) as Counts)).toBe(1);

    const { result: revalidated, statements } = await server.countStatements(() =>
      get(url, { 'if-none-match': etag as string }),
    );
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe('');
    expect(revalidated.headers.get('etag')).toBe(etag);
    expect(statements).toEqual([]);

    await sendSession(server.envelopeUrl(project), time.at());
    const changed = await get(url, { 'if-none-match': etag as string });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(total((await changed.json()) as Counts)).toBe(2);
  });

  test('If-None-Match lists, weak tags and * are understood; an unknown tag gets the answer', async () => {
    const project = await server.createProject();
    const url = dashboardUrl({ org: project.organizationSlug, projects: [project.id] });
    const etag = (await get(url)).headers.get('etag') as string;
    expect((await get(url, { 'if-none-match': `"nope", W/${etag}` })).status).toBe(304);
    expect((await get(url, { 'if-none-match': '*' })).status).toBe(304);
    const other = await get(url, { 'if-none-match': '"nope"' });
    expect(other.status).toBe(200);
    expect(other.headers.get('etag')).toBe(etag);
    const junk = await get(url, { 'if-none-match': 'not a tag at all' });
    expect(junk.status).toBe(200);
  });

  test('another organization’s token with the same tag gets its own answer, not a 304', async () => {
    const a = await createOrganization(server, 'etag-a');
    const b = await createOrganization(server, 'etag-b');
    const tokenA = (await createToken(server, a.slug, ['ORG_READ'])).token;
    const tokenB = (await createToken(server, b.slug, ['ORG_READ'])).token;
    await sendSession(
      `${server.url}/api/${a.project.projectId}/envelope/?sentry_key=${a.project.keys[0]?.publicKey}`,
      time.at(),
    );
    const url = dashboardUrl({ org: a.slug });
    const ofA = await get(url, {}, tokenA);
    expect(total((await ofA.json()) as Counts)).toBe(1);
    const etag = ofA.headers.get('etag') as string;
    const ofB = await get(url, { 'if-none-match': etag }, tokenB);
    expect(ofB.status).toBe(200);
    expect(((await ofB.json()) as Counts).data.organization).toBeNull();
  });

  test('a GET still needs the CSRF header and a token, whatever If-None-Match says', async () => {
    const project = await server.createProject();
    const url = dashboardUrl({ org: project.organizationSlug, projects: [project.id] });
    const etag = (await get(url)).headers.get('etag') as string;
    const noCsrf = await fetch(url, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'if-none-match': etag },
    });
    expect(noCsrf.status).toBe(403);
    const noToken = await fetch(url, {
      headers: { 'x-graphql-yoga-csrf': '1', 'if-none-match': etag },
    });
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('etag')).toBeNull();
  });

  test('POST answers carry no cache headers of the response cache', async () => {
    const first = await server.gql('{ organizations { slug } }');
    expect(first.status).toBe(200);
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query: '{ organizations { slug } }' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBeNull();
    expect(response.headers.get('last-modified')).toBeNull();
  });
});
