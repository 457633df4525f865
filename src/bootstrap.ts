import { generateToken, hashToken } from './auth/tokens.ts';
import type { Database } from './db/client.ts';
import { newPublicKey } from './modules/projects/public-key.ts';

export interface BootstrapResult {
  /** Set only when a token was generated now: it is shown once and never stored in clear. */
  generatedToken: string | undefined;
  /** The default project's DSN parts, when it exists. */
  defaultProject: { id: number; publicKey: string } | undefined;
}

// Serialises first starts of several processes on one database (migrations hold another key).
const BOOTSTRAP_LOCK_KEY = 72707370;

/**
 * First start on an empty database: organization `default` with project `default` and a key;
 * an admin token when none is configured or stored.
 * Plain SQL on the driver, not Prisma: the first Prisma query loads its query compiler, which
 * cost a restart 0.9 s of CPU before the banner (docs/design.md § Start-up); now the first
 * GraphQL request pays it.
 */
export async function bootstrap(
  db: Database,
  adminToken: string | undefined,
): Promise<BootstrapResult> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK_KEY]);
    const [counts] = await tx.query<{ organizations: number; tokens: number }>(
      `/* bootstrap */ SELECT (SELECT count(*) FROM organization)::int AS organizations,
                              (SELECT count(*) FROM api_token)::int AS tokens`,
    );
    if (counts?.organizations === 0) {
      await tx.query(
        `/* bootstrap */
         WITH org AS (
           INSERT INTO organization (slug, name) VALUES ('default', 'Default') RETURNING id
         ), project AS (
           INSERT INTO project (organization_id, slug, name, platform)
           SELECT id, 'default', 'Default', 'other' FROM org RETURNING id
         )
         INSERT INTO project_key (project_id, public_key) SELECT id, $1 FROM project`,
        [newPublicKey()],
      );
    }
    let generatedToken: string | undefined;
    if (!adminToken && counts?.tokens === 0) {
      generatedToken = generateToken();
      await tx.query(`/* bootstrap */ INSERT INTO api_token (name, token_hash) VALUES ($1, $2)`, [
        'admin',
        hashToken(generatedToken),
      ]);
    }
    const [project] = await tx.query<{ id: number; publicKey: string }>(
      `/* bootstrap */
       SELECT p.id, k.public_key AS "publicKey"
         FROM project p
         JOIN organization o ON o.id = p.organization_id
         JOIN LATERAL (SELECT public_key FROM project_key
                        WHERE project_id = p.id AND is_active ORDER BY id LIMIT 1) k ON true
        WHERE o.slug = 'default' AND p.slug = 'default'`,
    );
    return { generatedToken, defaultProject: project };
  });
}
