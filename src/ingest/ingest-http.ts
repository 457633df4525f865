import { Response } from '@whatwg-node/fetch';

// What every ingest answer shares: CORS for browser SDKs, the fixed preflight, the JSON reply
// and the rate-limit answer SDKs honour. Used by envelope.route.ts and legacy.route.ts.
// Answers are the server adapter's own Response class (whatwg-node's), which it writes out
// directly; Node's global Response made it read the body through a web stream, per envelope.

export const CORS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'x-sentry-error, x-sentry-rate-limits, retry-after',
};

// Relay's list, and the tracing headers an SDK may add: a fixed answer, never the request's echo.
const ALLOWED_HEADERS = [
  'x-sentry-auth',
  'x-requested-with',
  'x-forwarded-for',
  'origin',
  'referer',
  'accept',
  'content-type',
  'authentication',
  'authorization',
  'content-encoding',
  'transfer-encoding',
  'sentry-trace',
  'baggage',
].join(', ');

/** A preflight with a fixed answer: never the request's echo. */
export function preflight(methods: string): Response {
  return new Response(null, {
    status: 204,
    headers: {
      ...CORS,
      'access-control-allow-methods': methods,
      'access-control-allow-headers': ALLOWED_HEADERS,
      'access-control-max-age': '3600',
    },
  });
}

export function reply(
  status: number,
  body: object,
  headers: Record<string, string> = {},
): Response {
  return Response.json(body, { status, headers: { ...CORS, ...headers } });
}

/** 429 with the wait in both the headers SDKs read. */
export function rateLimitedReply(wait: number): Response {
  return reply(
    429,
    { detail: 'rate limited' },
    { 'retry-after': String(wait), 'x-sentry-rate-limits': `${wait}::key:vigil_rate_limit` },
  );
}
