// Which store failures mean "the database cannot take this now, the same request will succeed
// later" (503 with Retry-After to SDKs, SERVICE_UNAVAILABLE to GraphQL) and which are Vigil's own
// bugs (500, logged). One place, used by the envelope route, the group-commit writer and GraphQL
// masking, so that every caller agrees on what a 503 promises.

/** Seconds an SDK or a GraphQL client is asked to wait before trying again. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * SQLSTATEs of a database that is away, restarting or out of room: class 08 (connection
 * exception), class 53 (insufficient resources: disk full, out of memory, too many connections),
 * 57P01/57P02/57P03/57P05 (admin or crash shutdown, cannot connect now, idle session timeout), and
 * serialization failures and deadlocks (40001, 40P01), which reach here only after their retries.
 * 57P04 (database dropped) is left out: waiting does not bring a database back.
 */
function isRetryableSqlState(code: string): boolean {
  return (
    code.startsWith('08') ||
    code.startsWith('53') ||
    /^57P0[1235]$/.test(code) ||
    code === '40001' ||
    code === '40P01'
  );
}

const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

// Prisma's codes for the same conditions: server unreachable, timed out, connection closed, pool
// timeout, write conflict or deadlock, too many connections.
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2034', 'P2037']);

// The kinds Prisma's driver adapters give those conditions (`meta.driverAdapterError.cause`).
const ADAPTER_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
  'TransactionWriteConflict',
]);

// node-postgres raises these without a code: a connection that dropped, a pool that could not
// connect in time, a pool shut down while Vigil stops.
const PG_MESSAGES =
  /^(Connection terminated( unexpectedly| due to connection timeout)?|Client has encountered a connection error and is not queryable|timeout exceeded when trying to connect|Cannot use a pool after calling end on the pool|Client was closed and is not queryable)$/;

/** True when `error` says the database is unreachable or busy right now, not that Vigil is wrong. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const e of causes(error)) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code !== undefined) {
      if (SOCKET_CODES.has(code) || PRISMA_CODES.has(code)) return true;
      // A SQLSTATE: what PostgreSQL, PGlite and the adapters' `originalCode` carry.
      if (/^[0-9A-Z]{5}$/.test(code) && !/^P\d{4}$/.test(code) && isRetryableSqlState(code)) {
        return true;
      }
    }
    if (typeof e.originalCode === 'string' && isRetryableSqlState(e.originalCode)) return true;
    if (typeof e.kind === 'string' && ADAPTER_KINDS.has(e.kind)) return true;
    if (typeof e.message === 'string' && PG_MESSAGES.test(e.message)) return true;
  }
  return false;
}

type ErrorLike = Record<string, unknown>;

/** The error and everything it wraps: `cause`, GraphQL's `originalError`, Prisma's adapter error, AggregateError's `errors`. */
function* causes(error: unknown, depth = 0): Generator<ErrorLike> {
  if (typeof error !== 'object' || error === null || depth > 8) return;
  const e = error as ErrorLike;
  yield e;
  yield* causes(e.cause, depth + 1);
  yield* causes(e.originalError, depth + 1);
  const meta = e.meta as ErrorLike | undefined;
  if (typeof meta === 'object' && meta !== null) yield* causes(meta.driverAdapterError, depth + 1);
  if (Array.isArray(e.errors)) for (const inner of e.errors) yield* causes(inner, depth + 1);
}
