import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { TestServer } from './server.ts';

// Envelopes in tests: the one builder, the one post and the one "send these sessions". Hand-built
// envelopes are for shapes an SDK will not produce on demand (an update without init, a given
// sid, a past start, bad input); real SDK traffic is in test/ingest/sdk-*.test.ts.

export interface SessionFields {
  sid?: string;
  did?: string | null;
  init?: boolean;
  status?: string;
  errors?: number;
  started?: Date;
  timestamp?: Date;
  duration?: number;
  seq?: number;
  release?: string;
  environment?: string;
}

export function sessionPayload(f: SessionFields): Record<string, unknown> {
  const started = f.started ?? new Date();
  return {
    sid: f.sid ?? randomUUID().replace(/-/g, ''),
    ...(f.did === null ? {} : { did: f.did ?? randomUUID() }),
    init: f.init ?? true,
    started: started.toISOString(),
    timestamp: (f.timestamp ?? started).toISOString(),
    status: f.status ?? 'exited',
    errors: f.errors ?? 0,
    ...(f.duration === undefined ? {} : { duration: f.duration }),
    ...(f.seq === undefined ? {} : { seq: f.seq }),
    attrs: { release: f.release ?? 'app@1.0.0', environment: f.environment ?? 'production' },
  };
}

export interface HandItem {
  type: string;
  /** A string or bytes are sent as they are; anything else as JSON. */
  payload: unknown;
  /** Write the payload's byte length into the item header (Relay's framed form). */
  withLength?: boolean;
}

/** The one envelope builder: a header line, then each item's header and payload. */
export function buildEnvelope(
  items: HandItem[],
  header: Record<string, unknown> = { sent_at: new Date().toISOString() },
): Buffer {
  const parts: Buffer[] = [Buffer.from(`${JSON.stringify(header)}\n`)];
  for (const { type, payload, withLength } of items) {
    const bytes = Buffer.isBuffer(payload)
      ? payload
      : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
    const itemHeader = withLength ? { type, length: bytes.length } : { type };
    parts.push(Buffer.from(`${JSON.stringify(itemHeader)}\n`), bytes, Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

export function sessionsEnvelope(sessions: SessionFields[]): Buffer {
  return buildEnvelope(sessions.map((s) => ({ type: 'session', payload: sessionPayload(s) })));
}

export interface EnvelopeResponse {
  status: number;
  body: unknown;
  headers: Headers;
}

/** The one way tests post an envelope (SDK-recorded or hand-built) to Vigil, as an SDK does. */
export async function postEnvelope(
  url: string,
  body: string | Buffer | Uint8Array,
  headers: Record<string, string> = { 'content-type': 'application/x-sentry-envelope' },
): Promise<EnvelopeResponse> {
  // fetch's types take no Buffer: hand it a plain copy.
  const bytes = typeof body === 'string' ? body : Uint8Array.from(body);
  const response = await fetch(url, { method: 'POST', headers, body: bytes });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: the test sees the raw text.
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** Sends hand-built sessions to the project and expects them accepted (200). */
export async function sendSessions(
  server: TestServer,
  project: { id: number; publicKey: string },
  sessions: SessionFields[],
): Promise<void> {
  const response = await postEnvelope(server.envelopeUrl(project), sessionsEnvelope(sessions));
  expect(response.status, JSON.stringify(response.body)).toBe(200);
}
