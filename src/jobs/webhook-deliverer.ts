import { publishDataChange } from '../cache/data-changes.ts';
import type { Database } from '../db/client.ts';
import {
  type ClaimedDelivery,
  claimDueDeliveries,
  recordAttempt,
} from '../modules/webhooks/webhook.queries.ts';
import { SIGNATURE_HEADER, signatureHeader } from '../modules/webhooks/webhook-signature.ts';

// Posts the outbox (webhook_delivery) to receivers: due rows are leased to one process, sent,
// and either marked delivered (2xx) or given a later attempt with exponential backoff until
// `giveUpAfterMs` has passed since the event. Every attempt is recorded with its answer.

/** The GraphQL types whose objects show deliveries and their attempts. */
const WEBHOOK_TYPES = ['Webhook', 'WebhookDelivery', 'WebhookAttempt'];

/** Channel that wakes every process's deliverer when new deliveries are queued. */
export const WEBHOOK_CHANNEL = 'vigil_webhook';

export interface DeliveryPolicy {
  /** First retry after this; each next one waits twice as long. @default 30_000 */
  baseMs: number;
  /** @default 7_200_000 (2 h) */
  maxMs: number;
  /** No attempt is scheduled later than this after the event. @default 90_000_000 (25 h) */
  giveUpAfterMs: number;
  /** @default 10_000 */
  timeoutMs: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = {
  baseMs: 30_000,
  maxMs: 7_200_000,
  giveUpAfterMs: 90_000_000,
  timeoutMs: 10_000,
};

/** The wait after the `attempts`-th failed attempt: base, 2×base, 4×base … capped at max. */
export function retryDelayMs(attempts: number, policy: DeliveryPolicy): number {
  return Math.min(policy.baseMs * 2 ** Math.max(0, attempts - 1), policy.maxMs);
}

export interface DelivererOptions {
  now: Date;
  policy?: Partial<DeliveryPolicy>;
  /** Only this delivery, due or not (testWebhook). */
  onlyId?: number;
  /** @default 20 */
  batch?: number;
}

interface Outcome {
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
  durationMs: number;
}

async function post(delivery: ClaimedDelivery, now: Date, timeoutMs: number): Promise<Outcome> {
  const started = performance.now();
  try {
    const response = await fetch(delivery.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Vigil-Webhooks/1',
        [SIGNATURE_HEADER]: signatureHeader(delivery.secret, delivery.body, now),
        'Vigil-Delivery': delivery.deliveryId,
        'Vigil-Event': JSON.parse(delivery.body).type,
      },
      body: delivery.body,
    });
    const text = await response.text().catch(() => '');
    return {
      statusCode: response.status,
      error: null,
      responseBody: text.slice(0, 1024),
      durationMs: Math.round(performance.now() - started),
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return {
      statusCode: null,
      error: cause ?? (error as Error).name ?? 'request failed',
      responseBody: null,
      durationMs: Math.round(performance.now() - started),
    };
  }
}

/** Sends every due delivery once; returns how many were attempted. */
export async function deliverDueWebhooks(db: Database, options: DelivererOptions) {
  const policy = { ...DEFAULT_DELIVERY_POLICY, ...options.policy };
  const { now } = options;
  const leaseUntil = new Date(now.getTime() + policy.timeoutMs * 3);
  const due = await claimDueDeliveries(db, now, leaseUntil, options.batch ?? 20, options.onlyId);
  await Promise.all(
    due.map(async (delivery) => {
      const outcome = await post(delivery, now, policy.timeoutMs);
      const ok =
        outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
      const next = new Date(now.getTime() + retryDelayMs(delivery.attempts + 1, policy));
      const giveUp = next.getTime() > delivery.createdAt.getTime() + policy.giveUpAfterMs;
      await recordAttempt(db, {
        deliveryId: delivery.id,
        attemptedAt: now,
        ...outcome,
        status: ok ? 'DELIVERED' : giveUp ? 'FAILED' : 'PENDING',
        nextAttemptAt: ok || giveUp ? now : next,
      });
    }),
  );
  // Webhook.deliveries shows each attempt.
  if (due.length > 0) await publishDataChange(db, { types: WEBHOOK_TYPES });
  return due.length;
}

/**
 * Runs the deliverer every `everyMs` and whenever any process queues a delivery, one run at a
 * time; a failed run is reported and retried on the next tick.
 */
export function startWebhookDeliverer(
  db: Database,
  options: {
    everyMs?: number;
    clock?: () => Date;
    policy?: Partial<DeliveryPolicy>;
    onError: (error: unknown) => void;
  },
) {
  const { everyMs = 5_000, clock = () => new Date(), onError } = options;
  let running: Promise<unknown> = Promise.resolve();
  let again = false;
  let busy = false;
  const run = () => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    running = (async () => {
      do {
        again = false;
        // A full batch may mean more are due: go on until a run finds fewer.
        while ((await deliverDueWebhooks(db, { now: clock(), policy: options.policy })) >= 20) {}
      } while (again);
    })()
      .catch(onError)
      .finally(() => {
        busy = false;
      });
  };
  const timer = setInterval(run, everyMs);
  timer.unref();
  const unsubscribe = db.notifications.subscribe(WEBHOOK_CHANNEL, run);
  return {
    /** Runs now (tests, and the wake-up after new deliveries). */
    wake: run,
    async stop() {
      clearInterval(timer);
      unsubscribe();
      await running;
    },
  };
}
