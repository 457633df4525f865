import { createGraphQLError, maskError as yogaMaskError } from 'graphql-yoga';
import type { Logger } from 'pino';
import { z } from 'zod';
import { badUserInput, InvalidArgumentError } from './errors.ts';

/**
 * Turns the known causes of unexpected errors into clear codes, and hides everything else
 * behind "Unexpected error." with a log line that carries the request id.
 */
export function createMaskError(log: Logger, development: boolean) {
  return (error: unknown, message: string, isDev?: boolean): Error => {
    const original = (error as { originalError?: unknown }).originalError ?? error;
    if (original instanceof InvalidArgumentError) return badUserInput(original);
    if (original instanceof z.ZodError) {
      return createGraphQLError(z.prettifyError(original), {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    if (isPrismaKnownError(original) && original.code === 'P2024') {
      return createGraphQLError('The database is busy; try again.', {
        extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503 } },
      });
    }
    const masked = yogaMaskError(error, message, isDev ?? development);
    if (masked !== error) log.error({ err: original }, 'unexpected error in a GraphQL operation');
    return masked;
  };
}

function isPrismaKnownError(error: unknown): error is { code: string } {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    (error as { name?: unknown }).name === 'PrismaClientKnownRequestError'
  );
}
