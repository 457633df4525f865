// Distinct users of one bucket (or of a union of buckets): exact while small, a HyperLogLog
// sketch beyond EXACT_USERS_LIMIT. Pure; no I/O. docs/design.md § "Distinct users".
//
// A user is the 64-bit hash of the SDK's `did` (SHA-256's first 8 bytes, so every bit is
// uniform). An exact set keeps the hashes; a sketch keeps 2^14 registers, each the highest
// "leading zeros + 1" of the hashes whose first 14 bits pick it. Adding a user twice changes
// nothing in either form, and unions are the union of hashes or the register-wise maximum, so
// sets merge in any order and any number of times (exactness under retries).

/** Register-index bits: 2^14 registers, relative standard error 1.04 / √16384 ≈ 0.81 %. */
export const SKETCH_PRECISION = 14;
export const SKETCH_REGISTERS = 1 << SKETCH_PRECISION;
/** Bits left for the rank after the index; a register holds 0 … RANK_BITS + 1. */
const RANK_BITS = 64 - SKETCH_PRECISION;
/** The sketch's relative standard error (HyperLogLog's 1.04 / √m; measured in `npm run bench`). */
export const SKETCH_RELATIVE_STANDARD_ERROR = 1.04 / Math.sqrt(SKETCH_REGISTERS);
/**
 * A set holds at most this many users exactly (8 bytes each); one more turns it into a sketch
 * (16 KiB). Unions stay exact while every set in them is exact and the union is within it.
 */
export const EXACT_USERS_LIMIT = 4096;

const HASH_BYTES = 8;

/** A user's register: the hash's first SKETCH_PRECISION bits, as two unsigned 32-bit halves. */
const indexOf = (hi: number) => hi >>> (32 - SKETCH_PRECISION);

/** Leading zeros of the hash's other bits, + 1 (cheaper than a BigInt on the read path). */
function rankOf(hi: number, lo: number): number {
  const rest = hi & ((1 << (32 - SKETCH_PRECISION)) - 1);
  if (rest !== 0) return Math.clz32(rest) - SKETCH_PRECISION + 1;
  if (lo !== 0) return 32 - SKETCH_PRECISION + Math.clz32(lo) + 1;
  return RANK_BITS + 1;
}

const EMPTY_U32 = new Uint32Array(0);
const EMPTY_U8 = new Uint8Array(0);

/**
 * Hashes held exactly: open addressing over two Uint32Arrays (a 64-bit hash is uniform, so its low
 * bits pick the slot). Five to ten times cheaper than a Set of BigInts on the read path.
 */
class ExactHashes {
  size = 0;
  // Allocated on the first add: most sets of a read (a bucket's crashed users …) stay empty.
  private hi = EMPTY_U32;
  private lo = EMPTY_U32;
  private used = EMPTY_U8;

  /** Adds a hash; false when it was there already. */
  add(hi: number, lo: number): boolean {
    if (this.used.length === 0) this.resize(8);
    const mask = this.used.length - 1;
    let i = lo & mask;
    while (this.used[i]) {
      if (this.hi[i] === hi && this.lo[i] === lo) return false;
      i = (i + 1) & mask;
    }
    this.used[i] = 1;
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.size += 1;
    if (this.size * 2 > this.used.length) this.grow();
    return true;
  }

  has(hi: number, lo: number): boolean {
    if (this.used.length === 0) return false;
    const mask = this.used.length - 1;
    let i = lo & mask;
    while (this.used[i]) {
      if (this.hi[i] === hi && this.lo[i] === lo) return true;
      i = (i + 1) & mask;
    }
    return false;
  }

  forEach(fn: (hi: number, lo: number) => void): void {
    for (let i = 0; i < this.used.length; i++) {
      if (this.used[i]) fn(this.hi[i] as number, this.lo[i] as number);
    }
  }

  /**
   * Makes room for `n` more hashes at once: a stored set says how many it holds, and growing
   * one doubling at a time rehashed every hash read so far (a fifth of a dashboard's merge time).
   */
  reserve(n: number): void {
    let capacity = Math.max(8, this.used.length);
    while ((this.size + n) * 2 > capacity) capacity *= 2;
    if (capacity > this.used.length) this.resize(capacity);
  }

  private grow(): void {
    this.resize(this.used.length * 2);
  }

