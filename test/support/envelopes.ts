import { randomUUID } from 'node:crypto';

// Hand-built envelopes for tests that need shapes an SDK will not produce on demand (an update
// without init, a given sid, a past start). Real SDK traffic is in test/ingest/sdk-*.test.ts.

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

export function envelope(
  items: Array<{ type: string; payload: unknown }>,
  sentAt = new Date(),
): string {
  const lines = [JSON.stringify({ sent_at: sentAt.toISOString() })];
  for (const item of items) {
    lines.push(JSON.stringify({ type: item.type }), JSON.stringify(item.payload));
  }
  return lines.join('\n');
}

export function sessionsEnvelope(sessions: SessionFields[]): string {
  return envelope(sessions.map((s) => ({ type: 'session', payload: sessionPayload(s) })));
}

export async function post(
  url: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
) {
  // A copy gives fetch the ArrayBuffer-backed view its types ask for (a Buffer may be pooled).
  const payload = typeof body === 'string' ? body : new Uint8Array(body);
  const response = await fetch(url, { method: 'POST', body: payload, headers });
  return { status: response.status, body: await response.text(), headers: response.headers };
}
