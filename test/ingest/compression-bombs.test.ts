import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createEmptyPostgresDatabase, testDatabaseKind } from '../support/database.ts';
import { buildEnvelope } from '../support/envelopes.ts';
import { sessionItem } from './hand-built.ts';

// Compression bombs against Vigil as users run it (`npm start`, in a process of its own, so
// that its resident memory is its own): 1 GiB each once inflated, eight at once, with no key,
// wrong keys and a valid key in the envelope header. Vigil must refuse them all with a 4xx,
// keep its memory within a few hundred MB, and answer ordinary envelopes meanwhile.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const GiB = 1024 ** 3;
const TOKEN = 'bomb-test-admin-token-0123456789';
/** Growth of Vigil's resident memory the bombs may cause; unbounded inflating took gigabytes. */
const MAX_GROWTH_BYTES = 300 * 1024 ** 2;

let vigil: ChildProcess;
let base: string;
let dsn: URL;
let cleanup: () => Promise<void>;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (!kib) throw new Error('no VmRSS');
  return Number(kib) * 1024;
}

beforeAll(async () => {
  const port = await freePort();
  let env: Record<string, string>;
  if (testDatabaseKind() === 'postgres') {
    const database = await createEmptyPostgresDatabase();
    env = { DATABASE_URL: database.url };
    cleanup = database.dispose;
  } else {
    const dataDir = await mkdtemp(join(tmpdir(), 'vigil-bombs-'));
    env = { VIGIL_DATA_DIR: dataDir };
    cleanup = () => rm(dataDir, { recursive: true, force: true });
  }
  vigil = spawn(process.execPath, [join(ROOT, 'scripts/start.mjs')], {
    cwd: ROOT,
    env: {
      ...env,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      VIGIL_ADMIN_TOKEN: TOKEN,
      VIGIL_RATE_LIMIT_PER_MINUTE: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  vigil.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  vigil.stderr?.resume();
  for (;;) {
    const line = /^ {2}DSN of project default\/default: (\S+)\n/m.exec(out)?.[1];
    if (line) {
      dsn = new URL(line);
      break;
    }
    if (vigil.exitCode !== null) throw new Error(`Vigil exited: ${out}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  base = `http://127.0.0.1:${port}`;
}, 120_000);

afterAll(async () => {
  if (vigil && vigil.exitCode === null) {
    vigil.kill('SIGKILL');
    await once(vigil, 'exit');
  }
  await cleanup?.();
});

/** `prefix`, then zeros up to 1 GiB in all, compressed: about a megabyte or less to send. */
async function bomb(encoding: 'gzip' | 'deflate' | 'br', prefix: string): Promise<Buffer> {
  if (encoding === 'gzip') {
    // Gzip members concatenate: one of zeros, repeated, is as good as one long member.
    const zeros = zlib.gzipSync(Buffer.alloc(64 * 1024 ** 2), { level: 9 });
    return Buffer.concat([
      zlib.gzipSync(prefix),
      ...Array.from({ length: GiB / 64 / 1024 ** 2 }, () => zeros),
    ]);
  }
  const compressor =
    encoding === 'deflate'
      ? zlib.createDeflate({ level: 1 })
      : zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } });
  const parts: Buffer[] = [];
  compressor.on('data', (chunk: Buffer) => parts.push(chunk));
  const ended = once(compressor, 'end');
  compressor.write(prefix);
  const zeros = Buffer.alloc(16 * 1024 ** 2);
  for (let written = 0; written < GiB; written += zeros.length) {
    if (!compressor.write(zeros)) await once(compressor, 'drain');
  }
  compressor.end();
  await ended;
  return Buffer.concat(parts);
}

async function post(path: string, body: Buffer, headers: Record<string, string>) {
  try {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-sentry-envelope', ...headers },
      body: Uint8Array.from(body),
    });
    await response.arrayBuffer();
    return response.status;
  } catch (error) {
    return `failed: ${(error as Error).message}`;
  }
}

