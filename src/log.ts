import { pino } from 'pino';
import type { Config } from './config.ts';

/** JSON lines on stdout; one logger per process, children per request. */
export function createLogger(level: Config['logLevel']) {
  return pino({ level, base: undefined });
}
