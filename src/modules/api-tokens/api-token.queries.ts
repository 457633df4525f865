import type { Database } from '../../db/client.ts';
import type { ApiToken } from '../../generated/prisma/client.ts';

/** A token as the API shows it: never its hash. */
export type ApiTokenRow = Omit<ApiToken, 'tokenHash'>;

const COLUMNS = {
  id: true,
  organizationId: true,
  name: true,
  prefix: true,
  scopes: true,
  createdAt: true,
  expiresAt: true,
  revokedAt: true,
  lastUsedAt: true,
} as const;

export function selectApiTokensByIds(db: Database, ids: readonly number[]) {
  return db.prisma.apiToken.findMany({ where: { id: { in: [...ids] } }, select: COLUMNS });
}

export function selectApiTokensByOrganizationIds(db: Database, organizationIds: readonly number[]) {
  return db.prisma.apiToken.findMany({
    where: { organizationId: { in: [...organizationIds] } },
    orderBy: { id: 'asc' },
    select: COLUMNS,
  });
}

export function insertApiToken(
  db: Database,
  input: {
    organizationId: number;
    name: string;
    tokenHash: string;
    prefix: string;
    scopes: string[];
    expiresAt: Date | null;
  },
): Promise<ApiTokenRow> {
  return db.prisma.apiToken.create({ data: input, select: COLUMNS });
}

/** Revokes once: a second call keeps the first time. @returns the row, or null when unknown. */
export async function updateApiTokenRevoked(
  db: Database,
  id: number,
  at: Date,
): Promise<ApiTokenRow | null> {
  await db.prisma.apiToken.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: at } });
  return db.prisma.apiToken.findUnique({ where: { id }, select: COLUMNS });
}

/** Writes the newest use of many tokens in one statement (src/auth/usage.ts batches them). */
export function updateApiTokensLastUsed(db: Database, ids: number[], times: Date[]) {
  return db.prisma.$executeRawUnsafe(
    `/* updateApiTokensLastUsed */
     UPDATE api_token t SET last_used_at = u.at
     FROM unnest($1::int[], $2::timestamptz[]) AS u(id, at)
     WHERE t.id = u.id AND (t.last_used_at IS NULL OR t.last_used_at < u.at)`,
    ids,
    times,
  );
}
