import { randomUUID } from 'node:crypto';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { createServerAdapter } from '@whatwg-node/server';
import { createYoga } from 'graphql-yoga';
import type { Logger } from 'pino';
import { createTokenVerifier } from './auth/tokens.ts';
import { useBearerAuth } from './auth/use-bearer-auth.ts';
import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import { type Context, createContext } from './graphql/context.ts';
import { graphiqlOptions, renderGraphiqlPage } from './graphql/graphiql-page.ts';
import { createMaskError } from './graphql/mask-error.ts';
import { schema } from './graphql/schema.ts';
import { createEnvelopeRoute } from './ingest/envelope.route.ts';
import { createReleaseHealthCaches } from './modules/release-health/release-health.loaders.ts';
import { persistedDashboardOperations } from './modules/sessions/dashboards.ts';

export interface AppOptions {
  config: Config;
  db: Database;
  log: Logger;
  /** @default () => new Date() */
  clock?: () => Date;
}

/**
 * Vigil's HTTP surface as one fetch handler: the envelope endpoint, health probes and GraphQL.
 * It never listens and never reads the environment: main.ts and the tests do that.
 */
export function createApp({ config, db, log, clock = () => new Date() }: AppOptions) {
  const publicUrl = config.publicUrl ?? `http://${hostForUrl(config.host)}:${config.port}`;
  let draining = false;
  const persistedOperations = persistedDashboardOperations();
  const caches = createReleaseHealthCaches();

  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: graphiqlOptions,
    renderGraphiQL: renderGraphiqlPage,
    logging: log,
    maskedErrors: { maskError: createMaskError(log, config.development) },
    context: ({ request }) =>
      createContext(
        { db, publicUrl, log, clock, caches },
        request.headers.get('x-request-id') ?? randomUUID(),
      ),
    plugins: [
      // Auth first: an unauthenticated request learns nothing about persisted ids.
      useBearerAuth(createTokenVerifier(db, config.adminToken)),
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
    ],
  });

  const envelope = createEnvelopeRoute({
    db,
    log,
    clock,
    config,
    onStored: (projectId) => caches.projectDay.invalidate(projectId),
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
  };
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}
