import { describe, expect, test } from 'vitest';
import { resolveRange } from '../../src/graphql/time-range.ts';
import {
  floorTo,
  isStatsPeriod,
  MAX_INTERVALS,
  parseDuration,
  STATS_PERIODS,
  type StatsPeriod,
  toIntervals,
  tooManyIntervals,
  validateInterval,
} from '../../src/health/time-window.ts';
import { resolveSessionsSpec } from '../../src/modules/sessions/sessions-args.ts';

const at = (iso: string) => new Date(iso);
/** Where the API starts a stats period ending at `now` (the field arguments' own rule). */
const periodStart = (period: StatsPeriod, now: Date) => resolveRange({ period }, now).start;
const isoList = (dates: Date[]) => dates.map((d) => d.toISOString());
const HOUR = 3600;
const DAY = 86_400;

describe('stats periods (sentry-reference.md §3.4.3)', () => {
  test.each<[StatsPeriod, number, number]>([
    ['1h', HOUR, 1],
    ['24h', HOUR, 24],
    ['1d', HOUR, 24],
    ['48h', HOUR, 48],
    ['2d', HOUR, 48],
    ['7d', DAY, 7],
    ['14d', DAY, 14],
    ['30d', DAY, 30],
    ['90d', 3 * DAY, 30],
  ])('%s has %i-second buckets, %i of them, ending now', (period, rollup, buckets) => {
    const now = at('2024-05-10T12:27:28.303Z');
    expect(STATS_PERIODS[period]).toEqual({ rollupSeconds: rollup, buckets });
    expect(now.getTime() - periodStart(period, now).getTime()).toBe(rollup * buckets * 1000);
  });

  test.each([
    ['24h', true],
    ['90d', true],
    ['3d', false],
    ['', false],
    ['toString', false],
  ])('isStatsPeriod(%j) is %s', (text, expected) => {
    expect(isStatsPeriod(text)).toBe(expected);
  });
});

