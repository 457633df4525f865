import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database } from '../db/client.ts';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A new API token: "vgl_" and 32 random bytes, base64url. */
export function generateToken(): string {
  return `vgl_${randomBytes(32).toString('base64url')}`;
}

/**
 * Answers "is this bearer token valid?": the configured admin token, or any token whose hash is
 * stored. Stored hashes are looked up once per minute at most, so a request costs no query.
 */
export function createTokenVerifier(db: Database, adminToken: string | undefined) {
  const adminHash = adminToken ? Buffer.from(hashToken(adminToken), 'hex') : undefined;
  let stored: Set<string> = new Set();
  let loadedAt = Number.NEGATIVE_INFINITY;
  return async (token: string): Promise<boolean> => {
    const hash = hashToken(token);
    if (adminHash && timingSafeEqual(adminHash, Buffer.from(hash, 'hex'))) return true;
    // An unknown hash re-reads the table at most once a minute: wrong tokens cannot load the db.
    if (!stored.has(hash) && Date.now() - loadedAt > 60_000) {
      const rows = await db.prisma.apiToken.findMany({ select: { tokenHash: true } });
      stored = new Set(rows.map((r) => r.tokenHash));
      loadedAt = Date.now();
    }
    return stored.has(hash);
  };
}
