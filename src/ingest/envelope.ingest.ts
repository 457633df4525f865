import { createHash } from 'node:crypto';
import type { Envelope } from './envelope.parse.ts';
import {
  type AggregateItem,
  clockShiftMs,
  normalizeAggregates,
  normalizeSession,
  type RejectReason,
  type SessionUpdate,
} from './session.item.ts';
import type { EnvelopeBatch } from './session.store.ts';

// Relay's limits (spec §2.5): they reject the whole envelope with 413.
export const MAX_SESSION_ITEMS = 100;
export const MAX_AGGREGATE_BUCKETS = 100;

export class EnvelopeLimitError extends Error {}

/** Turns a parsed envelope into the batch the store writes; other item types are skipped. */
export function batchFromEnvelope(
  envelope: Envelope,
  projectId: number,
  receivedAt: Date,
): EnvelopeBatch {
  const sessionItems = envelope.items.filter((i) => i.type === 'session' || i.type === 'sessions');
  if (sessionItems.length > MAX_SESSION_ITEMS) {
    throw new EnvelopeLimitError(
      `too many session items: ${sessionItems.length}, at most ${MAX_SESSION_ITEMS} per envelope`,
    );
  }
  const ctx = { receivedAt, shiftMs: clockShiftMs(envelope.header.sent_at, receivedAt) };
  const updates: SessionUpdate[] = [];
  const aggregates: Array<AggregateItem & { digest: string | null }> = [];
  const rejected = new Map<RejectReason, number>();
  const reject = (reason: RejectReason) => rejected.set(reason, (rejected.get(reason) ?? 0) + 1);
  if (envelope.oversized > 0) rejected.set('too_large', envelope.oversized);
  for (const item of sessionItems) {
    if (item.type === 'session') {
      const result = normalizeSession(item.payload, ctx);
      if ('update' in result) updates.push(result.update);
      else reject(result.rejected);
      continue;
    }
    const result = normalizeAggregates(item.payload, ctx);
    if (result.bucketCount > MAX_AGGREGATE_BUCKETS) {
      throw new EnvelopeLimitError(
        `too many aggregate buckets: ${result.bucketCount}, at most ${MAX_AGGREGATE_BUCKETS} per item`,
      );
    }
    for (const reason of result.rejected) reject(reason);
    if (result.item)
      aggregates.push({ ...result.item, digest: aggregateDigest(envelope, item.payload) });
  }
  return { projectId, receivedAt, updates, aggregates, rejected };
}

/**
 * Recognises a `sessions` item sent again in a resent envelope: a resend of stored envelope bytes
 * keeps their `sent_at`, while a new flush stamps a new one. Without `sent_at` (the Python and Ruby
 * SDKs send `{}`) identical flushes are honest and frequent, so nothing is recognised: `null`
 * counts the item always (docs/design.md § Exactness under retries).
 */
function aggregateDigest(envelope: Envelope, payload: Buffer): string | null {
  const sentAt = envelope.header.sent_at;
  if (typeof sentAt !== 'string' || sentAt === '') return null;
  return createHash('sha256').update(sentAt).update('\n').update(payload).digest('base64url');
}
