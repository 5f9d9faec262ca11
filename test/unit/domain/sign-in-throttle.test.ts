import { describe, expect, it, vi } from 'vitest';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import { accountWaitSeconds, throttledSignIn, throttleKeys, throttlePolicy } from '../../../lambdas/domain/sign-in-throttle.ts';
import { memoryThrottleState as memoryThrottle } from '../../support/memory-throttle.ts';

const refused = () => Promise.reject(new DomainError('unauthorized', 'invalid-credentials', 'no'));

describe('rule 5: sign-in failures count per account', () => {
  it('lets the first 5 failures through, then makes each attempt wait, doubling up to 15 minutes', () => {
    const now = new Date('2026-11-21T10:00:00Z');
    const at = (failures: number) => accountWaitSeconds({ failures, lastFailureAt: now.getTime() }, now);
    expect([1, 4].map(at)).toEqual([0, 0]);
    expect([5, 6, 7, 8].map(at)).toEqual([30, 60, 120, 240]);
    expect(at(20)).toBe(throttlePolicy.maxDelaySeconds);
    expect(at(99)).toBe(throttlePolicy.maxDelaySeconds);
    expect(at(100)).toBe(Infinity);
  });

  it('answers 429 with Retry-After without calling the identity provider once the account must wait', async () => {
    const mem = memoryThrottle();
    let clock = new Date('2026-11-21T10:00:00Z');
    const deps = { throttle: mem.store, clock: () => clock };
    const idp = vi.fn(refused);
    for (let i = 0; i < 5; i++) {
      // Every attempt from a different address: failures still add up on the one account.
      const keys = throttleKeys('patient', 'Pat', `198.51.100.${i}`, clock);
      await expect(throttledSignIn(deps, keys, idp)).rejects.toMatchObject({ code: 'invalid-credentials' });
    }
    const keys = throttleKeys('patient', 'pat', '203.0.113.77', clock);
    await expect(throttledSignIn(deps, keys, idp)).rejects.toMatchObject({ kind: 'too-many-requests', extra: { retryAfterSeconds: 30 } });
    expect(idp).toHaveBeenCalledTimes(5);
    clock = new Date(clock.getTime() + 31_000);
    await expect(throttledSignIn(deps, keys, idp)).rejects.toMatchObject({ code: 'invalid-credentials' });
    expect(idp).toHaveBeenCalledTimes(6);
  });

  it('locks the account after 100 consecutive failures, however long ago', async () => {
    const mem = memoryThrottle();
    const now = new Date('2026-11-21T10:00:00Z');
    const keys = throttleKeys('patient', 'pat', '203.0.113.1', now);
    mem.accounts.set(keys.accountKey, { failures: 100, lastFailureAt: now.getTime() - 30 * 86_400_000 });
    const idp = vi.fn(async () => 'tokens');
    await expect(throttledSignIn({ throttle: mem.store, clock: () => now }, keys, idp)).rejects.toMatchObject({ kind: 'too-many-requests' });
    expect(idp).not.toHaveBeenCalled();
  });

  it('a success clears the consecutive count', async () => {
    const mem = memoryThrottle();
    const now = new Date('2026-11-21T10:00:00Z');
    const keys = throttleKeys('staff', 'frontdesk', '203.0.113.1', now);
    mem.accounts.set(keys.accountKey, { failures: 3, lastFailureAt: now.getTime() });
    await expect(throttledSignIn({ throttle: mem.store, clock: () => now }, keys, async () => 'tokens')).resolves.toBe('tokens');
    expect(mem.accounts.has(keys.accountKey)).toBe(false);
  });

  it('rule 5: 20 concurrent wrong passwords reach the identity provider at most 5 times; the rest wait', async () => {
    const mem = memoryThrottle();
    const now = new Date('2026-11-21T10:00:00Z');
    const keys = throttleKeys('patient', 'pat', '203.0.113.9', now);
    // Each attempt yields before the identity provider answers, as a network call would.
    const idp = vi.fn(() => new Promise<never>((_, reject) => setTimeout(() => reject(new DomainError('unauthorized', 'invalid-credentials', 'no')), 5)));
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => throttledSignIn({ throttle: mem.store, clock: () => now }, keys, idp, { reserve: true })));
    expect(idp.mock.calls.length).toBeLessThanOrEqual(5);
    expect(results.filter((r) => r.status === 'rejected' && (r.reason as DomainError).kind === 'too-many-requests').length).toBeGreaterThanOrEqual(15);
    expect(mem.accounts.get(keys.accountKey)?.failures).toBe(idp.mock.calls.length);
  });

  it('an error that is not a refused password (e.g. the IdP is down) does not count', async () => {
    const mem = memoryThrottle();
    const now = new Date();
    const keys = throttleKeys('staff', 'frontdesk', '203.0.113.1', now);
    await expect(throttledSignIn({ throttle: mem.store, clock: () => now }, keys, () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(mem.accounts.size).toBe(0);
  });
});

describe('rule 6: sign-in failures count per source address', () => {
  it('refuses an address past its failures in the window, whatever account it tries', async () => {
    const mem = memoryThrottle();
    const now = new Date('2026-11-21T10:00:00Z');
    const keys = throttleKeys('patient', 'someone-new', '203.0.113.5', now);
    mem.addresses.set(keys.addressKey, throttlePolicy.addressFailuresPerWindow);
    const idp = vi.fn(refused);
    const err = await throttledSignIn({ throttle: mem.store, clock: () => now }, keys, idp).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'too-many-requests' });
    expect((err as DomainError).extra.retryAfterSeconds).toBeGreaterThan(0);
    expect(idp).not.toHaveBeenCalled();
  });

  it('keeps usernames and addresses out of the counter keys', () => {
    const keys = throttleKeys('patient', 'pat@example.test', '203.0.113.5', new Date());
    expect(JSON.stringify(keys)).not.toMatch(/pat|example|203\.0/);
  });
});
