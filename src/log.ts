import { type DestinationStream, pino } from 'pino';
import type { Config } from './config.ts';

/**
 * One logger per process, children per request. JSON lines on stdout for machines; with
 * `pretty` (main.ts sets it when stdout is a terminal) one readable line per entry instead, so
 * that a person starting Vigil does not read JSON next to the banner.
 */
export function createLogger(level: Config['logLevel'], options: { pretty?: boolean } = {}) {
  return pino(
    { level, base: undefined },
    options.pretty ? readableLines(process.stdout) : undefined,
  );
}

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};

/** `12:03:04 WARN  message key=value …`, with an error's stack on the lines below. */
export function formatLogLine(json: string): string {
  const { level, time, msg, err, ...fields } = JSON.parse(json) as Record<string, unknown>;
  const clock = new Date(Number(time)).toTimeString().slice(0, 8);
  const extra = Object.entries(fields)
    .map(([key, value]) => ` ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('');
  const stack = (err as { stack?: unknown } | undefined)?.stack;
  const trace = typeof stack === 'string' ? `\n  ${stack.replaceAll('\n', '\n  ')}` : '';
  return `${clock} ${LEVELS[Number(level)] ?? level} ${msg ?? ''}${extra}${trace}\n`;
}

function readableLines(out: NodeJS.WritableStream): DestinationStream {
  return { write: (line: string) => void out.write(formatLogLine(line)) };
}
