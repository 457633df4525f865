import { createHash } from 'node:crypto';
import { useResponseCache } from '@graphql-yoga/plugin-response-cache';
import type { Plugin } from 'graphql-yoga';
import { rateLimitKey } from '../auth/principal.ts';
import { authenticatedPrincipal } from '../auth/use-bearer-auth.ts';
import type { Database } from '../db/client.ts';
import { type ResponseStore, scopePrefix } from './response-store.ts';

// Repeated queries over unchanged data are answered from memory, without a statement: The Guild's
// response cache, keyed by token (so one tenant never gets another's answer), by minute (every
// time window moves on minute boundaries: buckets are whole minutes) and by document and
// variables. Authentication runs first (its onParams is earlier in the plugin list), so a revoked
// token never reaches a cached answer. What drops entries: response-store.ts.

const MINUTE_MS = 60_000;

export interface ResponseCacheOptions {
  db: Database;
  store: ResponseStore;
  /** The request's "now": the same instant its context uses, so key and answer agree. */
  now: (request: Request) => Date;
}

/** Caches query answers per token (what drops them: response-store.ts). */
export function useVigilResponseCache({ db, store, now }: ResponseCacheOptions): Plugin {
  const minuteOf = (request: Request) => Math.floor(now(request).getTime() / MINUTE_MS);
  // Before authentication (onRequest) nothing is served, so If-None-Match alone never answers;
  // without notifications nothing is trusted; an instant on a minute boundary is left out, as
  // half-open windows count it with either side.
  const cacheable = (request: Request) =>
    authenticatedPrincipal(request) !== undefined &&
    db.notifications.live &&
    now(request).getTime() % MINUTE_MS !== 0;
  return {
    onResponse({ request }) {
      store.finish(request);
    },
    onPluginInit({ addPlugin }) {
      addPlugin(
        useResponseCache({
          cache: store.cache,
          enabled: cacheable,
          session: (request) => {
            const principal = authenticatedPrincipal(request);
            return principal ? rateLimitKey(principal) : null;
          },
          buildResponseCacheKey: ({ documentString, variableValues, operationName, request }) => {
            const principal = authenticatedPrincipal(request);
            if (!principal) throw new Error('response cache reached before authentication');
            const scope =
              principal.kind === 'admin'
                ? ('admin' as const)
                : { organizationId: principal.organizationId };
            const digest = createHash('sha256')
              .update(`${documentString}\u0000${operationName ?? ''}\u0000`)
              .update(JSON.stringify(variableValues ?? {}))
              .digest('base64url');
            const key = `${scopePrefix(scope)}/${rateLimitKey(principal)}/${minuteOf(request)}/${digest}`;
            if (cacheable(request)) store.begin(key, request);
            return key;
          },
          // Entries end with their minute; the store drops them earlier when data changes.
          onTtl: ({ ttl, context }) => {
            const request = (context as { request: Request }).request;
            // Called just before the plugin stores or refuses this request's answer.
            store.answering(request);
            return Math.min(ttl, (minuteOf(request) + 1) * MINUTE_MS - now(request).getTime());
          },
          // As the plugin's own rule (errors are not kept), but the waiters get the answer.
          shouldCacheResult: ({ cacheKey, result }) => {
            if (!result.errors?.length) return true;
            store.failed(cacheKey, result);
            return false;
          },
          invalidateViaMutation: false,
          includeExtensionMetadata: false,
        }),
      );
    },
  };
}
