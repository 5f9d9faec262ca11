/**
 * Generated secrets and how they are kept. Everything comes from the platform CSPRNG; opaque
 * tokens are stored only as SHA-256 hashes (enough at 256 bits of entropy, security rule 9).
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/** Letters and digits people can read aloud and type without confusing them: no 0/O, 1/I/L. */
export const readableAlphabet = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

export function readableSecret(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += readableAlphabet[randomInt(readableAlphabet.length)];
  return out;
}

/** A temporary password: 16 readable characters (~79 bits) grouped XXXX-XXXX-XXXX-XXXX for reading aloud. */
export function temporaryPassword(): string {
  return readableSecret(16).match(/.{4}/g)!.join('-');
}

/** An opaque bearer token: 256 bits, base64url. */
export const opaqueToken = (): string => randomBytes(32).toString('base64url');

export const sha256 = (value: string): string => createHash('sha256').update(value).digest('base64url');

export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
