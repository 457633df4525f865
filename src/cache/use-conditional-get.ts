import { createHash } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';

// HTTP caching of GET queries (the persisted dashboard documents by hash, or any query): the
// answer carries a strong ETag of its bytes and `Cache-Control: private, max-age=0,
// must-revalidate`, so a browser (or a private cache) keeps it and asks again each time with
// If-None-Match; an unchanged answer is then a 304 without a body. Private: answers depend on the
// token, and `Vary: Authorization` says so. Served from the response cache, a 304 costs no SQL.

const CACHE_CONTROL = 'private, max-age=0, must-revalidate';

function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag);
}

export function useConditionalGet(): Plugin {
  return {
    async onResponse({ request, response, setResponse }) {
      const json = /json/.test(response.headers.get('content-type') ?? '');
      if (request.method !== 'GET' || response.status !== 200 || !json) {
        // The response cache marks answers with its own key and time; they mean nothing here.
        if (response.headers.has('etag') || response.headers.has('last-modified')) {
          const headers = new Headers(response.headers);
          headers.delete('etag');
          headers.delete('last-modified');
          setResponse(new Response(response.body, { status: response.status, headers }));
        }
        return;
      }
      const body = await response.text();
      const etag = `"${createHash('sha256').update(body).digest('base64url')}"`;
      const headers = new Headers(response.headers);
      headers.delete('last-modified');
      headers.set('etag', etag);
      headers.set('cache-control', CACHE_CONTROL);
      headers.append('vary', 'Authorization');
      if (matches(request.headers.get('if-none-match'), etag)) {
        headers.delete('content-type');
        headers.delete('content-length');
        setResponse(new Response(null, { status: 304, headers }));
        return;
      }
      setResponse(new Response(body, { status: 200, headers }));
    },
  };
}
