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
 */
export async function bootstrap(
  db: Database,
  adminToken: string | undefined,
): Promise<BootstrapResult> {
  return db.prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK_KEY})`;
    if ((await tx.organization.count()) === 0) {
      await tx.organization.create({
        data: {
          slug: 'default',
          name: 'Default',
          projects: {
            create: {
              slug: 'default',
              name: 'Default',
              platform: 'other',
              keys: { create: { publicKey: newPublicKey() } },
            },
          },
        },
      });
    }
    let generatedToken: string | undefined;
    if (!adminToken && (await tx.apiToken.count()) === 0) {
      generatedToken = generateToken();
      await tx.apiToken.create({ data: { name: 'admin', tokenHash: hashToken(generatedToken) } });
    }
    const project = await tx.project.findFirst({
      where: { slug: 'default', organization: { slug: 'default' } },
      include: { keys: { where: { isActive: true }, orderBy: { id: 'asc' }, take: 1 } },
    });
    const key = project?.keys[0];
    return {
      generatedToken,
      defaultProject: project && key ? { id: project.id, publicKey: key.publicKey } : undefined,
    };
  });
}