describe('parseDuration', () => {
  test.each([
    ['10s', 10],
    ['1m', 60],
    ['30m', 1800],
    ['1h', HOUR],
    ['6h', 6 * HOUR],
    ['1d', DAY],
    ['14d', 14 * DAY],
    ['2w', 14 * DAY],
    ['90', 90],
    ['0s', 0],
  ])('reads %j as %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  test.each([
    '',
    'h',
    '1.5h',
    '-1h',
    '+1h',
    ' 1h',
    '1h ',
    '1H',
    '1y',
    '1hh',
    '1h30m',
    '99999999999999999999d',
  ])('rejects the malformed duration %j', (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});

describe('validateInterval (sentry-reference.md §5.3 step 1)', () => {
  const notMultiple = 'The interval has to be a multiple of the minimum interval of ten seconds.';
  const overDay = 'The interval has to be less than one day.';
  const notDividing = 'The interval should divide one day without a remainder.';

  test.each([10, 60, 600, HOUR, 5400, 6 * HOUR, 12 * HOUR, DAY])('accepts %i seconds', (s) => {
    expect(validateInterval(s)).toBeNull();
  });

  test.each([
    { name: '9s', seconds: 9, message: notMultiple },
    { name: '0s', seconds: 0, message: notMultiple },
    { name: '15s', seconds: 15, message: notMultiple },
    { name: 'a negative interval', seconds: -60, message: notMultiple },
    { name: 'NaN', seconds: Number.NaN, message: notMultiple },
    { name: '2d', seconds: 2 * DAY, message: overDay },
    { name: '59m', seconds: 59 * 60, message: notDividing },
    { name: '5h', seconds: 5 * HOUR, message: notDividing },
  ])('rejects $name with Sentry’s message', ({ seconds, message }) => {
    expect(validateInterval(seconds)).toBe(message);
  });
});

describe('toIntervals (sentry-reference.md §5.3 step 3, fixture D)', () => {
  const mock = at('2024-05-10T12:27:28.303Z');
  const later = at('2024-05-10T12:37:28.303Z');

  test('D-1: 1d period at 1d interval spans two whole days', () => {
    const r = toIntervals(periodStart('1d', mock), mock, DAY);
    expect(r.start).toEqual(at('2024-05-09T00:00:00Z'));
    expect(r.end).toEqual(at('2024-05-11T00:00:00Z'));
    expect(isoList(r.intervals)).toEqual(['2024-05-09T00:00:00.000Z', '2024-05-10T00:00:00.000Z']);
  });

  test('D-2: 1d period at 6h interval gives five intervals ending 18:00', () => {
    const r = toIntervals(periodStart('1d', mock), mock, 6 * HOUR);
    expect(isoList(r.intervals)).toEqual([
      '2024-05-09T12:00:00.000Z',
      '2024-05-09T18:00:00.000Z',
      '2024-05-10T00:00:00.000Z',
      '2024-05-10T06:00:00.000Z',
      '2024-05-10T12:00:00.000Z',
    ]);
    expect(r.end).toEqual(at('2024-05-10T18:00:00Z'));
  });

  test('D-3: 30m period at 10m interval gives four intervals from 12:00', () => {
    const r = toIntervals(new Date(later.getTime() - 30 * 60_000), later, 600);
    expect(isoList(r.intervals)).toEqual([
      '2024-05-10T12:00:00.000Z',
      '2024-05-10T12:10:00.000Z',
      '2024-05-10T12:20:00.000Z',
      '2024-05-10T12:30:00.000Z',
    ]);
  });

  test('D-4: 1m period at 10s interval gives seven intervals', () => {
    const r = toIntervals(new Date(later.getTime() - 60_000), later, 10);
    expect(r.intervals).toHaveLength(7);
    expect(r.start).toEqual(at('2024-05-10T12:36:20Z'));
  });

  test('treats the end as exclusive: an aligned day at 1h has 24 intervals, not 25', () => {
    const r = toIntervals(at('2024-05-10T00:00:00Z'), at('2024-05-11T00:00:00Z'), HOUR);
    expect(r.intervals).toHaveLength(24);
    expect(r.end).toEqual(at('2024-05-11T00:00:00Z'));
  });

  test('gives no intervals when the end is not after the aligned start', () => {
    const r = toIntervals(at('2024-05-10T10:00:00Z'), at('2024-05-10T09:00:00Z'), HOUR);
    expect(r).toEqual({
      start: at('2024-05-10T10:00:00Z'),
      end: at('2024-05-10T10:00:00Z'),
      intervals: [],
    });
  });

  test.each([0, -10, 1.5, Number.NaN])('refuses the interval %s', (seconds) => {
    expect(() => toIntervals(mock, mock, seconds)).toThrow(RangeError);
  });
});

describe('interval and group limits', () => {
  const tooMany =
    'Your interval and date range would create too many results. ' +
    'Use a larger interval, or a smaller date range.';
  const now = at('2024-05-10T12:27:28.303Z');

  test.each([
    { name: '90d at 1h (D-22: the default period with 1h)', period: '90d', interval: HOUR },
    { name: '90d at 10s', period: '90d', interval: 10 },
  ] as const)('refuses $name', ({ period, interval }) => {
    expect(tooManyIntervals(periodStart(period, now), now, interval)).toBe(tooMany);
  });

  test('accepts 90d at 1d', () => {
    expect(tooManyIntervals(periodStart('90d', now), now, DAY)).toBeNull();
  });

  test('allows exactly MAX_INTERVALS intervals and refuses one more', () => {
    const start = at('2024-01-01T00:00:00Z');
    const end = new Date(start.getTime() + MAX_INTERVALS * HOUR * 1000);
    expect(tooManyIntervals(start, end, HOUR)).toBeNull();
    expect(tooManyIntervals(start, new Date(end.getTime() + 1), HOUR)).toBe(tooMany);
  });

  test.each([
    [1, 10_000],
    [24, 416],
    [1000, 10],
  ])(
    'with %i intervals of series selected, a page holds at most %i groups by default',
    (intervals, groups) => {
      const start = at('2024-05-10T00:00:00Z');
      const end = new Date(start.getTime() + intervals * HOUR * 1000);
      const selection = { totals: new Set(['sessions']), series: new Set(['sessions']) };
      const spec = resolveSessionsSpec({ start, end, interval: '1h' }, selection, now);
      expect(spec.intervals).toHaveLength(intervals);
      expect(spec.limit).toBe(groups);
    },
  );

  test('without a series selected, intervals do not count: 10 000 groups', () => {
    const selection = { totals: new Set(['sessions']), series: new Set<string>() };
    const spec = resolveSessionsSpec({ period: '90d', interval: '1d' }, selection, now);
    expect(spec.limit).toBe(10_000);
  });
});

describe('floorTo', () => {
  test.each([
    ['2024-05-10T10:40:12.500Z', HOUR, '2024-05-10T10:00:00.000Z'],
    ['2024-05-10T10:40:12.500Z', DAY, '2024-05-10T00:00:00.000Z'],
    ['2024-05-10T10:40:12.500Z', 10, '2024-05-10T10:40:10.000Z'],
    ['2024-05-10T10:00:00.000Z', HOUR, '2024-05-10T10:00:00.000Z'],
    ['1969-12-31T23:59:59.500Z', 1, '1969-12-31T23:59:59.000Z'],
  ])('floors %s to %i seconds in UTC as %s', (iso, seconds, expected) => {
    expect(floorTo(at(iso), seconds).toISOString()).toBe(expected);
  });
});
