/**
 * Issue 20: the domain's error kinds and the retry of a lost race. The HTTP layer maps `kind` to
 * a status and `code` to the problem type (lambdas/http/problems.ts), so those are the contract;
 * a read-modify-write that lost a race is run again so no edit is lost (rule 25), and only then
 * gives up with the 409; the busy database (rule 35) is never mistaken for a refusal.
 */
import { describe, expect, it } from 'vitest';
import { BackendBusy, DomainError, notFound, retryOnConflict, versionConflict } from '../../../lambdas/domain/errors.ts';

describe('domain errors: kind and code are the contract', () => {
  it('a DomainError keeps its kind, code, message and extra, is an Error named DomainError, and has no extra by default', () => {
    const err = new DomainError('too-many-requests', 'sign-in-throttled', 'Wait.', { retryAfterSeconds: 30 });
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ kind: 'too-many-requests', code: 'sign-in-throttled', message: 'Wait.', name: 'DomainError', extra: { retryAfterSeconds: 30 } });
    expect(new DomainError('gone', 'link-gone', 'Gone.').extra).toEqual({});
  });

  it('notFound is the not-found kind and code; versionConflict the conflict kind with code version-conflict', () => {
    expect(notFound('The portal record')).toMatchObject({ kind: 'not-found', code: 'not-found', name: 'DomainError' });
    expect(versionConflict()).toMatchObject({ kind: 'conflict', code: 'version-conflict' });
  });

  it('rule 35: BackendBusy is not a DomainError (never read as "refused, nothing done"); it carries Retry-After, the last error and a message for the 503', () => {
    const last = Object.assign(new Error('x'), { name: 'TransactionCanceledException' });
    const busy = new BackendBusy(2, last);
    expect(busy).not.toBeInstanceOf(DomainError);
    expect(busy).toBeInstanceOf(Error);
    expect(busy).toMatchObject({ name: 'BackendBusy', retryAfterSeconds: 2, last });
    expect(busy.message).toMatch(/try again/i);
  });
});

describe('retryOnConflict: a lost race is run again, no edit lost (rule 25)', () => {
  const counting = (failFirst: number, error: () => unknown = versionConflict) => {
    let calls = 0;
    const step = async () => {
      calls += 1;
      if (calls <= failFirst) throw error();
      return `done after ${calls}`;
    };
    return { step, calls: () => calls };
  };

  it('the answer of the first try that wins, without retrying a success', async () => {
    const once = counting(0);
    await expect(retryOnConflict(once.step)).resolves.toBe('done after 1');
    expect(once.calls()).toBe(1);
    const third = counting(2);
    await expect(retryOnConflict(third.step)).resolves.toBe('done after 3');
    expect(third.calls()).toBe(3);
  });

  it('gives up with the 409 after 8 tries by default, and after exactly `tries` when given', async () => {
    const always = counting(Infinity);
    await expect(retryOnConflict(always.step)).rejects.toMatchObject({ code: 'version-conflict' });
    expect(always.calls()).toBe(8);
    const eighth = counting(7);
    await expect(retryOnConflict(eighth.step)).resolves.toBe('done after 8');
    const two = counting(Infinity);
    await expect(retryOnConflict(two.step, 2)).rejects.toMatchObject({ kind: 'conflict' });
    expect(two.calls()).toBe(2);
    const one = counting(Infinity);
    await expect(retryOnConflict(one.step, 1)).rejects.toMatchObject({ kind: 'conflict' });
    expect(one.calls()).toBe(1);
  });

  it('any other refusal or failure is not retried: it is the answer at once (nothing done twice)', async () => {
    const refused = counting(Infinity, () => new DomainError('conflict', 'username-taken', 'Taken.'));
    await expect(retryOnConflict(refused.step)).rejects.toMatchObject({ code: 'username-taken' });
    expect(refused.calls()).toBe(1);
    const busy = counting(Infinity, () => new BackendBusy(1));
    await expect(retryOnConflict(busy.step)).rejects.toBeInstanceOf(BackendBusy);
    expect(busy.calls()).toBe(1);
    // An error that only looks like a conflict (not a DomainError) is not one.
    const lookalike = counting(Infinity, () => Object.assign(new Error('x'), { code: 'version-conflict' }));
    await expect(retryOnConflict(lookalike.step)).rejects.toThrow('x');
    expect(lookalike.calls()).toBe(1);
  });
});
