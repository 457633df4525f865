import {
  type GraphQLField,
  GraphQLObjectType,
  GraphQLUnionType,
  getNamedType,
  isNonNullType,
} from 'graphql';
import { describe, expect, test } from 'vitest';
import { schema } from '../../src/graphql/schema.ts';
import { RATE_FIELDS } from '../../src/health/rates.ts';

// The read side's contract (docs/design.md, GraphQL): query fields return their object type,
// counts are SafeInt, rates are Float under one naming rule. A field added the old way fails here.

const objectType = (name: string) => {
  const type = schema.getType(name);
  if (!(type instanceof GraphQLObjectType)) throw new Error(`${name} is not an object type`);
  return type;
};
const field = (type: string, name: string): GraphQLField<unknown, unknown> => {
  const found = objectType(type).getFields()[name];
  if (!found) throw new Error(`${type}.${name} is missing`);
  return found;
};

describe('API shape', () => {
  test.for([
    ['Release', 'health', 'ReleaseHealth'],
    ['Project', 'health', 'ProjectHealth'],
    ['ReleaseHealth', 'stats', 'HealthPoint'],
    ['ProjectHealth', 'stats', 'HealthPoint'],
    ['Project', 'sessions', 'SessionsResult'],
    ['Organization', 'sessions', 'SessionsResult'],
  ])('%s.%s returns %s, not a union', ([type, name, returns]) => {
    const f = field(type as string, name as string);
    expect(isNonNullType(f.type)).toBe(true);
    expect(getNamedType(f.type).name).toBe(returns);
  });

  test('only mutations return unions', () => {
    const mutation = schema.getMutationType();
    const outsideMutations = Object.values(schema.getTypeMap())
      .filter((t) => t instanceof GraphQLObjectType && t !== mutation && !t.name.startsWith('__'))
      .flatMap((t) =>
        Object.values((t as GraphQLObjectType).getFields())
          .filter((f) => getNamedType(f.type) instanceof GraphQLUnionType)
          .map((f) => `${t.name}.${f.name}`),
      );
    expect(outsideMutations).toEqual([]);
    const mutationResults = Object.values(mutation?.getFields() ?? {}).map(
      (f) => getNamedType(f.type).name,
    );
    expect(mutationResults).toContain('CreateOrganizationResult');
  });

  test.for(['ReleaseHealth', 'ProjectHealth', 'HealthPoint', 'SessionsValues'])(
    '%s: counts are SafeInt, every rate is a nullable Float named by the rule',
    (type) => {
      const fields = objectType(type).getFields();
      for (const name of ['sessions', 'users', 'sessionsCrashed', 'usersAnr', 'sessionsAnr']) {
        expect(getNamedType(fields[name]?.type)?.name, name).toBe('SafeInt');
      }
      for (const rate of RATE_FIELDS) {
        expect(rate.name).toMatch(
          /^([a-z][A-Za-z]*(Rate|Free)(Sessions|Users)|(anr|foregroundAnr)Rate)$/,
        );
        const f = fields[rate.name];
        expect(f && !isNonNullType(f.type) && getNamedType(f.type).name, rate.name).toBe('Float');
      }
    },
  );
});
