import { hash } from 'node:crypto';
import { representativeDuration } from '../health/duration.ts';
import type { SessionStatus, SessionUpdate } from './session.item.ts';

// Vigil's exactness under retries (spec §4): a session's updates merge into facts, and a fact
// counts the first time it becomes true. Counting the difference between the merged state's
// contribution before and after an update makes duplicates, retries and reordering harmless.

export interface SessionState {
  sid: string;
  releaseId: number;
  environmentId: number;
  /** From the first update seen: every metric of the session is keyed by it (spec §3). */
  started: Date;
  userHash: bigint | null;
  initSeen: boolean;
  errored: boolean;
  crashed: boolean;
  abnormal: boolean;
  unhandled: boolean;
  /** Ended abnormal with an ANR, any mechanism / the foreground one (Relay tags only abnormal). */
  anr: boolean;
  anrForeground: boolean;
  lastSeq: bigint | null;
  lastTimestamp: Date | null;
  lastStatus: SessionStatus | null;
  /** Duration of the newest update, when it ended the session `exited`. */
  duration: number | null;
}

export interface Contribution {
  sessions: number;
  erroredAll: number;
  crashed: number;
  abnormal: number;
  unhandled: number;
  anr: number;
  anrForeground: number;
  /** Representative duration counted in the histogram, or null. */
  duration: number | null;
}

export function emptyState(
  sid: string,
  releaseId: number,
  environmentId: number,
  started: Date,
): SessionState {
  return {
    sid,
    releaseId,
    environmentId,
    started,
    userHash: null,
    initSeen: false,
    errored: false,
    crashed: false,
    abnormal: false,
    unhandled: false,
    anr: false,
    anrForeground: false,
    lastSeq: null,
    lastTimestamp: null,
    lastStatus: null,
    duration: null,
  };
}

export function mergeUpdate(state: SessionState, update: SessionUpdate): SessionState {
  const { status } = update;
  const next: SessionState = {
    ...state,
    userHash: state.userHash ?? (update.did === null ? null : hashUser(update.did)),
    initSeen: state.initSeen || update.init,
    errored: state.errored || update.errors > 0 || !(status === 'ok' || status === 'exited'),
    crashed: state.crashed || status === 'crashed',
    abnormal: state.abnormal || status === 'abnormal',
    unhandled: state.unhandled || status === 'unhandled',
    // Relay tags the mechanism only on an abnormal update (sentry-reference.md §2.5, rule 4u).
    anr: state.anr || (status === 'abnormal' && update.abnormalMechanism !== null),
    anrForeground:
      state.anrForeground ||
      (status === 'abnormal' && update.abnormalMechanism === 'anr_foreground'),
  };
  if (isNewer(update, state)) {
    next.lastSeq = update.seq;
    next.lastTimestamp = update.timestamp;
    next.lastStatus = status;
    next.duration = status === 'exited' ? update.duration : null;
  }
  return next;
}

/** What a session adds to the counters: spec §3, with each fact counted once. */
export function contributionOf(state: SessionState): Contribution {
  return {
    sessions: state.initSeen ? 1 : 0,
    erroredAll: state.errored ? 1 : 0,
    crashed: state.crashed ? 1 : 0,
    abnormal: state.abnormal ? 1 : 0,
    unhandled: state.unhandled ? 1 : 0,
    anr: state.anr ? 1 : 0,
    anrForeground: state.anrForeground ? 1 : 0,
    duration: state.duration === null ? null : representativeDuration(state.duration),
  };
}

// On a tie, the graver end wins: a session that both exited and crashed in the same millisecond
// ended crashed (and so has no duration), whatever order the two updates arrived in.
const STATUS_RANK: Record<SessionStatus, number> = {
  ok: 0,
  exited: 1,
  errored: 2,
  unhandled: 3,
  abnormal: 4,
  crashed: 5,
};

/**
 * Orders updates: by `seq` when both have one, then by timestamp, then by STATUS_RANK, so the
 * outcome never depends on arrival order.
 */
function isNewer(update: SessionUpdate, state: SessionState): boolean {
  if (state.lastStatus === null || state.lastTimestamp === null) return true;
  if (update.seq !== null && state.lastSeq !== null && update.seq !== state.lastSeq) {
    return update.seq > state.lastSeq;
  }
  const dt = update.timestamp.getTime() - state.lastTimestamp.getTime();
  if (dt !== 0) return dt > 0;
  if (update.status !== state.lastStatus) {
    return STATUS_RANK[update.status] > STATUS_RANK[state.lastStatus];
  }
  return (update.duration ?? -1) > (state.duration ?? -1);
}

// A user's sessions keep coming back, so the hashes of recent users are kept: a hash costs
// 2–3 µs, about as much as the rest of merging a session. Bounded in entries and id length;
// cleared when full, so ids that never repeat cost only their hash.
const MEMO_USERS = 20_000;
const MEMO_MAX_ID_LENGTH = 128;
const recentUsers = new Map<string, bigint>();

/** 64 bits of SHA-256: exact distinct counts without storing user ids (collisions ~ 1 in 10^19). */
export function hashUser(did: string): bigint {
  const known = recentUsers.get(did);
  if (known !== undefined) return known;
  // The one-shot form: a third cheaper than a Hash object.
  const hashed = hash('sha256', did, 'buffer').readBigInt64BE(0);
  if (did.length <= MEMO_MAX_ID_LENGTH) {
    if (recentUsers.size >= MEMO_USERS) recentUsers.clear();
    recentUsers.set(did, hashed);
  }
  return hashed;
}
