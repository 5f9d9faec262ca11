/** The one home of secret handling (lambdas/domain/secrets.ts): PIN normalising, hashing, constant-time compare (rule 10). */
import { describe, expect, it } from 'vitest';
import { constantTimeEqual, digestsEqual, hashPin, newPin, normalisePin, pinsEqual, readableAlphabet, verifyPinHash } from '../../../lambdas/domain/secrets.ts';

describe('PINs', () => {
  it('are 6 readable characters and compare as typed: any case, spaces and dashes ignored', () => {
    const pin = newPin();
    expect(pin).toMatch(new RegExp(`^[${readableAlphabet}]{6}$`));
    expect(normalisePin(' ab-c 2-34 ')).toBe('ABC234');
    expect(pinsEqual('ABC234', 'abc-234')).toBe(true);
    expect(pinsEqual('ABC234', 'ABC235')).toBe(false);
    expect(pinsEqual('ABC234', 'ABC2345')).toBe(false);
  });

  it('rule 10: a hashed PIN is salted (two hashes of one PIN differ) and verifies as typed', async () => {
    const [a, b] = [await hashPin('ABC234'), await hashPin('ABC234')];
    expect(a).not.toBe(b);
    expect(a).not.toContain('ABC234');
    expect(await verifyPinHash('abc 234', a)).toBe(true);
    expect(await verifyPinHash('ABC235', a)).toBe(false);
  });

  it('rule 10: a stored value of another scheme, without salt or with out-of-bounds cost never verifies (and never throws)', async () => {
    const good = await hashPin('ABC234');
    const [, n, r, p, salt, hash] = good.split('$');
    const bad = [
      `bcrypt$${n}$${r}$${p}$${salt}$${hash}`,
      `scrypt$${n}$${r}$${p}$$${hash}`,
      `scrypt$${n}$${r}$${p}$${salt}$`,
      `scrypt$${n}$${r}$${p}$${Buffer.from('short').toString('base64url')}$${hash}`,
      `scrypt$1048576$${r}$${p}$${salt}$${hash}`,
      `scrypt$1000$${r}$${p}$${salt}$${hash}`,
      `scrypt$${n}$64$${p}$${salt}$${hash}`,
      `scrypt$${n}$${r}$${p}$${salt}$${hash}$extra`,
      'ABC234',
      '',
    ];
    for (const stored of bad) expect(await verifyPinHash('ABC234', stored)).toBe(false);
  });

  it('comparisons: equal strings only, whatever the lengths', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(digestsEqual('abc', 'abc')).toBe(true);
    expect(digestsEqual('abc', 'abd')).toBe(false);
  });
});
