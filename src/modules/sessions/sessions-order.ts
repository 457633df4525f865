import type { SessionCounts, UserCounts } from '../../health/crash-free.ts';
import type { DurationCount } from '../../health/duration.ts';
import type { ReleaseRow } from '../releases/release.queries.ts';
import type { SessionsSpec } from './sessions-args.ts';
import { VALUE_FIELD_BY_NAME } from './sessions-values.ts';

// The order of a sessions query's groups, before its limit picks them: by one value over the
// range or by release date; groups without a value last; ties in a fixed order.

/** A (project, release, environment) group and its numbers over the whole range. */
export interface GroupCounts {
  projectId: number | null;
  releaseId: number | null;
  environment: string | null;
  sessions: SessionCounts;
  users: UserCounts;
  durations: DurationCount[];
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Sorts `groups` in place; `allSessions` is adoption's denominator. */
export function sortGroups<Group extends GroupCounts>(
  groups: Group[],
  spec: SessionsSpec,
  releases: ReadonlyMap<number, ReleaseRow>,
  allSessions: number,
): Group[] {
  const field = VALUE_FIELD_BY_NAME.get(spec.orderBy);
  const rankOf = (g: Group): number | null => {
    if (field) return field.value({ ...g, status: null, allSessions });
    // RELEASE_DATE: when Vigil first saw the release (Sentry's release.timestamp).
    const release = g.releaseId === null ? undefined : releases.get(g.releaseId);
    return release ? release.createdAt.getTime() : null;
  };
  const values = new Map(groups.map((g) => [g, rankOf(g)]));
  const sign = spec.descending ? -1 : 1;
  return groups.sort((a, b) => {
    const va = values.get(a) ?? null;
    const vb = values.get(b) ?? null;
    if (va !== vb) {
      // Groups without a value come last in either direction.
      if (va === null) return 1;
      if (vb === null) return -1;
      return sign * (va - vb);
    }
    // Ties: project, then the newest release (higher id), then environment.
    return (
      (a.projectId ?? 0) - (b.projectId ?? 0) ||
      (b.releaseId ?? 0) - (a.releaseId ?? 0) ||
      compareText(a.environment ?? '', b.environment ?? '')
    );
  });
}
