import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import { isDatabaseUnavailable, RETRY_AFTER_SECONDS } from '../db/unavailable.ts';
import { BodyBudgetError, createBodyBudget } from './body-budget.ts';
import { createDimensionCache } from './dimensions.ts';
import { BodyError, bodyChunks, bodyEncoding } from './envelope.body.ts';
import { batchFromEnvelope, EnvelopeLimitError, MAX_SESSION_ITEMS } from './envelope.ingest.ts';
import {
  EnvelopeError,
  type EnvelopeHeader,
  EnvelopeParser,
  EnvelopeSizeError,
} from './envelope.parse.ts';
import { preflight, rateLimitedReply, reply } from './ingest-http.ts';
import { createLegacyRoute } from './legacy.route.ts';
import { createDropLog, createRefusalRecorder } from './outcome-recorder.ts';
import { createKeyChecker, keyFromDsn, keyFromRequest } from './project-key.ts';
import { createRateLimiter } from './rate-limit.ts';
import { type ResolvedBatch, storeEnvelopes } from './session.store.ts';
import { createSessionWriter } from './session.writer.ts';

// POST /api/<project-id>/envelope/: Sentry's ingest endpoint, as far as sessions go. Status codes
// are the ones SDKs are written against (spec §2.5); every error body is {"detail": "<reason>"}.

const ROUTE = /^\/api\/(\d{1,9})\/envelope\/?$/;

// Browsers post with text/plain to avoid a preflight; Relay treats these like the envelope type.
const CONTENT_TYPES = new Set([
  'application/x-sentry-envelope',
  'text/plain',
  'application/octet-stream',
  'multipart/form-data',
  'application/x-www-form-urlencoded',
]);

const isSessionItem = (type: string) => type === 'session' || type === 'sessions';

/** Longest envelope or item header line: SDKs write a few hundred bytes. */
const MAX_HEADER_LINE_BYTES = 64 * 1024;
/** Longest `session` or `sessions` payload; a longer one is dropped as `too_large`. */
export const MAX_SESSION_ITEM_BYTES = 1024 * 1024;
/** What all request bodies may keep at once beyond 1 MiB each (docs/design.md § Limits). */
const BODY_MEMORY = { pool: 64 * 1024 * 1024, allowance: 1024 * 1024 };

export interface EnvelopeRouteOptions {
  db: Database;
  log: Logger;
  clock: () => Date;
  config: Pick<Config, 'maxEnvelopeBytes' | 'rateLimitPerMinute'>;
  /** Called once an envelope's sessions are committed, e.g. to drop cached numbers. */
  onStored?: (project: { id: number; organizationId: number }) => void;
  /** Called once refusals of these projects are counted (Project.ingestStats shows them). */
  onRefusalsStored?: (projectIds: number[]) => void;
  /** Told of each accepted DSN key, for its `lastUsedAt`. */
  onKeyUse?: (keyId: number, at: Date) => void;
  /**
   * Writes a shared transaction's envelopes, with the releases and environments they name. The
   * benchmark swaps it to measure all but storage.
   */
  store?: (batches: ResolvedBatch[]) => Promise<void>;
}

