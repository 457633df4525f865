import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postEnvelope, sessionsEnvelope } from '../support/envelopes.ts';
import { expectData } from '../support/gql.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import {
  CREATE_PROJECT_KEY,
  createOrganization,
  DEACTIVATE_PROJECT_KEY,
  type Organization,
  ROTATE_PROJECT_KEY,
} from './access-support.ts';

// DSN key lifecycle: a new key, deactivation and rotation with a grace period take effect on the
// next envelope, and a key may carry its own envelope rate limit.

let server: TestServer;
let now = Date.now();
let org: Organization;

beforeAll(async () => {
  server = await startTestServer({ clock: () => new Date(now) });
  org = await createOrganization(server, 'keys');
}, 120_000);

afterAll(async () => {
  await server?.close();
});

interface Key {
  id: string;
  publicKey: string;
  isActive: boolean;
  expiresAt: string | null;
  rateLimitPerMinute: number | null;
}

/** Posts one session with `publicKey`; the status an SDK would see. */
async function send(publicKey: string): Promise<number> {
  const url = server.envelopeUrl({ id: org.project.projectId, publicKey });
  return (await postEnvelope(url, sessionsEnvelope([{ started: new Date(now) }]))).status;
}

async function newKey(rateLimitPerMinute?: number): Promise<Key> {
  const data = await expectData<{ createProjectKey: { __typename: string; projectKey: Key } }>(
    server,
    CREATE_PROJECT_KEY,
    { input: { organizationSlug: org.slug, projectSlug: org.project.slug, rateLimitPerMinute } },
  );
  expect(data.createProjectKey.__typename).toBe('CreateProjectKeySuccess');
  return data.createProjectKey.projectKey;
}

const keysOfProject = async () =>
  (
    await expectData<{ project: { keys: Key[] } }>(
      server,
      'query ($o: String!) { project(organizationSlug: $o, slug: "web") { keys { id publicKey isActive expiresAt rateLimitPerMinute } } }',
      { o: org.slug },
    )
  ).project.keys;

describe('DSN keys', () => {
  test('a new key is accepted at once', async () => {
    const key = await newKey();
    expect(key.publicKey).toMatch(/^[0-9a-f]{32}$/);
    expect(await send(key.publicKey)).toBe(200);
  });

  test('a deactivated key is refused on the next envelope, though its answer was cached', async () => {
    const key = await newKey();
    expect(await send(key.publicKey)).toBe(200);
    const data = await expectData<{ deactivateProjectKey: { projectKey: Key } }>(
      server,
      DEACTIVATE_PROJECT_KEY,
      { input: { id: key.id } },
    );
    expect(data.deactivateProjectKey.projectKey.isActive).toBe(false);
    expect(await send(key.publicKey)).toBe(403);
  });

  test('a rotated key is accepted for its grace period, then refused; the new one goes on', async () => {
    const old = await newKey(500);
    expect(await send(old.publicKey)).toBe(200);
    const data = await expectData<{
      rotateProjectKey: { __typename: string; projectKey: Key; previousKey: Key };
    }>(server, ROTATE_PROJECT_KEY, { input: { id: old.id, gracePeriodSeconds: 3600 } });
    const { projectKey, previousKey } = data.rotateProjectKey;
    expect(projectKey.publicKey).not.toBe(old.publicKey);
    expect(projectKey.rateLimitPerMinute).toBe(500);
    expect(Date.parse(previousKey.expiresAt ?? '')).toBe(now + 3_600_000);
    expect(await send(old.publicKey)).toBe(200);
    expect(await send(projectKey.publicKey)).toBe(200);
    now += 3_600_000;
    expect(await send(old.publicKey)).toBe(403);
    expect(await send(projectKey.publicKey)).toBe(200);
  });

  test('a rotation without grace refuses the old key at once', async () => {
    const old = await newKey();
    expect(await send(old.publicKey)).toBe(200);
    await expectData(server, ROTATE_PROJECT_KEY, { input: { id: old.id, gracePeriodSeconds: 0 } });
    expect(await send(old.publicKey)).toBe(403);
  });

  test('a key with its own rate limit answers 429 past it, other keys go on', async () => {
    const limited = await newKey(2);
    const other = await newKey();
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push(await send(limited.publicKey));
    expect(statuses).toEqual([200, 200, 429]);
    expect(await send(other.publicKey)).toBe(200);
  });

  test('lastUsedAt is written by the periodic flush, not by each envelope', async () => {
    const key = await newKey();
    await server.flushUsage();
    const sent = await server.countStatements(async () => {
      for (let i = 0; i < 3; i += 1) expect(await send(key.publicKey)).toBe(200);
    });
    expect(sent.statements.filter((s) => /last_used_at/.test(s))).toEqual([]);
    await server.flushUsage();
    const row = await server.db.prisma.projectKey.findFirstOrThrow({
      where: { publicKey: key.publicKey },
    });
    expect(row.lastUsedAt?.getTime()).toBe(now);
  });
});

describe('bad input gets a clear error and changes nothing', () => {
  test.for([
    [
      'a rate limit of 0',
      CREATE_PROJECT_KEY,
      'createProjectKey',
      { rateLimitPerMinute: 0 },
      'rateLimitPerMinute',
    ],
    [
      'a negative grace period',
      ROTATE_PROJECT_KEY,
      'rotateProjectKey',
      { gracePeriodSeconds: -1 },
      'gracePeriodSeconds',
    ],
    [
      'a grace period over 30 days',
      ROTATE_PROJECT_KEY,
      'rotateProjectKey',
      { gracePeriodSeconds: 31 * 86_400 },
      'gracePeriodSeconds',
    ],
  ] as const)('%s', async ([, document, field, extra, argument]) => {
    const key = await newKey();
    const before = await keysOfProject();
    const input =
      field === 'createProjectKey'
        ? { organizationSlug: org.slug, projectSlug: org.project.slug, ...extra }
        : { id: key.id, ...extra };
    const data = await expectData<
      Record<string, { __typename: string; field: string; message: string }>
    >(server, document, { input });
    expect(data[field]).toMatchObject({ __typename: 'InvalidArgumentError', field: argument });
    expect(await keysOfProject()).toEqual(before);
    expect(await send(key.publicKey)).toBe(200);
  });

  test('an unknown key id answers NotFoundError', async () => {
    const data = await expectData<{ deactivateProjectKey: { __typename: string } }>(
      server,
      DEACTIVATE_PROJECT_KEY,
      { input: { id: Buffer.from('ProjectKey:999999').toString('base64') } },
    );
    expect(data.deactivateProjectKey.__typename).toBe('NotFoundError');
  });
});
