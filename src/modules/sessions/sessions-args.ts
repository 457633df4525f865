import { InvalidArgumentError } from '../../graphql/errors.ts';
import {
  resolveRange,
  resolveSeries,
  sessionsDefaultInterval,
  type TimeRange,
} from '../../health/time-range.ts';
import {
  MAX_POINTS,
  parseDuration,
  tooManyIntervals,
  validateInterval,
} from '../../health/time-window.ts';
import type { Granularity } from '../../metrics/metric-store.ts';
import type { MetricGroupKey } from '../../metrics/session-metrics.queries.ts';
import type { SessionsSelection } from './sessions-selection.ts';
import {
  isStatusGroupable,
  SESSION_STATUS_GROUPS,
  toEnumName,
  USER_VALUE_FIELDS,
  VALUE_FIELD_BY_NAME,
  VALUE_FIELDS,
} from './sessions-values.ts';

// From GraphQL arguments to a checked sessions query, with Sentry's limits
// (shared/spec/sentry-reference.md §5.3, §5.5). Every refusal is an InvalidArgumentError naming
// the argument at fault.

export const GROUP_BY_VALUES = ['PROJECT', 'RELEASE', 'ENVIRONMENT', 'SESSION_STATUS'] as const;
export type SessionsGroupBy = (typeof GROUP_BY_VALUES)[number];

/** Every value field, and the release's date (Sentry's `release.timestamp`). */
export const ORDER_FIELDS: readonly string[] = [
  ...VALUE_FIELDS.map((f) => toEnumName(f.name)),
  'RELEASE_DATE',
];
const ORDER_FIELD_NAME = new Map(VALUE_FIELDS.map((f) => [toEnumName(f.name), f.name]));

export interface SessionsArgs {
  environments?: readonly string[] | null;
  releases?: readonly string[] | null;
  period?: string | null;
  start?: Date | null;
  end?: Date | null;
  interval?: string | null;
  groupBy?: readonly SessionsGroupBy[] | null;
  orderBy?: { field: string; direction?: 'ASC' | 'DESC' | null } | null;
  limit?: number | null;
  offset?: number | null;
}

/** A sessions query whose arguments passed every check; plain data, so it can key a loader. */
export interface SessionsSpec {
  /** The range rounded out to whole intervals; totals cover it too (as Sentry's do). */
  start: Date;
  end: Date;
  intervals: Date[];
  intervalSeconds: number;
  granularity: Granularity;
  environments: string[] | null;
  releases: string[] | null;
  /** Stored keys to group by, in a fixed order (SESSION_STATUS is `byStatus`). */
  groupBy: MetricGroupKey[];
  byStatus: boolean;
  /** A value field name, or 'releaseDate'. */
  orderBy: string;
  descending: boolean;
  /** Most (project, release, environment) groups returned, after `offset`. */
  limit: number;
  offset: number;
  need: {
    series: boolean;
    totalsDurations: boolean;
    seriesDurations: boolean;
    /** Adoption per interval needs every group's series, so the series cannot be narrowed. */
    seriesAdoption: boolean;
    /** Distinct users are the costly half of a read: read them only when a field needs them. */
    users: boolean;
  };
}

/** A value counted from distinct users (USER_VALUE_FIELDS), or the flags that say how exactly. */
export const isUserField = (name: string) =>
  USER_VALUE_FIELDS.has(name) || name === 'usersExact' || name === 'usersRelativeStandardError';

const MINUTE = 60;
const DAY = 86_400;