export function createEnvelopeRoute({
  db,
  log,
  clock,
  config,
  onStored,
  onRefusalsStored,
  onKeyUse,
  store,
}: EnvelopeRouteOptions) {
  const checkKey = createKeyChecker(db, { clock, onUse: onKeyUse });
  const dimensions = createDimensionCache();
  const rateLimit = createRateLimiter(config.rateLimitPerMinute);
  const bodyBudget = createBodyBudget(BODY_MEMORY);
  const writeBatches = store ?? ((batches) => storeEnvelopes(db, dimensions, batches));
  const writer = createSessionWriter(
    writeBatches,
    db.kind === 'postgres' ? { writers: 2, maxUpdates: 10_000 } : { writers: 1, maxUpdates: 1000 },
  );
  const legacy = createLegacyRoute({ config, checkKey, rateLimit });
  const refusals = createRefusalRecorder(db, log, { onStored: onRefusalsStored });
  const logDrops = createDropLog(log);

  async function receive(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const match = ROUTE.exec(url.pathname);
    if (!match) return (await legacy(request, url)) ?? reply(404, { detail: 'not found' });
    if (request.method === 'OPTIONS') return preflight('POST, OPTIONS');
    if (request.method !== 'POST')
      return reply(405, { detail: 'method not allowed' }, { allow: 'POST, OPTIONS' });
    const projectId = Number(match[1]);
    const receivedAt = clock();

    const contentType = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
    if (contentType && !CONTENT_TYPES.has(contentType)) {
      return reply(415, { detail: `unsupported content type: ${contentType}` });
    }
    const fromRequest = keyFromRequest(request, url);
    if (fromRequest.conflict) return reply(400, { detail: 'conflicting sentry_key values' });
    const budget = bodyBudget.open();
    let body: AsyncGenerator<Buffer> | undefined;
    try {
      bodyEncoding(request);
      // Authenticate and rate-limit before reading the body when the request says who it is;
      // otherwise the envelope header's `dsn` has to, and nothing past that line is read first.
      let auth = fromRequest.key ? await checkKey(fromRequest.key, projectId) : null;
      if (auth && !auth.ok) return reply(auth.status, { detail: auth.detail });
      if (auth) {
        const limited = rateLimited(fromRequest.key as string, auth.rateLimitPerMinute);
        if (limited) return limited;
      }
      body = bodyChunks(request, config.maxEnvelopeBytes);
      const parser = new EnvelopeParser(
        {
          keep: isSessionItem,
          maxBytes: config.maxEnvelopeBytes,
          maxLineBytes: MAX_HEADER_LINE_BYTES,
          maxItemBytes: MAX_SESSION_ITEM_BYTES,
          maxItems: MAX_SESSION_ITEMS,
          retain: budget.retain,
        },
        { pauseAfterHeader: auth === null },
      );
      const header = await readHeader(body, parser);
      const dsnKey = keyFromDsn(header.dsn);
      if (fromRequest.key && dsnKey && dsnKey !== fromRequest.key) {
        return reply(400, { detail: 'conflicting sentry_key values' });
      }
      if (!auth) {
        auth = await checkKey(dsnKey, projectId);
        if (!auth.ok) return reply(auth.status, { detail: auth.detail });
        const limited = rateLimited(dsnKey as string, auth.rateLimitPerMinute);
        if (limited) return limited;
        parser.resume();
      }
      for await (const chunk of body) parser.feed(chunk);
      const envelope = parser.end();
      const batch = batchFromEnvelope(envelope, projectId, receivedAt);
      await writer.write({ ...batch, organizationId: auth.project.organizationId });
      logDrops(projectId, batch.rejected);
      onStored?.(auth.project);
      const id =
        typeof envelope.header.event_id === 'string' ? envelope.header.event_id : undefined;
      return reply(200, id ? { id } : {});
    } catch (error) {
      if (error instanceof BodyError) return reply(error.status, { detail: error.message });
      if (error instanceof EnvelopeError) return reply(400, { detail: error.message });
      if (error instanceof EnvelopeSizeError || error instanceof EnvelopeLimitError) {
        return reply(413, { detail: error.message });
      }
      if (error instanceof BodyBudgetError) {
        return reply(503, { detail: error.message }, { 'retry-after': '1' });
      }
      throw error;
    } finally {
      budget.release();
      // Stops reading (and inflating) a body that was refused before its end.
      await body?.return(undefined);
    }
  }

  return async function envelopeRoute(request: Request): Promise<Response> {
    let response: Response;
    try {
      response = await receive(request);
    } catch (error) {
      response = storeFailure(request, error, log);
    }
    // Every refusal of a project's envelope is counted for Project.ingestStats.
    refusals.noteAnswer(request, response.status, clock());
    return response;
  };

  function rateLimited(key: string, perKey: number | null): Response | null {
    const wait = rateLimit(key, perKey ?? undefined);
    return wait > 0 ? rateLimitedReply(wait) : null;
  }
}

/**
 * 503 with Retry-After only when the same bytes will be stored later (the database is away or
 * busy); nothing of the envelope was acknowledged, so the SDK sends it again. Anything else is
 * Vigil's own fault: a 500 that SDKs do not retry forever, logged with the request id.
 */
function storeFailure(request: Request, error: unknown, log: Logger): Response {
  const requestId = request.headers.get('x-request-id') ?? randomUUID();
  const path = new URL(request.url).pathname;
  if (isDatabaseUnavailable(error)) {
    log.warn({ err: error, requestId, path }, 'envelope not stored: database unavailable');
    return reply(
      503,
      { detail: 'envelope could not be stored; try again' },
      { 'retry-after': String(RETRY_AFTER_SECONDS), 'x-request-id': requestId },
    );
  }
  log.error({ err: error, requestId, path }, 'envelope could not be stored');
  return reply(
    500,
    { detail: `internal error (request ${requestId})` },
    { 'x-request-id': requestId },
  );
}

/** Feeds the parser until it has the envelope header (or the body ends). */
async function readHeader(
  body: AsyncGenerator<Buffer>,
  parser: EnvelopeParser,
): Promise<EnvelopeHeader> {
  while (!parser.header) {
    const next = await body.next();
    if (next.done) return parser.end().header;
    parser.feed(next.value);
  }
  return parser.header;
}
