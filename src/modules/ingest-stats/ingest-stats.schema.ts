import { builder } from '../../graphql/builder.ts';
import { InvalidArgumentError } from '../../graphql/errors.ts';
import {
  PERIOD_DESCRIPTION,
  resolveRange,
  resolveSeries,
  type Series,
  sessionsDefaultInterval,
} from '../../health/time-range.ts';
import { OrganizationRef } from '../organizations/organization.schema.ts';
import { ProjectRef } from '../projects/project.schema.ts';
import type { OutcomeRow } from './ingest-stats.queries.ts';

// What ingest did with a project's envelopes, like Sentry's Stats page: what was stored, what was
// dropped and why (docs/design.md § What was dropped). Bad arguments are top-level errors with
// extensions.code BAD_USER_INPUT and the argument in extensions.field.

interface ReasonCount {
  reason: string;
  count: number;
}

interface IngestCounts {
  acceptedSessions: number;
  aggregatedSessions: number;
  dropped: Map<string, number>;
  refused: Map<string, number>;
}

interface IngestStatsShape {
  series: Series;
  totals: IngestCounts;
  points: Array<{ time: Date; counts: IngestCounts }>;
}

const emptyCounts = (): IngestCounts => ({
  acceptedSessions: 0,
  aggregatedSessions: 0,
  dropped: new Map(),
  refused: new Map(),
});

function addRow(counts: IngestCounts, row: OutcomeRow): void {
  if (row.outcome === 'accepted') counts.acceptedSessions += row.quantity;
  else if (row.outcome === 'aggregated') counts.aggregatedSessions += row.quantity;
  else {
    const byReason = row.outcome === 'dropped' ? counts.dropped : counts.refused;
    byReason.set(row.reason, (byReason.get(row.reason) ?? 0) + row.quantity);
  }
}

/** Rows of one owner → totals and one point per interval, empty intervals included. */
export function shapeIngestStats(series: Series, rows: readonly OutcomeRow[]): IngestStatsShape {
  const totals = emptyCounts();
  const points = series.intervals.map((time) => ({ time, counts: emptyCounts() }));
  const stepMs = series.intervalSeconds * 1000;
  for (const row of rows) {
    addRow(totals, row);
    const point = points[Math.floor((row.time.getTime() - series.start.getTime()) / stepMs)];
    if (point) addRow(point.counts, row);
  }
  return { series, totals, points };
}

const sum = (byReason: Map<string, number>) => [...byReason.values()].reduce((a, b) => a + b, 0);
const reasons = (byReason: Map<string, number>): ReasonCount[] =>
  [...byReason]
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([reason, count]) => ({ reason, count }));

const IngestReasonCountRef = builder.objectRef<ReasonCount>('IngestReasonCount').implement({
  description: 'How many items or envelopes one reason accounts for.',
  fields: (t) => ({
    reason: t.exposeString('reason'),
    count: t.exposeInt('count'),
  }),
});

const IngestCountsRef = builder.objectRef<IngestCounts>('IngestCounts').implement({
  description: 'What ingest did with what it received, counted at receipt.',
  fields: (t) => ({
    acceptedSessions: t.int({
      description: 'Session updates (`session` items) accepted and stored.',
      resolve: (c) => c.acceptedSessions,
    }),
    aggregatedSessions: t.int({
      description: 'Sessions counted from `sessions` (aggregate) items.',
      resolve: (c) => c.aggregatedSessions,
    }),
    droppedItems: t.int({
      description: 'Session updates and aggregate buckets dropped, whatever the reason.',
      resolve: (c) => sum(c.dropped),
    }),
    dropped: t.field({
      type: [IngestReasonCountRef],
      description:
        'Dropped items by reason, only reasons that occurred: invalid_json, invalid_payload, missing_release, invalid_release, invalid_status, invalid_sid, sequence_overflow, too_old, too_new, duplicate (an aggregate already counted).',
      resolve: (c) => reasons(c.dropped),
    }),
    refusedEnvelopes: t.int({
      description: 'Envelopes and legacy requests refused as a whole, whatever the reason.',
      resolve: (c) => sum(c.refused),
    }),
    refused: t.field({
      type: [IngestReasonCountRef],
      description:
        'Refused envelopes by reason, only reasons that occurred: missing_key (401), bad_key (403: unknown, revoked or other project’s key), invalid_envelope (400), unsupported_media_type (415), too_large (413), rate_limited (429), store_unavailable (503).',
      resolve: (c) => reasons(c.refused),
    }),
  }),
});

