import { IncomingMessage, request } from 'node:http';
import { meros } from 'meros/node';
import { ADMIN_TOKEN } from './server.ts';

// A GraphQL answer delivered incrementally (@defer/@stream) as `multipart/mixed`, read over real
// HTTP and put back together as a client would: the first part's `data`, then each later
// part's `incremental` entries merged at their `path`.

export interface IncrementalPart {
  data?: unknown;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
  incremental?: Array<{ data?: unknown; items?: unknown[]; path: Array<string | number> }>;
  hasNext?: boolean;
}

export interface IncrementalAnswer {
  status: number;
  contentType: string;
  parts: IncrementalPart[];
  /** The parts merged into one result. */
  merged: { data?: unknown; errors?: IncrementalPart['errors'] };
}

function mergeInto(target: unknown, source: unknown): unknown {
  if (
    typeof target !== 'object' ||
    target === null ||
    typeof source !== 'object' ||
    source === null ||
    Array.isArray(source)
  ) {
    return source;
  }
  const out = target as Record<string, unknown>;
  for (const [key, value] of Object.entries(source)) out[key] = mergeInto(out[key], value);
  return out;
}

function at(root: unknown, path: Array<string | number>): unknown {
  let node = root;
  for (const key of path) node = (node as Record<string | number, unknown>)[key];
  return node;
}

/** Sends `query` asking for multipart/mixed and reads every part as it arrives. */
export async function postIncremental(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  accept = 'multipart/mixed',
): Promise<IncrementalAnswer> {
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(`${url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept,
        authorization: `Bearer ${ADMIN_TOKEN}`,
      },
    });
    req.once('response', resolve);
    req.once('error', reject);
    req.end(JSON.stringify({ query, variables }));
  });
  const contentType = String(response.headers['content-type'] ?? '');
  const parts: IncrementalPart[] = [];
  const body = await meros<IncrementalPart>(response);
  if (body instanceof IncomingMessage) {
    // Not multipart (an error answer, or a result with nothing deferred): one JSON body.
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    parts.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as IncrementalPart);
  } else {
    for await (const part of body) {
      if (!part.json) throw new Error(`a part that is not JSON: ${String(part.body)}`);
      parts.push(part.body);
    }
  }
  const merged: IncrementalAnswer['merged'] = {};
  for (const part of parts) {
    // Copies: the parts stay as they arrived.
    if (part.data !== undefined) merged.data = mergeInto(merged.data, structuredClone(part.data));
    if (part.errors) merged.errors = [...(merged.errors ?? []), ...part.errors];
    for (const entry of part.incremental ?? []) {
      if (entry.data !== undefined)
        mergeInto(at(merged.data, entry.path), structuredClone(entry.data));
      if (entry.items) (at(merged.data, entry.path) as unknown[]).push(...entry.items);
    }
  }
  return { status: response.statusCode ?? 0, contentType, parts, merged };
}
