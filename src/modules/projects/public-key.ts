import { randomBytes } from 'node:crypto';

/** 32 hex characters, the shape of Sentry's public keys. */
export function newPublicKey(): string {
  return randomBytes(16).toString('hex');
}
