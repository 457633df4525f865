import { execFile } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { closeSession, makeSession, type Session, updateSession } from '@sentry/core';
import {
  createTransport,
  defaultStackParser,
  makeNodeTransport,
  NodeClient,
  type NodeOptions,
  Scope,
} from '@sentry/node';

// The real Sentry SDKs, wired for tests. `@sentry/core` is imported here only: tests get the
// session functions from this file. Server mode and the browser SDK run in child processes,
// because @sentry/node's Http integration instruments every HTTP server of its thread (Vigil's
// own test server included) and the browser SDK needs DOM globals.

export { closeSession, makeSession, type Session, updateSession };

export const RELEASE = 'app@1.0.0';
export const ENVIRONMENT = 'production';

export interface SdkClient {
  client: NodeClient;
  /** Captures exceptions into the session set on it, as an app's scope does. */
  scope: Scope;
  /** Waits until every envelope sent so far has been answered. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface SdkClientOptions {
  release?: string;
  environment?: string;
  transport?: NodeOptions['transport'];
}

/**
 * An isolated `NodeClient` (no `Sentry.init`, no globals, no automatic integrations): it sends
 * exactly the sessions a test captures, through the SDK's own Node transport unless told otherwise.
 */
export function createSdkClient(dsn: string, options: SdkClientOptions = {}): SdkClient {
  const client = new NodeClient({
    dsn,
    release: options.release ?? RELEASE,
    environment: options.environment ?? ENVIRONMENT,
    integrations: [],
    transport: options.transport ?? makeNodeTransport,
    stackParser: defaultStackParser,
    // Otherwise client_report envelopes may be sent on flush.
    sendClientReports: false,
  });
  const scope = new Scope();
  scope.setClient(client);
  client.init();
  return {
    client,
    scope,
    async flush() {
      if (!(await client.flush(5000))) throw new Error('the Sentry client did not flush in 5 s');
    },
    async close() {
      await client.close(5000);
    },
  };
}

export type SessionEnd = 'exited' | 'crashed' | 'abnormal' | 'unhandled';

/** A new session that started `secondsAgo`: its updates then carry about that duration. */
export function makeSessionStarted(
  secondsAgo: number,
  context: { did?: string; init?: boolean } = {},
): Session {
  const session = makeSession(context);
  updateSession(session, { started: Date.now() / 1000 - secondsAgo });
  return session;
}

/**
 * Sends a whole session the way an app does: the `init` update, then the final one.
 * `durationSeconds` backdates `started`, so the final update carries about that duration.
 */
export function captureEndedSession(
  sdk: SdkClient,
  end: { did?: string; status: SessionEnd; errors?: number; durationSeconds?: number },
): Session {
  const session = makeSessionStarted(end.durationSeconds ?? 0, { did: end.did });
  sdk.client.captureSession(session);
  if (end.errors !== undefined) updateSession(session, { errors: end.errors });
  closeSession(session, end.status === 'exited' ? undefined : end.status);
  sdk.client.captureSession(session);
  return session;
}

/** Counts the HTTP requests a client's transport really makes (a rate-limited SDK makes none). */
export function countingNodeTransport(): {
  transport: NonNullable<NodeOptions['transport']>;
  requests: () => number;
} {
  let requests = 0;
  const httpModule = {
    request: (options: http.RequestOptions, callback?: (res: http.IncomingMessage) => void) => {
      requests += 1;
      return http.request(options, callback);
    },
  };
  return {
    transport: (options) => makeNodeTransport({ ...options, httpModule }),
    requests: () => requests,
  };
}

/** A DSN that nothing listens on: envelopes recorded with it are posted by the test itself. */
const RECORDING_DSN = 'http://00000000000000000000000000000000@127.0.0.1:9/1';

/**
 * Runs `fn` against a client whose transport records the serialised envelopes instead of sending
 * them: the test then posts the SDK's exact bytes in the order, and as often, as it needs.
 */
export async function recordSdkEnvelopes(
  fn: (sdk: SdkClient) => void | Promise<void>,
  options: Omit<SdkClientOptions, 'transport'> = {},
): Promise<Buffer[]> {
  const envelopes: Buffer[] = [];
  const sdk = createSdkClient(RECORDING_DSN, {
    ...options,
    transport: (transportOptions) =>
      createTransport(transportOptions, async ({ body }) => {
        envelopes.push(Buffer.from(body));
        return { statusCode: 200 };
      }),
  });
  await fn(sdk);
  await sdk.flush();
  await sdk.close();
  return envelopes;
}

/** The item types in an envelope, read from its item header lines. */
export function itemTypes(envelope: Buffer): string[] {
  return envelope
    .toString('utf8')
    .split('\n')
    .slice(1)
    .flatMap((line) => {
      const type = line.startsWith('{"type"') ? (JSON.parse(line) as { type: string }).type : null;
      return type ? [type] : [];
    });
}

const execFileAsync = promisify(execFile);

async function runScript<Result>(script: string, input: unknown): Promise<Result> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const { stdout } = await execFileAsync(process.execPath, [path, JSON.stringify(input)], {
    timeout: 20_000,
  });
  const last = stdout.trim().split('\n').at(-1);
  if (!last) throw new Error(`${script} printed nothing`);
  return JSON.parse(last) as Result;
}