  private resize(capacity: number): void {
    const { hi, lo, used } = this;
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.used = new Uint8Array(capacity);
    this.size = 0;
    for (let i = 0; i < used.length; i++) {
      if (used[i]) this.add(hi[i] as number, lo[i] as number);
    }
  }
}

const halves = (hash: bigint): [number, number] => {
  const u = BigInt.asUintN(64, hash);
  return [Number(u >> 32n), Number(u & 0xffffffffn)];
};

/** A distinct-user set: `exact` holds the hashes until it turns into `registers`. */
export class UserSet {
  private exact: ExactHashes | null = new ExactHashes();
  private registers: Uint8Array | null = null;

  get isEmpty(): boolean {
    return this.exact !== null && this.exact.size === 0;
  }

  /** True while every user in it is known exactly. */
  get isExact(): boolean {
    return this.exact !== null;
  }

  /** Adds a user by the 8 bytes of its hash at `offset` (big-endian). */
  addBytes(bytes: Uint8Array, offset: number): void {
    this.addHalves(readU32(bytes, offset), readU32(bytes, offset + 4));
  }

  /** Adds a user by its hash (signed or unsigned 64-bit). */
  add(hash: bigint): void {
    const [hi, lo] = halves(hash);
    this.addHalves(hi, lo);
  }

  private addHalves(hi: number, lo: number): void {
    if (this.exact) {
      if (this.exact.add(hi, lo) && this.exact.size > EXACT_USERS_LIMIT) this.toSketch();
      return;
    }
    this.addToRegisters(hi, lo);
  }

  /** Adds every user of `other`; the result is exact only while both are and it stays small. */
  addAll(other: UserSet): void {
    if (other.exact) {
      this.makeRoom(other.exact.size);
      other.exact.forEach((hi, lo) => {
        this.addHalves(hi, lo);
      });
      return;
    }
    this.toSketch();
    const mine = this.registers as Uint8Array;
    const theirs = other.registers as Uint8Array;
    for (let i = 0; i < SKETCH_REGISTERS; i++) {
      if ((theirs[i] as number) > (mine[i] as number)) mine[i] = theirs[i] as number;
    }
  }

  /** The number of distinct users: exact, or the sketch's estimate rounded to a whole user. */
  count(): number {
    if (this.exact) return this.exact.size;
    return Math.round(estimate(this.registers as Uint8Array));
  }

  /** The users' hashes (unsigned), or null once sketched. */
  hashes(): bigint[] | null {
    if (!this.exact) return null;
    const out: bigint[] = [];
    this.exact.forEach((hi, lo) => {
      out.push((BigInt(hi) << 32n) | BigInt(lo));
    });
    return out;
  }

  has(hash: bigint): boolean {
    const [hi, lo] = halves(hash);
    return this.exact?.has(hi, lo) ?? false;
  }

  clone(): UserSet {
    const copy = new UserSet();
    copy.addAll(this);
    return copy;
  }

  private toSketch(): void {
    if (!this.exact) return;
    const hashes = this.exact;
    this.exact = null;
    this.registers = new Uint8Array(SKETCH_REGISTERS);
    hashes.forEach((hi, lo) => {
      this.addToRegisters(hi, lo);
    });
  }

  /**
   * Room for `n` more users at once, before a union reads them: each exact set read grows the
   * table only to fit itself, and at 10 M sessions a release's day of hour sets regrew it six
   * times (the resizes were half of the releases table's merge time).
   */
  reserve(n: number): void {
    this.makeRoom(n);
  }

  /**
   * What the stored form at `offset` is: a sketch, or how many users it holds exactly; and the
   * offset after it. Reads only its header.
   */
  static formAt(
    bytes: Uint8Array,
    offset: number,
  ): { exact: number; sketch: boolean; end: number } {
    const sketch = bytes[offset] !== 0;
    const n = readU32(bytes, offset + 1);
    const end = offset + 5 + (sketch ? n : n * HASH_BYTES);
    if (end > bytes.length) throw new RangeError('user set: truncated');
    return { exact: sketch ? 0 : n, sketch, end };
  }

  /** Room for `n` more exact hashes at once, unless they would make this a sketch anyway. */
  private makeRoom(n: number): void {
    if (this.exact && this.exact.size + n <= EXACT_USERS_LIMIT) this.exact.reserve(n);
  }

  private addToRegisters(hi: number, lo: number): void {
    const index = indexOf(hi);
    const rank = rankOf(hi, lo);
    const registers = this.registers as Uint8Array;
    if (rank > (registers[index] as number)) registers[index] = rank;
  }

