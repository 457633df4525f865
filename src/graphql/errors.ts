// Expected failures of mutations and argument checks. They reach clients as members of a result
// union (the Pothos errors plugin), never as top-level errors: see errors.schema.ts for the types.

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
