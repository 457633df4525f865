import type { Plugin } from 'graphql-yoga';

/**
 * GraphQL over HTTP as the spec recommends: POST bodies are `application/json` only (GET keeps
 * carrying queries, which yoga never lets run mutations). yoga would also run form-urlencoded,
 * multipart and `application/graphql` bodies; a browser sends the first two cross-site without a
 * preflight, so a page elsewhere could post mutations. They get 415 before anything is parsed.
 */
export function useJsonRequests(): Plugin {
  return {
    onRequestParse({ request, endResponse, fetchAPI }) {
      if (request.method !== 'POST') return;
      const mediaType = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
      if (mediaType === 'application/json') return;
      endResponse(
        fetchAPI.Response.json(
          {
            errors: [
              {
                message: `POST bodies must be application/json, not ${mediaType ?? 'untyped'}.`,
                extensions: { code: 'UNSUPPORTED_MEDIA_TYPE' },
              },
            ],
          },
          { status: 415, headers: { accept: 'application/json' } },
        ),
      );
    },
  };
}
