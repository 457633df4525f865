import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const POSTGRES_ADMIN_URL =
  process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
export const ADMIN_TOKEN = 'bench-admin-token-0123456789';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function databaseUrlFor(name: string): string {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function databaseExists(name: string): Promise<boolean> {
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  await admin.end();
  return (rowCount ?? 0) > 0;
}

/** A fresh, empty PostgreSQL database for one benchmark run. */
export async function freshPostgres(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return databaseUrlFor(name);
}

export interface RunningVigil {
  url: string;
  dsn: { projectId: number; publicKey: string };
  /** The server's process, for CPU accounting. */
  pid: number | undefined;
  /** The PostgreSQL database it writes to; none on PGlite, whose work is in Vigil's process. */
  database?: string;
  stop(): Promise<void>;
}

/**
 * Vigil as a user runs it (`tsx src/main.ts`), in its own process, so load and server do not share
 * a core. `entry` swaps in another server script with the same banner (the storeless one).
 */
export async function startVigil(
  databaseUrl: string | undefined,
  entry = 'src/main.ts',
  /** A PGlite data directory seeded beforehand; the caller removes it. */
  seededDataDir?: string,
  /** More environment for Vigil (VIGIL_RESPONSE_CACHE_ENTRIES …). */
  env: Record<string, string> = {},
): Promise<RunningVigil> {
  const port = await freePort();
  const dataDir = seededDataDir ?? mkdtempSync(join(tmpdir(), 'vigil-bench-'));
  const child: ChildProcess = spawn(
    process.env.BENCH_NODE ? 'node' : 'node_modules/.bin/tsx',
    process.env.BENCH_NODE ? [...process.env.BENCH_NODE.split(' '), entry] : [entry],
    {
      env: {
        ...process.env,
        PORT: String(port),
        VIGIL_DATA_DIR: dataDir,
        VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
        VIGIL_RATE_LIMIT_PER_MINUTE: '0',
        VIGIL_GRAPHQL_RATE_LIMIT_PER_MINUTE: '0',
        LOG_LEVEL: 'warn',
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATABASE_URL: '' }),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const banner = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      if (out.includes('DSN')) resolve(out);
    });
    child.once('exit', (code) => reject(new Error(`vigil exited with ${code}: ${out}`)));
  });
  const dsn = /http:\/\/([0-9a-f]{32})@[^/]+\/(\d+)/.exec(banner);
  if (!dsn) throw new Error(`no DSN in banner: ${banner}`);
  return {
    url: `http://127.0.0.1:${port}`,
    dsn: { publicKey: dsn[1] as string, projectId: Number(dsn[2]) },
    pid: child.pid,
    database: databaseUrl ? new URL(databaseUrl).pathname.slice(1) : undefined,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      if (!seededDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// A server that reads each envelope and stores nothing: what the load generator and HTTP alone
// reach on this machine, the ceiling any ingest figure here lives under.
const NULL_SERVER = `
const server = require('node:http').createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{}'); });
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

export async function startNullServer(): Promise<RunningVigil> {
  const port = await freePort();
  const child = spawn('node', ['-e', NULL_SERVER], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`null server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    dsn: { projectId: 1, publicKey: '0'.repeat(32) },
    pid: child.pid,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
