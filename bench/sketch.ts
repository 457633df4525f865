import { randomBytes } from 'node:crypto';
import { SKETCH_RELATIVE_STANDARD_ERROR, UserSet } from '../src/metrics/user-set.ts';

// The sketch's relative standard error measured, not only derived: many independent sets of a
// million random users each (a user hash is uniform, as SHA-256's first 8 bytes are), and the
// root mean square of their relative errors beside HyperLogLog's 1.04 / √m, from just past the
// exact limit (where a set first becomes a sketch) to a million.

export function runSketchBench({ sets = 200, sizes = [5_000, 100_000, 1_000_000] } = {}) {
  for (const users of sizes) measure(sets, users);
}

function measure(sets: number, users: number) {
  const errors: number[] = [];
  const started = performance.now();
  for (let s = 0; s < sets; s++) {
    const set = new UserSet();
    // 8 bytes per user, drawn in chunks so generating them does not dominate.
    const chunk = 65_536;
    for (let done = 0; done < users; done += chunk) {
      const n = Math.min(chunk, users - done);
      const bytes = randomBytes(n * 8);
      for (let i = 0; i < n; i++) set.addBytes(bytes, i * 8);
    }
    errors.push((set.count() - users) / users);
  }
  const rms = Math.sqrt(errors.reduce((sum, e) => sum + e * e, 0) / errors.length);
  const worst = Math.max(...errors.map(Math.abs));
  const bias = errors.reduce((sum, e) => sum + e, 0) / errors.length;
  const ms = performance.now() - started;
  process.stdout.write(
    `\nSketch accuracy: ${sets} sets of ${users.toLocaleString('en-US')} random users (${(ms / 1000).toFixed(1)} s)\n` +
      `  relative standard error measured ${(rms * 100).toFixed(3)} % (derived ${(SKETCH_RELATIVE_STANDARD_ERROR * 100).toFixed(3)} %), ` +
      `mean error ${(bias * 100).toFixed(3)} %, worst of ${sets} ${(worst * 100).toFixed(3)} %\n`,
  );
}