const IngestStatsPointRef = builder
  .objectRef<{ time: Date; counts: IngestCounts }>('IngestStatsPoint')
  .implement({
    fields: (t) => ({
      time: t.field({
        type: 'DateTime',
        description: 'Start of the interval.',
        resolve: (p) => p.time,
      }),
      counts: t.field({ type: IngestCountsRef, resolve: (p) => p.counts }),
    }),
  });

const IngestStatsRef = builder.objectRef<IngestStatsShape>('IngestStats').implement({
  description:
    'What ingest did over a range, like Sentry’s Stats page: the range rounded out to whole intervals, totals over it, and the same counts per interval.',
  fields: (t) => ({
    start: t.field({ type: 'DateTime', resolve: (s) => s.series.start }),
    end: t.field({ type: 'DateTime', resolve: (s) => s.series.end }),
    intervalSeconds: t.int({ resolve: (s) => s.series.intervalSeconds }),
    totals: t.field({ type: IngestCountsRef, resolve: (s) => s.totals }),
    series: t.field({ type: [IngestStatsPointRef], resolve: (s) => s.points }),
  }),
});

interface IngestStatsArgs {
  period?: string | null;
  start?: Date | null;
  end?: Date | null;
  interval?: string | null;
}

/** The sessions query's range and interval rules (src/health/time-range.ts). */
export function resolveIngestSeries(args: IngestStatsArgs, now: Date): Series {
  const range = resolveRange(args, now, { anyPeriod: true });
  const interval = args.interval ?? sessionsDefaultInterval(range);
  try {
    return resolveSeries(range, interval);
  } catch (error) {
    // Without an interval of its own the query's fault is its range.
    if (error instanceof InvalidArgumentError && !args.interval) {
      throw new InvalidArgumentError('period', error.message);
    }
    throw error;
  }
}

const ARGS_DESCRIPTION = {
  interval:
    'Series interval: whole minutes to 1d that divide a day (1m, 5m, 1h, 1d …). Default 1h, or 1d when the range holds more than 1000 hours. At most 1000 intervals.',
};

builder.objectField(ProjectRef, 'ingestStats', (t) =>
  t.field({
    type: IngestStatsRef,
    description:
      'What ingest did with this project’s envelopes: sessions stored, items dropped and envelopes refused, by reason, per minute of receipt.',
    args: {
      period: t.arg.string({ description: PERIOD_DESCRIPTION }),
      start: t.arg({ type: 'DateTime' }),
      end: t.arg({ type: 'DateTime' }),
      interval: t.arg.string({ description: ARGS_DESCRIPTION.interval }),
    },
    resolve: async (project, args, ctx) => {
      const series = resolveIngestSeries(args, ctx.now);
      const rows = await ctx.loaders.ingestOutcomesByProjectId(series).load(project.id);
      return shapeIngestStats(series, rows);
    },
  }),
);

builder.objectField(OrganizationRef, 'ingestStats', (t) =>
  t.field({
    type: IngestStatsRef,
    description: 'Project.ingestStats summed over the organization’s projects.',
    args: {
      period: t.arg.string({ description: PERIOD_DESCRIPTION }),
      start: t.arg({ type: 'DateTime' }),
      end: t.arg({ type: 'DateTime' }),
      interval: t.arg.string({ description: ARGS_DESCRIPTION.interval }),
    },
    resolve: async (org, args, ctx) => {
      const series = resolveIngestSeries(args, ctx.now);
      const rows = await ctx.loaders.ingestOutcomesByOrganizationId(series).load(org.id);
      return shapeIngestStats(series, rows);
    },
  }),
);
