import { ZERO_SESSION_COUNTS, ZERO_USER_COUNTS } from '../../health/crash-free.ts';
import type { MetricsQuery, MetricsRow } from '../../metrics/session-metrics.queries.ts';
import type { ReleaseRow } from '../releases/release.queries.ts';
import type { SessionsRows } from './sessions.queries.ts';
import { isUserField, type SessionsSpec } from './sessions-args.ts';
import { type GroupCounts, sortGroups } from './sessions-order.ts';

// A sessions query's groups, from its filters to the page each result returns (spec §5): which
// statement to send, how rows become groups, which groups the limit picks and which rows the
// series needs. Pure, so each rule has a table test (test/sessions/sessions-groups.test.ts).

/** What a run of the query covers: Organization.sessions or a batch of Project.sessions. */
export interface SessionsTarget {
  projectIds: readonly number[];
  /** Where `releases` versions are looked up. */
  organizationIds: readonly number[];
  /** One result per project (batched Project.sessions), or one for all projects together. */
  perProject: boolean;
}

/** The key of the one result when `perProject` is false (project ids start at 1). */
export const ALL_PROJECTS = 0;

/** A (project, release, environment) group over the range, and the result it belongs to. */
export interface SessionsGroup extends GroupCounts {
  key: string;
  resultKey: number;
}

/** One result's page of groups, how many there are in all, and adoption's denominator. */
export interface SessionsPage {
  groups: SessionsGroup[];
  totalGroups: number;
  allSessions: number;
}

type GroupRow = Pick<MetricsRow, 'projectId' | 'releaseId' | 'environment'>;

/** The key that joins a group's totals, durations and series rows. */
export const groupKeyOf = (r: GroupRow) =>
  JSON.stringify([r.projectId, r.releaseId, r.environment]);
const unique = <T>(values: Iterable<T>) => [...new Set(values)];

/** The results a run answers: one per project when batched per project, else ALL_PROJECTS. */
export function resultKeysOf(target: SessionsTarget): number[] {
  return target.perProject ? unique(target.projectIds) : [ALL_PROJECTS];
}

/** Several results are told apart by their rows' project; one result takes every row. */
export function resultKeyOf(resultKeys: readonly number[], row: GroupRow): number {
  return resultKeys.length > 1 ? (row.projectId ?? ALL_PROJECTS) : (resultKeys[0] ?? ALL_PROJECTS);
}

/**
 * The totals statement, or null when the filters select nothing (no project, no release of
 * those versions, an empty environment list): then no statement is sent.
 */
export function totalsQuery(
  spec: SessionsSpec,
  target: SessionsTarget,
  releaseIds: readonly number[] | undefined,
): MetricsQuery | null {
  if (target.projectIds.length === 0 || releaseIds?.length === 0) return null;
  if (spec.environments?.length === 0) return null;
  // Several results are told apart by grouping by project too.
  const split = resultKeysOf(target).length > 1;
  return {
    projectIds: target.projectIds,
    releaseIds,
    environments: spec.environments ?? undefined,
    start: spec.start,
    end: spec.end,
    granularity: spec.granularity,
    groupBy:
      split && !spec.groupBy.includes('project') ? ['project', ...spec.groupBy] : spec.groupBy,
    withoutUsers: !spec.need.users || usersAfterPaging(spec),
  };
}

/**
 * Distinct users of the groups are read for the page only, after paging, unless the order needs
 * them: from the series when it is read (`usersFromSeries`), else by `pageUsersQuery` when
 * grouped by release (exact per-release sets cost what their users cost, for every release).
 */
export function usersAfterPaging(spec: SessionsSpec): boolean {
  return (
    spec.need.users &&
    !isUserField(spec.orderBy) &&
    (spec.groupBy.includes('release') || usersFromSeries(spec))
  );
}

/**
 * The groups' users over the range come from the series statement: it reads the same sets (same
 * granularity, range and filters, split into intervals), so their union over the intervals is the
 * totals' users, and each set is read once instead of twice (docs/design.md § Distinct users).
 */
export function usersFromSeries(spec: SessionsSpec): boolean {
  return spec.need.users && spec.need.series && !isUserField(spec.orderBy);
}

