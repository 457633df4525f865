// Adoption percentages and stages; no I/O. shared/spec/release-health.md §4.2, §4.3 and
// shared/spec/sentry-reference.md §3.4.1, §4.

import { percent } from './crash-free.ts';

/** A release is adopted when it has at least this share of its environment's sessions. */
export const ADOPTION_THRESHOLD = 0.1;

/** Sessions started in this window (ending now) decide the adoption stage. */
export const ADOPTION_WINDOW_MS = 6 * 60 * 60 * 1000;

export type AdoptionStage = 'ADOPTED' | 'LOW_ADOPTION' | 'REPLACED';

/** The durable part of a (project, release, environment) adoption record. */
export interface AdoptionState {
  adoptedAt: Date | null;
  unadoptedAt: Date | null;
}

/** `part / whole × 100`, or null when either side is 0 (Sentry's `adoption`, §4.2). */
export function adoptionPercent(part: number, whole: number): number | null {
  return part === 0 || whole === 0 ? null : percent(part, whole);
}

/** Whether a release has at least 10 % of its environment's sessions (inclusive, §4.3). */
export function isAdopted(releaseSessions: number, environmentSessions: number): boolean {
  if (environmentSessions <= 0) return false;
  return releaseSessions / environmentSessions >= ADOPTION_THRESHOLD;
}

// sentry-reference.md §4.1: adopted set and unadopted null → adopted; both set → replaced.
export function stageOf(state: AdoptionState): AdoptionStage {
  if (state.adoptedAt === null) return 'LOW_ADOPTION';
  return state.unadoptedAt === null ? 'ADOPTED' : 'REPLACED';
}

/**
 * The adoption state after one evaluation at `now`. The first `adoptedAt` is kept on re-adoption;
 * `unadoptedAt` records when an adopted release first fell below the threshold.
 */
export function nextAdoption(prev: AdoptionState, adoptedNow: boolean, now: Date): AdoptionState {
  if (adoptedNow) return { adoptedAt: prev.adoptedAt ?? now, unadoptedAt: null };
  if (prev.adoptedAt !== null && prev.unadoptedAt === null) {
    return { adoptedAt: prev.adoptedAt, unadoptedAt: now };
  }
  return { adoptedAt: prev.adoptedAt, unadoptedAt: prev.unadoptedAt };
}
