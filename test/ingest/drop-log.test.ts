import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { createDropLog } from '../../src/ingest/outcome-recorder.ts';

// Dropped items are logged: each reason at debug, and a summary per project at info at most once
// a minute, only when something was dropped. Fake timers stand in for the minute.

function recordingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  // pino writes synchronously to a plain Writable: lines are there when the call returns.
  return { log: pino({ level: 'debug', base: undefined, timestamp: false }, stream), lines };
}

const summaries = (lines: Array<Record<string, unknown>>) =>
  lines.filter((l) => l.level === 30).map(({ projectId, dropped }) => ({ projectId, dropped }));

describe('createDropLog', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  test('logs each reason at debug, and one summary per project a minute after its first drop', () => {
    const { log, lines } = recordingLogger();
    const logDrops = createDropLog(log);

    logDrops(1, new Map([['too_old', 2]]));
    logDrops(1, new Map([['invalid_status', 1]]));
    logDrops(2, new Map([['too_old', 1]]));
    logDrops(3, new Map());

    expect(
      lines
        .filter((l) => l.level === 20)
        .map(({ projectId, reason, items }) => [projectId, reason, items]),
    ).toEqual([
      [1, 'too_old', 2],
      [1, 'invalid_status', 1],
      [2, 'too_old', 1],
    ]);
    vi.advanceTimersByTime(59_999);
    expect(summaries(lines)).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(summaries(lines)).toEqual([
      { projectId: 1, dropped: { too_old: 2, invalid_status: 1 } },
      { projectId: 2, dropped: { too_old: 1 } },
    ]);

    // Nothing dropped since: no more summaries. A new drop starts a new minute.
    vi.advanceTimersByTime(120_000);
    expect(summaries(lines)).toHaveLength(2);
    logDrops(1, new Map([['invalid_json', 1]]));
    vi.advanceTimersByTime(60_000);
    expect(summaries(lines).at(-1)).toEqual({ projectId: 1, dropped: { invalid_json: 1 } });
  });
});
