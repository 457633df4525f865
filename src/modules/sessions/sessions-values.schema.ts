import { builder } from '../../graphql/builder.ts';
import { type SessionsValuesShape, VALUE_FIELDS } from './sessions-values.ts';

// SessionsValues (a group's totals) and SessionsSeries (the same fields, one entry per interval),
// both generated from the one table in sessions-values.ts so they cannot drift apart.

export const SessionsValuesRef = builder
  .objectRef<SessionsValuesShape>('SessionsValues')
  .implement({
    description:
      'The values of one group over the whole (rounded) range; select the ones you need, as Sentry’s `field=`. Counts are SafeInt (exact up to 2^53 − 1) and 0 when nothing was seen; rates are percentages 0–100 and null when nothing was seen; durations are in SECONDS.',
    fields: (t) =>
      Object.fromEntries(
        VALUE_FIELDS.map((f) => [
          f.name,
          f.kind === 'count'
            ? t.field({
                type: 'SafeInt',
                description: f.description,
                resolve: (v) => f.value(v) ?? 0,
              })
            : t.float({ nullable: true, description: f.description, resolve: (v) => f.value(v) }),
        ]),
      ),
  });

export interface SessionsSeriesShape {
  points: readonly SessionsValuesShape[];
}

export const SessionsSeriesRef = builder
  .objectRef<SessionsSeriesShape>('SessionsSeries')
  .implement({
    description:
      'The same values as SessionsValues, one entry per interval of `intervals`: empty intervals are 0 for counts and null for rates and durations.',
    fields: (t) =>
      Object.fromEntries(
        VALUE_FIELDS.map((f) => [
          f.name,
          f.kind === 'count'
            ? t.field({
                type: ['SafeInt'],
                description: f.description,
                resolve: (s) => s.points.map((v) => f.value(v) ?? 0),
              })
            : t.field({
                type: ['Float'],
                nullable: { list: false, items: true },
                description: f.description,
                resolve: (s) => s.points.map((v) => f.value(v)),
              }),
        ]),
      ),
  });
