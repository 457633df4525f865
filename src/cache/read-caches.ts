import type { Plugin } from 'graphql-yoga';
import type { Database } from '../db/client.ts';
import type { SharedCaches } from '../graphql/loaders.ts';
import { createReleaseHealthCaches } from '../modules/release-health/release-health.loaders.ts';
import {
  type DataChange,
  onDataChange,
  publishDataChange,
  publishProjectsChanged,
} from './data-changes.ts';
import { createResponseStore } from './response-store.ts';
import { useConditionalGet } from './use-conditional-get.ts';
import { useMutationChanges } from './use-mutation-changes.ts';
import { useVigilResponseCache } from './use-response-cache.ts';

// The caches of reads that outlive a request (answers, and the project side of adoption), and what
// drops their entries: a data change from this process or any other on the database
// (data-changes.ts). Token and key answers have their own channels (src/auth/tokens.ts,
// src/ingest/project-key.ts); release and environment ids never change (src/ingest/dimensions.ts).

export interface ReadCachesOptions {
  db: Database;
  clock: () => Date;
  onError: (error: unknown) => void;
  /** Cached answers per process; 0 turns the response cache off. @default 1000 */
  maxResponses?: number;
}

export function createReadCaches({ db, clock, onError, maxResponses = 1000 }: ReadCachesOptions) {
  const shared: SharedCaches = createReleaseHealthCaches();
  const responses = createResponseStore({ max: Math.max(1, maxResponses) });
  const unsubscribe = onDataChange(db, (change) => {
    responses.apply(change);
    dropProjectDays(shared, change);
  });

  // One instant per request, taken on first use: the cache key and the context's `now` share it.
  const instants = new WeakMap<Request, Date>();
  const now = (request: Request) => {
    let at = instants.get(request);
    if (!at) {
      at = clock();
      instants.set(request, at);
    }
    return at;
  };

  return {
    /** Caches the loaders share across requests. */
    shared,
    now,
    /** After the response cache's place in the plugin list: authentication must come first. */
    plugins: [
      useMutationChanges(db, onError),
      useConditionalGet(),
      ...(maxResponses > 0 ? [useVigilResponseCache({ db, store: responses, now })] : []),
    ] as Plugin[],
    /** Tells every process's caches that a project's data changed; call after the commit. */
    changed(change: DataChange): void {
      void publishDataChange(db, change, onError);
    },
    /** Stops listening for changes (the app closes). */
    close: unsubscribe,
    /** The same for projects whose organizations are not at hand (one query finds them). */
    projectsChanged(projectIds: number[]): void {
      publishProjectsChanged(db, projectIds).catch(onError);
    },
  };
}

function dropProjectDays(shared: SharedCaches, change: DataChange) {
  if (change.all || (!change.projects && change.organizations)) shared.projectDay.clear();
  else for (const id of change.projects ?? []) shared.projectDay.invalidate(id);
}
