import { expect } from 'vitest';
import { ADMIN_TOKEN, type GraphQLResult, type TestServer } from './server.ts';

// The one way tests read GraphQL: expectData for a query that must succeed, expectErrors for one
// that must fail. Either failure prints the query, its variables and the whole response (as the
// Hive console's test helpers do), so a red test says what was asked and what came back.

type Variables = Record<string, unknown>;

export interface GqlOptions {
  /** @default ADMIN_TOKEN; null sends no Authorization header. */
  token?: string | null;
}

function explain(query: string, variables: Variables | undefined, result: unknown): string {
  return `query:\n${query.trim()}\nvariables: ${JSON.stringify(variables ?? {})}\nresponse: ${JSON.stringify(result, null, 2)}`;
}

/** Runs `query`; fails, printing the query and the response, when it has errors or no data. */
export async function expectData<Data = Record<string, unknown>>(
  server: TestServer,
  query: string,
  variables?: Variables,
  { token = ADMIN_TOKEN }: GqlOptions = {},
): Promise<Data> {
  const result: GraphQLResult<Data> = await server.gql<Data>(query, variables, { token });
  const why = explain(query, variables, result);
  expect(result.errors, why).toBeUndefined();
  expect(result.data, why).toBeDefined();
  return result.data as Data;
}

export interface GqlError {
  message: string;
  extensions?: Record<string, unknown>;
}

/**
 * Runs `query`; fails, printing the query and the response, unless it answered errors.
 * @returns the errors, the HTTP status and the data beside them (null fields), for assertions.
 */
export async function expectErrors<Data = Record<string, unknown>>(
  server: TestServer,
  query: string,
  variables?: Variables,
  { token = ADMIN_TOKEN }: GqlOptions = {},
): Promise<{ errors: GqlError[]; status: number; data: Data | undefined; why: string }> {
  const result: GraphQLResult<Data> = await server.gql<Data>(query, variables, { token });
  const why = explain(query, variables, result);
  expect(result.errors?.length ?? 0, why).toBeGreaterThan(0);
  return { errors: result.errors ?? [], status: result.status, data: result.data, why };
}

/**
 * The one error of a query field's bad argument: asserts it is BAD_USER_INPUT (the rule of
 * docs/design.md, GraphQL) and returns the argument it names and the message.
 */
export async function expectBadUserInput(
  server: TestServer,
  query: string,
  variables?: Variables,
  options?: GqlOptions,
): Promise<{ field: unknown; message: string }> {
  const { errors, why } = await expectErrors(server, query, variables, options);
  expect(errors, why).toHaveLength(1);
  const [error] = errors;
  expect(error?.extensions?.code, why).toBe('BAD_USER_INPUT');
  return { field: error?.extensions?.field, message: error?.message ?? '' };
}
