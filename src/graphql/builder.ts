import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import { DateTimeResolver, NonNegativeIntResolver, SafeIntResolver } from 'graphql-scalars';
import type { Context } from './context.ts';
import { BaseError } from './errors.ts';

/** The one schema builder. Domain types live in src/modules/*\/*.schema.ts. */
export const builder = new SchemaBuilder<{
  Context: Context;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    NonNegativeInt: { Input: number; Output: number };
    /** Session, user and item counts: JSON numbers, exact up to 2^53 − 1 (Int stops at 2^31 − 1). */
    SafeInt: { Input: number; Output: number };
  };
}>({
  plugins: [ErrorsPlugin, RelayPlugin],
  defaultFieldNullability: false,
  relay: { clientMutationId: 'omit', cursorType: 'String' },
  errors: { defaultTypes: [BaseError] },
});

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('NonNegativeInt', NonNegativeIntResolver);
builder.addScalarType('SafeInt', SafeIntResolver, {
  description:
    'Every session, user and item count: a JSON number, exact up to 2^53 − 1 (9,007,199,254,740,991); GraphQL Int stops at 2^31 − 1, which 90 days of a busy project pass.',
});

builder.queryType({});
builder.mutationType({});