describe('eight concurrent 1 GiB compression bombs', () => {
  test('are refused with 4xx while Vigil stays within a few hundred MB and answers others', async () => {
    const key = dsn.username;
    const projectPath = `/api${dsn.pathname}/envelope/`;
    const header = (fields: Record<string, unknown>) => `${JSON.stringify(fields)}\n`;
    const wrongDsn = `${dsn.protocol}//${'0'.repeat(32)}@${dsn.host}${dsn.pathname}`;
    const attachment = '{"type":"attachment"}\n';
    const session = '{"type":"session"}\n';
    const bombs = [
      // No key anywhere: refused after the header line (or at its 64 KiB limit).
      { name: 'no key, zeros', encoding: 'gzip', prefix: '', path: projectPath },
      { name: 'no key, a header', encoding: 'deflate', prefix: header({}), path: projectPath },
      // A wrong key: refused before the body, or after its header line.
      {
        name: 'wrong key in the query',
        encoding: 'br',
        prefix: header({}),
        path: `${projectPath}?sentry_key=${'0'.repeat(32)}`,
      },
      {
        name: 'wrong key in the dsn',
        encoding: 'gzip',
        prefix: header({ dsn: wrongDsn }),
        path: projectPath,
      },
      {
        name: 'wrong key in X-Sentry-Auth',
        encoding: 'gzip',
        prefix: header({}),
        path: projectPath,
        auth: `Sentry sentry_key=${'0'.repeat(32)}`,
      },
      // The valid key in the envelope header: read up to the limit, kept nowhere.
      {
        name: 'valid dsn, skipped item',
        encoding: 'gzip',
        prefix: header({ dsn: dsn.href }) + attachment,
        path: projectPath,
      },
      {
        name: 'valid dsn, session item',
        encoding: 'gzip',
        prefix: header({ dsn: dsn.href }) + session,
        path: projectPath,
      },
      {
        name: 'valid dsn, item header',
        encoding: 'gzip',
        prefix: header({ dsn: dsn.href }),
        path: projectPath,
      },
    ] as const;
    const bodies = await Promise.all(
      bombs.map((b) => bomb(b.encoding as 'gzip' | 'deflate' | 'br', b.prefix)),
    );
    for (const body of bodies) expect(body.length).toBeLessThan(20 * 1024 ** 2);

    const pid = vigil.pid as number;
    const ordinary = () =>
      post(
        `${projectPath}?sentry_key=${key}`,
        buildEnvelope([sessionItem({ did: 'ordinary' })]),
        {},
      );
    expect(await ordinary()).toBe(200);
    const before = await residentBytes(pid);

    let peak = before;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await residentBytes(pid));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const answers = Promise.all(
      bombs.map((b, i) =>
        post(b.path, bodies[i] as Buffer, {
          'content-encoding': b.encoding,
          ...('auth' in b ? { 'x-sentry-auth': b.auth } : {}),
        }),
      ),
    );
    // Ordinary envelopes while the bombs are in flight.
    const meanwhile = await Promise.all([ordinary(), ordinary(), ordinary()]);
    const statuses = await answers;
    sampling = false;
    await sampler;

    expect(meanwhile).toEqual([200, 200, 200]);
    expect(Object.fromEntries(bombs.map((b, i) => [b.name, statuses[i]]))).toEqual({
      'no key, zeros': 413,
      'no key, a header': 401,
      'wrong key in the query': 403,
      'wrong key in the dsn': 403,
      'wrong key in X-Sentry-Auth': 403,
      'valid dsn, skipped item': 413,
      'valid dsn, session item': 413,
      'valid dsn, item header': 413,
    });
    expect(peak - before).toBeLessThan(MAX_GROWTH_BYTES);

    // Only the ordinary sessions were stored.
    const response = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({
        query:
          '{ project(organizationSlug: "default", slug: "default") { health(period: "24h") { ... on ProjectHealth { sessions } } } }',
      }),
    });
    expect(await response.json()).toEqual({
      data: { project: { health: { sessions: 4 } } },
    });
  }, 300_000);
});
