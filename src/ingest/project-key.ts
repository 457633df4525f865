import type { Database } from '../db/client.ts';

// Which project an envelope is for, by the DSN public key it carries (spec §2.1): in the
// X-Sentry-Auth header, the `sentry_key` query parameter, or the envelope header's `dsn`.

export type AuthResult =
  | {
      ok: true;
      project: { id: number; organizationId: number };
      /** The key's own envelope limit; null: VIGIL_RATE_LIMIT_PER_MINUTE. */
      rateLimitPerMinute: number | null;
    }
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
  id: number;
  projectId: number;
  organizationId: number;
  isActive: boolean;
  expiresAt: Date | null;
  rateLimitPerMinute: number | null;
}

/** Published with a key's public key whenever a key is created, deactivated, rotated or changed. */
export const PROJECT_KEY_CHANNEL = 'vigil_project_key';

// While notifications arrive, answers are trusted for long (a change drops them at once); the
// limit only bounds a missed message. Without notifications, for a short while only.
const TRUST_LIVE_MS = 10 * 60_000;
const TRUST_OFFLINE_MS = 2_000;
// One answer for every key that does not open this project: nobody learns about other projects.
const FORBIDDEN = {
  ok: false,
  status: 403,
  detail: 'invalid or revoked key for this project',
} as const;

export interface KeyCheckerOptions {
  /** @default () => new Date() */
  clock?: () => Date;
  /** Told of each accepted key, for `lastUsedAt` (src/auth/usage.ts). */
  onUse?: (keyId: number, at: Date) => void;
}

/**
 * Checks a public key against the project in the URL. Answers are remembered, hits and misses
 * alike, so a flood of envelopes (or of bad keys) does not become a flood of queries; a change to
 * a key reaches every process through `db.notifications` and drops the answer at once. A rotated
 * key's end is checked against the clock on every envelope. Requests that arrive together with a
 * key not yet checked wait for one query, not one each.
 */
export function createKeyChecker(
  db: Database,
  { clock = () => new Date(), onUse }: KeyCheckerOptions = {},
) {
  const cache = new Map<string, { row: Promise<KeyRow | null>; at: number }>();
  db.notifications.subscribe(PROJECT_KEY_CHANNEL, (publicKey) => cache.delete(publicKey));
  db.notifications.onLiveChange(() => cache.clear());
  return async (key: string | undefined, projectId: number): Promise<AuthResult> => {
    if (!key) return { ok: false, status: 401, detail: 'missing sentry_key' };
    if (!/^[0-9a-f]{32}$/i.test(key)) return FORBIDDEN;
    const publicKey = key.toLowerCase();
    let entry = cache.get(publicKey);
    const trust = db.notifications.live ? TRUST_LIVE_MS : TRUST_OFFLINE_MS;
    if (!entry || Date.now() - entry.at > trust) {
      const fresh = { row: findKey(db, publicKey), at: Date.now() };
      // A failed lookup is forgotten, so that the next envelope asks again.
      fresh.row.catch(() => {
        if (cache.get(publicKey) === fresh) cache.delete(publicKey);
      });
      if (cache.size > 10_000) cache.clear();
      cache.set(publicKey, fresh);
      entry = fresh;
    }
    const row = await entry.row;
    if (!row?.isActive || row.projectId !== projectId) return FORBIDDEN;
    const now = clock();
    if (row.expiresAt && row.expiresAt <= now) return FORBIDDEN;
    onUse?.(row.id, now);
    return {
      ok: true,
      project: { id: row.projectId, organizationId: row.organizationId },
      rateLimitPerMinute: row.rateLimitPerMinute,
    };
  };
}

async function findKey(db: Database, publicKey: string): Promise<KeyRow | null> {
  const found = await db.prisma.projectKey.findUnique({
    where: { publicKey },
    select: {
      id: true,
      projectId: true,
      isActive: true,
      expiresAt: true,
      rateLimitPerMinute: true,
      project: { select: { organizationId: true } },
    },
  });
  return found && { ...found, organizationId: found.project.organizationId };
}
