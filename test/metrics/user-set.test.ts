import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { MAX_SESSION_AGE_SECONDS } from '../../src/ingest/session.item.ts';
import {
  GRANULARITIES,
  SESSION_STATE_LIFETIME_SECONDS,
  seriesGranularity,
  totalsGranularity,
} from '../../src/metrics/metric-store.ts';
import { FACT_ENTRY_BYTES, FACT_FLAGS, UserFacts } from '../../src/metrics/user-facts.ts';
import {
  EXACT_USERS_LIMIT,
  SKETCH_RELATIVE_STANDARD_ERROR,
  UserSet,
} from '../../src/metrics/user-set.ts';

// Distinct-user sets at their threshold: exact (and flagged exact) up to EXACT_USERS_LIMIT, a
// sketch within its error bound beyond, unions of exact sets that cross it, and bad bytes.
// Users are hashed as ingest hashes them, so every run sees the same sets (no flaky bounds).

const hashOf = (name: string) => createHash('sha256').update(name).digest().readBigInt64BE(0);
const users = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => hashOf(`${prefix}-${i}`));

function setOf(hashes: bigint[]): UserSet {
  const set = new UserSet();
  for (const h of hashes) set.add(h);
  return set;
}

/** A bound no deterministic sample here should pass: 4 standard errors. */
const BOUND = 4 * SKETCH_RELATIVE_STANDARD_ERROR;

describe('one set at the threshold', () => {
  test.each([
    { n: 0, exact: true },
    { n: 1, exact: true },
    { n: EXACT_USERS_LIMIT - 1, exact: true },
    { n: EXACT_USERS_LIMIT, exact: true },
    { n: EXACT_USERS_LIMIT + 1, exact: false },
    { n: 3 * EXACT_USERS_LIMIT, exact: false },
    { n: 100_000, exact: false },
  ])('$n users: exact $exact', ({ n, exact }) => {
    const set = setOf(users('u', n));
    expect(set.isExact).toBe(exact);
    if (exact) expect(set.count()).toBe(n);
    else expect(Math.abs(set.count() - n) / n).toBeLessThanOrEqual(BOUND);
  });

  test('adding a user twice changes nothing, exact or sketched', () => {
    const small = setOf([...users('a', 10), ...users('a', 10)]);
    expect(small.count()).toBe(10);
    const big = setOf(users('b', EXACT_USERS_LIMIT + 500));
    const before = big.count();
    for (const h of users('b', EXACT_USERS_LIMIT + 500)) big.add(h);
    expect(big.count()).toBe(before);
  });

  test('its stored form reads back as the same set, exact or sketched', () => {
    for (const n of [0, 3, EXACT_USERS_LIMIT, EXACT_USERS_LIMIT + 1]) {
      const set = setOf(users('s', n));
      const bytes = new Uint8Array(set.encodedLength());
      expect(set.writeTo(bytes, 0)).toBe(bytes.length);
      const back = new UserSet();
      expect(back.readFrom(bytes, 0)).toBe(bytes.length);
      expect([back.isExact, back.count()]).toEqual([set.isExact, set.count()]);
    }
  });
});

describe('unions', () => {
  test('of exact sets stay exact while the union is within the threshold', () => {
    const half = EXACT_USERS_LIMIT / 2;
    const union = setOf(users('x', half));
    union.addAll(setOf(users('y', half)));
    expect([union.isExact, union.count()]).toEqual([true, EXACT_USERS_LIMIT]);
    // Overlap is counted once.
    union.addAll(setOf(users('x', half)));
    expect([union.isExact, union.count()]).toEqual([true, EXACT_USERS_LIMIT]);
  });

  test('of exact sets that cross the threshold become an estimate within the bound', () => {
    const union = setOf(users('x', EXACT_USERS_LIMIT));
    union.addAll(setOf(users('y', 10)));
    expect(union.isExact).toBe(false);
    const n = EXACT_USERS_LIMIT + 10;
    expect(Math.abs(union.count() - n) / n).toBeLessThanOrEqual(BOUND);
  });

  test('with a sketch are sketches, in any order, and idempotent', () => {
    const a = users('a', 3 * EXACT_USERS_LIMIT);
    const b = users('b', 5);
    const ab = setOf(a);
    ab.addAll(setOf(b));
    const ba = setOf(b);
    ba.addAll(setOf(a));
    ba.addAll(setOf(a));
    expect(ab.isExact).toBe(false);
    expect(ba.count()).toBe(ab.count());
  });

  test('of stored sketches read into an empty set, an exact one or a sketch are the same union', () => {
    const a = setOf(users('a', 3 * EXACT_USERS_LIMIT));
    const b = setOf(users('b', 2 * EXACT_USERS_LIMIT));
    const small = setOf(users('a', 10));
    const union = setOf(users('a', 3 * EXACT_USERS_LIMIT));
    union.addAll(b);
    const stored = (set: UserSet) => {
      const bytes = new Uint8Array(set.encodedLength());
      set.writeTo(bytes, 0);
      return bytes;
    };
    const aBytes = stored(a);
    const aCopy = aBytes.slice();
    for (const first of [new UserSet(), small, setOf(users('b', 1))]) {
      const read = first.clone();
      read.readFrom(aBytes, 0);
      read.readFrom(stored(b), 0);
      expect(read.count()).toBe(union.count());
      // The union is the reader's own: adding to it leaves the stored bytes as they were.
      for (const h of users('c', 2 * EXACT_USERS_LIMIT)) read.add(h);
      expect(aBytes).toEqual(aCopy);
    }
  });
});

