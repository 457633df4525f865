import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';

// `session` and `sessions` item payloads (spec §2.2, §2.3), validated and normalised as Relay
// does (spec §2.4). A bad item is rejected with a reason; it never fails the envelope.

export const SESSION_STATUSES = [
  'ok',
  'exited',
  'crashed',
  'abnormal',
  'errored',
  'unhandled',
] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** Why a session ended abnormal, when the SDK says it was an ANR (sentry-java sends these). */
export type AbnormalMechanism = 'anr_foreground' | 'anr_background';

export type RejectReason =
  | 'invalid_json'
  | 'invalid_payload'
  | 'missing_release'
  | 'invalid_release'
  | 'invalid_status'
  | 'invalid_sid'
  | 'sequence_overflow'
  | 'count_too_large'
  | 'too_large'
  | 'too_old'
  | 'too_new';

export interface SessionUpdate {
  sid: string;
  /** Distinct user id; `null` when absent or the nil UUID. */
  did: string | null;
  seq: bigint | null;
  init: boolean;
  started: Date;
  timestamp: Date;
  duration: number | null;
  status: SessionStatus;
  errors: number;
  /** Relay's rule: values other than the two ANR mechanisms (and null) mean "none". */
  abnormalMechanism: AbnormalMechanism | null;
  release: string;
  /** '' when absent or invalid. */
  environment: string;
}

export interface AggregateBucket {
  started: Date;
  did: string | null;
  exited: number;
  errored: number;
  abnormal: number;
  crashed: number;
  unhandled: number;
}

export interface AggregateItem {
  release: string;
  environment: string;
  buckets: AggregateBucket[];
}

export interface ItemContext {
  receivedAt: Date;
  /** Added to every client time: corrects clock drift measured from the envelope's `sent_at`. */
  shiftMs: number;
}

export const MAX_SECONDS_IN_FUTURE = 60;
export const MAX_SESSION_AGE_SECONDS = 5 * 24 * 3600;
const MIN_CLOCK_DRIFT_MS = 55 * 60_000;
const MAX_U64 = 2n ** 64n - 1n;
// session_state.last_seq is a PostgreSQL bigint; SDKs send counters or milliseconds, far below.
const MAX_STORED_SEQ = 2n ** 63n - 1n;

/**
 * What one `sessions` bucket may claim per status. Relay reads these counts as u32; Vigil takes
 * at most a million (one SDK process's minute), so that no envelope, nor a day of them at the
 * rate limit, can carry a 64-bit counter near overflow (docs/design.md § Limits).
 */
export const MAX_AGGREGATE_COUNT = 1_000_000;

const clientTime = z.union([
  z.iso.datetime({ offset: true }).transform((s) => new Date(s)),
  z
    .number()
    .finite()
    .transform((seconds) => new Date(seconds * 1000)),
]);
const attrs = z.object({
  release: z.string().optional(),
  environment: z.string().nullish(),
});
const count = z.number().int().nonnegative().default(0);
// Any integer parses here, so that a count past the cap is told apart from a malformed one.
const aggregateCount = z.number().nonnegative().refine(Number.isInteger).default(0);

const sessionSchema = z.object({
  sid: z.string().optional(),
  did: z.string().nullish(),
  // Not .int(): zod 4 limits it to safe integers, and a u64 seq may be larger (spec §2.2).
  seq: z.number().nonnegative().refine(Number.isInteger).optional(),
  init: z.boolean().default(false),
  started: clientTime,
  timestamp: clientTime.optional(),
  // Relay does not clip it; a negative one is ignored when counted (representativeDuration).
  duration: z.number().finite().nullish(),
  status: z.string().default('ok'),
  errors: count,
  abnormal_mechanism: z.unknown().optional(),
  attrs,
});

const aggregatesSchema = z.object({
  aggregates: z.array(
    z.object({
      started: clientTime,
      did: z.string().nullish(),
      exited: aggregateCount,
      errored: aggregateCount,
      abnormal: aggregateCount,
      crashed: aggregateCount,
      unhandled: aggregateCount,
    }),
  ),
  attrs,
});

/** Relay shifts client times when `sent_at` is off by 55 minutes or more (spec §2.4). */
export function clockShiftMs(sentAt: unknown, receivedAt: Date): number {
  if (typeof sentAt !== 'string') return 0;
  const sent = Date.parse(sentAt);
  if (Number.isNaN(sent)) return 0;
  const drift = receivedAt.getTime() - sent;
  return Math.abs(drift) >= MIN_CLOCK_DRIFT_MS ? drift : 0;
}

export function normalizeSession(
  payload: Buffer,
  ctx: ItemContext,
): { update: SessionUpdate } | { rejected: RejectReason } {
  const json = parseJson(payload);
  if (json === undefined) return { rejected: 'invalid_json' };
  const parsed = sessionSchema.safeParse(json);
  if (!parsed.success) return { rejected: 'invalid_payload' };
  const s = parsed.data;
  if (s.attrs.release === undefined) return { rejected: 'missing_release' };
  if (!isValidRelease(s.attrs.release)) return { rejected: 'invalid_release' };
  if (!isStatus(s.status)) return { rejected: 'invalid_status' };
  const sid = s.sid === undefined ? randomUUID() : normalizeUuid(s.sid);
  if (sid === null) return { rejected: 'invalid_sid' };
  // Integers past 2^53 lose precision in JSON.parse; only the u64 maximum matters here.
  const seq = s.seq === undefined ? null : BigInt(Math.min(s.seq, Number(MAX_U64)));
  if (seq !== null && seq > MAX_STORED_SEQ) return { rejected: 'sequence_overflow' };
  const started = shift(s.started, ctx);
  let timestamp = s.timestamp ? shift(s.timestamp, ctx) : ctx.receivedAt;
  if (timestamp < started) timestamp = started;
  const outOfRange = timeRangeProblem(started, ctx) ?? timeRangeProblem(timestamp, ctx);
  if (outOfRange) return { rejected: outOfRange };
  return {
    update: {
      sid,
      did: normalizeDid(s.did),
      seq,
      init: s.init,
      started,
      timestamp,
      duration: s.duration ?? null,
      status: s.status,
      errors: s.errors,
      abnormalMechanism: abnormalMechanism(s.abnormal_mechanism),
      release: s.attrs.release,
      environment: normalizeEnvironment(s.attrs.environment),
    },
  };
}

