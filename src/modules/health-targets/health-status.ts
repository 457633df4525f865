import { crashFreePercent } from '../../health/crash-free.ts';
import type { HealthCounts } from '../release-health/release-health.loaders.ts';

// What "healthy" means (docs/design.md § Health targets): pure, from the same counts as the rest
// of ReleaseHealth.

export interface HealthTargetValues {
  crashFreeSessionsTarget: number;
  crashFreeSessionsCritical: number;
  crashFreeUsersTarget: number;
  crashFreeUsersCritical: number;
  minSessions: number;
  minUsers: number;
}

/**
 * Used where a project set no target. 99.5 % / 98 % crash-free sessions and 99 % / 97 % users are
 * the lines mobile teams commonly quote (Bugsnag's stability target defaults sit in that band);
 * 100 sessions and 10 users keep a release a handful of people opened out of the verdict.
 */
export const DEFAULT_HEALTH_TARGET: Readonly<HealthTargetValues> = Object.freeze({
  crashFreeSessionsTarget: 99.5,
  crashFreeSessionsCritical: 98,
  crashFreeUsersTarget: 99,
  crashFreeUsersCritical: 97,
  minSessions: 100,
  minUsers: 10,
});

export type HealthStatus = 'HEALTHY' | 'WARNING' | 'CRITICAL' | 'NOT_ENOUGH_DATA';

/** CRITICAL below either critical line, WARNING below either target, after the volume guard. */
export function healthStatus(counts: HealthCounts, t: HealthTargetValues): HealthStatus {
  if (counts.sessions.sessions < t.minSessions || counts.users.users < t.minUsers) {
    return 'NOT_ENOUGH_DATA';
  }
  const sessions = crashFreePercent(counts.sessions.sessions, counts.sessions.crashed);
  const users = crashFreePercent(counts.users.users, counts.users.crashed);
  const below = (value: number | null, line: number) => value !== null && value < line;
  if (below(sessions, t.crashFreeSessionsCritical) || below(users, t.crashFreeUsersCritical)) {
    return 'CRITICAL';
  }
  if (below(sessions, t.crashFreeSessionsTarget) || below(users, t.crashFreeUsersTarget)) {
    return 'WARNING';
  }
  return 'HEALTHY';
}

/** Sort rank, worst first: CRITICAL 3, WARNING 2, HEALTHY 1, NOT_ENOUGH_DATA 0. */
export const STATUS_RANK: Record<HealthStatus, number> = {
  CRITICAL: 3,
  WARNING: 2,
  HEALTHY: 1,
  NOT_ENOUGH_DATA: 0,
};

export interface HealthTargetRow extends HealthTargetValues {
  id: number;
  projectId: number;
  /** '' for the whole project. */
  environment: string;
  updatedAt: Date;
}

/** The target that applies: the environment's own when exactly one is asked and it has one. */
export function effectiveTarget(
  targets: readonly HealthTargetRow[],
  environments: readonly string[] | null,
): HealthTargetValues {
  const only = environments?.length === 1 ? environments[0] : undefined;
  return (
    (only !== undefined && only !== '' ? targets.find((t) => t.environment === only) : undefined) ??
    targets.find((t) => t.environment === '') ??
    DEFAULT_HEALTH_TARGET
  );
}
