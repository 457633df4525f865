import { builder } from './builder.ts';
import {
  BaseError,
  ForbiddenError,
  InvalidArgumentError,
  NotFoundError,
  SlugTakenError,
} from './errors.ts';

export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  description: 'An expected failure: the operation did nothing, and `message` says why.',
  fields: (t) => ({ message: t.exposeString('message') }),
});

builder.objectType(BaseError, {
  name: 'BaseError',
  interfaces: [ErrorInterface],
});

builder.objectType(InvalidArgumentError, {
  name: 'InvalidArgumentError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    field: t.exposeString('field', { description: 'The argument or input field at fault.' }),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ resource: t.exposeString('resource') }),
});

builder.objectType(SlugTakenError, {
  name: 'SlugTakenError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ slug: t.exposeString('slug') }),
});

builder.objectType(ForbiddenError, {
  name: 'ForbiddenError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ code: t.exposeString('code', { description: 'Always FORBIDDEN.' }) }),
});
