import { expect } from 'vitest';
import { test } from '../support/fixtures.ts';

// Documents built to exhaust the server are refused before any resolver runs.

test('refuses a document nested deeper than the limit', async ({ server }) => {
  const deep = `{ organizations { ${'projects { organization { '.repeat(8)}slug${' } }'.repeat(8)} } }`;
  const result = await server.gql(deep);
  expect(result.data).toBeUndefined();
  expect(result.errors?.[0]?.message).toMatch(/depth/i);
});

test('refuses a flood of aliases', async ({ server }) => {
  const aliases = Array.from({ length: 40 }, (_, i) => `a${i}: organizations { slug }`).join(' ');
  const result = await server.gql(`{ ${aliases} }`);
  expect(result.data).toBeUndefined();
  expect(result.errors?.[0]?.message).toMatch(/alias/i);
});

test('still answers an ordinary query', async ({ server }) => {
  const result = await server.gql('{ organizations { slug } }');
  expect(result.errors).toBeUndefined();
  expect(result.data).toEqual({ organizations: [{ slug: 'default' }] });
});
