// Release version display and ordering. Parsing follows getsentry/sentry-release-parser (the
// parser behind Sentry's `formatVersion`); the display form is shared/spec/release-health.md §4.5.

// `package@version`: an optional leading '@' (npm scopes), then up to the first '@'.
const RELEASE = /^(@?[^@]+)@(.+)$/;
// major[.minor[.patch[.revision]]][pre-release][+build]; a pre-release starts with '-' or a letter.
const VERSION =
  /^(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:\.(\d+))?((?:-|[a-z])(?:0|[1-9]\d*|\d*[a-zA-Z-][\da-zA-Z-]*)?(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][\da-zA-Z-]*))*)?(?:\+([\da-zA-Z-]+(?:\.[\da-zA-Z-]+)*))?$/;
const HEX = /^[\da-fA-F]+$/;
// The lengths of common hashes (short git, 64-bit, SHA-1, SHA-256 …) the parser shortens.
const HASH_LENGTHS = new Set([12, 16, 20, 32, 40, 64]);
const SHORT_HASH_LENGTH = 12;

interface ParsedVersion {
  /** major, minor, patch, revision as digit strings; missing ones are '0'. */
  numbers: [string, string, string, string];
  pre: string | undefined;
  build: string | undefined;
  /** The version without its `+build` part. */
  core: string;
}

function isBuildHash(text: string): boolean {
  return HASH_LENGTHS.has(text.length) && HEX.test(text);
}

function versionPart(release: string): string {
  const trimmed = release.trim();
  return RELEASE.exec(trimmed)?.[2] ?? trimmed;
}

function parseVersion(text: string): ParsedVersion | null {
  const m = VERSION.exec(text);
  if (!m) return null;
  const [, major = '0', minor, patch, revision, rawPre, build] = m;
  // "1-a1" and "1.0a1" are versions, "1a1" is not (the parser's single-component rule).
  if (minor === undefined && rawPre !== undefined && !rawPre.startsWith('-')) return null;
  const plus = text.indexOf('+');
  return {
    numbers: [major, minor ?? '0', patch ?? '0', revision ?? '0'],
    pre: rawPre?.replace(/^-/, '') || undefined,
    build,
    core: plus === -1 ? text : text.slice(0, plus),
  };
}

/**
 * The version as displayed: without its package (`com.example.app@1.2.3+456` → `1.2.3+456`), a
 * hash version shortened to 12 characters, and a hash build code likewise (`1.0+<sha>` →
 * `1.0+<12 chars>`). Sentry shows the build in parentheses (`1.2.3 (456)`); Vigil keeps `+`.
 */
export function shortVersion(version: string): string {
  const raw = versionPart(version);
  if (isBuildHash(raw)) return raw.slice(0, SHORT_HASH_LENGTH);
  const parsed = parseVersion(raw);
  if (parsed?.build !== undefined && isBuildHash(parsed.build)) {
    return `${parsed.core}+${parsed.build.slice(0, SHORT_HASH_LENGTH)}`;
  }
  return raw;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// Digit strings of any length, compared as numbers without losing precision.
function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  return x.length - y.length || compareStrings(x, y);
}

// Semver identifier lists: numbers numerically and below words, then the longer list wins.
function compareIdentifiers(a: string, b: string): number {
  const xs = a.split('.');
  const ys = b.split('.');
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const x = xs[i] ?? '';
    const y = ys[i] ?? '';
    const xNumeric = /^\d+$/.test(x);
    const yNumeric = /^\d+$/.test(y);
    if (xNumeric !== yNumeric) return xNumeric ? -1 : 1;
    const c = xNumeric ? compareDigits(x, y) : compareStrings(x, y);
    if (c !== 0) return c;
  }
  return xs.length - ys.length;
}

function compareParsed(a: ParsedVersion, b: ParsedVersion): number {
  for (let i = 0; i < 4; i++) {
    const c = compareDigits(a.numbers[i] ?? '0', b.numbers[i] ?? '0');
    if (c !== 0) return c;
  }
  // A pre-release comes before its release; a build comes after the bare version.
  if (a.pre !== b.pre) {
    if (a.pre === undefined || b.pre === undefined) return a.pre === undefined ? 1 : -1;
    const c = compareIdentifiers(a.pre, b.pre);
    if (c !== 0) return c;
  }
  if (a.build !== b.build) {
    if (a.build === undefined || b.build === undefined) return a.build === undefined ? -1 : 1;
    return compareIdentifiers(a.build, b.build);
  }
  return 0;
}

// Sorting a project's releases compares each version about log2(n) times: parse each once. The
// cache is bounded (emptied when full), since versions are as many as clients make up.
const PARSED_CACHE_LIMIT = 50_000;
const parsedCache = new Map<string, ParsedVersion | null>();

function sortableVersion(release: string): ParsedVersion | null {
  let parsed = parsedCache.get(release);
  if (parsed === undefined) {
    const raw = versionPart(release);
    parsed = isBuildHash(raw) ? null : parseVersion(raw);
    if (parsedCache.size >= PARSED_CACHE_LIMIT) parsedCache.clear();
    parsedCache.set(release, parsed);
  }
  return parsed;
}

/**
 * Orders releases oldest first: versions by semver (the package is ignored), free-form names and
 * hashes before any version, and the full string to break ties, so the order is total.
 * Sort newest first with `(a, b) => compareVersions(b, a)`.
 */
export function compareVersions(a: string, b: string): number {
  const x = sortableVersion(a);
  const y = sortableVersion(b);
  if (x !== null && y !== null) {
    const c = compareParsed(x, y);
    if (c !== 0) return Math.sign(c);
  } else if (x !== null || y !== null) {
    return x === null ? -1 : 1;
  }
  return compareStrings(a, b);
}
