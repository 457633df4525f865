import { type Cache, createInMemoryCache } from '@graphql-yoga/plugin-response-cache';
import type { ExecutionResult } from 'graphql';
import type { DataChange } from './data-changes.ts';

// Where cached GraphQL answers live, and the rule that drops them. An entry is keyed by token,
// minute, document and variables (use-response-cache.ts builds the key, whose first part is its
// scope: `o<organization id>` for an organization's token, `a` for the instance admin). It is
// dropped when the data it may show changes:
// - sessions, releases, outcomes, stages or incidents of a project of the token's organization
//   (the admin's answers: of any organization): a token can read nothing outside its
//   organization, so this catches every project the answer may have read;
// - a GraphQL type it contains whose objects changed outside project data (`ApiToken`
//   `lastUsedAt`, webhook attempts): the plugin records every `__typename` of an answer;
// - anything at all (a mutation, pruning, a lost LISTEN connection).
// An answer whose reads began before a change it is subject to is not stored at all: those reads
// may predate the commit, and storing them after the drop would keep them.
// Requests for a key that is being computed wait for that computation instead of running the same
// statements again (many readers after a drop); if its answer is not stored, they compute their own.

const ADMIN = 'vigil:admin';
const orgEntity = (id: number) => `vigil:org:${id}`;

/** The scope part of a key: `o<id>` or `a`. */
export type KeyScope = { organizationId: number } | 'admin';

export function scopePrefix(scope: KeyScope): string {
  return scope === 'admin' ? 'a' : `o${scope.organizationId}`;
}

function scopeOf(key: string): KeyScope | null {
  const prefix = key.slice(0, key.indexOf('/'));
  if (prefix === 'a') return 'admin';
  const id = Number(prefix.slice(1));
  return prefix.startsWith('o') && Number.isSafeInteger(id) ? { organizationId: id } : null;
}

export interface ResponseStoreOptions {
  /** Entries kept per process; the least recently used goes first. @default 1000 */
  max?: number;
}

export function createResponseStore({ max = 1000 }: ResponseStoreOptions = {}) {
  let entries = createInMemoryCache({ max });
  // Every change gets the next number; a computation remembers the number it began at.
  let seq = 0;
  let allAt = 0;
  let anyOrganizationAt = 0;
  const organizationAt = new Map<number, number>();
  const typeAt = new Map<string, number>();
  const startedAt = new Map<string, number>();
  type Waiter = (result: ExecutionResult | null) => void;
  const running = new Map<string, { owner: Request; waiters: Waiter[] }>();
  const leaderOf = new WeakMap<Request, string>();
  // Set by `begin` for the `get` that the plugin makes next for the same request.
  let follow: string | null = null;

  function settle(key: string, result: ExecutionResult | null): void {
    const computation = running.get(key);
    if (!computation) return;
    running.delete(key);
    for (const waiter of computation.waiters) waiter(result);
  }

  function stale(key: string, typenames: Iterable<string>): boolean {
    const since = startedAt.get(key);
    startedAt.delete(key);
    if (since === undefined || allAt > since) return true;
    const scope = scopeOf(key);
    if (scope === null) return true;
    const changedAt =
      scope === 'admin' ? anyOrganizationAt : (organizationAt.get(scope.organizationId) ?? 0);
    if (changedAt > since) return true;
    for (const typename of typenames) if ((typeAt.get(typename) ?? 0) > since) return true;
    return false;
  }

  const cache: Cache = {
    get(key) {
      const computation = follow === key ? running.get(key) : undefined;
      follow = null;
      if (!computation) return entries.get(key);
      return new Promise<ExecutionResult | null>((resolve) => {
        computation.waiters.push(resolve);
        // A computation that neither stores nor finishes must not hold anyone for long.
        setTimeout(() => resolve(null), 30_000).unref();
      });
    },
    set(key, result, collected, ttl) {
      const list = [...collected];
      if (stale(key, new Set(list.map((e) => e.typename)))) {
        settle(key, null);
        return;
      }
      const scope = scopeOf(key) as KeyScope;
      const tag = scope === 'admin' ? ADMIN : orgEntity(scope.organizationId);
      entries.set(key, result, [...list, { typename: tag }], ttl);
      settle(key, result);
    },
    invalidate: (entities) => entries.invalidate(entities),
  };

  return {
    /** The cache the response-cache plugin reads and writes. */
    cache,
    /**
     * Called with each request's key before the plugin looks it up: a miss makes the request the
     * key's computation (its reads begin now), or a follower of the one already running.
     */
    begin(key: string, request: Request): void {
      follow = null;
      if (entries.get(key)) return;
      if (running.has(key)) {
        follow = key;
        return;
      }
      running.set(key, { owner: request, waiters: [] });
      leaderOf.set(request, key);
      if (startedAt.size >= 10 * max) startedAt.clear();
      startedAt.set(key, seq);
    },
    /** Called when a request's answer is sent: followers of an answer that was not stored go on. */
    finish(request: Request): void {
      const key = leaderOf.get(request);
      if (key === undefined || running.get(key)?.owner !== request) return;
      startedAt.delete(key);
      settle(key, null);
    },
    /** Drops what `change` makes stale. */
    apply(change: DataChange): void {
      seq += 1;
      const organizations = change.organizations ?? [];
      if (change.all || (change.projects?.length && organizations.length === 0)) {
        allAt = seq;
        entries = createInMemoryCache({ max });
        return;
      }
      if (organizations.length > 0) {
        anyOrganizationAt = seq;
        for (const id of organizations) organizationAt.set(id, seq);
        entries.invalidate([
          { typename: ADMIN },
          ...organizations.map((id) => ({ typename: orgEntity(id) })),
        ]);
      }
      for (const typename of change.types ?? []) {
        typeAt.set(typename, seq);
        entries.invalidate([{ typename }]);
      }
    },
  };
}

export type ResponseStore = ReturnType<typeof createResponseStore>;
