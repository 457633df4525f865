import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { Response } from '@whatwg-node/fetch';
import type { Config } from '../config.ts';
import { BodyError, drainBody, readBody } from './envelope.body.ts';
import { CORS, preflight, rateLimitedReply, reply } from './ingest-http.ts';
import { type AuthResult, keyFromRequest } from './project-key.ts';

// Relay's ingest paths other than /envelope/ (relay-server/src/endpoints/mod.rs): how older SDKs
// send events (/store/, Python 1.x among them), native crashes (/minidump/, /unreal/), browser
// reports (/security/, /csp-report/, /nel/), attachments, cron check-ins and OTLP. None of them
// carries sessions: each is authenticated and rate limited like an envelope, its body read within
// the same limit, and then skipped with the answer the SDK or browser expects from Relay.

const ROUTE =
  /^\/api\/(\d{1,9})\/(store|minidump|security|csp-report|nel|playstation|unreal\/([^/]+)|events\/[0-9a-fA-F-]{32,36}\/attachments|cron\/[^/]+(?:\/([0-9a-fA-F]{32}))?|otlp\/v1\/traces|integration\/otlp\/v1\/(?:traces|logs))\/?$/;

type Kind = 'store' | 'crash' | 'report' | 'attachment' | 'check-in' | 'otlp';

function kindOf(path: string): Kind {
  if (path === 'store') return 'store';
  if (path === 'minidump' || path === 'playstation' || path.startsWith('unreal/')) return 'crash';
  if (path === 'security' || path === 'csp-report' || path === 'nel') return 'report';
  if (path.startsWith('events/')) return 'attachment';
  if (path.startsWith('cron/')) return 'check-in';
  return 'otlp';
}

// Relay answers a GET store request (the payload in `sentry_data`) with a transparent pixel.
const PIXEL = Buffer.from('R0lGODlhAQABAAAAACwAAAAAAQABAAACAA==', 'base64');

export interface LegacyRouteOptions {
  config: Pick<Config, 'maxEnvelopeBytes'>;
  checkKey: (key: string | undefined, projectId: number) => Promise<AuthResult>;
  /** The envelope route's limiter: one budget per key, whatever path the SDK uses. */
  rateLimit: (key: string, perKey?: number) => number;
}

/** Answers Relay's other ingest paths; `null` when the path is none of them. */
export function createLegacyRoute({ config, checkKey, rateLimit }: LegacyRouteOptions) {
  return async (request: Request, url: URL): Promise<Response | null> => {
    const match = ROUTE.exec(url.pathname);
    if (!match) return null;
    const kind = kindOf(match[2] as string);
    if (request.method === 'OPTIONS') return preflight('GET, POST, OPTIONS');
    const methods = kind === 'store' || kind === 'check-in' ? ['GET', 'POST'] : ['POST'];
    if (!methods.includes(request.method)) {
      return reply(
        405,
        { detail: 'method not allowed' },
        { allow: [...methods, 'OPTIONS'].join(', ') },
      );
    }
    const projectId = Number(match[1]);
    const fromRequest = keyFromRequest(request, url);
    // Unreal's crash reporter and cron check-ins carry the key in the path.
    const pathKey = match[3] ?? match[4];
    if (fromRequest.conflict || (pathKey && fromRequest.key && pathKey !== fromRequest.key)) {
      return reply(400, { detail: 'conflicting sentry_key values' });
    }
    const key = fromRequest.key ?? pathKey;
    const auth = await checkKey(key, projectId);
    if (!auth.ok) return reply(auth.status, { detail: auth.detail });
    const wait = rateLimit(key as string, auth.rateLimitPerMinute ?? undefined);
    if (wait > 0) return rateLimitedReply(wait);
    try {
      if (kind === 'store' && request.method === 'GET') {
        await eventId(Buffer.from(url.searchParams.get('sentry_data') ?? ''));
        return new Response(PIXEL, {
          status: 200,
          headers: { ...CORS, 'content-type': 'image/gif' },
        });
      }
      // Only a store request's event is kept, and it is small (Relay's limit); the rest is read
      // through and dropped, so no request holds more than MAX_EVENT_BYTES.
      if (kind === 'store') {
        const event = request.method === 'POST' ? await readBody(request, MAX_EVENT_BYTES) : null;
        return reply(200, { id: await eventId(event ?? Buffer.alloc(0)) });
      }
      const size =
        request.method === 'POST' ? await drainBody(request, config.maxEnvelopeBytes) : 0;
      switch (kind) {
        case 'crash':
          if (size === 0) return reply(400, { detail: 'empty crash report' });
          // Relay answers with the new event's id as plain text; crash reporters ignore it.
          return new Response(newEventId(), {
            status: 200,
            headers: { ...CORS, 'content-type': 'text/plain' },
          });
        case 'report':
          return new Response(null, { status: 200, headers: CORS });
        case 'attachment':
          return new Response(null, { status: 201, headers: CORS });
        default:
          return new Response(null, { status: 202, headers: CORS });
      }
    } catch (error) {
      if (error instanceof BodyError) return reply(error.status, { detail: error.message });
      if (error instanceof EventError) return reply(400, { detail: error.message });
      throw error;
    }
  };
}

class EventError extends Error {}

/** Relay's largest event (`max_event_size`), before and after an old SDK's zlib. */
const MAX_EVENT_BYTES = 1024 * 1024;

const inflate = promisify(zlib.inflate);

/**
 * The id of a store request's event, as Relay finds it: the body is JSON, or base64 of JSON or of
 * zlib-compressed JSON (old SDKs); an event without an id gets a new one.
 */
async function eventId(body: Buffer): Promise<string> {
  let json = body;
  if (json.length > 0 && json[0] !== 0x7b /* { */) {
    const binary = Buffer.from(json.toString('latin1'), 'base64');
    json =
      binary[0] === 0x7b
        ? binary
        : await inflate(binary, { maxOutputLength: MAX_EVENT_BYTES }).catch(() => Buffer.alloc(0));
  }
  if (json.length === 0) throw new EventError('the body is not an event');
  const text = json.toString('utf8');
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch {
    // Python SDKs may write NaN and Infinity, which JSON has not: Relay repairs those, and the id
    // is all Vigil needs.
    const id = /^\{[\s\S]*"event_id"\s*:\s*"([0-9a-fA-F-]{32,36})"[\s\S]*\}\s*$/.exec(text)?.[1];
    if (!id) throw new EventError('the body is not an event');
    event = { event_id: id };
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new EventError('the body is not an event');
  }
  const id = (event as { event_id?: unknown }).event_id;
  if (typeof id === 'string' && /^[0-9a-fA-F]{32}$|^[0-9a-fA-F-]{36}$/.test(id)) {
    return id.replace(/-/g, '').toLowerCase();
  }
  if (id !== undefined && id !== null) throw new EventError('invalid event_id');
  return newEventId();
}

const newEventId = () => randomUUID().replace(/-/g, '');
