// Session durations: Vigil stores a frequency map of representative values per group, and the
// statistics below walk it without expanding it. shared/spec/sentry-reference.md §3.2, §7 L.

/** One distinct representative duration (seconds) and how many sessions had it. */
export interface DurationCount {
  value: number;
  count: number;
}

/**
 * The value stored for a duration: rounded to 3 significant digits, so whole seconds below 1000
 * are exact and longer ones are within 0.5 %, which keeps the map small. Null for a negative or
 * non-finite duration: such a duration is ignored (the session still counts, without duration).
 */
export function representativeDuration(seconds: number): number | null {
  if (!Number.isFinite(seconds) || seconds < 0) return null;
  return Number(seconds.toPrecision(3));
}

function sortedNonEmpty(values: readonly DurationCount[]): DurationCount[] {
  return values.filter((v) => v.count > 0).toSorted((a, b) => a.value - b.value);
}

function totalCount(values: readonly DurationCount[]): number {
  let n = 0;
  for (const v of values) n += v.count;
  return n;
}

/**
 * The q-quantile (0 ≤ q ≤ 1) by linear interpolation at position (n − 1)·q over the sorted values
 * repeated by their counts, as ClickHouse's `quantiles` that Sentry uses. Null when empty.
 * The weighted form `low·(1 − f) + high·f` reproduces Sentry's floats exactly on milliseconds
 * (p99 of §7 L: 79159.99999999999).
 */
export function percentile(values: readonly DurationCount[], q: number): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be within [0, 1]: ${q}`);
  const sorted = sortedNonEmpty(values);
  const n = totalCount(sorted);
  if (n === 0) return null;
  const position = (n - 1) * q;
  const lowIndex = Math.floor(position);
  const fraction = position - lowIndex;
  let seen = 0;
  let low: number | null = null;
  for (const { value, count } of sorted) {
    seen += count;
    // `seen` is the count of values ≤ this one, so index i lies here once i < seen.
    if (low === null && lowIndex < seen) {
      if (fraction === 0) return value;
      low = value;
    }
    if (low !== null && lowIndex + 1 < seen) return low * (1 - fraction) + value * fraction;
  }
  return low;
}

/** Mean of the durations, null when empty. */
export function mean(values: readonly DurationCount[]): number | null {
  let sum = 0;
  let n = 0;
  for (const { value, count } of values) {
    if (count <= 0) continue;
    sum += value * count;
    n += count;
  }
  return n === 0 ? null : sum / n;
}

/** Largest duration, null when empty. */
export function max(values: readonly DurationCount[]): number | null {
  let largest: number | null = null;
  for (const { value, count } of values) {
    if (count > 0 && (largest === null || value > largest)) largest = value;
  }
  return largest;
}
