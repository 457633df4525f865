import { randomUUID } from 'node:crypto';
import type { Database, SqlSession } from '../../db/client.ts';

// Webhooks and their outbox. A delivery row is written in the same transaction as the event it
// reports, so a crash between the two cannot lose one (docs/design.md § Webhooks).

export interface WebhookRow {
  id: number;
  organizationId: number;
  url: string;
  events: string[];
  secret: string;
  createdAt: Date;
  deletedAt: Date | null;
}

export type DeliveryStatus = 'PENDING' | 'DELIVERED' | 'FAILED';

export interface DeliveryRow {
  id: number;
  webhookId: number;
  deliveryId: string;
  event: string;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  createdAt: Date;
  nextAttemptAt: Date;
  deliveredAt: Date | null;
}

export interface AttemptRow {
  id: number;
  deliveryId: number;
  attemptedAt: Date;
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
  durationMs: number;
}

const WEBHOOK = `id, organization_id AS "organizationId", url, events, secret,
  created_at AS "createdAt", deleted_at AS "deletedAt"`;
const DELIVERY = `id, webhook_id AS "webhookId", delivery_id::text AS "deliveryId", event, body,
  status, attempts, created_at AS "createdAt", next_attempt_at AS "nextAttemptAt",
  delivered_at AS "deliveredAt"`;
const ATTEMPT = `id, delivery_id AS "deliveryId", attempted_at AS "attemptedAt",
  status_code AS "statusCode", error, response_body AS "responseBody", duration_ms AS "durationMs"`;

export function selectWebhooksByIds(db: Database, ids: readonly number[]) {
  return db.prisma.$queryRawUnsafe<WebhookRow[]>(
    `/* selectWebhooksByIds */ SELECT ${WEBHOOK} FROM webhook WHERE id = ANY($1::int[])`,
    ids,
  );
}

export function selectWebhooksByOrganizationIds(db: Database, ids: readonly number[]) {
  return db.prisma.$queryRawUnsafe<WebhookRow[]>(
    `/* selectWebhooksByOrganizationIds */ SELECT ${WEBHOOK} FROM webhook
     WHERE organization_id = ANY($1::int[]) AND deleted_at IS NULL ORDER BY id`,
    ids,
  );
}

export async function insertWebhook(
  db: Database,
  w: { organizationId: number; url: string; events: string[]; secret: string; at: Date },
) {
  const [row] = await db.prisma.$queryRawUnsafe<WebhookRow[]>(
    `/* insertWebhook */ INSERT INTO webhook (organization_id, url, events, secret, created_at)
     VALUES ($1, $2, $3::text[], $4, $5) RETURNING ${WEBHOOK}`,
    w.organizationId,
    w.url,
    w.events,
    w.secret,
    w.at,
  );
  if (!row) throw new Error('INSERT … RETURNING gave no row');
  return row;
}

export async function updateWebhookDeleted(db: Database, id: number, at: Date) {
  const [row] = await db.prisma.$queryRawUnsafe<WebhookRow[]>(
    `/* updateWebhookDeleted */ UPDATE webhook SET deleted_at = $2
     WHERE id = $1 AND deleted_at IS NULL RETURNING ${WEBHOOK}`,
    id,
    at,
  );
  return row ?? null;
}

/** Live webhooks of the organization that take `event` (or the one webhook asked for). */
function selectWebhooksForEvent(
  tx: SqlSession,
  d: { organizationId: number; event: string; webhookId?: number },
) {
  return tx.query<{ id: number }>(
    `/* selectWebhooksForEvent */ SELECT id FROM webhook
     WHERE organization_id = $1 AND deleted_at IS NULL
       AND (($3::int IS NULL AND $2 = ANY(events)) OR id = $3)`,
    [d.organizationId, d.event, d.webhookId ?? null],
  );
}

/** Queues one delivery per live webhook of the organization that takes `event`; returns them. */
export async function insertWebhookDeliveries(
  tx: SqlSession,
  d: {
    organizationId: number;
    event: string;
    /** Only this webhook (testWebhook), whatever its events. */
    webhookId?: number;
    body: (deliveryId: string) => string;
    at: Date;
  },
): Promise<DeliveryRow[]> {
  const hooks = await selectWebhooksForEvent(tx, d);
  if (hooks.length === 0) return [];
  const ids = hooks.map(() => randomUUID());
  return tx.query<DeliveryRow>(
    `/* insertWebhookDeliveries */
     INSERT INTO webhook_delivery (webhook_id, delivery_id, event, body, status, created_at,
       next_attempt_at)
     SELECT w, u, $3, b, 'PENDING', $5, $5
     FROM unnest($1::int[], $2::uuid[], $4::text[]) AS x(w, u, b)
     RETURNING ${DELIVERY}`,
    [hooks.map((h) => h.id), ids, d.event, ids.map((id) => d.body(id)), d.at],
  );
}

