import { z } from 'zod';

/** Blank strings count as unset, as a blank `FOO=` line in a shell or .env file means "not given". */
const optional = <T extends z.ZodType>(schema: T) =>
  // Whitespace too: z.coerce.number() reads '  ' as 0, so `PORT= ` would listen on a random port.
  z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    schema.optional(),
  );

const envSchema = z.object({
  DATABASE_URL: optional(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
      .describe('PostgreSQL server to use; without it Vigil runs on embedded PGlite'),
  ),
  VIGIL_DATA_DIR: optional(
    z.string().describe('Where embedded PGlite keeps its files (ignored with DATABASE_URL)'),
  ),
  PORT: optional(z.coerce.number().int().min(0).max(65535).describe('HTTP port')),
  HOST: optional(z.string().describe('Address to listen on')),
  VIGIL_PUBLIC_URL: optional(
    z.url({ protocol: /^https?$/ }).describe('Base URL that SDKs reach Vigil at, used in DSNs'),
  ),
  VIGIL_ADMIN_TOKEN: optional(
    z.string().min(16, 'must be at least 16 characters').describe('Bearer token for GraphQL'),
  ),
  LOG_LEVEL: optional(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).describe('Log level'),
  ),
  VIGIL_MAX_ENVELOPE_BYTES: optional(
    z.coerce.number().int().positive().describe('Largest accepted envelope, after decompression'),
  ),
  VIGIL_RATE_LIMIT_PER_MINUTE: optional(
    z.coerce
      .number()
      .int()
      .nonnegative()
      .describe('Envelopes per project key per minute before 429; 0 disables'),
  ),
  VIGIL_CORS_ORIGINS: optional(
    z
      .string()
      .transform((list) =>
        list
          .split(',')
          .map((origin) => origin.trim().replace(/\/+$/, ''))
          .filter((origin) => origin !== ''),
      )
      .superRefine((origins, ctx) => {
        for (const origin of origins.filter((o) => !isOrigin(o))) {
          ctx.addIssue({
            code: 'custom',
            message: `${JSON.stringify(origin)} is not an origin such as https://app.example.com`,
          });
        }
      })
      .describe(
        'Comma-separated origins whose pages may call GraphQL from a browser (CORS, never with credentials); none by default',
      ),
  ),
  VIGIL_GRAPHQL_RATE_LIMIT_PER_MINUTE: optional(
    z.coerce
      .number()
      .int()
      .nonnegative()
      .describe('GraphQL requests per API token per minute before 429; 0 disables'),
  ),
  VIGIL_RESPONSE_CACHE_ENTRIES: optional(
    z.coerce
      .number()
      .int()
      .nonnegative()
      .describe('GraphQL answers each process keeps in memory (docs/design.md); 0 disables'),
  ),
  NODE_ENV: optional(z.string()),
});

/** `scheme://host[:port]` and nothing more, as browsers send it in `Origin`. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return /^https?:$/.test(url.protocol) && url.origin === value;
  } catch {
    return false;
  }
}

export interface Config {
  /** `undefined` selects embedded PGlite. */
  databaseUrl: string | undefined;
  /** @default './.vigil' */
  dataDir: string;
  /** @default 4000 */
  port: number;
  /** @default '127.0.0.1' */
  host: string;
  /** @default `http://<host>:<port>` */
  publicUrl: string | undefined;
  adminToken: string | undefined;
  /** @default 'info' */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** @default 100 MiB, Relay's cap on a decompressed envelope (spec §2.5) */
  maxEnvelopeBytes: number;
  /** @default 6000 */
  rateLimitPerMinute: number;
  /** Origins allowed to call GraphQL from a browser. @default [] (none) */
  corsOrigins: string[];
  /** @default 600 */
  graphqlRateLimitPerMinute: number;
  /** Cached GraphQL answers per process; 0 turns the response cache off. @default 1000 */
  responseCacheEntries: number;
  /** Shows error details in GraphQL responses; only when NODE_ENV=development. */
  development: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates Vigil's settings; reports every problem at once. Pure: pass `env` in tests. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    );
  }
  const e = parsed.data;
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: e.VIGIL_DATA_DIR ?? './.vigil',
    port: e.PORT ?? 4000,
    host: e.HOST ?? '127.0.0.1',
    publicUrl: e.VIGIL_PUBLIC_URL?.replace(/\/+$/, ''),
    adminToken: e.VIGIL_ADMIN_TOKEN,
    logLevel: e.LOG_LEVEL ?? 'info',
    maxEnvelopeBytes: e.VIGIL_MAX_ENVELOPE_BYTES ?? 100 * 1024 * 1024,
    rateLimitPerMinute: e.VIGIL_RATE_LIMIT_PER_MINUTE ?? 6000,
    corsOrigins: e.VIGIL_CORS_ORIGINS ?? [],
    graphqlRateLimitPerMinute: e.VIGIL_GRAPHQL_RATE_LIMIT_PER_MINUTE ?? 600,
    responseCacheEntries: e.VIGIL_RESPONSE_CACHE_ENTRIES ?? 1000,
    development: e.NODE_ENV === 'development',
  };
}
