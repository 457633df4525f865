import type { UserCountQuality, UserCounts } from '../health/crash-free.ts';
import { EXACT_USERS_LIMIT, SKETCH_RELATIVE_STANDARD_ERROR, UserSet } from './user-set.ts';

// What happened to the users of a bucket (or of a union of buckets): one distinct-user set per
// outcome. Facts only turn true: a user once in `crashed` stays there, and adding them again
// changes nothing. Pure; no I/O.
//
// Two stored forms:
//  - a fact entry, written by ingest (`session_user_delta.entries`): the user's 8-byte hash and
//    one byte of flags (FACT_FLAGS), 9 bytes, concatenated;
//  - a set of facts (`session_user_set.users`): a version byte, a byte whose bit i says that
//    OUTCOMES[i] has users, then those outcomes' sets in OUTCOMES order (UserSet's form). Both
//    are self-delimiting, so SQL may concatenate many.

export const OUTCOMES = [
  'users',
  'erroredAll',
  'crashed',
  'abnormal',
  'unhandled',
  'anr',
  'anrForeground',
] as const;
export type UserOutcome = (typeof OUTCOMES)[number];

/** Bits of a fact entry's flag byte; every entry is in `users`. */
export const FACT_FLAGS = {
  erroredAll: 1,
  crashed: 2,
  abnormal: 4,
  unhandled: 8,
  anr: 16,
  anrForeground: 32,
} as const;

export const FACT_ENTRY_BYTES = 9;
const VERSION = 1;

/** What `usersExact` and `usersRelativeStandardError` say, for the schema's descriptions. */
export const USERS_EXACT_DESCRIPTION = `True when every user count and user-based rate here is exact: each bucket's user set holds up to ${EXACT_USERS_LIMIT.toLocaleString('en-US')} users exactly, and so does a union of exact sets up to that size. False when some are HyperLogLog estimates (docs/design.md § Distinct users). Session counts are always exact.`;
export const USERS_RSE_DESCRIPTION = `Null when usersExact; else the relative standard error of each user count here (${(SKETCH_RELATIVE_STANDARD_ERROR * 100).toFixed(2)} %: the estimate is within ±1× of it about 68 % of the time, ±3× 99.7 %). A user-based rate divides two such counts, so its relative error is at most about twice this.`;

export const EXACT: Readonly<UserCountQuality> = Object.freeze({
  exact: true,
  relativeStandardError: null,
});

export class UserFacts {
  readonly sets: Record<UserOutcome, UserSet> = {
    users: new UserSet(),
    erroredAll: new UserSet(),
    crashed: new UserSet(),
    abnormal: new UserSet(),
    unhandled: new UserSet(),
    anr: new UserSet(),
    anrForeground: new UserSet(),
  };

  /** Adds fact entries (9 bytes each, as ingest writes them). */
  addEntries(bytes: Uint8Array): void {
    if (bytes.length % FACT_ENTRY_BYTES !== 0) {
      throw new RangeError(`user facts: ${bytes.length} bytes is not whole entries`);
    }
    for (let at = 0; at < bytes.length; at += FACT_ENTRY_BYTES) {
      const flags = bytes[at + 8] as number;
      this.sets.users.addBytes(bytes, at);
      if (flags === 0) continue;
      if (flags & FACT_FLAGS.erroredAll) this.sets.erroredAll.addBytes(bytes, at);
      if (flags & FACT_FLAGS.crashed) this.sets.crashed.addBytes(bytes, at);
      if (flags & FACT_FLAGS.abnormal) this.sets.abnormal.addBytes(bytes, at);
      if (flags & FACT_FLAGS.unhandled) this.sets.unhandled.addBytes(bytes, at);
      if (flags & FACT_FLAGS.anr) this.sets.anr.addBytes(bytes, at);
      if (flags & FACT_FLAGS.anrForeground) this.sets.anrForeground.addBytes(bytes, at);
    }
  }

  /** Adds one user with its facts. */
  addUser(hash: bigint, flags: number): void {
    this.sets.users.add(hash);
    for (const outcome of OUTCOMES) {
      if (outcome !== 'users' && flags & FACT_FLAGS[outcome]) this.sets[outcome].add(hash);
    }
  }

