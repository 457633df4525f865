import { describe, expect, test } from 'vitest';
import { formatLogLine } from '../src/log.ts';

describe('readable log lines (stdout is a terminal)', () => {
  const time = new Date(2026, 11, 2, 12, 3, 4).getTime();

  test('level, local time, message and the other fields as key=value', () => {
    const line = JSON.stringify({ level: 40, time, msg: 'slow', requestId: 'r1', ms: 812 });
    expect(formatLogLine(line)).toBe('12:03:04 WARN  slow requestId=r1 ms=812\n');
  });

  test("an error's stack goes on the lines below, indented", () => {
    const err = { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x (a.ts:1:1)' };
    const line = JSON.stringify({ level: 50, time, msg: 'pruning failed', err });
    expect(formatLogLine(line)).toBe(
      '12:03:04 ERROR pruning failed\n  Error: boom\n      at x (a.ts:1:1)\n',
    );
  });

  test('objects stay JSON and a level pino does not name is printed as its number', () => {
    const line = JSON.stringify({ level: 35, time, msg: 'odd', signal: { name: 'SIGTERM' } });
    expect(formatLogLine(line)).toBe('12:03:04 35 odd signal={"name":"SIGTERM"}\n');
  });
});