export interface ServerModePlan {
  release?: string;
  environment?: string;
  /** Requests answered normally: "exited" request sessions. */
  ok: number;
  /** Requests that capture a handled error: "errored". */
  handled: number;
  /** Requests that capture an unhandled error: "crashed". */
  crash: number;
  /** Record the envelopes (base64) instead of sending them to `dsn`. */
  record?: boolean;
}

/**
 * Runs an HTTP app instrumented by `@sentry/node` in server (request) mode in a child process:
 * it serves the planned requests, flushes its `sessions` aggregates to `dsn`, and exits.
 */
export async function runServerModeApp(
  dsn: string,
  plan: ServerModePlan,
): Promise<{ requests: number; envelopes: Buffer[] }> {
  const result = await runScript<{ requests: number; envelopes: string[] }>(
    './server-mode-app.mjs',
    { dsn, release: RELEASE, environment: ENVIRONMENT, ...plan },
  );
  return { ...result, envelopes: result.envelopes.map((e) => Buffer.from(e, 'base64')) };
}

export interface BrowserSessionPlan {
  did: string;
  /** `unhandled`: an error reaches the global handler; `handled`: captured and caught. */
  outcome: 'exited' | 'handled' | 'unhandled';
}

/**
 * Runs `@sentry/browser` under Node with a minimal DOM shim in a child process. `client` mode
 * drives an isolated BrowserClient through the planned sessions; `global` mode calls
 * `Sentry.init` with the default integrations and raises one error through `window.onerror`.
 */
export async function runBrowserApp(
  dsn: string,
  plan:
    | { mode: 'client'; sessions: BrowserSessionPlan[] }
    | { mode: 'global'; did: string; uncaughtErrors: number },
): Promise<{ envelopes: number }> {
  return runScript('./browser-app.mjs', {
    dsn,
    release: RELEASE,
    environment: ENVIRONMENT,
    ...plan,
  });
}

/** Debian's python3-sentry-sdk (1.9.10), installed by .ci/run. */
export const PYTHON = '/usr/bin/python3';

export type PythonPlan =
  | { mode: 'application'; outcome: 'exited' | 'handled' | 'crash'; user?: string }
  | { mode: 'request'; paths: Array<'/ok' | '/handled' | '/crash'>; flushEachRequest?: boolean }
  | { mode: 'store' };

export interface PythonRun {
  exitCode: number;
  /** Warnings and errors the SDK logged, e.g. an unexpected HTTP status from Vigil. */
  problems: string[];
  requests?: number;
  eventId?: string;
}

/**
 * Runs an app instrumented by Sentry's Python SDK in a process of its own (a WSGI worker, or an
 * app's process): it reports to `dsn` and has flushed everything by the time this resolves.
 */
export function runPythonApp(
  dsn: string,
  plan: PythonPlan,
  options: { release?: string } = {},
): Promise<PythonRun> {
  const path = fileURLToPath(new URL('./python-app.py', import.meta.url));
  const input = JSON.stringify({
    dsn,
    release: options.release ?? RELEASE,
    environment: ENVIRONMENT,
    ...plan,
  });
  return new Promise((resolve, reject) => {
    // An app that crashes exits with 1: its report is on stdout all the same.
    execFile(PYTHON, [path, input], { timeout: 120_000 }, (error, stdout, stderr) => {
      const last = stdout.trim().split('\n').at(-1);
      const exitCode = typeof error?.code === 'number' ? error.code : error ? -1 : 0;
      if (!last || exitCode === -1) {
        reject(new Error(`the Python app failed (${error?.message ?? 'no output'}): ${stderr}`));
        return;
      }
      resolve({ exitCode, ...(JSON.parse(last) as Omit<PythonRun, 'exitCode'>) });
    });
  });
}
