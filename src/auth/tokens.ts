import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database } from '../db/client.ts';
import { API_SCOPES, type ApiScope, type Principal } from './principal.ts';
import { isOrgToken } from './token-format.ts';
import type { UsageRecorder } from './usage.ts';

/** Published with a token's id whenever a token is created, revoked or changed. */
export const API_TOKEN_CHANNEL = 'vigil_api_token';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A new instance admin token: "vgl_" and 32 random bytes, base64url. */
export function generateToken(): string {
  return `vgl_${randomBytes(32).toString('base64url')}`;
}
const ADMIN_TOKEN_SHAPE = /^vgl_[A-Za-z0-9_-]{43}$/;

interface TokenRow {
  id: number;
  organizationId: number | null;
  tokenHash: string;
  scopes: string[];
  expiresAt: Date | null;
  revokedAt: Date | null;
}

// While notifications arrive, a known token's row is trusted for long (a revocation drops it at
// once); the limit only bounds a missed message. Without them, nothing is trusted for long.
const TRUST_LIVE_MS = 10 * 60_000;
const TRUST_UNKNOWN_LIVE_MS = 10_000;
const TRUST_OFFLINE_MS = 2_000;
const MAX_ENTRIES = 10_000;

export interface TokenVerifierOptions {
  /** @default () => new Date() */
  clock?: () => Date;
  usage?: UsageRecorder;
}

/**
 * Answers "who sends this bearer token?": the configured admin token, or a stored token that is
 * neither revoked nor expired. A known token costs no query; revocation reaches the cache through
 * `db.notifications`, expiry is checked against the clock on every request.
 */
export function createTokenVerifier(
  db: Database,
  adminToken: string | undefined,
  { clock = () => new Date(), usage }: TokenVerifierOptions = {},
) {
  const adminHash = adminToken ? Buffer.from(hashToken(adminToken), 'hex') : undefined;
  const cache = new Map<
    string,
    { row: Promise<TokenRow | null>; value?: TokenRow | null; at: number }
  >();
  db.notifications.subscribe(API_TOKEN_CHANNEL, (payload) => {
    const id = Number(payload);
    for (const [hash, entry] of cache) {
      // Unknown and still-loading answers may predate a token just created: drop them too.
      if (entry.value === undefined || entry.value === null || entry.value.id === id) {
        cache.delete(hash);
      }
    }
  });
  db.notifications.onLiveChange(() => cache.clear());

  const lookUp = (hash: string) => {
    const now = Date.now();
    const entry = cache.get(hash);
    if (entry) {
      const trust = !db.notifications.live
        ? TRUST_OFFLINE_MS
        : entry.value === null
          ? TRUST_UNKNOWN_LIVE_MS
          : TRUST_LIVE_MS;
      if (now - entry.at <= trust) return entry.row;
    }
    if (cache.size >= MAX_ENTRIES) cache.clear();
    const fresh: { row: Promise<TokenRow | null>; value?: TokenRow | null; at: number } = {
      row: db.prisma.apiToken.findUnique({
        where: { tokenHash: hash },
        select: {
          id: true,
          organizationId: true,
          tokenHash: true,
          scopes: true,
          expiresAt: true,
          revokedAt: true,
        },
      }),
      at: now,
    };
    fresh.row.then(
      (value) => {
        fresh.value = value;
      },
      () => {
        // A failed lookup is forgotten, so that the next request asks again.
        if (cache.get(hash) === fresh) cache.delete(hash);
      },
    );
    cache.set(hash, fresh);
    return fresh.row;
  };

  return async (token: string): Promise<Principal | null> => {
    const hash = Buffer.from(hashToken(token), 'hex');
    if (adminHash && timingSafeEqual(adminHash, hash)) return { kind: 'admin', tokenId: null };
    // Anything that is not shaped like a token Vigil issues is refused without a query.
    if (!isOrgToken(token) && !ADMIN_TOKEN_SHAPE.test(token)) return null;
    const row = await lookUp(hash.toString('hex'));
    if (!row || !timingSafeEqual(Buffer.from(row.tokenHash, 'hex'), hash)) return null;
    const now = clock();
    if (row.revokedAt || (row.expiresAt && row.expiresAt <= now)) return null;
    usage?.touch(row.id, now);
    if (row.organizationId === null) return { kind: 'admin', tokenId: row.id };
    return {
      kind: 'organization',
      tokenId: row.id,
      organizationId: row.organizationId,
      scopes: new Set(
        row.scopes.filter((s): s is ApiScope => (API_SCOPES as readonly string[]).includes(s)),
      ),
    };
  };
}

export type TokenVerifier = ReturnType<typeof createTokenVerifier>;
