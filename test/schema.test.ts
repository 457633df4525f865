import { printSchema } from 'graphql';
import { expect, test } from 'vitest';
import { schema } from '../src/graphql/schema.ts';

// With CI=true vitest never writes snapshots: a schema.graphql that lags the code fails here.
// Locally `npm run schema` (or `vitest -u`) rewrites it.
test('schema.graphql is the schema the code builds', async () => {
  await expect(`${printSchema(schema)}\n`).toMatchFileSnapshot('../schema.graphql');
});
