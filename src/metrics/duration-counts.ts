import type { DurationCount } from '../health/duration.ts';

// The packed form of a bucket's duration value counts in `session_duration.value_counts`: 16-byte
// pairs, the value as float8 then its count as int8, both big-endian (PostgreSQL's float8send and
// int8send), sorted by value. One row per bucket instead of one per value halves the table and
// its primary key (docs/design.md § The metric store). Values are never negative
// (representativeDuration), so the bytes of two values order as the values do and SQL can merge
// pairs without decoding the float (src/metrics/durations.fold.ts).

/** Bytes of one (value, count) pair. */
export const PAIR_BYTES = 16;

/** SQL packing one value and count (any integer type) into a pair. */
export const packPairSql = (value: string, count: string) =>
  `float8send(${value}) || int8send((${count})::int8)`;

/** Sums packed pairs (any number of them concatenated) by value. */
export class DurationCounts {
  private readonly counts = new Map<number, number>();

  addPacked(bytes: Uint8Array): this {
    if (bytes.byteLength % PAIR_BYTES !== 0) {
      throw new Error(`packed durations of ${bytes.byteLength} bytes: not whole 16-byte pairs`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = 0; at < bytes.byteLength; at += PAIR_BYTES) {
      const value = view.getFloat64(at);
      const count = Number(view.getBigInt64(at + 8));
      this.counts.set(value, (this.counts.get(value) ?? 0) + count);
    }
    return this;
  }

  /** Values whose counts add up to more than zero (`nonZero`: to anything but zero), sorted. */
  list(nonZero = false): DurationCount[] {
    const out: DurationCount[] = [];
    for (const [value, count] of this.counts) {
      if (nonZero ? count !== 0 : count > 0) out.push({ value, count });
    }
    return out.sort((a, b) => a.value - b.value);
  }
}

/** Value counts packed as `packPairSql` packs them (tests compare stored rows with it). */
export function packDurations(values: readonly DurationCount[]): Uint8Array {
  const sorted = values.toSorted((a, b) => a.value - b.value);
  const bytes = new Uint8Array(sorted.length * PAIR_BYTES);
  const view = new DataView(bytes.buffer);
  sorted.forEach(({ value, count }, i) => {
    view.setFloat64(i * PAIR_BYTES, value);
    view.setBigInt64(i * PAIR_BYTES + 8, BigInt(count));
  });
  return bytes;
}