function formatInterval(seconds: number): string {
  if (seconds % DAY === 0) return `${seconds / DAY}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  return `${seconds / MINUTE}m`;
}

/** Intervals Vigil can serve: whole minutes that divide a day (spec §5.3 step 1). */
const USABLE_INTERVALS = Array.from({ length: DAY / MINUTE }, (_, i) => (i + 1) * MINUTE).filter(
  (s) => DAY % s === 0,
);

/** The smallest usable interval that keeps the range within 1000 intervals, or null. */
function smallestInterval(range: TimeRange): number | null {
  return USABLE_INTERVALS.find((s) => tooManyIntervals(range.start, range.end, s) === null) ?? null;
}

function resolveInterval(range: TimeRange, interval: string | null | undefined): string {
  const text = interval ?? sessionsDefaultInterval(range);
  const seconds = parseDuration(text);
  if (seconds === null || validateInterval(seconds) || seconds % MINUTE !== 0) return text;
  const tooMany = tooManyIntervals(range.start, range.end, seconds);
  if (tooMany) {
    const smallest = smallestInterval(range);
    const hint = smallest
      ? `The smallest interval for this range is ${formatInterval(smallest)}.`
      : 'This range is longer than 1000 days.';
    // Without an interval of its own the query's fault is its range.
    throw new InvalidArgumentError(interval ? 'interval' : 'period', `${tooMany} ${hint}`);
  }
  return text;
}

function resolveOrder(args: SessionsArgs, byStatus: boolean, groupBy: MetricGroupKey[]) {
  if (!args.orderBy) return { orderBy: 'sessions', descending: true };
  if (byStatus) {
    throw new InvalidArgumentError(
      'orderBy',
      'Cannot use orderBy when grouping by SESSION_STATUS: the statuses of a group come in a fixed order.',
    );
  }
  const descending = (args.orderBy.direction ?? 'DESC') === 'DESC';
  if (args.orderBy.field === 'RELEASE_DATE') {
    if (!groupBy.includes('release')) {
      throw new InvalidArgumentError(
        'orderBy',
        'Ordering by RELEASE_DATE needs RELEASE in groupBy.',
      );
    }
    return { orderBy: 'releaseDate', descending };
  }
  const name = ORDER_FIELD_NAME.get(args.orderBy.field);
  if (!name) throw new InvalidArgumentError('orderBy', `Cannot order by ${args.orderBy.field}.`);
  return { orderBy: name, descending };
}

function checkStatusGrouping(selection: SessionsSelection): void {
  for (const name of [...selection.totals, ...selection.series]) {
    if (!isStatusGroupable(name)) {
      throw new InvalidArgumentError(
        'groupBy',
        `Cannot group field ${name} by session status: with SESSION_STATUS only sessions, users and the duration fields can be selected.`,
      );
    }
  }
}

/** `intervals` is 1 when no series is selected: the limit bounds the values a response carries. */
function resolveLimit(args: SessionsArgs, intervals: number, byStatus: boolean) {
  const points = intervals * (byStatus ? SESSION_STATUS_GROUPS.length : 1);
  const offset = args.offset ?? 0;
  if (offset < 0) throw new InvalidArgumentError('offset', 'offset cannot be negative.');
  // groups × intervals ≤ MAX_POINTS (spec §5.3 step 5); Vigil refuses rather than truncates.
  const most = Math.max(1, Math.floor(MAX_POINTS / points));
  if (args.limit === null || args.limit === undefined) return { limit: most, offset };
  if (args.limit < 1) throw new InvalidArgumentError('limit', 'limit must be at least 1.');
  if (args.limit * points > MAX_POINTS) {
    throw new InvalidArgumentError(
      'limit',
      `A limit of ${args.limit} groups${intervals > 1 ? ` × ${intervals} intervals` : ''}${byStatus ? ' × 5 statuses' : ''} would return ${args.limit * points} values; at most ${MAX_POINTS} fit in one response. Use a limit of at most ${most}, a larger interval or a shorter range.`,
    );
  }
  return { limit: args.limit, offset };
}

/** Checks a sessions query's arguments against what it selects; throws InvalidArgumentError. */
export function resolveSessionsSpec(
  args: SessionsArgs,
  selection: SessionsSelection,
  now: Date,
): SessionsSpec {
  const range = resolveRange(args, now, { anyPeriod: true });
  const series = resolveSeries(range, resolveInterval(range, args.interval));
  const asked = new Set(args.groupBy ?? []);
  const groupBy = (['project', 'release', 'environment'] as const).filter((key) =>
    asked.has(key.toUpperCase() as SessionsGroupBy),
  );
  const byStatus = asked.has('SESSION_STATUS');
  if (byStatus) checkStatusGrouping(selection);
  const order = resolveOrder(args, byStatus, groupBy);
  const isDuration = (name: string) => VALUE_FIELD_BY_NAME.get(name)?.kind === 'duration';
  return {
    start: series.start,
    end: series.end,
    intervals: series.intervals,
    intervalSeconds: series.intervalSeconds,
    granularity: series.granularity,
    environments: args.environments ? [...args.environments] : null,
    releases: args.releases ? [...args.releases] : null,
    groupBy,
    byStatus,
    ...order,
    ...resolveLimit(args, selection.series.size > 0 ? series.intervals.length : 1, byStatus),
    need: {
      series: selection.series.size > 0,
      totalsDurations: [...selection.totals].some(isDuration) || isDuration(order.orderBy),
      seriesDurations: [...selection.series].some(isDuration),
      seriesAdoption: selection.series.has('sessionsAdoption'),
      users: [...selection.totals, ...selection.series, order.orderBy].some(isUserField),
    },
  };
}
