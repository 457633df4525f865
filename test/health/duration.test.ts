import { describe, expect, test } from 'vitest';
import {
  type DurationCount,
  max,
  mean,
  percentile,
  representativeDuration,
} from '../../src/health/duration.ts';

const each = (values: number[]): DurationCount[] => values.map((value) => ({ value, count: 1 }));
// sentry-reference.md §7 L (fixture D's exited durations, seconds)
const L = [25, 25, 25, 30, 37, 49, 68, 80];

describe('percentile (linear interpolation at (n − 1)·q)', () => {
  test.each([
    [0.5, 33.5],
    [0.75, 53.75],
    [0.9, 71.6],
    [0.95, 75.8],
    [0.99, 79.16],
    [1, 80],
    [0, 25],
  ])('L: q = %f is %f seconds', (q, expected) => {
    expect(percentile(each(L), q)).toBeCloseTo(expected, 10);
  });

  test.each([
    [0.5, 33500],
    [0.75, 53750],
    [0.9, 71600],
    [0.95, 75800],
    [0.99, 79159.99999999999],
  ])('D-18: q = %f in milliseconds is exactly Sentry’s %f', (q, expected) => {
    expect(percentile(each(L.map((s) => s * 1000)), q)).toBe(expected);
  });

  test.each([
    { name: 'A-3 [30, 60] p50', values: [30, 60], q: 0.5, expected: 45 },
    { name: 'A-3 [30, 60] p90', values: [30, 60], q: 0.9, expected: 57 },
    { name: 'D-19 [68, 80] s p95 in ms', values: [68_000, 80_000], q: 0.95, expected: 79_400 },
    { name: 'B [60] p50', values: [60], q: 0.5, expected: 60 },
    { name: 'B [60] p90', values: [60], q: 0.9, expected: 60 },
  ])('$name is $expected', ({ values, q, expected }) => {
    expect(percentile(each(values), q)).toBe(expected);
  });

  test('walks counts as if every value were repeated, in any input order', () => {
    const grouped = [
      { value: 80, count: 1 },
      { value: 25, count: 3 },
      { value: 49, count: 1 },
      { value: 30, count: 1 },
      { value: 68, count: 1 },
      { value: 37, count: 1 },
      { value: 99, count: 0 },
    ];
    for (const q of [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1]) {
      expect(percentile(grouped, q)).toBe(percentile(each(L), q));
    }
  });

  test('interpolates inside a repeated value as that value', () => {
    expect(percentile([{ value: 7, count: 5 }], 0.37)).toBe(7);
  });

  test.each([
    ['no values', []],
    ['only zero counts', [{ value: 10, count: 0 }]],
  ])('is null with %s', (_name, values) => {
    expect(percentile(values, 0.5)).toBeNull();
  });

  test.each([-0.1, 1.5, Number.NaN])('refuses the quantile %f', (q) => {
    expect(() => percentile(each(L), q)).toThrow(RangeError);
  });
});

describe('mean and max', () => {
  test('L: average 42.375, maximum 80', () => {
    expect(mean(each(L))).toBe(42.375);
    expect(max(each(L))).toBe(80);
  });

  test('weight each value by its count and ignore zero counts', () => {
    const values = [
      { value: 10, count: 3 },
      { value: 50, count: 1 },
      { value: 900, count: 0 },
    ];
    expect(mean(values)).toBe(20);
    expect(max(values)).toBe(50);
  });

  test('are null when there is no duration', () => {
    expect(mean([])).toBeNull();
    expect(max([{ value: 5, count: 0 }])).toBeNull();
  });
});

describe('representativeDuration', () => {
  test.each([
    [0, 0],
    [1, 1],
    [59, 59],
    [999, 999],
    [12.345, 12.3],
    [1234, 1230],
    [86_399, 86_400],
    [0.0012345, 0.00123],
  ])('stores %f seconds as %f', (seconds, stored) => {
    expect(representativeDuration(seconds)).toBe(stored);
  });

  test('keeps every whole second below 1000 exactly', () => {
    for (let s = 0; s < 1000; s++) expect(representativeDuration(s)).toBe(s);
  });

  test('stays within 0.5 % of the duration', () => {
    for (let s = 0.001; s < 1e7; s *= 1.037) {
      const stored = representativeDuration(s) ?? Number.NaN;
      expect(Math.abs(stored - s) / s).toBeLessThanOrEqual(0.005);
    }
  });

  test.each([-1, -0.001, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])(
    'ignores the unusable duration %f',
    (seconds) => {
      expect(representativeDuration(seconds)).toBeNull();
    },
  );
});
