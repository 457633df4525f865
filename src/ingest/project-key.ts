import type { Database } from '../db/client.ts';

// Which project an envelope is for, by the DSN public key it carries (spec §2.1): in the
// X-Sentry-Auth header, the `sentry_key` query parameter, or the envelope header's `dsn`.

export type AuthResult =
  | { ok: true; project: { id: number; organizationId: number } }
  | { ok: false; status: 401 | 403 | 400; detail: string };

/** The key an SDK sent, from the header or the query string; `undefined` when neither has one. */
export function keyFromRequest(request: Request, url: URL): { key?: string; conflict?: true } {
  const header = request.headers.get('x-sentry-auth');
  const fromHeader = header ? /sentry_key\s*=\s*([^,\s]+)/i.exec(header)?.[1] : undefined;
  const fromQuery = url.searchParams.get('sentry_key') ?? undefined;
  if (fromHeader && fromQuery && fromHeader !== fromQuery) return { conflict: true };
  return { key: fromHeader ?? fromQuery };
}

/** The key inside an envelope header's `dsn`, as tunnels send it. */
export function keyFromDsn(dsn: unknown): string | undefined {
  if (typeof dsn !== 'string') return undefined;
  try {
    return new URL(dsn).username || undefined;
  } catch {
    return undefined;
  }
}

interface KeyRow {
  projectId: number;
  organizationId: number;
  isActive: boolean;
}

const CACHE_MS = 30_000;
// One answer for every key that does not open this project: nobody learns about other projects.
const FORBIDDEN = {
  ok: false,
  status: 403,
  detail: 'invalid or revoked key for this project',
} as const;

/**
 * Checks a public key against the project in the URL. Answers are remembered for 30 s, hits and
 * misses alike, so a flood of envelopes (or of bad keys) does not become a flood of queries;
 * revoking a key takes effect within that time. The lookup itself is shared: requests that
 * arrive together with a key not yet checked wait for one query, not one each.
 */
export function createKeyChecker(db: Database) {
  const cache = new Map<string, { row: Promise<KeyRow | null>; at: number }>();
  return async (key: string | undefined, projectId: number): Promise<AuthResult> => {
    if (!key) return { ok: false, status: 401, detail: 'missing sentry_key' };
    if (!/^[0-9a-f]{32}$/i.test(key)) return FORBIDDEN;
    let entry = cache.get(key);
    if (!entry || Date.now() - entry.at > CACHE_MS) {
      const fresh = { row: findKey(db, key), at: Date.now() };
      // A failed lookup is forgotten, so that the next envelope asks again.
      fresh.row.catch(() => {
        if (cache.get(key) === fresh) cache.delete(key);
      });
      if (cache.size > 10_000) cache.clear();
      cache.set(key, fresh);
      entry = fresh;
    }
    const row = await entry.row;
    if (!row?.isActive || row.projectId !== projectId) return FORBIDDEN;
    return { ok: true, project: { id: row.projectId, organizationId: row.organizationId } };
  };
}

async function findKey(db: Database, key: string): Promise<KeyRow | null> {
  const found = await db.prisma.projectKey.findUnique({
    where: { publicKey: key.toLowerCase() },
    select: { projectId: true, isActive: true, project: { select: { organizationId: true } } },
  });
  return (
    found && {
      projectId: found.projectId,
      isActive: found.isActive,
      organizationId: found.project.organizationId,
    }
  );
}