/** Out-of-range buckets are removed one by one; the item survives while one bucket is left. */
export function normalizeAggregates(
  payload: Buffer,
  ctx: ItemContext,
): { item: AggregateItem | null; rejected: RejectReason[]; bucketCount: number } {
  const json = parseJson(payload);
  if (json === undefined) return { item: null, rejected: ['invalid_json'], bucketCount: 0 };
  const parsed = aggregatesSchema.safeParse(json);
  if (!parsed.success) return { item: null, rejected: ['invalid_payload'], bucketCount: 0 };
  const { aggregates, attrs: a } = parsed.data;
  const bucketCount = aggregates.length;
  if (a.release === undefined) return { item: null, rejected: ['missing_release'], bucketCount };
  if (!isValidRelease(a.release)) return { item: null, rejected: ['invalid_release'], bucketCount };
  // One absurd bucket discredits the whole item, as a u32 that does not parse fails it in Relay.
  if (aggregates.some(claimsTooMany)) {
    return { item: null, rejected: ['count_too_large'], bucketCount };
  }
  const rejected: RejectReason[] = [];
  const buckets: AggregateBucket[] = [];
  for (const bucket of aggregates) {
    const started = shift(bucket.started, ctx);
    const problem = timeRangeProblem(started, ctx);
    if (problem) rejected.push(problem);
    else buckets.push({ ...bucket, started, did: normalizeDid(bucket.did) });
  }
  if (buckets.length === 0) return { item: null, rejected, bucketCount };
  return {
    item: { release: a.release, environment: normalizeEnvironment(a.environment), buckets },
    rejected,
    bucketCount,
  };
}

// Relay's (sentry-release-parser's) characters a release or environment may not hold: slashes,
// every C0 control (NUL included) and DEL. Lone surrogates are invalid Unicode, which Relay's JSON
// parser refuses and PostgreSQL cannot store either.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_CHARACTER = /[\x00-\x1f\x7f]/;
const LONE_SURROGATE = /[\ud800-\udfff]/u;
const isCleanText = (text: string) => !CONTROL_CHARACTER.test(text) && !LONE_SURROGATE.test(text);
const isCleanName = (name: string) => !/[/\\]/.test(name) && isCleanText(name);

/** Sentry's release rule (spec §2.4). The empty string passes: it reads as "no release". */
export function isValidRelease(release: string): boolean {
  return (
    Buffer.byteLength(release) <= 200 &&
    release !== '.' &&
    release !== '..' &&
    release.toLowerCase() !== 'latest' &&
    isCleanName(release)
  );
}

/** Sentry's environment rule; an invalid one is dropped, not the session (spec §2.4). */
export function normalizeEnvironment(environment: string | null | undefined): string {
  if (!environment) return '';
  const bad =
    Buffer.byteLength(environment) > 64 ||
    environment === '.' ||
    environment === '..' ||
    environment.toLowerCase() === 'none' ||
    !isCleanName(environment);
  return bad ? '' : environment;
}

function abnormalMechanism(value: unknown): AbnormalMechanism | null {
  return value === 'anr_foreground' || value === 'anr_background' ? value : null;
}

/**
 * The user id, or null for none. Vigil only hashes it, but one with control characters or invalid
 * Unicode is not an id an SDK sends: like an invalid environment, it is dropped, not the session.
 */
function normalizeDid(did: string | null | undefined): string | null {
  if (!did || !isCleanText(did)) return null;
  return /^0{8}-?0{4}-?0{4}-?0{4}-?0{12}$/.test(did) ? null : did;
}

function claimsTooMany(bucket: Omit<AggregateBucket, 'started' | 'did'>): boolean {
  return (
    bucket.exited > MAX_AGGREGATE_COUNT ||
    bucket.errored > MAX_AGGREGATE_COUNT ||
    bucket.abnormal > MAX_AGGREGATE_COUNT ||
    bucket.crashed > MAX_AGGREGATE_COUNT ||
    bucket.unhandled > MAX_AGGREGATE_COUNT
  );
}

/** Dashed or 32-hex UUID → dashed lowercase; anything else → null. */
function normalizeUuid(value: string): string | null {
  const hex = value.replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) return null;
  if (value.includes('-') && !/^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/.test(value)) {
    return null;
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function isStatus(status: string): status is SessionStatus {
  return (SESSION_STATUSES as readonly string[]).includes(status);
}

function shift(date: Date, ctx: ItemContext): Date {
  return ctx.shiftMs === 0 ? date : new Date(date.getTime() + ctx.shiftMs);
}

function timeRangeProblem(date: Date, ctx: ItemContext): 'too_old' | 'too_new' | null {
  const ms = date.getTime() - ctx.receivedAt.getTime();
  if (Number.isNaN(ms)) return 'too_old';
  if (ms > MAX_SECONDS_IN_FUTURE * 1000) return 'too_new';
  if (-ms > MAX_SESSION_AGE_SECONDS * 1000) return 'too_old';
  return null;
}

function parseJson(payload: Buffer): unknown {
  // Invalid UTF-8 would decode to U+FFFD silently; Relay's parser refuses it.
  if (!isUtf8(payload)) return undefined;
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}
