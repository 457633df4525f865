import { builder } from '../../graphql/builder.ts';
import type { Context } from '../../graphql/context.ts';
import { adoptionPercent, stageOf } from '../../health/adoption.ts';
import {
  last24Hours,
  PERIOD_DESCRIPTION,
  type RangeArgs,
  resolveRange,
} from '../../health/time-range.ts';
import { healthDataSince } from '../../metrics/metric-store.ts';
import { ProjectRef } from '../projects/project.schema.ts';
import { ReleaseRef } from '../releases/release.schema.ts';
import {
  HealthInterface,
  HealthPointRef,
  type HealthShape,
  StatsDisplayEnum,
} from './health.schema.ts';
import { loadHealthSeries } from './health-series.ts';
import type { HealthCounts, HealthFilter } from './release-health.loaders.ts';

// Release.health, Release.adoptionStage and Project.health: Sentry's release-health numbers.
// Query fields return their type; a bad argument is a BAD_USER_INPUT error (src/graphql/errors.ts).

export interface ReleaseHealthShape extends HealthShape {
  releaseId: number;
  filter: HealthFilter;
}

interface ProjectHealthShape extends HealthShape {
  projectId: number;
  filter: HealthFilter;
}

function filterFrom(
  args: RangeArgs & { environments?: string[] | null },
  projectId: number | null,
  ctx: Context,
): HealthFilter {
  return { projectId, environments: args.environments ?? null, range: resolveRange(args, ctx.now) };
}

interface Adoption {
  release: HealthCounts;
  project: HealthCounts;
}

/** A release's and its project's counts over adoption's window, or null outside a project. */
async function loadAdoption(h: ReleaseHealthShape, ctx: Context): Promise<Adoption | null> {
  if (h.filter.projectId === null) return null;
  // The same project and environments over adoption's window (spec §4.2).
  const day = { ...h.filter, range: last24Hours(ctx.now) };
  const [release, project] = await Promise.all([
    // The same loader as health(period: "24h"): the page's releases share one batch.
    ctx.loaders.releaseHealthByReleaseId(day).load(h.releaseId),
    ctx.loaders.projectDayCountsByProjectId(day).load(h.filter.projectId),
  ]);
  return { release, project };
}

export const ReleaseHealthRef = builder.objectRef<ReleaseHealthShape>('ReleaseHealth').implement({
  description:
    'A release’s health over a range; adoption compares it with its project over the last 24 h.',
  interfaces: [HealthInterface],
  fields: (t) => {
    // Each adoption field of a release asks the same two numbers: found once per health object.
    const adoptions = new WeakMap<ReleaseHealthShape, Promise<Adoption | null>>();
    const adoption = (h: ReleaseHealthShape, ctx: Context) => {
      let found = adoptions.get(h);
      if (!found) {
        found = loadAdoption(h, ctx);
        adoptions.set(h, found);
      }
      return found;
    };
    return {
      hasHealthData: t.boolean({
        description: 'Whether the release had any session in the last 90 days.',
        resolve: async (h, _args, ctx) => {
          const { last } = await ctx.loaders
            .releaseTimeBoundsByReleaseId(h.filter.projectId)
            .load(h.releaseId);
          return last !== null && last >= healthDataSince(ctx.now);
        },
      }),
      sessionsAdoption: t.float({
        nullable: true,
        description:
          'Share of the project’s sessions in the last 24 h, in percent. Null outside a project.',
        resolve: async (h, _args, ctx) => {
          const a = await adoption(h, ctx);
          return a && adoptionPercent(a.release.sessions.sessions, a.project.sessions.sessions);
        },
      }),
      usersAdoption: t.float({
        nullable: true,
        description:
          'Share of the project’s users in the last 24 h, in percent (Sentry’s `adoption`).',
        resolve: async (h, _args, ctx) => {
          const a = await adoption(h, ctx);
          return a && adoptionPercent(a.release.users.users, a.project.users.users);
        },
      }),
      sessions24h: t.field({
        type: 'SafeInt',
        nullable: true,
        resolve: async (h, _args, ctx) =>
          (await adoption(h, ctx))?.release.sessions.sessions ?? null,
      }),
      users24h: t.field({
        type: 'SafeInt',
        nullable: true,
        resolve: async (h, _args, ctx) => (await adoption(h, ctx))?.release.users.users ?? null,
      }),
      projectSessions24h: t.field({
        type: 'SafeInt',
        nullable: true,
        resolve: async (h, _args, ctx) =>
          (await adoption(h, ctx))?.project.sessions.sessions ?? null,
      }),
      users24hExact: t.boolean({
        nullable: true,
        description:
          'Whether users24h, projectUsers24h and usersAdoption are exact (as usersExact for the range); null outside a project.',
        resolve: async (h, _args, ctx) => {
          const a = await adoption(h, ctx);
          return (
            a &&
            (a.release.users.quality?.exact ?? true) &&
            (a.project.users.quality?.exact ?? true)
          );
        },
      }),
      users24hRelativeStandardError: t.float({
        nullable: true,
        description:
          'Null when users24hExact (or outside a project); else the relative standard error of users24h and projectUsers24h, as usersRelativeStandardError.',
        resolve: async (h, _args, ctx) => {
          const a = await adoption(h, ctx);
          if (!a) return null;
          return (
            a.release.users.quality?.relativeStandardError ??
            a.project.users.quality?.relativeStandardError ??
            null
          );
        },
      }),
      projectUsers24h: t.field({
        type: 'SafeInt',
        nullable: true,
        resolve: async (h, _args, ctx) => (await adoption(h, ctx))?.project.users.users ?? null,
      }),
      stats: t.field({
        type: [HealthPointRef],
        description: 'The health of each interval of the range; empty intervals are zeros.',
        args: {
          interval: t.arg.string({ description: '1m … 1d; default: the period’s rollup.' }),
          display: t.arg({ type: StatsDisplayEnum, defaultValue: 'SESSIONS' }),
        },
        resolve: (h, args, ctx) =>
          loadHealthSeries(h.filter, args, (s) =>
            ctx.loaders.releaseSeriesByReleaseId(s).load(h.releaseId),
          ),
      }),
    };
  },
});

