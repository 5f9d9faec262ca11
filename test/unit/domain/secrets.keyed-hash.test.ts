/**
 * keyedHash (lambdas/domain/secrets.ts), the fast keyed hash at rest of short-lived secrets (rules
 * 10 and 33; the lobby password's stored form): HMAC-SHA-256, base64url, purpose and value kept
 * apart. Behaviour through the public function only (issue 20).
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyedHash } from '../../../lambdas/domain/secrets.ts';

const key = Buffer.from('a stack secret of thirty-two b..', 'utf8');

describe('rules 10, 33: keyedHash is a keyed 256-bit hash, with purpose and value kept apart', () => {
  it('is 256 bits in base64url (43 characters, no padding), the same for the same inputs', () => {
    const h = keyedHash(key, 'lobby-password', 'salt:secret');
    expect(h).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(keyedHash(key, 'lobby-password', 'salt:secret')).toBe(h);
  });

  it('is HMAC-SHA-256 of purpose, NUL, value: a holder of the key can recompute it', () => {
    // The value another implementation (or a later migration) must reproduce from the same key.
    const expected = createHmac('sha256', key).update(Buffer.from('lobby-password\u0000salt:secret', 'utf8')).digest('base64url');
    expect(keyedHash(key, 'lobby-password', 'salt:secret')).toBe(expected);
  });

  it('hostile: moving characters between purpose and value never gives the same hash', () => {
    expect(keyedHash(key, 'ab', 'c')).not.toBe(keyedHash(key, 'a', 'bc'));
    expect(keyedHash(key, 'lobby-password', 'x')).not.toBe(keyedHash(key, 'lobby-passwordx', ''));
  });

  it('hostile: another key, purpose or value gives another hash', () => {
    const h = keyedHash(key, 'p', 'v');
    expect(keyedHash(Buffer.from('another key of thirty-two bytes.', 'utf8'), 'p', 'v')).not.toBe(h);
    expect(keyedHash(key, 'q', 'v')).not.toBe(h);
    expect(keyedHash(key, 'p', 'w')).not.toBe(h);
  });

  it('non-ASCII values are hashed as UTF-8 (the same as every other layer encodes them)', () => {
    const expected = createHmac('sha256', key).update(Buffer.from('p\u0000pässwörd', 'utf8')).digest('base64url');
    expect(keyedHash(key, 'p', 'pässwörd')).toBe(expected);
  });
});
