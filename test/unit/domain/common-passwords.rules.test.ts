/**
 * Rule 3: the shipped common-password list (the entries the length rule alone does not refuse).
 * Every entry is lower-case, at least 15 code points, listed once, and refused by the password
 * rules in any case; the generated list itself is checked against the package in
 * password-policy.test.ts. (This file's only mutants are module-level, ignored as static.)
 */
import { describe, expect, it } from 'vitest';
import { commonLongPasswords } from '../../../lambdas/domain/common-passwords.ts';
import { passwordLimits, passwordProblems } from '../../../lambdas/domain/password-policy.ts';

describe('rule 3: the long common passwords', () => {
  it('each entry lower-case, long enough to pass rule 1, listed once, sorted', () => {
    expect(commonLongPasswords.length).toBe(41);
    for (const p of commonLongPasswords) {
      expect(p).toBe(p.toLowerCase());
      expect([...p].length).toBeGreaterThanOrEqual(passwordLimits.min);
    }
    expect(new Set(commonLongPasswords).size).toBe(commonLongPasswords.length);
    expect([...commonLongPasswords]).toEqual([...commonLongPasswords].sort());
  });

  it('each is refused as common, typed in any case', () => {
    for (const p of commonLongPasswords) {
      expect(passwordProblems(p.toUpperCase()), p).toContain('is on a list of commonly used passwords; choose another');
    }
    expect(passwordProblems('passwordpassword1')).not.toContain('is on a list of commonly used passwords; choose another');
  });
});
