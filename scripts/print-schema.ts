import { writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { schema } from '../src/graphql/schema.ts';

// `npm run schema`: rewrites schema.graphql, the committed SDL that test/schema.test.ts guards.
writeFileSync(new URL('../schema.graphql', import.meta.url), `${printSchema(schema)}\n`);
