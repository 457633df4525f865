import type { Database } from '../../src/db/client.ts';

/** What a full disk raises: a failure the same bytes get past later, so a 503. */
export const DISK_FULL =
  "RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'";

/**
 * Runs `fn` while the ingest write statement's last table refuses every insert the way `raise`
 * says: everything the statement wrote before it must roll back.
 */
export async function whileRefusing<T>(
  db: Database,
  raise: string,
  fn: () => Promise<T>,
): Promise<T> {
  const exec = (sql: string) => db.prisma.$executeRawUnsafe(sql);
  await exec(`CREATE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN ${raise}; END $$`);
  await exec(`CREATE TRIGGER refuse_insert BEFORE INSERT ON ingest_outcome
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_insert()`);
  try {
    return await fn();
  } finally {
    await exec('DROP TRIGGER refuse_insert ON ingest_outcome');
    await exec('DROP FUNCTION refuse_insert()');
  }
}
