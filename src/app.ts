import { randomUUID } from 'node:crypto';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useDeferStream } from '@graphql-yoga/plugin-defer-stream';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { createServerAdapter } from '@whatwg-node/server';
import { createYoga } from 'graphql-yoga';
import type { Logger } from 'pino';
import { createTokenVerifier } from './auth/tokens.ts';
import { createUsageRecorder } from './auth/usage.ts';
import { principalOf, useBearerAuth } from './auth/use-bearer-auth.ts';
import { createReadCaches } from './cache/read-caches.ts';
import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import { type Context, createContext } from './graphql/context.ts';
import { graphiqlOptions, renderGraphiqlPage } from './graphql/graphiql-page.ts';
import { createMaskError } from './graphql/mask-error.ts';
import { schema } from './graphql/schema.ts';
import { useJsonRequests } from './graphql/use-json-requests.ts';
import { useStringInputGuard } from './graphql/use-string-input-guard.ts';
import { createEnvelopeRoute } from './ingest/envelope.route.ts';
import { createRateLimiter } from './ingest/rate-limit.ts';
import { updateApiTokensLastUsed } from './modules/api-tokens/api-token.queries.ts';
import { updateProjectKeysLastUsed } from './modules/projects/project.queries.ts';
import { persistedDashboardOperations } from './modules/sessions/dashboards.ts';

export interface AppOptions {
  config: Config;
  db: Database;
  log: Logger;
  /** @default () => new Date() */
  clock?: () => Date;
  /** How often `lastUsedAt` of tokens and DSN keys is written. @default 60_000 */
  usageFlushMs?: number;
}

/**
 * Vigil's HTTP surface as one fetch handler: the envelope endpoint, health probes and GraphQL.
 * It never listens and never reads the environment: main.ts and the tests do that.
 */
export function createApp({
  config,
  db,
  log,
  clock = () => new Date(),
  usageFlushMs = 60_000,
}: AppOptions) {
  const publicUrl = config.publicUrl ?? `http://${hostForUrl(config.host)}:${config.port}`;
  let draining = false;
  const persistedOperations = persistedDashboardOperations();
  const caches = createReadCaches({
    db,
    clock,
    onError: (err) => log.warn({ err }, 'a data change could not be told to other processes'),
    maxResponses: config.responseCacheEntries,
  });
  const onUsageError = (err: unknown) => log.warn({ err }, 'lastUsedAt could not be written');
  const tokenUsage = createUsageRecorder(
    async (ids, at) => {
      await updateApiTokensLastUsed(db, ids, at);
      caches.changed({ types: ['ApiToken'] });
    },
    { intervalMs: usageFlushMs, onError: onUsageError },
  );
  const keyUsage = createUsageRecorder(
    async (ids, at) => {
      await updateProjectKeysLastUsed(db, ids, at);
      caches.changed({ types: ['ProjectKey'] });
    },
    { intervalMs: usageFlushMs, onError: onUsageError },
  );

  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: graphiqlOptions,
    renderGraphiQL: renderGraphiqlPage,
    logging: log,
    maskedErrors: { maskError: createMaskError(log, config.development) },
    // Only pages of the configured origins may read answers, and never with cookies: tokens
    // travel in Authorization. Other origins get no CORS headers at all.
    cors: (request) => {
      const origin = request.headers.get('origin');
      if (origin === null || !config.corsOrigins.includes(origin)) return false;
      return {
        // The list, not the one origin: with several, yoga answers with the caller's and `Vary`.
        origin: config.corsOrigins,
        credentials: false,
        methods: ['GET', 'POST'],
        allowedHeaders: ['authorization', 'content-type', 'x-request-id', CSRF_HEADER],
        maxAge: 3600,
      };
    },
    multipart: false,
    context: ({ request }) =>
      createContext(
        { db, publicUrl, log, clock: () => caches.now(request), caches: caches.shared },
        request.headers.get('x-request-id') ?? randomUUID(),
        principalOf(request),
      ),
    plugins: [
      // Bodies a browser may send cross-site without a preflight are refused (415), and a GET
      // must carry a custom header, which a cross-site page cannot add without a preflight.
      useJsonRequests(),
      useCSRFPrevention({ requestHeaders: [CSRF_HEADER] }),
      // Auth first: an unauthenticated request learns nothing about persisted ids.
      useBearerAuth(
        createTokenVerifier(db, config.adminToken, { clock, usage: tokenUsage }),
        createRateLimiter(config.graphqlRateLimitPerMinute),
      ),
      // Abusive documents (deep nesting, alias floods, huge costs) are refused before they run.
      // Limits sit well above the deepest dashboard document (depth 8).
      EnvelopArmorPlugin({
        maxDepth: { n: 15 },
        maxAliases: { n: 30 },
        costLimit: { maxCost: 20_000 },
        maxTokens: { n: 5_000 },
      }),
      // The dashboards/ documents by SHA-256; ad-hoc queries (GraphiQL) stay allowed.
      usePersistedOperations({
        getPersistedOperation: (sha256) => persistedOperations.get(sha256) ?? null,
        allowArbitraryOperations: true,
      }),
      useStringInputGuard(),
      // @defer/@stream: a page gets fast fields first, slow ones (durations, series) as they finish.
      useDeferStream(),
      // Cached answers and conditional GETs (src/cache/): after authentication.
      ...caches.plugins,
    ],
  });

  const envelope = createEnvelopeRoute({
    db,
    log,
    clock,
    config,
    onStored: (project) =>
      caches.changed({ projects: [project.id], organizations: [project.organizationId] }),
    onRefusalsStored: (projectIds) => caches.projectsChanged(projectIds),
    onKeyUse: (keyId, at) => keyUsage.touch(keyId, at),
  });

  const handle = async (request: Request): Promise<Response> => {
    const { pathname } = new URL(request.url);
    if (pathname.startsWith('/api/')) return envelope(request);
    if (pathname === '/healthz') return Response.json({ status: 'ok' });
    if (pathname === '/readyz') return readiness();
    // Someone who opens Vigil's address in a browser is looking for GraphiQL.
    if (pathname === '/' && (request.method === 'GET' || request.method === 'HEAD')) {
      return new Response(null, { status: 302, headers: { location: '/graphql' } });
    }
    return yoga.fetch(request);
  };

  async function readiness(): Promise<Response> {
    if (draining) return Response.json({ status: 'draining' }, { status: 503 });
    try {
      await db.prisma.$queryRaw`SELECT 1`;
      return Response.json({ status: 'ready' });
    } catch {
      return Response.json({ status: 'database unavailable' }, { status: 503 });
    }
  }

  return {
    /** A Node `http` request listener and a fetch handler in one. */
    handler: createServerAdapter(handle),
    publicUrl,
    /** Readiness answers 503 from now on, so a load balancer stops sending traffic. */
    drain() {
      draining = true;
    },
    /** Writes the `lastUsedAt` times noted since the last flush, now. */
    async flushUsage() {
      await Promise.all([tokenUsage.flush(), keyUsage.flush()]);
    },
    /** Writes the last `lastUsedAt` times; call before closing the database. */
    async close() {
      tokenUsage.stop();
      keyUsage.stop();
      await Promise.all([tokenUsage.flush(), keyUsage.flush()]);
      caches.close();
    },
  };
}

/** yoga's CSRF header; any value will do, its presence forces a preflight. */
const CSRF_HEADER = 'x-graphql-yoga-csrf';

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}
