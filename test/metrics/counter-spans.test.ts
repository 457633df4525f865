import { describe, expect, test } from 'vitest';
import { type CounterSpan, counterSpans } from '../../src/metrics/counter-spans.ts';
import {
  DAY,
  GRANULARITIES,
  type Granularity,
  HOUR,
  MINUTE,
  retentionStart,
} from '../../src/metrics/metric-store.ts';

// The spans a ranking sums must give exactly the counters of the range's own buckets, whatever
// the range's edges, and read fewer rows where whole coarser buckets fit. Checked against a store
// rolled up as ingest rolls it up: every session in its minute, hour and day row.

const NOW = new Date('2026-12-02T16:27:31.250Z');
const at = (iso: string) => new Date(iso);
const span = (granularity: Granularity, start: string, end: string, sign: 1 | -1) => ({
  granularity,
  start: at(start),
  end: at(end),
  sign,
});

/** A store of sessions: one count per (granularity, bucket start). */
function storeOf(started: Date[]) {
  const rows = new Map<string, number>();
  for (const t of started) {
    for (const g of GRANULARITIES) {
      const bucket = Math.floor(t.getTime() / (g * 1000)) * g * 1000;
      const key = `${g}|${bucket}`;
      rows.set(key, (rows.get(key) ?? 0) + 1);
    }
  }
  const sum = (g: Granularity, start: number, end: number) => {
    let total = 0;
    for (let b = Math.ceil(start / (g * 1000)) * g * 1000; b < end; b += g * 1000) {
      total += rows.get(`${g}|${b}`) ?? 0;
    }
    return total;
  };
  return {
    /** What the range's own buckets hold: bucket counts when start ≤ bucket < end. */
    direct: (g: Granularity, range: { start: Date; end: Date }) =>
      sum(g, range.start.getTime(), range.end.getTime()),
    spans: (spans: CounterSpan[]) =>
      spans.reduce(
        (total, s) => total + s.sign * sum(s.granularity, s.start.getTime(), s.end.getTime()),
        0,
      ),
  };
}

/** A deterministic spread of sessions over the 3 days before NOW and a minute after it. */
function sessions(): Date[] {
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const out: Date[] = [];
  for (let i = 0; i < 4000; i++) {
    out.push(new Date(NOW.getTime() - random() * 3 * DAY * 1000 + 60_000 * random()));
  }
  return out;
}

describe('counter spans', () => {
  const store = storeOf(sessions());

  test('the last 24 hours in hours: the day that ends the range is its row', () => {
    const range = { start: new Date(NOW.getTime() - DAY * 1000), end: NOW };
    // 17:00–24:00 of the first day as hours; the second day's row, minus its hours after the
    // range (empty but for clocks running ahead).
    expect(counterSpans(range, HOUR, NOW)).toEqual([
      span(HOUR, '2026-12-02T17:00:00Z', '2026-12-03T00:00:00Z', -1),
      span(HOUR, '2026-12-01T17:00:00Z', '2026-12-02T00:00:00Z', 1),
      span(DAY, '2026-12-02T00:00:00Z', '2026-12-03T00:00:00Z', 1),
    ]);
  });

  test('early in the day the first day is its row minus its hours before the range', () => {
    const now = at('2026-12-02T03:10:00Z');
    const range = { start: new Date(now.getTime() - DAY * 1000), end: now };
    // The range's 20 hours of Dec 1 are its row minus 4 hours; Dec 2's 4 hours its row.
    expect(counterSpans(range, HOUR, now)).toEqual([
      span(HOUR, '2026-12-01T00:00:00Z', '2026-12-01T04:00:00Z', -1),
      span(HOUR, '2026-12-02T04:00:00Z', '2026-12-03T00:00:00Z', -1),
      span(DAY, '2026-12-01T00:00:00Z', '2026-12-03T00:00:00Z', 1),
    ]);
  });

  test('days inside a long range are one span of day rows', () => {
    const range = { start: at('2026-11-20T05:30:00Z'), end: NOW };
    expect(counterSpans(range, HOUR, NOW)).toEqual([
      span(HOUR, '2026-11-20T00:00:00Z', '2026-11-20T06:00:00Z', -1),
      span(HOUR, '2026-12-02T17:00:00Z', '2026-12-03T00:00:00Z', -1),
      span(DAY, '2026-11-20T00:00:00Z', '2026-12-03T00:00:00Z', 1),
    ]);
  });

  test('day ranges and empty ranges read as they are', () => {
    const range = { start: at('2026-10-01T00:00:00Z'), end: NOW };
    expect(counterSpans(range, DAY, NOW)).toEqual([
      span(DAY, '2026-10-01T00:00:00Z', '2026-12-03T00:00:00Z', 1),
    ]);
    expect(counterSpans({ start: NOW, end: NOW }, HOUR, NOW)).toEqual([]);
    expect(counterSpans({ start: at('2026-12-02T16:10:00Z'), end: NOW }, HOUR, NOW)).toEqual([]);
  });

  test('no coarser row that starts before retention (prune may have dropped it alone)', () => {
    const kept = retentionStart(NOW).getTime();
    const range = { start: new Date(kept - 5 * HOUR * 1000), end: new Date(kept + DAY * 1000) };
    for (const s of counterSpans(range, HOUR, NOW)) {
      if (s.granularity === DAY) expect(s.start.getTime()).toBeGreaterThanOrEqual(kept);
    }
  });

  // Ranges every few minutes of the stored days, each length a read may ask at each granularity.
  const cases: Array<{ g: Granularity; hours: number }> = [
    { g: MINUTE, hours: 1 },
    { g: MINUTE, hours: 6 },
    { g: HOUR, hours: 7 },
    { g: HOUR, hours: 24 },
    { g: HOUR, hours: 50 },
    { g: DAY, hours: 72 },
  ];
  test.each(cases)('sum exactly the $g-second buckets of $hours-hour ranges', ({ g, hours }) => {
    for (let back = 0; back < 3 * DAY - hours * HOUR; back += 37 * MINUTE + 13) {
      const end = new Date(NOW.getTime() - back * 1000);
      const range = { start: new Date(end.getTime() - hours * HOUR * 1000), end };
      const spans = counterSpans(range, g, NOW);
      expect(store.spans(spans), JSON.stringify(range)).toBe(store.direct(g, range));
    }
  });
});