  /** Bytes of the stored form (see `writeTo`). */
  encodedLength(): number {
    return 5 + (this.exact ? this.exact.size * HASH_BYTES : SKETCH_REGISTERS);
  }

  /** Writes the stored form at `offset`: kind (0 exact, 1 sketch), a count, the payload. */
  writeTo(out: Uint8Array, offset: number): number {
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    if (this.exact) {
      view.setUint8(offset, 0);
      view.setUint32(offset + 1, this.exact.size);
      let at = offset + 5;
      this.exact.forEach((hi, lo) => {
        view.setUint32(at, hi);
        view.setUint32(at + 4, lo);
        at += HASH_BYTES;
      });
      return at;
    }
    view.setUint8(offset, 1);
    view.setUint32(offset + 1, SKETCH_REGISTERS);
    out.set(this.registers as Uint8Array, offset + 5);
    return offset + 5 + SKETCH_REGISTERS;
  }

  /** Reads a stored form at `offset` into this set (a union); returns the offset after it. */
  readFrom(bytes: Uint8Array, offset: number): number {
    const kind = bytes[offset];
    const n = readU32(bytes, offset + 1);
    const start = offset + 5;
    if (kind === 0) {
      const end = start + n * HASH_BYTES;
      if (end > bytes.length) throw new RangeError('user set: truncated exact set');
      this.makeRoom(n);
      for (let at = start; at < end; at += HASH_BYTES) this.addBytes(bytes, at);
      return end;
    }
    if (kind !== 1 || n !== SKETCH_REGISTERS || start + n > bytes.length) {
      throw new RangeError(`user set: unknown form ${kind}/${n}`);
    }
    if (this.isEmpty) {
      // The first set of a union (most reads of one bucket): a copy, not a maximum.
      this.exact = null;
      this.registers = bytes.slice(start, start + n);
      return start + n;
    }
    this.toSketch();
    const mine = this.registers as Uint8Array;
    for (let i = 0; i < SKETCH_REGISTERS; i++) {
      const r = bytes[start + i] as number;
      if (r > (mine[i] as number)) mine[i] = r;
    }
    return start + n;
  }
}

function readU32(b: Uint8Array, at: number): number {
  if (at + 4 > b.length) throw new RangeError('user set: truncated');
  return (
    (((b[at] as number) << 24) |
      ((b[at + 1] as number) << 16) |
      ((b[at + 2] as number) << 8) |
      (b[at + 3] as number)) >>>
    0
  );
}

// Ertl, "New cardinality estimation algorithms for HyperLogLog sketches" (2017): the improved
// raw estimator, unbiased from one user to far beyond 2^32 without HLL++'s empirical bias tables.
function estimate(registers: Uint8Array): number {
  const m = SKETCH_REGISTERS;
  // Four histograms, summed after: neighbouring registers mostly hold the same rank, and one
  // histogram's increments then wait on each other (a third slower).
  const histogram = new Int32Array(RANK_BITS + 2);
  const h1 = new Int32Array(RANK_BITS + 2);
  const h2 = new Int32Array(RANK_BITS + 2);
  const h3 = new Int32Array(RANK_BITS + 2);
  for (let i = 0; i < m; i += 4) {
    const a = registers[i] as number;
    const b = registers[i + 1] as number;
    const c = registers[i + 2] as number;
    const d = registers[i + 3] as number;
    histogram[a] = (histogram[a] as number) + 1;
    h1[b] = (h1[b] as number) + 1;
    h2[c] = (h2[c] as number) + 1;
    h3[d] = (h3[d] as number) + 1;
  }
  for (let k = 0; k < histogram.length; k++) {
    histogram[k] =
      (histogram[k] as number) + (h1[k] as number) + (h2[k] as number) + (h3[k] as number);
  }
  let z = m * tau(1 - (histogram[RANK_BITS + 1] as number) / m);
  for (let k = RANK_BITS; k >= 1; k--) z = 0.5 * (z + (histogram[k] as number));
  z += m * sigma((histogram[0] as number) / m);
  return (m * m) / (2 * Math.LN2) / z;
}

function sigma(x: number): number {
  if (x === 1) return Number.POSITIVE_INFINITY;
  let y = 1;
  let z = x;
  let previous: number;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (z !== previous);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let previous: number;
  do {
    x = Math.sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1 - x) ** 2 * y;
  } while (z !== previous);
  return z / 3;
}
