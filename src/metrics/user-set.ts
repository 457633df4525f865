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

/** One user's hash as two unsigned 32-bit halves (cheaper than a BigInt on the read path). */
function registerOf(hi: number, lo: number): { index: number; rank: number } {
  const index = hi >>> (32 - SKETCH_PRECISION);
  const rest = hi & ((1 << (32 - SKETCH_PRECISION)) - 1);
  let rank: number;
  if (rest !== 0) rank = Math.clz32(rest) - SKETCH_PRECISION + 1;
  else if (lo !== 0) rank = 32 - SKETCH_PRECISION + Math.clz32(lo) + 1;
  else rank = RANK_BITS + 1;
  return { index, rank };
}

/** A distinct-user set: `exact` holds the hashes (as unsigned 64-bit keys) until it turns into `registers`. */
export class UserSet {
  private exact: Set<bigint> | null = new Set();
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
    if (this.exact) {
      this.exact.add(readU64(bytes, offset));
      if (this.exact.size > EXACT_USERS_LIMIT) this.toSketch();
      return;
    }
    this.addToRegisters(readU32(bytes, offset), readU32(bytes, offset + 4));
  }

  /** Adds a user by its hash (signed or unsigned 64-bit). */
  add(hash: bigint): void {
    const u = BigInt.asUintN(64, hash);
    if (this.exact) {
      this.exact.add(u);
      if (this.exact.size > EXACT_USERS_LIMIT) this.toSketch();
      return;
    }
    this.addToRegisters(Number(u >> 32n), Number(u & 0xffffffffn));
  }

  /** Adds every user of `other`; the result is exact only while both are and it stays small. */
  addAll(other: UserSet): void {
    if (other.exact) {
      for (const h of other.exact) this.add(h);
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
    return this.exact ? [...this.exact] : null;
  }

  has(hash: bigint): boolean {
    return this.exact?.has(BigInt.asUintN(64, hash)) ?? false;
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
    for (const h of hashes) this.addToRegisters(Number(h >> 32n), Number(h & 0xffffffffn));
  }

  private addToRegisters(hi: number, lo: number): void {
    const { index, rank } = registerOf(hi, lo);
    const registers = this.registers as Uint8Array;
    if (rank > (registers[index] as number)) registers[index] = rank;
  }

  /** Bytes of the stored form (see `encodeSet`). */
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
      for (const h of this.exact) {
        view.setBigUint64(at, h);
        at += HASH_BYTES;
      }
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
      for (let at = start; at < end; at += HASH_BYTES) this.addBytes(bytes, at);
      return end;
    }
    if (kind !== 1 || n !== SKETCH_REGISTERS || start + n > bytes.length) {
      throw new RangeError(`user set: unknown form ${kind}/${n}`);
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

function readU64(b: Uint8Array, at: number): bigint {
  return (BigInt(readU32(b, at)) << 32n) | BigInt(readU32(b, at + 4));
}

// Ertl, "New cardinality estimation algorithms for HyperLogLog sketches" (2017): the improved
// raw estimator, unbiased from one user to far beyond 2^32 without HLL++'s empirical bias tables.
function estimate(registers: Uint8Array): number {
  const m = SKETCH_REGISTERS;
  const histogram = new Float64Array(RANK_BITS + 2);
  for (let i = 0; i < m; i++) {
    const r = registers[i] as number;
    histogram[r] = (histogram[r] as number) + 1;
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
