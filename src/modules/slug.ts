import { InvalidArgumentError } from '../graphql/errors.ts';

// Sentry's slug rule: lowercase letters, digits, '-' and '_', not only digits, at most 50.
const SLUG = /^(?![0-9]+$)[a-z0-9][a-z0-9_-]{0,49}$/;

export function isValidSlug(slug: string): boolean {
  return SLUG.test(slug);
}

export const SLUG_RULE =
  'a slug is 1 to 50 lowercase letters, digits, "-" or "_", starts with a letter or digit, and is not only digits';

/** Checks the slug and name of a new organization or project; the name comes back trimmed. */
export function parseSlugAndName(input: { slug: string; name: string }): {
  slug: string;
  name: string;
} {
  if (!isValidSlug(input.slug))
    throw new InvalidArgumentError('slug', `Invalid slug: ${SLUG_RULE}.`);
  const name = input.name.trim();
  if (name.length === 0 || name.length > 100) {
    throw new InvalidArgumentError('name', 'The name must have 1 to 100 characters.');
  }
  return { slug: input.slug, name };
}
