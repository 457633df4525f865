import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

const VARIABLES = [
  'DATABASE_URL',
  'VIGIL_DATA_DIR',
  'PORT',
  'HOST',
  'VIGIL_PUBLIC_URL',
  'VIGIL_ADMIN_TOKEN',
  'LOG_LEVEL',
  'VIGIL_MAX_ENVELOPE_BYTES',
  'VIGIL_RATE_LIMIT_PER_MINUTE',
  'VIGIL_CORS_ORIGINS',
  'VIGIL_GRAPHQL_RATE_LIMIT_PER_MINUTE',
  'VIGIL_RESPONSE_CACHE_ENTRIES',
  'NODE_ENV',
];

/** The problems loadConfig reports for `env`; fails the test when it accepts it. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  test('runs on embedded PGlite in ./.vigil on 127.0.0.1:4000 when nothing is set', () => {
    // Variables that are not Vigil's (PATH and the like) are ignored.
    expect(loadConfig({ PATH: '/usr/bin', HOME: '/root' })).toEqual({
      databaseUrl: undefined,
      dataDir: './.vigil',
      port: 4000,
      host: '127.0.0.1',
      publicUrl: undefined,
      adminToken: undefined,
      logLevel: 'info',
      maxEnvelopeBytes: 100 * 1024 * 1024,
      rateLimitPerMinute: 6000,
      corsOrigins: [],
      graphqlRateLimitPerMinute: 600,
      responseCacheEntries: 1000,
      development: false,
    });
  });

  test('treats empty and blank values as unset, so the defaults apply', () => {
    expect(loadConfig(Object.fromEntries(VARIABLES.map((name) => [name, ''])))).toEqual(
      loadConfig({}),
    );
    expect(loadConfig(Object.fromEntries(VARIABLES.map((name) => [name, '  '])))).toEqual(
      loadConfig({}),
    );
  });

  test('reads every variable, coercing numbers from their text', () => {
    expect(
      loadConfig({
        DATABASE_URL: 'postgresql://vigil@db.internal:5432/vigil',
        VIGIL_DATA_DIR: '/var/lib/vigil',
        PORT: '8080',
        HOST: '0.0.0.0',
        VIGIL_PUBLIC_URL: 'https://vigil.example.com/base/',
        VIGIL_ADMIN_TOKEN: 'a-token-of-sixteen+',
        LOG_LEVEL: 'debug',
        VIGIL_MAX_ENVELOPE_BYTES: '1048576',
        VIGIL_RATE_LIMIT_PER_MINUTE: '0',
        VIGIL_CORS_ORIGINS: 'https://app.example.com, http://localhost:3000/',
        VIGIL_GRAPHQL_RATE_LIMIT_PER_MINUTE: '120',
        VIGIL_RESPONSE_CACHE_ENTRIES: '0',
        NODE_ENV: 'development',
      }),
    ).toEqual({
      databaseUrl: 'postgresql://vigil@db.internal:5432/vigil',
      dataDir: '/var/lib/vigil',
      port: 8080,
      host: '0.0.0.0',
      publicUrl: 'https://vigil.example.com/base',
      adminToken: 'a-token-of-sixteen+',
      logLevel: 'debug',
      maxEnvelopeBytes: 1_048_576,
      rateLimitPerMinute: 0,
      corsOrigins: ['https://app.example.com', 'http://localhost:3000'],
      graphqlRateLimitPerMinute: 120,
      responseCacheEntries: 0,
      development: true,
    });
    expect(loadConfig({ DATABASE_URL: 'postgres://localhost/vigil' }).databaseUrl).toBe(
      'postgres://localhost/vigil',
    );
  });

  test('reports every bad value at once, each naming its variable', () => {
    let caught: unknown;
    try {
      loadConfig({
        DATABASE_URL: 'mysql://localhost/vigil',
        PORT: 'abc',
        LOG_LEVEL: 'loud',
        VIGIL_ADMIN_TOKEN: 'short',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const { problems, message } = caught as ConfigError;
    expect(problems).toMatchInlineSnapshot(`
      [
        "DATABASE_URL: must be a postgresql:// URL",
        "PORT: Invalid input: expected number, received NaN",
        "VIGIL_ADMIN_TOKEN: must be at least 16 characters",
        "LOG_LEVEL: Invalid option: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent"",
      ]
    `);
    // The message main.ts prints lists them all, one a line.
    for (const problem of problems) expect(message).toContain(`\n  - ${problem}`);
  });

  test.each([
    ['PORT', '70000', /^PORT: Too big/],
    ['PORT', '-1', /^PORT: Too small/],
    ['PORT', '80.5', /^PORT: .*expected int/],
    ['VIGIL_PUBLIC_URL', 'ftp://vigil.example.com', /^VIGIL_PUBLIC_URL: Invalid URL/],
    ['VIGIL_PUBLIC_URL', 'vigil.example.com', /^VIGIL_PUBLIC_URL: Invalid URL/],
    ['VIGIL_MAX_ENVELOPE_BYTES', '0', /^VIGIL_MAX_ENVELOPE_BYTES: Too small/],
    ['VIGIL_RATE_LIMIT_PER_MINUTE', '-5', /^VIGIL_RATE_LIMIT_PER_MINUTE: Too small/],
    ['VIGIL_RATE_LIMIT_PER_MINUTE', 'many', /^VIGIL_RATE_LIMIT_PER_MINUTE: .*NaN/],
    ['VIGIL_CORS_ORIGINS', '*', /^VIGIL_CORS_ORIGINS: "\*" is not an origin/],
    [
      'VIGIL_CORS_ORIGINS',
      'https://app.example.com,https://app.example.com/path',
      /^VIGIL_CORS_ORIGINS: "https:\/\/app.example.com\/path" is not an origin/,
    ],
    ['VIGIL_GRAPHQL_RATE_LIMIT_PER_MINUTE', '1.5', /^VIGIL_GRAPHQL_RATE_LIMIT_PER_MINUTE: .*int/],
    ['VIGIL_RESPONSE_CACHE_ENTRIES', '-1', /^VIGIL_RESPONSE_CACHE_ENTRIES: Too small/],
    ['VIGIL_RESPONSE_CACHE_ENTRIES', 'lots', /^VIGIL_RESPONSE_CACHE_ENTRIES: .*NaN/],
  ])('rejects %s=%s', (name, value, expected) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(expected);
  });
});
