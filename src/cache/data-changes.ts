import { randomUUID } from 'node:crypto';
import type { Database } from '../db/client.ts';

// What changed in the data that reads show, told to every Vigil process on the database: caches
// that span requests (the response cache, the project side of adoption) drop what a change makes
// stale. The process that changed the data drops it at once, before it answers anyone; the others
// when the notification arrives (PostgreSQL NOTIFY, sent after the commit; docs/design.md
// § Several gateways).

/** Channel of data changes (src/db/notify.ts). */
export const DATA_CHANNEL = 'vigil_data';

export interface DataChange {
  /** Anything may have changed (a mutation, pruning): every cached answer goes. */
  all?: boolean;
  /** Projects whose sessions, releases, outcomes, stages or incidents changed. */
  projects?: number[];
  /** The organizations of those projects: cached answers are scoped by token, hence by organization. */
  organizations?: number[];
  /** GraphQL types whose objects changed outside any project's data (`lastUsedAt` of tokens). */
  types?: string[];
}

export type DataChangeHandler = (change: DataChange) => void;

// NOTIFY payloads must stay under 8000 bytes; a longer change is sent as "everything".
const MAX_PAYLOAD = 7000;

interface Hub {
  /** Tells this Database's own messages apart when they come back through LISTEN. */
  id: string;
  handlers: Set<DataChangeHandler>;
  listening: boolean;
  pending: DataChange | null;
  sending: Promise<void> | null;
}

const hubs = new WeakMap<Database, Hub>();

function hubOf(db: Database): Hub {
  let hub = hubs.get(db);
  if (!hub) {
    hub = { id: randomUUID(), handlers: new Set(), listening: false, pending: null, sending: null };
    hubs.set(db, hub);
  }
  return hub;
}

function deliver(hub: Hub, change: DataChange): void {
  for (const handler of hub.handlers) handler(change);
}

/**
 * Calls `handler` for every data change: this process's own at once, other processes' when their
 * notification arrives, and "everything" whenever notifications may have been missed.
 */
export function onDataChange(db: Database, handler: DataChangeHandler): () => void {
  const hub = hubOf(db);
  hub.handlers.add(handler);
  if (!hub.listening) {
    hub.listening = true;
    db.notifications.subscribe(DATA_CHANNEL, (payload) => {
      const message = parseChange(payload);
      if (message && message.from !== hub.id) deliver(hub, message.change);
    });
    // Messages sent while the LISTEN connection was away are lost: assume the worst.
    db.notifications.onLiveChange(() => deliver(hub, { all: true }));
  }
  return () => void hub.handlers.delete(handler);
}

/**
 * Tells every cache of this process now and every other process soon. Call it after the commit.
 * Changes made while a notification is on its way are merged into the next one, so a burst of
 * envelopes costs one NOTIFY per round trip, not one each. Resolves once this change is sent.
 */
export function publishDataChange(
  db: Database,
  change: DataChange,
  onError?: (error: unknown) => void,
): Promise<void> {
  const hub = hubOf(db);
  deliver(hub, change);
  hub.pending = merge(hub.pending, change);
  hub.sending ??= (async () => {
    // A change that arrives while this runs waits for the next turn of the loop.
    await Promise.resolve();
    while (hub.pending) {
      const next = hub.pending;
      hub.pending = null;
      let payload = JSON.stringify({ from: hub.id, ...next });
      if (payload.length > MAX_PAYLOAD) payload = JSON.stringify({ from: hub.id, all: true });
      try {
        await db.notifications.publish(DATA_CHANNEL, payload);
      } catch (error) {
        // Other processes then keep stale answers until their minute ends (the entries' limit).
        onError?.(error);
      }
    }
  })().finally(() => {
    hub.sending = null;
  });
  return hub.sending;
}

/** Projects changed by a job that knows only their ids: looks up their organizations first. */
export async function publishProjectsChanged(
  db: Database,
  projectIds: Iterable<number>,
): Promise<void> {
  const ids = [...new Set(projectIds)];
  if (ids.length === 0) return;
  // Ids of no project (a refused envelope may name any) change nothing anyone can read.
  const rows = await db.prisma.$queryRawUnsafe<Array<{ id: number; organization_id: number }>>(
    `/* selectProjectOrganizations */ SELECT id, organization_id FROM project WHERE id = ANY($1::int[])`,
    ids,
  );
  if (rows.length === 0) return;
  await publishDataChange(db, {
    projects: rows.map((r) => r.id),
    organizations: [...new Set(rows.map((r) => r.organization_id))],
  });
}

function union(a: number[] | undefined, b: number[] | undefined): number[] | undefined {
  if (!a) return b;
  if (!b) return a;
  return [...new Set([...a, ...b])];
}

function merge(a: DataChange | null, b: DataChange): DataChange {
  if (!a) return b;
  if (a.all || b.all) return { all: true };
  const types = a.types || b.types ? [...new Set([...(a.types ?? []), ...(b.types ?? [])])] : [];
  return {
    projects: union(a.projects, b.projects),
    organizations: union(a.organizations, b.organizations),
    ...(types.length > 0 && { types }),
  };
}

const isIds = (value: unknown): value is number[] =>
  Array.isArray(value) && value.every((v) => Number.isSafeInteger(v));

/** A message of another process; anything malformed counts as "everything changed". */
function parseChange(payload: string): { from: unknown; change: DataChange } | null {
  try {
    const raw = JSON.parse(payload) as Record<string, unknown>;
    const change: DataChange = {};
    if (raw.all === true) change.all = true;
    if (isIds(raw.projects)) change.projects = raw.projects;
    if (isIds(raw.organizations)) change.organizations = raw.organizations;
    if (Array.isArray(raw.types)) change.types = raw.types.filter((t) => typeof t === 'string');
    return { from: raw.from, change };
  } catch {
    return { from: null, change: { all: true } };
  }
}
