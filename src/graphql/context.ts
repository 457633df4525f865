import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.ts';
import type { Database } from '../db/client.ts';
import { createLoaders, type Loaders, type SharedCaches } from './loaders.ts';

export interface Context {
  db: Database;
  loaders: Loaders;
  requestId: string;
  /** Who sent the request's token; authScopes (auth-scopes.ts) decide with it, resolvers don't. */
  principal: Principal;
  /** The request's "now", taken once so every field of a response agrees on time windows. */
  now: Date;
  /** Base URL SDKs reach Vigil at, for DSNs. */
  publicUrl: string;
  log: Logger;
}

export interface ServerContext {
  db: Database;
  publicUrl: string;
  log: Logger;
  clock: () => Date;
  caches: SharedCaches;
}

/** Builds the per-request context; yoga calls it once for every operation. */
export function createContext(
  server: ServerContext,
  requestId: string,
  principal: Principal,
): Context {
  const now = server.clock();
  return {
    db: server.db,
    loaders: createLoaders(server.db, now, server.caches),
    requestId,
    principal,
    now,
    publicUrl: server.publicUrl,
    log: server.log.child({ requestId }),
  };
}
