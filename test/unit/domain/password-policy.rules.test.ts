/**
 * Password rules 1-3 and 31 at their edges (issue 20): each refusal with its reason, and the
 * nearest password that is accepted beside it.
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import { isPasswordRefusal, passwordProblems, passwordRefusedByPool } from '../../../lambdas/domain/password-policy.ts';

const fine = 'tangerine lighthouse gravel';

describe('rule 31: a password the pool refuses is the same 400 as our own refusal', () => {
  it('names the new password field unless told another, and is recognised as a refusal', () => {
    const byDefault = passwordRefusedByPool();
    expect(byDefault).toMatchObject({ kind: 'bad-request', code: 'validation-error' });
    expect(byDefault.extra.errors).toEqual([{ path: 'body.newPassword', message: expect.any(String) }]);
    expect(passwordRefusedByPool('body.password').extra.errors).toEqual([{ path: 'body.password', message: expect.any(String) }]);
    expect(isPasswordRefusal(byDefault)).toBe(true);
  });

  it('no other error passes for a password refusal', () => {
    expect(isPasswordRefusal(new DomainError('bad-request', 'other-code', 'x'))).toBe(false);
    expect(isPasswordRefusal(new DomainError('conflict', 'validation-error', 'x'))).toBe(false);
    expect(isPasswordRefusal(new Error('validation-error'))).toBe(false);
    expect(isPasswordRefusal({ kind: 'bad-request', code: 'validation-error' })).toBe(false);
    expect(isPasswordRefusal(undefined)).toBe(false);
  });

  it('refuses every line break and control character Cognito or a keyboard would not take, each alone', () => {
    for (const c of ['\n', '\r', '\u2028', '\u2029', '\u0085', '\u0000', '\u001b', '\u007f', '\u009f', '\t']) {
      expect(passwordProblems(`tangerine${c}lighthouse gravel`), JSON.stringify(c)).toEqual(['must not contain line breaks or control characters']);
    }
  });

  it('a space at either end is refused with one reason; spaces and other text inside are not', () => {
    expect(passwordProblems(` ${fine}`)).toEqual(['must not begin or end with a space']);
    expect(passwordProblems(`${fine} `)).toEqual(['must not begin or end with a space']);
    expect(passwordProblems(`x${fine}x`)).toEqual([]);
    expect(passwordProblems('tangerine\u00a0lighthouse gravel')).toEqual([]);
  });
});

describe('rule 1: length in characters, each reason alone', () => {
  it('14 characters: only the length reason; 129: only the other', () => {
    expect(passwordProblems('abcdefghijklmn')).toEqual(['must be at least 15 characters']);
    expect(passwordProblems('abcdefghijklmno')).toEqual([]);
    const long = 'the quick brown fox jumps over the lazy dog while it rains '.repeat(3).slice(0, 129);
    expect(passwordProblems(long)).toEqual(['must be at most 128 characters']);
  });

  it('an empty password is refused for its length only', () => {
    expect(passwordProblems('')).toEqual(['must be at least 15 characters']);
  });
});

describe('rule 3: one character repeated', () => {
  it('refuses it whatever the case of the letters, and accepts two characters alternating', () => {
    expect(passwordProblems('aAaAaAaAaAaAaAaA')).toEqual(['must not be one character repeated']);
    expect(passwordProblems('abababababababab')).toEqual([]);
  });
});

describe('rule 3: the username and the email address', () => {
  it('a username of 3 characters or more is refused in any case and with spaces around it as given', () => {
    expect(passwordProblems('the pat went out walking', { username: 'Pat' })).toEqual(['must not contain your username']);
    expect(passwordProblems('THE PAT WENT OUT WALKING', { username: ' pat ' })).toEqual(['must not contain your username']);
    expect(passwordProblems('the pat went out walking', { username: 'tap' })).toEqual([]);
  });

  it('a username shorter than 3 characters is not looked for (too common to refuse)', () => {
    expect(passwordProblems('the pat went out walking', { username: 'pa' })).toEqual([]);
    expect(passwordProblems('the pat went out walking', { username: '  ' })).toEqual([]);
  });

  it('no username or email given: nothing is looked for, even the word "undefined"', () => {
    expect(passwordProblems('this is undefined behaviour')).toEqual([]);
    expect(passwordProblems('this is undefined behaviour', {})).toEqual([]);
  });

  it('the whole email address is refused even when its local part is too short to look for alone', () => {
    expect(passwordProblems('write to pa@example.test now', { email: ' PA@Example.test ' })).toEqual(['must not contain your email address']);
    expect(passwordProblems('the pa went out walking', { email: 'pa@example.test' })).toEqual([]);
  });

  it('the local part of 3 characters or more is refused in any case; another is not', () => {
    expect(passwordProblems('the PAT went out walking', { email: 'Pat@example.test' })).toEqual(['must not contain your email address']);
    expect(passwordProblems('the pat went out walking', { email: 'tap@example.test' })).toEqual([]);
    expect(passwordProblems('the example went out walking', { email: 'pat@example.test' })).toEqual([]);
  });

  it('both reasons when both are in it', () => {
    expect(passwordProblems('pat and sam go walking', { username: 'sam', email: 'pat@example.test' })).toEqual([
      'must not contain your username',
      'must not contain your email address',
    ]);
  });
});
