/**
 * Mutation-testing rules for lambdas/domain/secrets.ts (issue 20): each test names the rule a
 * surviving mutant broke without any other test noticing. Behaviour through the public functions only.
 */
import { describe, expect, it } from 'vitest';
import {
  constantTimeEqual,
  digestsEqual,
  hashPin,
  newPin,
  normalisePin,
  opaqueToken,
  PIN_LENGTH,
  pinsEqual,
  readableAlphabet,
  readableSecret,
  sha256,
  temporaryPassword,
  verifyPinHash,
} from '../../../lambdas/domain/secrets.ts';

/** A stored hash with one of its `$` fields replaced. */
let base: Promise<string> | undefined;
async function tampered(field: 'n' | 'r' | 'p' | 'salt' | 'hash', value: string): Promise<string> {
  const [scheme, n, r, p, salt, hash] = (await (base ??= hashPin('ABC234'))).split('$');
  const parts = { scheme, n, r, p, salt, hash, [field]: value };
  return [parts.scheme, parts.n, parts.r, parts.p, parts.salt, parts.hash].join('$');
}

describe('rule 10: secrets are generated from the readable alphabet, at full length', () => {
  it('a readable secret has exactly the length asked for, from the alphabet without 0/O/1/I/L', () => {
    expect(readableAlphabet).toBe('ABCDEFGHJKMNPQRSTUVWXYZ23456789');
    for (const n of [0, 1, 6, 16]) expect(readableSecret(n)).toMatch(new RegExp(`^[${readableAlphabet}]{${n}}$`));
    expect(PIN_LENGTH).toBe(6);
    expect(newPin()).toHaveLength(6);
  });

  it('a readable secret uses the whole alphabet (every symbol turns up, none is left out)', () => {
    const seen = new Set(readableSecret(4000));
    expect([...seen].sort().join('')).toBe([...readableAlphabet].sort().join(''));
  });

  it('a temporary password is 16 readable characters in four dash-separated groups', () => {
    expect(temporaryPassword()).toMatch(new RegExp(`^[${readableAlphabet}]{4}(-[${readableAlphabet}]{4}){3}$`));
  });

  it('an opaque token is 256 bits of base64url, different every time; sha256 is the base64url SHA-256', () => {
    const t = opaqueToken();
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(t, 'base64url')).toHaveLength(32);
    expect(opaqueToken()).not.toBe(t);
    expect(sha256('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });
});

describe('rule 10: PIN comparison', () => {
  it('a typed PIN is normalised: every space and dash removed (in runs too), upper case', () => {
    expect(normalisePin('a b\t-c--2 \n3-4')).toBe('ABC234');
    expect(normalisePin('abc234')).toBe('ABC234');
  });

  it('a PIN that differs in one character, or is longer or shorter, is refused', () => {
    expect(pinsEqual('ABC234', 'ABC234')).toBe(true);
    expect(pinsEqual('ABC234', 'XBC234')).toBe(false);
    expect(pinsEqual('ABC234', 'ABC23')).toBe(false);
    expect(pinsEqual('ABC234', '')).toBe(false);
  });

  it('constant-time comparisons are true only for equal strings (same length, other content is false)', () => {
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
    expect(digestsEqual('abc', 'abcd')).toBe(false);
  });
});

describe('rule 10: a stored PIN hash', () => {
  it('is scrypt with N=16384, r=8, p=1, a 16-byte salt and a 32-byte hash', async () => {
    const [scheme, n, r, p, salt, hash, ...rest] = (await hashPin('ABC234')).split('$');
    expect([scheme, n, r, p, rest.length]).toEqual(['scrypt', '16384', '8', '1', 0]);
    expect(Buffer.from(salt!, 'base64url')).toHaveLength(16);
    expect(Buffer.from(hash!, 'base64url')).toHaveLength(32);
  });

  it('verifies the PIN as typed (any case, spaces, dashes) and refuses a PIN one character off', async () => {
    const stored = await hashPin('abc-234');
    expect(await verifyPinHash('A B C 2 3 4', stored)).toBe(true);
    expect(await verifyPinHash('ABC233', stored)).toBe(false);
  });

  it('accepts the cost bounds themselves (N up to 2^16, r up to 8, p up to 4) and nothing past them', async () => {
    // Each stored value is well-formed; the hash is of other parameters, so a within-bounds value is simply "false after scrypt".
    // What is checked here is that in-bounds values are not refused by the bounds (they verify when the hash matches):
    const { scryptSync, randomBytes } = await import('node:crypto');
    const stored = (N: number, r: number, p: number, pin = 'ABC234') => {
      const salt = randomBytes(16);
      const key = scryptSync(pin, salt, 32, { N, r, p, maxmem: 256 * 1024 * 1024 });
      return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
    };
    expect(await verifyPinHash('ABC234', stored(65536, 2, 1))).toBe(true);
    expect(await verifyPinHash('ABC234', stored(2, 8, 1))).toBe(true);
    expect(await verifyPinHash('ABC234', stored(1024, 1, 4))).toBe(true);
    expect(await verifyPinHash('ABC234', stored(1024, 1, 1))).toBe(true);
    // One past each bound, and N not a power of two, or below 2, or r/p zero or fractional.
    const valid = stored(1024, 1, 1).split('$');
    const withCost = (n: number, r: number, p: number) => ['scrypt', n, r, p, valid[4], valid[5]].join('$');
    expect(await verifyPinHash('ABC234', withCost(131072, 1, 1))).toBe(false);
    expect(await verifyPinHash('ABC234', withCost(1024, 1, 5))).toBe(false);
    expect(await verifyPinHash('ABC234', withCost(1024, 9, 1))).toBe(false);
  });

  it('refuses cost fields that are not whole numbers within bounds, even with a matching hash shape', async () => {
    for (const [field, value] of [
      ['n', '1'],
      ['n', '0'],
      ['n', '-16384'],
      ['n', '3072'],
      ['n', '16384.5'],
      ['n', 'x'],
      ['r', '0'],
      ['r', '1.5'],
      ['p', '0'],
      ['p', '5'],
      ['p', ''],
    ] as const) {
      expect(await verifyPinHash('ABC234', await tampered(field, value)), `${field}=${value}`).toBe(false);
    }
  });

  it('refuses a salt shorter than 16 bytes and a hash that is not exactly 32 bytes (never throws)', async () => {
    expect(await verifyPinHash('ABC234', await tampered('salt', Buffer.alloc(15, 1).toString('base64url')))).toBe(false);
    expect(await verifyPinHash('ABC234', await tampered('hash', Buffer.alloc(31, 1).toString('base64url')))).toBe(false);
    expect(await verifyPinHash('ABC234', await tampered('hash', Buffer.alloc(33, 1).toString('base64url')))).toBe(false);
  });

  it('refuses a 15-byte salt even when the hash is right for it (a short salt is not ours)', async () => {
    const { scryptSync } = await import('node:crypto');
    const salt = Buffer.alloc(15, 7);
    const key = scryptSync('ABC234', salt, 32, { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    expect(await verifyPinHash('ABC234', `scrypt$16384$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`)).toBe(false);
  });

  it('accepts a longer salt than 16 bytes (what it refuses is a short one)', async () => {
    const { scryptSync, randomBytes } = await import('node:crypto');
    const salt = randomBytes(24);
    const key = scryptSync('ABC234', salt, 32, { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    expect(await verifyPinHash('abc234', `scrypt$16384$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`)).toBe(true);
  });

  it('hashes at most the first 64 characters of what was typed (a huge input costs no more)', async () => {
    const stored = await hashPin('A'.repeat(64));
    expect(await verifyPinHash('A'.repeat(64) + 'EXTRA', stored)).toBe(true);
    expect(await verifyPinHash('A'.repeat(63), stored)).toBe(false);
  });
});
