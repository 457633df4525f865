import { createGraphQLError } from 'graphql-yoga';

// Expected failures. One rule (docs/design.md, GraphQL): a mutation returns them as members of its
// result union (the Pothos errors plugin, errors.schema.ts); a query field returns its own type and
// a bad argument there is a GraphQL error with code BAD_USER_INPUT (`badUserInput`).

export class BaseError extends Error {
  override name = 'BaseError';
}

/** An argument is malformed or out of range; `field` names it, as in the input. */
export class InvalidArgumentError extends BaseError {
  override name = 'InvalidArgumentError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A bad argument of a query field as clients see it: `extensions.code` is BAD_USER_INPUT and
 * `extensions.field` names the argument. Query resolvers throw InvalidArgumentError; masking turns
 * it into this (mask-error.ts), so validation code needs no GraphQL import.
 */
export function badUserInput(error: InvalidArgumentError) {
  return createGraphQLError(error.message, {
    extensions: { code: 'BAD_USER_INPUT', field: error.field },
  });
}

export class NotFoundError extends BaseError {
  override name = 'NotFoundError';
  constructor(
    readonly resource: string,
    message: string,
  ) {
    super(message);
  }
}

export class SlugTakenError extends BaseError {
  override name = 'SlugTakenError';
  constructor(readonly slug: string) {
    super(`The slug "${slug}" is already taken.`);
  }
}

/**
 * The token may not do this. Said the same way whether or not the target exists, so that a
 * token learns nothing about other organizations.
 */
export class ForbiddenError extends BaseError {
  override name = 'ForbiddenError';
  readonly code = 'FORBIDDEN';
  constructor() {
    super('This token is not allowed to do that.');
  }
}