const ProjectHealthRef = builder.objectRef<ProjectHealthShape>('ProjectHealth').implement({
  description: 'A project’s health over a range, all releases together.',
  interfaces: [HealthInterface],
  fields: (t) => ({
    stats: t.field({
      type: [HealthPointRef],
      args: {
        interval: t.arg.string({ description: '1m … 1d; default: the period’s rollup.' }),
        display: t.arg({ type: StatsDisplayEnum, defaultValue: 'SESSIONS' }),
      },
      resolve: (h, args, ctx) =>
        loadHealthSeries(h.filter, args, (s) =>
          ctx.loaders.projectSeriesByProjectId(s).load(h.projectId),
        ),
    }),
  }),
});

const healthArgs = builder.args((t) => ({
  environments: t.stringList({
    description: 'Only these environments; "" is sessions without one.',
  }),
  period: t.string({ description: PERIOD_DESCRIPTION }),
  start: t.field({ type: 'DateTime' }),
  end: t.field({ type: 'DateTime' }),
}));

builder.objectField(ReleaseRef, 'health', (t) =>
  t.field({
    type: ReleaseHealthRef,
    args: healthArgs,
    resolve: async (release, args, ctx) => {
      const filter = filterFrom(args, release.projectId, ctx);
      const id = release.row.id;
      const counts = await ctx.loaders.releaseHealthByReleaseId(filter).load(id);
      const durations = (c: Context) => c.loaders.releaseDurationsByReleaseId(filter).load(id);
      return { ...counts, durations, releaseId: id, filter };
    },
  }),
);

builder.objectField(ProjectRef, 'health', (t) =>
  t.field({
    type: ProjectHealthRef,
    args: healthArgs,
    resolve: async (project, args, ctx) => {
      const filter = filterFrom(args, project.id, ctx);
      const id = project.id;
      const counts = await ctx.loaders.projectHealthByProjectId(filter).load(id);
      const durations = (c: Context) => c.loaders.projectDurationsByProjectId(filter).load(id);
      return { ...counts, durations, projectId: id, filter };
    },
  }),
);

builder.objectField(ProjectRef, 'hasHealthData', (t) =>
  t.boolean({
    description: 'Whether the project had any session in the last 90 days.',
    resolve: (project, _args, ctx) => ctx.loaders.projectHasHealthData.load(project.id),
  }),
);

const AdoptionStageEnum = builder.enumType('AdoptionStageKind', {
  values: ['ADOPTED', 'LOW_ADOPTION', 'REPLACED'] as const,
});

interface AdoptionStageShape {
  adoptedAt: Date | null;
  unadoptedAt: Date | null;
}

const AdoptionStageRef = builder.objectRef<AdoptionStageShape>('AdoptionStage').implement({
  description:
    'ADOPTED: ≥ 10 % of the environment’s sessions in the last 6 hours; REPLACED: adopted once, below since; LOW_ADOPTION: never adopted.',
  fields: (t) => ({
    stage: t.field({ type: AdoptionStageEnum, resolve: (s) => stageOf(s) }),
    adoptedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.adoptedAt }),
    unadoptedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.unadoptedAt }),
  }),
});

builder.objectField(ReleaseRef, 'adoptionStage', (t) =>
  t.field({
    type: AdoptionStageRef,
    nullable: true,
    description:
      'The stage in one environment of the project the release was reached through; null outside a project.',
    args: { environment: t.arg.string({ required: true }) },
    resolve: async (release, { environment }, ctx) => {
      if (release.projectId === null) return null;
      const row = await ctx.loaders.adoptionStageByKey.load({
        projectId: release.projectId,
        releaseId: release.row.id,
        environment,
      });
      return { adoptedAt: row?.adoptedAt ?? null, unadoptedAt: row?.unadoptedAt ?? null };
    },
  }),
);
