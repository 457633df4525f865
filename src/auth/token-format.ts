import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

// Organization API tokens look like GitHub's: a prefix a secret scanner can match, 30 random
// base62 characters (about 178 bits), and 6 base62 characters of CRC32 over the whole token
// before them, so a scanner (and Vigil, before any lookup) can tell a real token from noise.

export const ORG_TOKEN_PREFIX = 'vglo_';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 30;
const CHECKSUM_LENGTH = 6;
const SHAPE = new RegExp(`^${ORG_TOKEN_PREFIX}[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);
/** How much of a token is kept in clear to tell tokens apart: the prefix and 4 characters. */
export const DISPLAY_PREFIX_LENGTH = ORG_TOKEN_PREFIX.length + 4;

function base62(value: number, length: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < length; i += 1) {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

function checksum(body: string): string {
  return base62(crc32(body), CHECKSUM_LENGTH);
}

/** A new organization token: `vglo_` + 30 random base62 characters + a 6-character CRC32. */
export function generateOrgToken(): string {
  let random = '';
  // Rejection sampling keeps every character equally likely (256 is not a multiple of 62).
  while (random.length < RANDOM_LENGTH) {
    for (const byte of randomBytes(RANDOM_LENGTH * 2)) {
      if (byte < 248 && random.length < RANDOM_LENGTH) random += BASE62[byte % 62];
    }
  }
  const body = `${ORG_TOKEN_PREFIX}${random}`;
  return `${body}${checksum(body)}`;
}

/** Whether `token` has an organization token's shape and a matching checksum. */
export function isOrgToken(token: string): boolean {
  if (!SHAPE.test(token)) return false;
  const body = token.slice(0, -CHECKSUM_LENGTH);
  return checksum(body) === token.slice(-CHECKSUM_LENGTH);
}
