import { randomUUID } from 'node:crypto';
import { createServer, type Server, Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { createTestDatabase, testDatabaseKind } from '../support/database.ts';
import { buildEnvelope, postEnvelope } from '../support/envelopes.ts';
import { POSTGRES_ADMIN_URL } from '../support/postgres.ts';
import { killStartedVigils, startVigil } from '../support/vigil-process.ts';

// The database goes away in the middle of sustained ingest: a TCP proxy of the test's own sits
// between Vigil (a real process) and PostgreSQL and cuts every connection, then lets them through
// again. Vigil must stay up, answer 503 meanwhile, recover by itself, and have stored every
// session it answered 200 for exactly once, with SDK-style resends of what it refused.

afterEach(killStartedVigils);

const TOKEN = 'outage-test-admin-token-0123';
const WORKERS = 8;
const ENVELOPES_PER_WORKER = 12;
const RELEASE = 'outage@1.0.0';

/** A TCP proxy to PostgreSQL that can drop every connection and refuse new ones, then recover. */
async function startProxy() {
  const upstream = new URL(POSTGRES_ADMIN_URL);
  const sockets = new Set<Socket>();
  let down = false;
  const server: Server = createServer((client) => {
    client.on('error', () => {});
    if (down) {
      client.destroy();
      return;
    }
    const server = new Socket();
    server.on('error', () => client.destroy());
    client.on('error', () => server.destroy());
    server.connect(Number(upstream.port || 5432), upstream.hostname);
    for (const [a, b] of [
      [client, server],
      [server, client],
    ] as const) {
      sockets.add(a);
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    cut() {
      down = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      down = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Tally {
  acknowledged: number;
  refused: number;
  /** Refusals that came without Retry-After, and answers other than 200 and 503. */
  wrong: string[];
}

/** `n` waits of a few milliseconds: the next resend, as an SDK's would, only sooner. */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await pause(100);
  }
}

describe.skipIf(testDatabaseKind() !== 'postgres')('a PostgreSQL connection that drops', () => {
  test('during sustained ingest: Vigil stays up, answers 503, recovers, and stores every session once', async () => {
    const database = await createTestDatabase('postgres');
    const proxy = await startProxy();
    try {
      const viaProxy = new URL(database.url as string);
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(proxy.port);
      const vigil = await startVigil({
        DATABASE_URL: viaProxy.toString(),
        VIGIL_ADMIN_TOKEN: TOKEN,
        VIGIL_RATE_LIMIT_PER_MINUTE: '0',
        LOG_LEVEL: 'error',
      });
      let exited = false;
      void vigil.exit.then(() => {
        exited = true;
      });
      /** Waits for `check`, failing at once if Vigil is gone or answered something wrong. */
      const whileUp = (what: string, check: () => Promise<boolean> | boolean) =>
        until(what, () => {
          if (exited) throw new Error(`Vigil exited while waiting for ${what}:\n${vigil.stderr()}`);
          if (tally.wrong.length > 0) throw new Error(`wrong answers: ${tally.wrong.join('\n')}`);
          return check();
        });
      const { dsn } = await vigil.banner;
      const { username: key, pathname } = new URL(dsn);
      const base = `http://127.0.0.1:${vigil.port}`;
      const url = `${base}/api${pathname}/envelope/?sentry_key=${key}`;
      const graphql = async () => {
        const response = await fetch(`${base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify({ query: '{ organizations { slug } }' }),
        });
        return { status: response.status, body: (await response.json()) as GraphQLBody };
      };

      // Each worker is an app: every envelope starts two sessions and ends the two of its
      // previous envelope (one of them crashed), and is sent again until answered 200.
      const tally: Tally = { acknowledged: 0, refused: 0, wrong: [] };
      const expected = { sessions: 0, crashed: 0 };
      const send = async (envelope: Buffer): Promise<boolean> => {
        for (;;) {
          const answer = await postEnvelope(url, envelope).catch((error: Error) => error);
          if (answer instanceof Error) {
            tally.wrong.push(`no answer: ${answer.message} (${String(answer.cause)})`);
            return false;
          }
          if (answer.status === 200) return true;
          if (answer.status !== 503 || answer.headers.get('retry-after') !== '5') {
            tally.wrong.push(`${answer.status} ${JSON.stringify(answer.body)}`);
            return false;
          }
          tally.refused += 1;
          await pause(50);
        }
      };
      const worker = async () => {
        let previous: { sids: string[]; started: string } | undefined;
        for (let i = 0; i < ENVELOPES_PER_WORKER; i += 1) {
          const started = new Date().toISOString();
          const sids = [randomUUID(), randomUUID()];
          const items = [
            ...sids.map((sid) => update(sid, { init: true, status: 'ok', started, seq: 1 })),
            ...ends(previous, 'crashed'),
          ];
          if (!(await send(buildEnvelope(items, { sent_at: started })))) return;
          tally.acknowledged += 1;
          expected.sessions += sids.length;
          if (previous) expected.crashed += 1;
          previous = { sids, started };
        }
        await send(buildEnvelope(ends(previous, 'exited')));
      };
      const ingest = Promise.all(Array.from({ length: WORKERS }, worker));

      await whileUp('a first share of the envelopes to be stored', () => tally.acknowledged >= 20);
      proxy.cut();
      const refusedBefore = tally.refused;
      await until(
        'envelopes to be refused while the database is away',
        () => tally.refused >= refusedBefore + 10,
      );
      let outage: Awaited<ReturnType<typeof graphql>> | undefined;
      await whileUp('GraphQL to say the database is unavailable', async () => {
        outage = await graphql();
        return outage.status === 503;
      });
      expect(outage?.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      expect(exited).toBe(false);

      proxy.restore();
      await ingest;
      expect(tally.wrong).toEqual([]);
      expect((await graphql()).body).toEqual({ data: { organizations: [{ slug: 'default' }] } });
      expect((await fetch(`${base}/readyz`)).status).toBe(200);

      // Read past the proxy: what is stored, against what was acknowledged.
      const [stored] = await database.db.withSession((s) =>
        s.query<{ states: number; sessions: number; crashed: number }>(
          `SELECT (SELECT count(*)::int FROM session_state) AS states,
                  (SELECT sum(sessions)::int FROM session_counter WHERE granularity = 60 AND release_id <> 0) AS sessions,
                  (SELECT sum(crashed)::int FROM session_counter WHERE granularity = 60 AND release_id <> 0) AS crashed`,
        ),
      );
      expect(tally.refused).toBeGreaterThan(0);
      expect(stored).toEqual({
        states: expected.sessions,
        sessions: expected.sessions,
        crashed: expected.crashed,
      });
      expect(expected.sessions).toBe(WORKERS * ENVELOPES_PER_WORKER * 2);
      expect(await vigil.stop()).toEqual({ code: 0, signal: null });
    } finally {
      await proxy.close();
      await database.dispose();
    }
  }, 240_000);
});

interface GraphQLBody {
  data?: unknown;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/** The final updates of the sessions of an earlier envelope: the first one ends as `first`. */
function ends(previous: { sids: string[]; started: string } | undefined, first: string) {
  return (previous?.sids ?? []).map((sid, n) =>
    update(sid, { status: n === 0 ? first : 'exited', started: previous?.started, seq: 2 }),
  );
}

function update(sid: string, fields: Record<string, unknown>) {
  return {
    type: 'session',
    payload: {
      sid,
      did: `user-${sid.slice(0, 8)}`,
      timestamp: new Date().toISOString(),
      errors: 0,
      attrs: { release: RELEASE, environment: 'production' },
      ...fields,
    },
  };
}
