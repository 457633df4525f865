import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Database, openDatabase } from '../../src/db/client.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { waitFor } from '../support/wait.ts';

// db.notifications: publish/subscribe between everything on one database (src/db/notify.ts).

let database: TestDatabase;
/** A second handle on the same database: its own pool and listener on PostgreSQL. */
let other: Database;

beforeAll(async () => {
  database = await createTestDatabase();
  other = database.url
    ? await openDatabase({ databaseUrl: database.url, dataDir: '' })
    : database.db;
}, 120_000);

afterAll(async () => {
  if (other !== database?.db) await other?.close();
  await database?.dispose();
});

describe('notifications', () => {
  test('a message published on one handle reaches subscribers of every handle, in order', async () => {
    const seen: string[] = [];
    const stop = other.notifications.subscribe('test_channel', (payload) => seen.push(payload));
    await waitFor(async () => other.notifications.live);
    await other.notifications.settled();
    await database.db.notifications.publish('test_channel', 'one');
    await database.db.notifications.publish('test_channel', 'two');
    await waitFor(async () => seen.length === 2);
    expect(seen).toEqual(['one', 'two']);
    stop();
  });

  test('after unsubscribing, a handler hears nothing more', async () => {
    const gone: string[] = [];
    const barrier: string[] = [];
    const stop = other.notifications.subscribe('test_gone', (payload) => gone.push(payload));
    other.notifications.subscribe('test_barrier', (payload) => barrier.push(payload));
    await waitFor(async () => other.notifications.live);
    await other.notifications.settled();
    await database.db.notifications.publish('test_gone', 'before');
    await waitFor(async () => gone.length === 1);
    stop();
    await database.db.notifications.publish('test_gone', 'after');
    // Messages arrive in order: once the barrier is heard, "after" would have been too.
    await database.db.notifications.publish('test_barrier', 'done');
    await waitFor(async () => barrier.length === 1);
    expect(gone).toEqual(['before']);
  });

  test('the publishing handle hears its own message before publish resolves, and only once', async () => {
    const own: string[] = [];
    const barrier: string[] = [];
    database.db.notifications.subscribe('test_own', (payload) => own.push(payload));
    database.db.notifications.subscribe('test_own_barrier', (payload) => barrier.push(payload));
    await waitFor(async () => database.db.notifications.live);
    await database.db.notifications.settled();
    const sent = Array.from({ length: 20 }, (_, i) => `revoked:${i}`);
    for (const payload of sent) {
      await database.db.notifications.publish('test_own', payload);
      // At once: a token that revokes itself must be refused on its very next request.
      expect(own.at(-1)).toBe(payload);
    }
    // The echoes through LISTEN come before another handle's later message, and are dropped.
    await other.notifications.publish('test_own_barrier', 'done');
    await waitFor(async () => barrier.length === 1);
    expect(own).toEqual(sent);
  });

  test('a payload that looks like another origin reaches subscribers whole', async () => {
    const seen: string[] = [];
    other.notifications.subscribe('test_shape', (payload) => seen.push(payload));
    await waitFor(async () => other.notifications.live);
    await other.notifications.settled();
    const payload = '00000000-0000-0000-0000-000000000000:x';
    await database.db.notifications.publish('test_shape', payload);
    await waitFor(async () => seen.length === 1);
    expect(seen).toEqual([payload]);
  });

  test.for(['Upper', 'semi;colon', 'a b', ''])('refuses the channel name %j', async (channel) => {
    expect(() => database.db.notifications.subscribe(channel, () => {})).toThrow(/channel/);
    await expect(database.db.notifications.publish(channel, 'x')).rejects.toThrow(/channel/);
  });
});
