import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type pg from 'pg';

// Messages between Vigil processes that share a database: PostgreSQL's LISTEN/NOTIFY on a server,
// plain in-process events on PGlite (one process owns that database). Caches use it to drop an
// entry the moment another process changes the row behind it (docs/design.md § Notifications).

export type NotificationHandler = (payload: string) => void;

export interface Notifications {
  /**
   * Tells every process listening on `channel`: this one before it resolves, the others when the
   * message arrives. Payloads stay short.
   */
  publish(channel: string, payload: string): Promise<void>;
  /** Calls `handler` for each payload published on `channel`; returns the unsubscribe. */
  subscribe(channel: string, handler: NotificationHandler): () => void;
  /**
   * True while notifications are known to arrive. Between a lost LISTEN connection and its
   * return, messages may be missed: callers then trust their caches only briefly.
   */
  readonly live: boolean;
  /** Calls `handler` whenever `live` changes, so caches can drop what they may have missed. */
  onLiveChange(handler: (live: boolean) => void): () => void;
  /** Resolves once every channel subscribed so far is listened to (or the connection is down). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** `application_name` of the connection that LISTENs. */
export const LISTENER_NAME = 'vigil-listen';

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

function checkChannel(channel: string): void {
  // Channels become identifiers in LISTEN, which takes no parameters.
  if (!CHANNEL.test(channel)) throw new Error(`invalid notification channel "${channel}"`);
}

/** In-process delivery: PGlite is one process's database, so nobody else needs telling. */
export function createLocalNotifications(): Notifications {
  const events = new EventEmitter();
  events.setMaxListeners(0);
  return {
    live: true,
    async publish(channel, payload) {
      checkChannel(channel);
      events.emit(channel, payload);
    },
    subscribe(channel, handler) {
      checkChannel(channel);
      events.on(channel, handler);
      return () => void events.off(channel, handler);
    },
    onLiveChange: () => () => {},
    settled: async () => {},
    async close() {
      events.removeAllListeners();
    },
  };
}

export interface PostgresNotificationsOptions {
  connectionString: string;
  /** Sends one statement on the shared pool, for NOTIFY. */
  query(sql: string, params: unknown[]): Promise<unknown>;
  /** @default 100 — first wait before reconnecting; doubles up to `maxRetryMs` */
  retryMs?: number;
  /** @default 5000 */
  maxRetryMs?: number;
  onError?: (error: Error) => void;
}

/**
 * LISTEN on one dedicated connection (a pooled one would be handed to other work), opened on the
 * first subscription and reopened with backoff whenever it drops.
 */
export function createPostgresNotifications(options: PostgresNotificationsOptions): Notifications {
  const { retryMs = 100, maxRetryMs = 5000 } = options;
  // Marks this instance's messages, so it can tell its own echo from another process's message.
  const origin = randomUUID();
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const liveHandlers = new Set<(live: boolean) => void>();
  const channels = new Map<string, number>();
  let client: pg.Client | undefined;
  let live = false;
  let closed = false;
  let connecting: Promise<void> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let wait = retryMs;
  // LISTENs sent on the open connection, in order; `settled` waits for the last one.
  let listening: Promise<unknown> = Promise.resolve();

  const setLive = (value: boolean) => {
    if (live === value) return;
    live = value;
    for (const handler of liveHandlers) handler(value);
  };

  const reconnectLater = () => {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, wait);
    retryTimer.unref();
    wait = Math.min(wait * 2, maxRetryMs);
  };

  const connect = (): Promise<void> => {
    connecting ??= (async () => {
      // Imported here: a process on PGlite never loads pg.
      const { Client } = (await import('pg')).default;
      // Named, so an operator (and the tests) can tell the listening connection apart.
      const next = new Client({
        connectionString: options.connectionString,
        application_name: LISTENER_NAME,
      });
      const lost = (error?: Error) => {
        if (client !== next) return;
        client = undefined;
        setLive(false);
        if (error) options.onError?.(error);
        next.end().catch(() => {});
        reconnectLater();
      };
      next.on('error', lost);
      next.on('end', () => lost());
      next.on('notification', (message) => {
        const { from, payload } = unwrap(message.payload ?? '');
        // Our own messages were delivered here when they were sent.
        if (from !== origin) events.emit(message.channel, payload);
      });
      try {
        await next.connect();
        client = next;
        for (const channel of channels.keys()) await next.query(`LISTEN ${channel}`);
        if (closed) {
          await next.end();
          return;
        }
        wait = retryMs;
        setLive(true);
      } catch (error) {
        if (client === next) lost(error as Error);
        else {
          next.end().catch(() => {});
          options.onError?.(error as Error);
          reconnectLater();
        }
      }
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  };

  return {
    get live() {
      return live;
    },
    async publish(channel, payload) {
      checkChannel(channel);
      await options.query('SELECT pg_notify($1, $2)', [channel, `${origin}:${payload}`]);
      // This process hears it at once, not a round trip later through LISTEN: a token that
      // revokes itself is refused on its very next request. Its echo is dropped on arrival.
      events.emit(channel, payload);
    },
    subscribe(channel, handler) {
      checkChannel(channel);
      events.on(channel, handler);
      const count = channels.get(channel) ?? 0;
      channels.set(channel, count + 1);
      if (count === 0) {
        // LISTEN twice is harmless: a connection still opening may have listed the channel too.
        if (client) {
          const current = client;
          listening = listening
            .then(() => current.query(`LISTEN ${channel}`))
            .catch((e: Error) => options.onError?.(e));
        } else if (!closed) void connect();
      }
      return () => {
        events.off(channel, handler);
        const left = (channels.get(channel) ?? 1) - 1;
        if (left > 0) channels.set(channel, left);
        else {
          channels.delete(channel);
          client?.query(`UNLISTEN ${channel}`).catch(() => {});
        }
      };
    },
    onLiveChange(handler) {
      liveHandlers.add(handler);
      return () => void liveHandlers.delete(handler);
    },
    async settled() {
      await connecting;
      await listening;
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      await connecting?.catch(() => {});
      const current = client;
      client = undefined;
      live = false;
      events.removeAllListeners();
      await current?.end().catch(() => {});
    },
  };
}

const WRAPPED = /^([0-9a-f-]{36}):/;

/** Splits "<origin>:<payload>"; a message without an origin (an older Vigil) is all payload. */
function unwrap(message: string): { from: string | null; payload: string } {
  const match = WRAPPED.exec(message);
  return match?.[1]
    ? { from: match[1], payload: message.slice(match[0].length) }
    : { from: null, payload: message };
}
