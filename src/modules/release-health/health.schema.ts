import { builder } from '../../graphql/builder.ts';
import type { Context } from '../../graphql/context.ts';
import { sessionBreakdown, userBreakdown } from '../../health/crash-free.ts';
import type { DurationCount } from '../../health/duration.ts';
import { percentile } from '../../health/duration.ts';
import { RATE_FIELDS } from '../../health/rates.ts';
import { USERS_EXACT_DESCRIPTION, USERS_RSE_DESCRIPTION } from '../../metrics/user-facts.ts';
import type { HealthCounts } from './release-health.loaders.ts';

// The numbers every health object shares: spec §4 formulas over one group's stored metrics.

/** A group's counts, and its exited durations, loaded only when a duration field asks. */
export interface HealthShape extends HealthCounts {
  durations(ctx: Context): Promise<DurationCount[]>;
}

export const HealthInterface = builder.interfaceRef<HealthShape>('Health').implement({
  description:
    'Sessions and users by status, every rate Sentry’s release health has, and durations of one group. Counts are SafeInt (exact up to 2^53 − 1); rates are percentages (0–100), null when nothing was seen, named `<outcome>Rate<Unit>` or `<outcome>Free<Unit>` (docs/design.md).',
  fields: (t) => ({
    ...Object.fromEntries(
      RATE_FIELDS.map((f) => [
        f.name,
        t.float({
          nullable: true,
          description: f.description,
          resolve: (h) => f.value(h.sessions, h.users),
        }),
      ]),
    ),
    sessions: t.field({
      type: 'SafeInt',
      description: 'Sessions started.',
      resolve: (h) => h.sessions.sessions,
    }),
    sessionsHealthy: t.field({
      type: 'SafeInt',
      resolve: (h) => sessionBreakdown(h.sessions).healthy,
    }),
    sessionsErrored: t.field({
      type: 'SafeInt',
      description: 'Errored, not counting the crashed, abnormal and unhandled ones.',
      resolve: (h) => sessionBreakdown(h.sessions).errored,
    }),
    sessionsUnhandled: t.field({
      type: 'SafeInt',
      resolve: (h) => h.sessions.unhandled,
    }),
    sessionsCrashed: t.field({
      type: 'SafeInt',
      resolve: (h) => h.sessions.crashed,
    }),
    sessionsAbnormal: t.field({
      type: 'SafeInt',
      resolve: (h) => h.sessions.abnormal,
    }),
    sessionsAnr: t.field({
      type: 'SafeInt',
      description: 'Sessions that ended abnormal with an ANR (foreground or background).',
      resolve: (h) => h.sessions.anr,
    }),
    sessionsForegroundAnr: t.field({
      type: 'SafeInt',
      description: 'Sessions that ended abnormal with a foreground ANR.',
      resolve: (h) => h.sessions.anrForeground,
    }),
    users: t.field({
      type: 'SafeInt',
      description: 'Distinct users: exact while small, an estimate beyond (see usersExact).',
      resolve: (h) => h.users.users,
    }),
    usersExact: t.boolean({
      description: USERS_EXACT_DESCRIPTION,
      resolve: (h) => h.users.quality?.exact ?? true,
    }),
    usersRelativeStandardError: t.float({
      nullable: true,
      description: USERS_RSE_DESCRIPTION,
      resolve: (h) => h.users.quality?.relativeStandardError ?? null,
    }),
    usersHealthy: t.field({
      type: 'SafeInt',
      resolve: (h) => userBreakdown(h.users).healthy,
    }),
    usersErrored: t.field({
      type: 'SafeInt',
      resolve: (h) => userBreakdown(h.users).errored,
    }),
    usersUnhandled: t.field({
      type: 'SafeInt',
      resolve: (h) => h.users.unhandled,
    }),
    usersCrashed: t.field({
      type: 'SafeInt',
      resolve: (h) => h.users.crashed,
    }),
    usersAbnormal: t.field({
      type: 'SafeInt',
      resolve: (h) => h.users.abnormal,
    }),
    usersAnr: t.field({
      type: 'SafeInt',
      description: 'Users with any ANR (Sentry’s `user.anr`).',
      resolve: (h) => h.users.anr,
    }),
    usersForegroundAnr: t.field({
      type: 'SafeInt',
      description: 'Users with a foreground ANR (Sentry’s `user.foreground_anr`).',
      resolve: (h) => h.users.anrForeground,
    }),
    durationP50: t.float({
      nullable: true,
      description: 'Median duration in seconds of sessions that ended exited.',
      resolve: async (h, _args, ctx) => percentile(await h.durations(ctx), 0.5),
    }),
    durationP90: t.float({
      nullable: true,
      description: '90th percentile duration in seconds of sessions that ended exited.',
      resolve: async (h, _args, ctx) => percentile(await h.durations(ctx), 0.9),
    }),
  }),
});

export interface HealthPoint extends HealthShape {
  timestamp: Date;
  display: 'SESSIONS' | 'USERS';
}

export const StatsDisplayEnum = builder.enumType('StatsDisplay', {
  values: ['SESSIONS', 'USERS'] as const,
});

export const HealthPointRef = builder.objectRef<HealthPoint>('HealthPoint').implement({
  description: 'One interval of a series: its start and everything `Health` has for it.',
  interfaces: [HealthInterface],
  fields: (t) => ({
    timestamp: t.field({ type: 'DateTime', resolve: (p) => p.timestamp }),
    value: t.field({
      type: 'SafeInt',
      description: 'Sessions or users, as `display` asked.',
      resolve: (p) => (p.display === 'USERS' ? p.users.users : p.sessions.sessions),
    }),
  }),
});
