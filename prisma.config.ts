import { defineConfig } from 'prisma/config';

// Prisma 7 reads the schema and migrations paths from here. Vigil applies the migrations itself
// (src/db/migrate.ts), so no datasource URL is needed to generate the client.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