export interface ClaimedDelivery extends DeliveryRow {
  url: string;
  secret: string;
}

/** Leases due deliveries to this process (SKIP LOCKED: each to one process). */
export function claimDueDeliveries(
  db: Database,
  now: Date,
  leaseUntil: Date,
  limit: number,
  onlyId?: number,
) {
  return db.prisma.$queryRawUnsafe<ClaimedDelivery[]>(
    `/* claimDueDeliveries */
     WITH due AS (
       SELECT id FROM webhook_delivery
       WHERE status = 'PENDING' AND (lease_until IS NULL OR lease_until <= $1)
         AND webhook_id IN (SELECT id FROM webhook WHERE deleted_at IS NULL)
         AND ($4::int IS NOT NULL AND id = $4 OR $4::int IS NULL AND next_attempt_at <= $1)
       ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED
     ), claimed AS (
       UPDATE webhook_delivery d SET lease_until = $2 FROM due WHERE d.id = due.id
       RETURNING d.*
     )
     SELECT c.id, c.webhook_id AS "webhookId", c.delivery_id::text AS "deliveryId", c.event,
       c.body, c.status, c.attempts, c.created_at AS "createdAt",
       c.next_attempt_at AS "nextAttemptAt", c.delivered_at AS "deliveredAt", w.url, w.secret
     FROM claimed c JOIN webhook w ON w.id = c.webhook_id`,
    now,
    leaseUntil,
    limit,
    onlyId ?? null,
  );
}

type Attempt = Omit<AttemptRow, 'id'> & { status: DeliveryStatus; nextAttemptAt: Date };

/** Records one attempt and the delivery's next state, in one transaction. */
export async function recordAttempt(db: Database, a: Attempt) {
  await db.transaction(async (tx) => {
    await insertWebhookAttempt(tx, a);
    await updateWebhookDeliveryAttempted(tx, a);
  });
}

function insertWebhookAttempt(tx: SqlSession, a: Attempt) {
  return tx.query(
    `/* insertWebhookAttempt */
     INSERT INTO webhook_attempt (delivery_id, attempted_at, status_code, error, response_body,
       duration_ms) VALUES ($1, $2, $3, $4, $5, $6)`,
    [a.deliveryId, a.attemptedAt, a.statusCode, a.error, a.responseBody, a.durationMs],
  );
}

function updateWebhookDeliveryAttempted(tx: SqlSession, a: Attempt) {
  return tx.query(
    `/* updateWebhookDeliveryAttempted */
     UPDATE webhook_delivery SET attempts = attempts + 1, status = $2, next_attempt_at = $3,
       delivered_at = CASE WHEN $2 = 'DELIVERED' THEN $4::timestamptz END, lease_until = NULL
     WHERE id = $1`,
    [a.deliveryId, a.status, a.nextAttemptAt, a.attemptedAt],
  );
}

/** The newest `limit` deliveries of each webhook, newest first: one statement for any number. */
export function selectDeliveriesByWebhookIds(
  db: Database,
  webhookIds: readonly number[],
  limit: number,
) {
  return db.prisma.$queryRawUnsafe<DeliveryRow[]>(
    `/* selectDeliveriesByWebhookIds */ SELECT ${DELIVERY} FROM (
       SELECT *, row_number() OVER (PARTITION BY webhook_id ORDER BY id DESC) AS newest
       FROM webhook_delivery WHERE webhook_id = ANY($1::int[])
     ) d WHERE newest <= $2 ORDER BY id DESC`,
    webhookIds,
    limit,
  );
}

export function selectAttemptsByDeliveryIds(db: Database, ids: readonly number[]) {
  return db.prisma.$queryRawUnsafe<AttemptRow[]>(
    `/* selectAttemptsByDeliveryIds */ SELECT ${ATTEMPT} FROM webhook_attempt
     WHERE delivery_id = ANY($1::int[]) ORDER BY id`,
    ids,
  );
}

export async function selectDeliveryById(db: Database, id: number) {
  const [row] = await db.prisma.$queryRawUnsafe<DeliveryRow[]>(
    `/* selectDeliveryById */ SELECT ${DELIVERY} FROM webhook_delivery WHERE id = $1`,
    id,
  );
  return row ?? null;
}
