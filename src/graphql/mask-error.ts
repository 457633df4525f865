import { GraphQLError } from 'graphql';
import { createGraphQLError, maskError as yogaMaskError } from 'graphql-yoga';
import type { Logger } from 'pino';
import { z } from 'zod';
import { isDatabaseUnavailable, RETRY_AFTER_SECONDS } from '../db/unavailable.ts';
import { badUserInput, ForbiddenError, InvalidArgumentError } from './errors.ts';

/**
 * Turns the known causes of unexpected errors into clear codes, and hides everything else
 * behind "Unexpected error." with a log line that carries the request id.
 */
export function createMaskError(log: Logger, development: boolean) {
  return (error: unknown, message: string, isDev?: boolean): Error => {
    const original = (error as { originalError?: unknown }).originalError ?? error;
    if (original instanceof InvalidArgumentError) return badUserInput(original);
    // Outside mutations (whose unions carry ForbiddenError), a refused field is an error here.
    if (original instanceof ForbiddenError) {
      return createGraphQLError(original.message, { extensions: { code: 'FORBIDDEN' } });
    }
    if (original instanceof z.ZodError) {
      return createGraphQLError(z.prettifyError(original), {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    if (isDatabaseUnavailable(original)) {
      // Where it happened stays: a partial result names the fields it could not read.
      const at = error instanceof GraphQLError ? { nodes: error.nodes, path: error.path } : {};
      return createGraphQLError('The database is unavailable; try again.', {
        ...at,
        extensions: {
          code: 'SERVICE_UNAVAILABLE',
          http: { status: 503, headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } },
        },
      });
    }
    const masked = yogaMaskError(error, message, isDev ?? development);
    if (masked !== error) log.error({ err: original }, 'unexpected error in a GraphQL operation');
    return masked;
  };
}