function entries(list: Array<{ hash: bigint; flags: number }>): Uint8Array {
  const out = new Uint8Array(list.length * FACT_ENTRY_BYTES);
  const view = new DataView(out.buffer);
  list.forEach(({ hash, flags }, i) => {
    view.setBigInt64(i * FACT_ENTRY_BYTES, hash);
    out[i * FACT_ENTRY_BYTES + 8] = flags;
  });
  return out;
}

describe('user facts', () => {
  test('only turn true, and the fatal union counts a user once', () => {
    const [a, b, c] = users('f', 3) as [bigint, bigint, bigint];
    const facts = new UserFacts();
    facts.addEntries(
      entries([
        { hash: a, flags: FACT_FLAGS.erroredAll | FACT_FLAGS.crashed },
        { hash: a, flags: 0 },
        { hash: a, flags: FACT_FLAGS.abnormal },
        { hash: b, flags: FACT_FLAGS.anr | FACT_FLAGS.anrForeground },
        { hash: c, flags: 0 },
      ]),
    );
    const stored = new UserFacts();
    stored.addEncoded(facts.encode());
    for (const f of [facts, stored]) {
      expect(f.counts()).toEqual({
        users: 3,
        erroredAll: 1,
        crashed: 1,
        abnormal: 1,
        unhandled: 0,
        fatalAny: 1,
        anr: 1,
        anrForeground: 1,
        quality: { exact: true, relativeStandardError: null },
      });
    }
  });

  test('just above the threshold are estimates, flagged with their error', () => {
    const facts = new UserFacts();
    for (const h of users('g', EXACT_USERS_LIMIT + 1)) facts.addUser(h, 0);
    expect(facts.counts().quality).toEqual({
      exact: false,
      relativeStandardError: SKETCH_RELATIVE_STANDARD_ERROR,
    });
    expect(SKETCH_RELATIVE_STANDARD_ERROR).toBeLessThanOrEqual(0.01);
  });

  test('several stored sets concatenated read as their union', () => {
    const one = new UserFacts();
    for (const h of users('p', 5)) one.addUser(h, FACT_FLAGS.crashed);
    const two = new UserFacts();
    for (const h of users('p', 8)) two.addUser(h, 0);
    const a = one.encode();
    const b = two.encode();
    const both = new Uint8Array(a.length + b.length);
    both.set(a);
    both.set(b, a.length);
    const union = new UserFacts();
    union.addEncoded(both);
    expect([union.counts().users, union.counts().crashed]).toEqual([8, 5]);
  });

  test.each([
    { name: 'entries cut short', run: (f: UserFacts) => f.addEntries(new Uint8Array(10)) },
    { name: 'an unknown version', run: (f: UserFacts) => f.addEncoded(new Uint8Array([9])) },
    {
      name: 'an exact set longer than its bytes',
      run: (f: UserFacts) => f.addEncoded(new Uint8Array([1, 1, 0, 0, 0, 0, 5, 1, 2, 3])),
    },
    {
      name: 'a sketch of the wrong size',
      run: (f: UserFacts) => f.addEncoded(new Uint8Array([1, 1, 1, 0, 0, 0, 16])),
    },
    { name: 'a truncated header', run: (f: UserFacts) => f.addEncoded(new Uint8Array([1, 0, 0])) },
    { name: 'a version alone', run: (f: UserFacts) => f.addEncoded(new Uint8Array([1])) },
  ])('refuses $name', ({ run }) => {
    expect(() => run(new UserFacts())).toThrow(RangeError);
  });
});

describe('the metric store vocabulary', () => {
  test('session states outlive the oldest update the door accepts', () => {
    expect(SESSION_STATE_LIFETIME_SECONDS).toBeGreaterThan(MAX_SESSION_AGE_SECONDS);
  });

  test.each([
    { hours: 6, granularity: 60 },
    { hours: 7, granularity: 3600 },
    { hours: 30 * 24, granularity: 3600 },
    { hours: 31 * 24, granularity: 86400 },
  ])('totals over $hours h read $granularity s buckets', ({ hours, granularity }) => {
    const end = new Date('2026-12-02T00:00:00Z');
    const start = new Date(end.getTime() - hours * 3_600_000);
    expect(totalsGranularity({ start, end })).toBe(granularity);
    expect(GRANULARITIES).toContain(granularity);
  });

  test.each([
    { interval: 300, granularity: 60 },
    { interval: 7200, granularity: 3600 },
    { interval: 86400, granularity: 86400 },
  ])('a $interval s series reads $granularity s buckets', ({ interval, granularity }) => {
    expect(seriesGranularity(interval)).toBe(granularity);
  });
});
