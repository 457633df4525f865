import { GRANULARITIES, type Granularity, retentionStart } from './metric-store.ts';

// Which stored counter rows add up to a range's counters, reading as few rows as it can, exactly.
// Every coarser counter row is the sum of its finer rows: ingest adds each change to its minute,
// hour and day rows in one statement (src/ingest/session.store.ts), and prune drops a bucket at
// every granularity at once. So the hours of a range that cover a whole day are that day's row,
// and the hours at an edge are, when it reads fewer rows, the day's row minus its hours outside
// the range. docs/design.md § The releases table at 10 M.

/** Buckets [start, end) of one granularity whose counters a sum adds (sign 1) or takes away (-1). */
export interface CounterSpan {
  granularity: Granularity;
  start: Date;
  end: Date;
  sign: 1 | -1;
}

const ceilTo = (ms: number, step: number) => Math.ceil(ms / step) * step;
const floorTo = (ms: number, step: number) => Math.floor(ms / step) * step;

/**
 * Spans whose signed counters sum to those of `granularity`'s buckets in [start, end) (a bucket
 * counts when start ≤ bucket < end). Costs are rows: a coarser bucket is one; finer buckets count
 * only up to `now` (later ones hold only sessions of clocks running ahead, a minute at most).
 * A coarser bucket is used only when it starts within retention, where all its finer rows exist.
 */
export function counterSpans(
  range: { start: Date; end: Date },
  granularity: Granularity,
  now: Date,
): CounterSpan[] {
  const f = granularity * 1000;
  const first = ceilTo(range.start.getTime(), f);
  const end = ceilTo(range.end.getTime(), f);
  if (first >= end) return [];
  const coarser = GRANULARITIES.find((g) => g > granularity);
  if (!coarser) return [{ granularity, start: new Date(first), end: new Date(end), sign: 1 }];
  const c = coarser * 1000;
  const kept = retentionStart(now).getTime();
  const nowEnd = floorTo(now.getTime(), f) + f;
  const rows = (from: number, to: number) => Math.max(0, (Math.min(to, nowEnd) - from) / f);
  const spans: Array<{ g: Granularity; start: number; end: number; sign: 1 | -1 }> = [];
  for (let bucket = floorTo(first, c); bucket < end; bucket += c) {
    const from = Math.max(first, bucket);
    const to = Math.min(end, bucket + c);
    const whole = 1 + rows(bucket, from) + rows(to, bucket + c);
    if (bucket >= kept && whole < rows(from, to)) {
      spans.push({ g: coarser, start: bucket, end: bucket + c, sign: 1 });
      if (from > bucket) spans.push({ g: granularity, start: bucket, end: from, sign: -1 });
      if (to < bucket + c) spans.push({ g: granularity, start: to, end: bucket + c, sign: -1 });
    } else {
      spans.push({ g: granularity, start: from, end: to, sign: 1 });
    }
  }
  // Adjacent spans of one granularity and sign are one index range.
  const merged: typeof spans = [];
  for (const s of spans.sort((a, b) => a.g - b.g || a.sign - b.sign || a.start - b.start)) {
    const last = merged.at(-1);
    if (last && last.g === s.g && last.sign === s.sign && last.end === s.start) last.end = s.end;
    else merged.push({ ...s });
  }
  return merged.map((s) => ({
    granularity: s.g,
    start: new Date(s.start),
    end: new Date(s.end),
    sign: s.sign,
  }));
}
