import { describe, expect, it } from 'vitest';
import { dictionary } from '@zxcvbn-ts/language-common';
import { commonLongPasswords } from '../../../lambdas/domain/common-passwords.ts';
import { passwordLimits, passwordProblems } from '../../../lambdas/domain/password-policy.ts';

describe('rule 1: length', () => {
  it('refuses 14 characters and accepts 15', () => {
    expect(passwordProblems('correct horse b'.slice(0, 14))).toContain('must be at least 15 characters');
    expect(passwordProblems('correct horse b')).toEqual([]);
  });

  it('accepts 128 characters and refuses 129', () => {
    const long = 'the quick brown fox jumps over the lazy dog while it rains '.repeat(3);
    expect(passwordProblems(`${long.slice(0, 127)}x`)).toEqual([]);
    expect(passwordProblems(long.slice(0, 129))).toContain('must be at most 128 characters');
  });
});

describe('rule 2: no composition rules', () => {
  it('accepts a long all-lowercase passphrase that is not on the blocklist', () => {
    expect(passwordProblems('tangerine lighthouse gravel')).toEqual([]);
  });
});

describe('rule 3: blocklist and personal data', () => {
  it('refuses a password on the common-password list, whatever its case, with the reason in words', () => {
    // A 15+ character entry of the shipped list.
    expect(passwordProblems('PasswordPassword')).toContain('is on a list of commonly used passwords; choose another');
    expect(passwordProblems('qazwsxedcrfvtgb')).toContain('is on a list of commonly used passwords; choose another');
  });

  it('refuses every password of the whole common-password list (issue 16: only the long entries ship, none is missed)', () => {
    const listed = dictionary['passwords-common'] as string[];
    expect(listed.length).toBeGreaterThan(40_000);
    const accepted = listed.filter((p) => passwordProblems(p).length === 0 || passwordProblems(p.toUpperCase()).length === 0);
    expect(accepted).toEqual([]);
  });

  it('ships exactly the entries the length rule does not already refuse (regenerate common-passwords.ts when this fails)', () => {
    const listed = dictionary['passwords-common'] as string[];
    const long = [...new Set(listed.map((p) => p.toLowerCase()))].filter((p) => [...p].length >= passwordLimits.min).sort();
    expect([...commonLongPasswords]).toEqual(long);
    // Each of them is refused for being on the list, not merely for its length.
    for (const p of long) expect(passwordProblems(p), p).toContain('is on a list of commonly used passwords; choose another');
  });

  it('refuses a password containing the username or the email address', () => {
    expect(passwordProblems('my name is pat.smith ok', { username: 'Pat.Smith' })).toContain('must not contain your username');
    expect(passwordProblems('write to pat@example.test now', { email: 'pat@example.test' })).toContain('must not contain your email address');
    expect(passwordProblems('patsmithy loves long walks', { email: 'patsmithy@example.test' })).toContain('must not contain your email address');
  });

  it('refuses one character repeated', () => {
    expect(passwordProblems('aaaaaaaaaaaaaaaaaaaa')).toContain('must not be one character repeated');
  });
});

describe("rule 31: nothing Cognito's own rules refuse passes ours", () => {
  it('refuses a leading or trailing space (or other whitespace) with the reason in words; a space inside is fine', () => {
    for (const p of [' tangerine lighthouse gravel', 'tangerine lighthouse gravel ', '\ttangerine lighthouse gravel', 'tangerine lighthouse gravel\u00a0']) {
      expect(passwordProblems(p), JSON.stringify(p)).toContain('must not begin or end with a space');
    }
    expect(passwordProblems('tangerine  lighthouse gravel')).toEqual([]);
  });

  it('refuses line breaks and control characters anywhere', () => {
    for (const p of ['tangerine\nlighthouse gravel', 'tangerine\rlighthouse gravel', 'tangerine\u2028lighthouse gravel', 'tangerine\u0000lighthouse gravel']) {
      expect(passwordProblems(p), JSON.stringify(p)).toContain('must not contain line breaks or control characters');
    }
  });

  it("128 characters of two UTF-16 units each are 256 units: within Cognito's limit, so accepted", () => {
    expect(passwordProblems('\u{1F600}\u{1F680}'.repeat(64))).toEqual([]);
    expect(passwordProblems('\u{1F600}\u{1F680}'.repeat(65))).toContain('must be at most 128 characters');
  });
});
