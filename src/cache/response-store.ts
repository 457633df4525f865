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
//
// Requests for a key that is being computed wait for that computation instead of running the same
// statements again (many readers after a drop). Each computation remembers the change counter at
// which its reads began, and a request joins the key's newest computation only if no change that
// can touch the key came since: then that computation's reads are at least as new as everything
// the request was told of, so its answer (stored or not, even an error) is served to it. A request
// that arrives after such a change leads a new computation, which later arrivals join: under
// steady ingest, one computation per key and change, never one per reader (issue 15).

const ADMIN = 'vigil:admin';
const orgEntity = (id: number) => `vigil:org:${id}`;
/** A waiter is let go after this long and computes alone: a computation that never ends. */
const WAIT_MS = 30_000;

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

type Settle = (result: ExecutionResult | null) => void;

interface Waiter {
  request: Request;
  resolve: Settle;
  /** Let go after WAIT_MS: it computes alone and must not lead. */
  gone?: boolean;
}

/** One request computing a key's answer, and the requests waiting for it. */
interface Computation {
  key: string;
  /** The change counter when its reads began. */
  since: number;
  waiters: Waiter[];
  /** Led by a waiter of one that ended without an answer: if it does too, nobody leads again. */
  handedOver?: boolean;
}

export function createResponseStore({ max = 1000 }: ResponseStoreOptions = {}) {
  let entries = createInMemoryCache({ max });
  // Every change gets the next number; a computation remembers the number it began at.
  let seq = 0;
  let allAt = 0;
  let anyOrganizationAt = 0;
  let anyTypeAt = 0;
  const organizationAt = new Map<number, number>();
  const typeAt = new Map<string, number>();
  /** Each key's newest computation: the only one a new request may join. */
  const newest = new Map<string, Computation>();
  const ledBy = new WeakMap<Request, Computation>();
  // Set by `begin` for the `get` that the plugin makes next for the same request, and by
  // `answering` for the `set` (or refusal) that follows it.
  let follow: { key: string; computation: Computation; request: Request } | null = null;
  let answering: Request | null = null;

  /** The last change to the data of the key's scope (and to everything). */
  function scopeChangedAt(key: string): number {
    const scope = scopeOf(key);
    if (scope === null) return Number.POSITIVE_INFINITY;
    const at =
      scope === 'admin' ? anyOrganizationAt : (organizationAt.get(scope.organizationId) ?? 0);
    return Math.max(at, allAt);
  }

  /**
   * Whether a request arriving now may take the answer of reads that began at `since`. Type
   * changes count whatever the answer holds (its types are known only at the end); they are rare.
   */
  const joinable = (key: string, since: number) =>
    scopeChangedAt(key) <= since && anyTypeAt <= since;

  /** Whether an answer whose reads began at `since` may be kept for later requests. */
  function storable(key: string, since: number, typenames: Iterable<string>): boolean {
    if (scopeChangedAt(key) > since) return false;
    for (const typename of typenames) if ((typeAt.get(typename) ?? 0) > since) return false;
    return true;
  }

  function lead(key: string, request: Request, waiters: Waiter[]): Computation {
    const computation = { key, since: seq, waiters };
    newest.set(key, computation);
    ledBy.set(request, computation);
    return computation;
  }

  function settle(computation: Computation, result: ExecutionResult): void {
    if (newest.get(computation.key) === computation) newest.delete(computation.key);
    for (const waiter of computation.waiters) waiter.resolve(result);
    computation.waiters = [];
  }

  /**
   * The leader ended without an answer to share (its document failed validation, or the plugin
   * skipped storing): its waiters go on to one new computation, not each to their own. Once only:
   * whatever ended the first may end every one (an invalid document, notifications gone), and a
   * chain of one reader after the other would cost more than each computing.
   */
  function handOver(computation: Computation): void {
    const { key } = computation;
    const waiters = computation.waiters.filter((w) => !w.gone);
    computation.waiters = [];
    if (newest.get(key) === computation) newest.delete(key);
    const later = newest.get(key);
    if (later) {
      // It began after every one of them arrived: its reads are new enough for all.
      later.waiters.push(...waiters);
      return;
    }
    if (computation.handedOver) {
      for (const waiter of waiters) waiter.resolve(null);
      return;
    }
    const [first, ...rest] = waiters;
    if (!first) return;
    lead(key, first.request, rest).handedOver = true;
    first.resolve(null);
  }

  /** The computation that `request` leads, if it is the one announced by `answering`. */
  function answered(key: string): Computation | undefined {
    const request = answering;
    answering = null;
    const computation = request ? ledBy.get(request) : undefined;
    if (!request || computation?.key !== key) return undefined;
    ledBy.delete(request);
    return computation;
  }

  const cache: Cache = {
    get(key) {
      const joining = follow?.key === key ? follow : null;
      follow = null;
      if (!joining) return entries.get(key);
      const { computation, request } = joining;
      return new Promise<ExecutionResult | null>((resolve) => {
        const waiter: Waiter = { request, resolve };
        computation.waiters.push(waiter);
        setTimeout(() => {
          waiter.gone = true;
          resolve(null);
        }, WAIT_MS).unref();
      });
    },
    set(key, result, collected, ttl) {
      const computation = answered(key);
      // Not a computation this store began (a waiter let go after WAIT_MS): never kept.
      if (!computation) return;
      const list = [...collected];
      if (storable(key, computation.since, new Set(list.map((e) => e.typename)))) {
        const scope = scopeOf(key) as KeyScope;
        const tag = scope === 'admin' ? ADMIN : orgEntity(scope.organizationId);
        entries.set(key, result, [...list, { typename: tag }], ttl);
      }
      settle(computation, result);
    },
    invalidate: (entities) => entries.invalidate(entities),
  };

  return {
    /** The cache the response-cache plugin reads and writes. */
    cache,
    /**
     * Called with each request's key before the plugin looks it up: a miss makes the request a
     * follower of the key's newest computation if no change came since it began, else the leader
     * of a new one (its reads begin now).
     */
    begin(key: string, request: Request): void {
      follow = null;
      if (entries.get(key)) return;
      const computation = newest.get(key);
      if (computation && joinable(key, computation.since)) {
        follow = { key, computation, request };
        return;
      }
      lead(key, request, []);
    },
    /** Called with the request whose answer the plugin is about to store or refuse (its `onTtl`). */
    answering(request: Request): void {
      answering = request;
    },
    /**
     * The plugin refuses to store an answer with errors: its waiters get the same answer. Their
     * question and reads are the leader's; a failing database or a bug would fail them all again,
     * and recomputing for each is the herd this store exists to avoid.
     */
    failed(key: string, result: ExecutionResult): void {
      const computation = answered(key);
      if (computation) settle(computation, result);
    },
    /** Called when a request's answer is sent: a leader that settled nothing hands over. */
    finish(request: Request): void {
      const computation = ledBy.get(request);
      if (!computation) return;
      ledBy.delete(request);
      // The in-memory cache answers synchronously.
      const stored = entries.get(computation.key) as ExecutionResult | undefined;
      // Served from an entry stored meanwhile (it holds every change so far): so are they.
      if (stored) settle(computation, stored);
      else handOver(computation);
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
        anyTypeAt = seq;
        entries.invalidate([{ typename }]);
      }
    },
  };
}

export type ResponseStore = ReturnType<typeof createResponseStore>;
