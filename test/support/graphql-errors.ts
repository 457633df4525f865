import { expect } from 'vitest';
import type { GraphQLResult } from './server.ts';

/**
 * The one error of a query field's bad argument: asserts it is BAD_USER_INPUT (the rule of
 * docs/design.md, GraphQL) and returns the argument it names and the message.
 */
export function badUserInput(result: GraphQLResult<unknown>): { field: unknown; message: string } {
  expect(result.errors, JSON.stringify(result)).toHaveLength(1);
  const [error] = result.errors ?? [];
  expect(error?.extensions?.code, JSON.stringify(error)).toBe('BAD_USER_INPUT');
  return { field: error?.extensions?.field, message: error?.message ?? '' };
}
