import { describe, expect, test } from 'vitest';
import {
  type AdoptionState,
  adoptionPercent,
  isAdopted,
  nextAdoption,
  stageOf,
} from '../../src/health/adoption.ts';

const t0 = new Date('2024-05-10T10:00:00Z');
const t1 = new Date('2024-05-10T11:00:00Z');
const t2 = new Date('2024-05-10T12:00:00Z');
const never: AdoptionState = { adoptedAt: null, unadoptedAt: null };

describe('adoptionPercent', () => {
  test.each([
    { name: 'release-health.md §7.6 A: 30 of 100', part: 30, whole: 100, expected: 30 },
    { name: 'release-health.md §7.6 B: 70 of 100', part: 70, whole: 100, expected: 70 },
    { name: 'A-1 v1 sessions: 2 of 3', part: 2, whole: 3, expected: 66.66666666666666 },
    { name: 'A-1 v2 sessions: 1 of 3', part: 1, whole: 3, expected: 33.33333333333333 },
    { name: 'A-1 users: 1 of 1', part: 1, whole: 1, expected: 100 },
    { name: 'A-2 v1 users: 1 of 2', part: 1, whole: 2, expected: 50 },
  ])('$name → $expected %', ({ part, whole, expected }) => {
    expect(adoptionPercent(part, whole)).toBe(expected);
  });

  test.each([
    { part: 0, whole: 10 },
    { part: 5, whole: 0 },
    { part: 0, whole: 0 },
  ])('is null when either side is zero ($part of $whole)', ({ part, whole }) => {
    expect(adoptionPercent(part, whole)).toBeNull();
  });
});

describe('isAdopted', () => {
  test.each([
    { name: '§7.6: 30 of 100', release: 30, env: 100, adopted: true },
    { name: '§7.6: 5 of 100', release: 5, env: 100, adopted: false },
    { name: 'I-1: 11 of 11', release: 11, env: 11, adopted: true },
    { name: 'I-3: 1 of 21', release: 1, env: 21, adopted: false },
    { name: 'I-3: 51 of 71', release: 51, env: 71, adopted: true },
    { name: 'I-5: 1 of 13 (7.7 %)', release: 1, env: 13, adopted: false },
    { name: 'exactly 10 %: 1 of 10', release: 1, env: 10, adopted: true },
    { name: 'exactly 10 %: 7 of 70', release: 7, env: 70, adopted: true },
    { name: 'just below 10 %: 99 of 1000', release: 99, env: 1000, adopted: false },
    { name: 'an environment without sessions', release: 0, env: 0, adopted: false },
  ])('$name → $adopted', ({ release, env, adopted }) => {
    expect(isAdopted(release, env)).toBe(adopted);
  });
});

describe('stageOf', () => {
  test.each([
    { state: never, stage: 'LOW_ADOPTION' },
    { state: { adoptedAt: t0, unadoptedAt: null }, stage: 'ADOPTED' },
    { state: { adoptedAt: t0, unadoptedAt: t1 }, stage: 'REPLACED' },
    { state: { adoptedAt: null, unadoptedAt: t1 }, stage: 'LOW_ADOPTION' },
  ])('$state → $stage', ({ state, stage }) => {
    expect(stageOf(state)).toBe(stage);
  });
});

describe('nextAdoption', () => {
  test('records the first adoption time', () => {
    expect(nextAdoption(never, true, t0)).toEqual({ adoptedAt: t0, unadoptedAt: null });
  });

  test('keeps the first adoption time while the release stays adopted', () => {
    const adopted = { adoptedAt: t0, unadoptedAt: null };
    expect(nextAdoption(adopted, true, t1)).toEqual({ adoptedAt: t0, unadoptedAt: null });
  });

  test('marks an adopted release that falls below the threshold as replaced', () => {
    const next = nextAdoption({ adoptedAt: t0, unadoptedAt: null }, false, t1);
    expect(next).toEqual({ adoptedAt: t0, unadoptedAt: t1 });
    expect(stageOf(next)).toBe('REPLACED');
  });

  test('keeps the first replacement time while the release stays below the threshold', () => {
    const replaced = { adoptedAt: t0, unadoptedAt: t1 };
    expect(nextAdoption(replaced, false, t2)).toEqual(replaced);
  });

  test('adopts a replaced release again, keeping its first adoption time (I-3)', () => {
    const next = nextAdoption({ adoptedAt: t0, unadoptedAt: t1 }, true, t2);
    expect(next).toEqual({ adoptedAt: t0, unadoptedAt: null });
    expect(stageOf(next)).toBe('ADOPTED');
  });

  test('leaves a never-adopted release at low adoption', () => {
    expect(nextAdoption(never, false, t0)).toEqual(never);
  });

  test('§7.6: A adopted at 30 of 100, replaced later at 5 of 100', () => {
    const adopted = nextAdoption(never, isAdopted(30, 100), t0);
    const later = nextAdoption(adopted, isAdopted(5, 100), t1);
    expect(stageOf(adopted)).toBe('ADOPTED');
    expect(later).toEqual({ adoptedAt: t0, unadoptedAt: t1 });
  });
});
