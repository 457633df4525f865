import { type GraphQLField, type GraphQLNamedType, isObjectType } from 'graphql';
import { describe, expect, test } from 'vitest';
import { schema } from '../../src/graphql/schema.ts';

// A new root field, mutation or node type cannot ship without an authorization rule: this walks
// the built schema and lists whatever lacks one (docs/design.md § Authorization).

function pothosOptions(thing: { extensions?: unknown }): Record<string, unknown> {
  const extensions = (thing.extensions ?? {}) as { pothosOptions?: Record<string, unknown> };
  return extensions.pothosOptions ?? {};
}

const hasRule = (thing: { extensions?: unknown }) => pothosOptions(thing).authScopes !== undefined;

function fieldsOf(type: GraphQLNamedType | null | undefined): GraphQLField<unknown, unknown>[] {
  return type && isObjectType(type) ? Object.values(type.getFields()) : [];
}

describe('every entry point declares who may use it', () => {
  const roots = [
    ...fieldsOf(schema.getQueryType()).map((f) => `Query.${f.name}`),
    ...fieldsOf(schema.getMutationType()).map((f) => `Mutation.${f.name}`),
    ...fieldsOf(schema.getSubscriptionType()).map((f) => `Subscription.${f.name}`),
  ];
  const nodeTypes = Object.values(schema.getTypeMap()).filter(
    (type) => isObjectType(type) && type.getInterfaces().some((i) => i.name === 'Node'),
  );

  test('finds the fields and types it checks', () => {
    // Guards the walk itself: an empty list would pass the checks below without checking.
    expect(roots).toEqual(
      expect.arrayContaining(['Query.node', 'Mutation.createApiToken', 'Subscription.incidents']),
    );
    expect(nodeTypes.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'Organization',
        'Project',
        'Release',
        'ApiToken',
        'ProjectKey',
        'AlertRule',
        'Incident',
        'Webhook',
      ]),
    );
  });

  test('every query root field, mutation and subscription has authScopes', () => {
    const open = [
      ...fieldsOf(schema.getQueryType())
        .filter((f) => !hasRule(f))
        .map((f) => `Query.${f.name}`),
      ...fieldsOf(schema.getMutationType())
        .filter((f) => !hasRule(f))
        .map((f) => `Mutation.${f.name}`),
      ...fieldsOf(schema.getSubscriptionType())
        .filter((f) => !hasRule(f))
        .map((f) => `Subscription.${f.name}`),
    ];
    expect(open).toEqual([]);
  });

  test('every node type has type-level authScopes', () => {
    expect(nodeTypes.filter((type) => !hasRule(type)).map((t) => t.name)).toEqual([]);
  });

  test('a field without a rule is caught', () => {
    // The check must be able to fail: a plain field of a type without rules is reported.
    const withoutRule = fieldsOf(schema.getType('SessionsResult'));
    expect(withoutRule.length).toBeGreaterThan(0);
    expect(withoutRule.some((f) => hasRule(f))).toBe(false);
  });
});
