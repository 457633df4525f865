import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Vigil as a user runs it: `npm start` is `node scripts/start.mjs` (the bundle of src/, rebuilt
// when a source changed), here without npm in between so that SIGTERM reaches Vigil itself.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const START = join(ROOT, 'scripts/start.mjs');
// Generous: on a loaded two-core machine a start has taken over 30 s.
const STARTUP_TIMEOUT_MS = 120_000;

export interface Banner {
  graphiqlUrl: string;
  token: string | undefined;
  dsn: string;
  text: string;
}

export interface VigilProcess {
  port: number;
  stdout(): string;
  stderr(): string;
  /** Resolves once the start-up banner is printed; rejects if the process exits first. */
  banner: Promise<Banner>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends SIGTERM, as a service manager does, and waits for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends SIGKILL: no shutdown, as in a crash or an OOM kill. */
  kill(): void;
}

const started: Array<{ child: ChildProcess; exit: Promise<unknown>; group: boolean }> = [];

/**
 * Kills what `startVigil` started and is still running (only those) and waits until each has
 * exited, for `afterEach`: a process that still writes its data directory makes removing it fail
 * (ENOTEMPTY).
 */
export async function killStartedVigils(): Promise<void> {
  const running = started.splice(0);
  for (const { child, group } of running) {
    if (group) killGroup(child);
    else if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  await Promise.all(running.map(({ exit }) => exit));
  // npm's children may outlive npm: wait until nothing of the group is left.
  for (const { child, group } of running) {
    if (group) await groupGone(child);
  }
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Nothing left in the group.
  }
}

/** Resolves once no process of the child's group is left (npm, its shell, Vigil). */
export async function groupGone(child: ChildProcess, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (child.pid) process.kill(-child.pid, 0);
    } catch {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/** A port that was free a moment ago: the banner prints the configured port, so 0 would not do. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Starts Vigil with exactly `env` (nothing inherited, so no stray DATABASE_URL). `viaNpm` runs the
 * README's `npm start` instead, in its own process group (PATH inherited, to find npm and node).
 */
export async function startVigil(
  env: Record<string, string>,
  { viaNpm = false }: { viaNpm?: boolean } = {},
): Promise<VigilProcess & { child: ChildProcess }> {
  const port = env.PORT === undefined ? await freePort() : Number(env.PORT);
  const fullEnv = { HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env };
  const child = viaNpm
    ? spawn('npm', ['start', '--silent'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...fullEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      })
    : spawn(process.execPath, [START], {
        cwd: ROOT,
        env: fullEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  started.push({ child, exit, group: viaNpm });
  const banner = new Promise<Banner>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no banner within ${STARTUP_TIMEOUT_MS} ms:\n${stdout}\n${stderr}`)),
      STARTUP_TIMEOUT_MS,
    );
    const check = () => {
      const parsed = parseBanner(stdout);
      if (parsed) {
        clearTimeout(timer);
        resolve(parsed);
      }
    };
    child.stdout.on('data', check);
    void exit.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(`Vigil exited (${code ?? signal}) before its banner:\n${stdout}\n${stderr}`),
      );
    });
  });
  // The banner's rejection is awaited by the tests that expect a banner, not by the others.
  banner.catch(() => {});
  const stop = () => {
    child.kill('SIGTERM');
    return exit;
  };
  const kill = () => void child.kill('SIGKILL');
  return { port, banner, exit, stop, kill, child, stdout: () => stdout, stderr: () => stderr };
}

/** The banner main.ts prints; its DSN line comes last, so a banner whose DSN line ends is whole. */
function parseBanner(text: string): Banner | undefined {
  const dsn = /^ {2}DSN of project default\/default: (\S+)\n/m.exec(text)?.[1];
  const graphiqlUrl = /^ {2}GraphiQL: (\S+)\n/m.exec(text)?.[1];
  if (!dsn || !graphiqlUrl) return undefined;
  const token = /^ {2}Admin token \(shown once, keep it\): (\S+)\n/m.exec(text)?.[1];
  return { graphiqlUrl, token, dsn, text };
}