  /**
   * Adds every stored set of facts in `bytes` (one, or several concatenated by SQL). Sketches are
   * read first: an outcome that takes one is a sketch anyway, and its exact users then go straight
   * to registers instead of through the hash table (at 10 M sessions, an hour's exact staging
   * users read before production's sketch made the union four times dearer). Exact sets get room
   * for all their users at once.
   */
  addEncoded(bytes: Uint8Array): void {
    const forms: Array<{ outcome: UserOutcome; at: number; exact: number; sketch: boolean }> = [];
    let at = 0;
    while (at < bytes.length) {
      if (bytes[at] !== VERSION) throw new RangeError(`user facts: unknown version ${bytes[at]}`);
      if (at + 1 >= bytes.length) throw new RangeError('user facts: truncated');
      const present = bytes[at + 1] as number;
      at += 2;
      OUTCOMES.forEach((outcome, i) => {
        if (!(present & (1 << i))) return;
        const form = UserSet.formAt(bytes, at);
        forms.push({ outcome, at, exact: form.exact, sketch: form.sketch });
        at = form.end;
      });
    }
    const room = new Map<UserOutcome, number>();
    for (const form of forms) {
      if (form.sketch) this.sets[form.outcome].readFrom(bytes, form.at);
      else room.set(form.outcome, (room.get(form.outcome) ?? 0) + form.exact);
    }
    for (const [outcome, n] of room) this.sets[outcome].reserve(n);
    for (const form of forms) if (!form.sketch) this.sets[form.outcome].readFrom(bytes, form.at);
  }

  addAll(other: UserFacts): void {
    for (const outcome of OUTCOMES) this.sets[outcome].addAll(other.sets[outcome]);
  }

  /** Each user and its fact flags, by hash (signed, as stored), or null once sketched. */
  entries(): Array<{ hash: bigint; flags: number }> | null {
    const hashes = this.sets.users.hashes();
    if (!hashes) return null;
    return hashes
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .map((h) => {
        let flags = 0;
        for (const [name, bit] of Object.entries(FACT_FLAGS)) {
          if (this.sets[name as keyof typeof FACT_FLAGS].has(h)) flags |= bit;
        }
        return { hash: BigInt.asIntN(64, h), flags };
      });
  }

  encode(): Uint8Array {
    // Most buckets hold a user or two and no crash: empty sets take no bytes.
    const present = OUTCOMES.filter((o) => !this.sets[o].isEmpty);
    let length = 2;
    for (const outcome of present) length += this.sets[outcome].encodedLength();
    const out = new Uint8Array(length);
    out[0] = VERSION;
    out[1] = OUTCOMES.reduce((mask, o, i) => (this.sets[o].isEmpty ? mask : mask | (1 << i)), 0);
    let at = 2;
    for (const outcome of present) at = this.sets[outcome].writeTo(out, at);
    return out;
  }

  /** The counts, and whether they are exact (every set involved, the fatal union included). */
  counts(): UserCounts & { quality: UserCountQuality } {
    const fatal = this.sets.crashed.clone();
    fatal.addAll(this.sets.abnormal);
    fatal.addAll(this.sets.unhandled);
    const exact = fatal.isExact && OUTCOMES.every((o) => this.sets[o].isExact);
    return {
      users: this.sets.users.count(),
      erroredAll: this.sets.erroredAll.count(),
      crashed: this.sets.crashed.count(),
      abnormal: this.sets.abnormal.count(),
      unhandled: this.sets.unhandled.count(),
      fatalAny: fatal.count(),
      anr: this.sets.anr.count(),
      anrForeground: this.sets.anrForeground.count(),
      quality: exact
        ? EXACT
        : { exact: false, relativeStandardError: SKETCH_RELATIVE_STANDARD_ERROR },
    };
  }
}

/** The flag byte of a user's facts. */
export function factFlags(facts: Partial<Record<Exclude<UserOutcome, 'users'>, boolean>>): number {
  let flags = 0;
  for (const [name, bit] of Object.entries(FACT_FLAGS)) {
    if (facts[name as keyof typeof FACT_FLAGS]) flags |= bit;
  }
  return flags;
}