/** The totals statement narrowed to the picked groups, with their users. */
export function pageUsersQuery(
  totals: MetricsQuery,
  picked: readonly SessionsGroup[],
): MetricsQuery {
  return { ...narrowed(totals, picked), withoutUsers: false };
}

/** Every result's groups by key; without a grouping, each result has exactly one (zeros if none). */
export function groupTotals(
  spec: SessionsSpec,
  resultKeys: readonly number[],
  totals: SessionsRows,
): Map<number, Map<string, SessionsGroup>> {
  const groups = new Map<number, Map<string, SessionsGroup>>(resultKeys.map((k) => [k, new Map()]));
  const add = (row: GroupRow): SessionsGroup | undefined => {
    const resultKey = resultKeyOf(resultKeys, row);
    const ofResult = groups.get(resultKey);
    if (!ofResult) return undefined;
    const key = groupKeyOf(row);
    let group = ofResult.get(key);
    if (!group) {
      group = {
        key,
        resultKey,
        projectId: row.projectId,
        releaseId: row.releaseId,
        environment: row.environment,
        sessions: ZERO_SESSION_COUNTS,
        users: ZERO_USER_COUNTS,
        durations: [],
      };
      ofResult.set(key, group);
    }
    return group;
  };
  for (const row of totals.rows) {
    const group = add(row);
    if (group) Object.assign(group, { sessions: row.sessions, users: row.users });
  }
  for (const row of totals.durations) {
    const group = add(row);
    if (group) group.durations = row.durations;
  }
  if (spec.groupBy.length === 0) {
    const split = resultKeys.length > 1;
    for (const resultKey of resultKeys) {
      if (groups.get(resultKey)?.size === 0) {
        add({ projectId: split ? resultKey : null, releaseId: null, environment: null });
      }
    }
  }
  return groups;
}

/** Release ids the groups are named by: the one statement that reads their versions and dates. */
export function releaseIdsOf(totals: SessionsRows): number[] {
  return unique(totals.rows.flatMap((r) => (r.releaseId === null ? [] : [r.releaseId])));
}

/** Orders every result's groups and keeps the page `offset`/`limit` choose. */
export function pageGroups(
  spec: SessionsSpec,
  groups: ReadonlyMap<number, ReadonlyMap<string, SessionsGroup>>,
  releases: ReadonlyMap<number, ReleaseRow>,
): Map<number, SessionsPage> {
  const pages = new Map<number, SessionsPage>();
  for (const [resultKey, ofResult] of groups) {
    const all = [...ofResult.values()];
    const allSessions = all.reduce((n, g) => n + g.sessions.sessions, 0);
    const sorted = sortGroups(all, spec, releases, allSessions);
    pages.set(resultKey, {
      groups: sorted.slice(spec.offset, spec.offset + spec.limit),
      totalGroups: sorted.length,
      allSessions,
    });
  }
  return pages;
}

/**
 * The series statement: the totals' one folded into intervals, narrowed to the picked groups'
 * projects, releases and environments unless adoption per interval needs every group.
 */
export function seriesQuery(
  spec: SessionsSpec,
  totals: MetricsQuery,
  picked: readonly SessionsGroup[],
): MetricsQuery {
  const query: MetricsQuery = {
    ...totals,
    intervalSeconds: spec.intervalSeconds,
    withoutUsers: !spec.need.users,
    usersOverRange: usersFromSeries(spec),
  };
  if (spec.need.seriesAdoption) return query;
  return narrowed(query, picked);
}

function narrowed(totals: MetricsQuery, picked: readonly SessionsGroup[]): MetricsQuery {
  const query: MetricsQuery = { ...totals };
  const grouped = new Set(query.groupBy);
  if (grouped.has('project')) query.projectIds = unique(picked.map((g) => g.projectId ?? 0));
  if (grouped.has('release')) query.releaseIds = unique(picked.map((g) => g.releaseId ?? 0));
  if (grouped.has('environment')) {
    query.environments = unique(picked.map((g) => g.environment ?? ''));
  }
  return query;
}
