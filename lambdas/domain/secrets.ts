/**
 * Generated secrets and how they are kept and compared: the one home for them (issue 14 item 3).
 * Everything comes from the platform CSPRNG, and every comparison of a secret is in constant time
 * (rule 10).
 *
 * HASH COST FITS THE SECRET (issue 16 item 4). What a stolen copy of the table must not give is a
 * usable secret; the cost of each check is chosen by the secret's entropy and life:
 *   - opaque tokens (links, sessions; 256 bits): plain SHA-256 (sha256). Nobody can enumerate
 *     2^256; a slow hash would only slow every request (rule 9).
 *   - lobby passwords (~49.5 bits, live ≤ settings.lobbyMinutes, one use): HMAC-SHA-256 under a
 *     key that is not in the table (keyedHash; adapters/lobby-key.ts). In AWS that key is
 *     GenerateMac("portal-access lobby password key v1") under a KMS HMAC_256 key of its own
 *     (lib/stack/lobby-key.ts; only the lobby issue and sign-in functions may GenerateMac with
 *     it), asked once per cold start and kept in memory; locally (no KMS) it is HKDF of the PIN
 *     key file. Without the key a copy of the table cannot test a single guess, so no work factor
 *     is needed, and a check costs microseconds instead of scrypt's ~50 ms of CPU and 16 MiB
 *     (lobby sign-in was 4.59× its backend calls). Online guessing is bounded by the throttle. If
 *     KMS cannot give the key the request fails (500), never falling back to an unkeyed hash.
 *     Each stored hash names its scheme: those stored before (scrypt, no `scheme`) still verify
 *     with scrypt until they expire (≤ 24 h); where no key is configured, new ones are scrypt.
 *   - PINs (~30 bits; an invitation's lives for days): scrypt (hashPin) where they are hashed,
 *     sealed where staff must see them again (adapters/pin-vault.ts): at 30 bits even a keyed
 *     fast hash leaves the key as the only defence, and the slow salted hash is the second one.
 *   - patient and staff passwords (chosen by people, long-lived): never here, Cognito keeps them.
 */
import { createHash, createHmac, randomBytes, randomInt, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

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

/**
 * HMAC-SHA-256 under `key` of `purpose` and `value` (a NUL between them, so no purpose's input
 * can be another's), base64url: the fast keyed hash of short-lived high-entropy secrets (above).
 */
export const keyedHash = (key: Buffer, purpose: string, value: string): string =>
  createHmac('sha256', key).update(purpose, 'utf8').update('\u0000').update(value, 'utf8').digest('base64url');

/** Equal strings, in time that does not depend on where they differ (only on their lengths). */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Equal strings, in time that depends on neither value: both are hashed first, so lengths do not show. */
export function digestsEqual(a: string, b: string): boolean {
  const digest = (v: string) => createHash('sha256').update(v, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

// ------------------------------------------------------------------------------ PINs

/** 6 characters from the readable alphabet (31 symbols, ~29.7 bits). */
export const PIN_LENGTH = 6;

export const newPin = (): string => readableSecret(PIN_LENGTH);

/** A PIN as typed: any case, spaces and dashes ignored. */
export const normalisePin = (pin: string): string => pin.replace(/[\s-]+/g, '').toUpperCase();

/** A typed PIN against the PIN in clear (an opened seal), in constant time whatever the typed length (rule 10). */
export const pinsEqual = (expected: string, typed: string): boolean => digestsEqual(normalisePin(expected), normalisePin(typed));

/**
 * scrypt, N=2^14, r=8, p=1 (16 MiB, tens of ms), 16-byte random salt, 32-byte output. The PIN
 * has ~30 bits, so a fast hash would fall to a table read; scrypt makes each guess cost, and
 * the PIN alone is useless without the link token, which is stored only as SHA-256.
 */
const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
/** What a stored hash may ask for: no more work than this (a tampered item must not buy a slow scrypt). */
const MAX_COST = { N: 1 << 16, r: 8, p: 4 } as const;

const scrypt = (secret: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => scryptCallback(secret, salt, 32, options, (err, key) => (err ? reject(err) : resolve(key))));

/** A PIN as a salted slow hash: `scrypt$N$r$p$salt$hash` (rule 10). */
export async function hashPin(pin: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(normalisePin(pin), salt, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/**
 * A typed PIN against a stored hashPin value, in constant time. False (never a throw) for a
 * stored value of another scheme, with a missing or short salt or hash, or with cost
 * parameters that are not whole numbers within bounds.
 */
export async function verifyPinHash(pin: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash, ...more] = stored.split('$');
  if (scheme !== 'scrypt' || more.length > 0 || !salt || !hash) return false;
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  const whole = (v: number, max: number) => Number.isInteger(v) && v >= 1 && v <= max;
  if (!whole(cost.N, MAX_COST.N) || (cost.N & (cost.N - 1)) !== 0 || cost.N < 2 || !whole(cost.r, MAX_COST.r) || !whole(cost.p, MAX_COST.p)) return false;
  const saltBytes = Buffer.from(salt, 'base64url');
  const expected = Buffer.from(hash, 'base64url');
  if (saltBytes.length < 16 || expected.length !== 32) return false;
  const actual = await scrypt(normalisePin(pin).slice(0, 64), saltBytes, { ...cost, maxmem: SCRYPT.maxmem });
  return timingSafeEqual(actual, expected);
}
