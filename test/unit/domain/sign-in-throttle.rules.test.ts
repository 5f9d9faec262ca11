/**
 * Mutation-testing rules for lambdas/domain/sign-in-throttle.ts (issue 20): the keys, the
 * account delay's arithmetic and the address window, through the public functions.
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import {
  accountThrottleKey,
  accountWaitSeconds,
  requireAddressUnderLimit,
  throttledSignIn,
  throttleKeys,
  throttlePolicy,
} from '../../../lambdas/domain/sign-in-throttle.ts';
import { memoryThrottleState } from '../../support/memory-throttle.ts';

const at = (iso: string) => new Date(iso);
const t0 = at('2026-11-21T10:00:00.000Z');
const later = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const wrong = () => new DomainError('unauthorized', 'invalid-credentials', 'wrong');

function thrown(f: () => unknown): DomainError | undefined {
  try {
    f();
  } catch (err) {
    return err as DomainError;
  }
  return undefined;
}

describe('rule 5: one account counter per username, however it is typed', () => {
  it('a username in another case or with spaces around it counts on the same account key', () => {
    const k = accountThrottleKey('patient', 'alice');
    expect(accountThrottleKey('patient', '  ALICE ')).toBe(k);
    expect(throttleKeys('patient', 'Alice', '1.2.3.4', t0).accountKey).toBe(k);
  });

  it('the key is the SHA-256 of "<pool>:account:<lowercased username>" (stored counters keep working across deploys)', async () => {
    const { createHash } = await import('node:crypto');
    const h = (v: string) => createHash('sha256').update(v).digest('base64url');
    expect(accountThrottleKey('patient', ' Alice ')).toBe(h('patient:account:alice'));
    expect(accountThrottleKey('staff', 'STRASSE')).toBe(h('staff:account:strasse'));
    const now = at('2026-11-21T10:20:00.000Z');
    expect(throttleKeys('lobby', 'x', '1.2.3.4', now).addressKey).toBe(h(`lobby:address:1.2.3.4:${Math.floor(now.getTime() / 900_000)}`));
  });

  it('other usernames and other pools count apart', () => {
    expect(accountThrottleKey('patient', 'alicia')).not.toBe(accountThrottleKey('patient', 'alice'));
    expect(accountThrottleKey('staff', 'alice')).not.toBe(accountThrottleKey('patient', 'alice'));
  });
});

describe('rule 6: the address window', () => {
  it('is 15 minutes aligned on the clock: the same key inside one window, a new key in the next', () => {
    const key = (d: Date) => throttleKeys('patient', 'alice', '1.2.3.4', d).addressKey;
    const start = at('2026-11-21T10:00:00.000Z');
    expect(key(at('2026-11-21T10:14:59.999Z'))).toBe(key(start));
    expect(key(at('2026-11-21T10:15:00.000Z'))).not.toBe(key(start));
    expect(key(at('2026-11-21T09:59:59.999Z'))).not.toBe(key(start));
    expect(throttleKeys('patient', 'alice', '1.2.3.5', start).addressKey).not.toBe(key(start));
    expect(throttleKeys('staff', 'alice', '1.2.3.4', start).addressKey).not.toBe(key(start));
    // The address key does not depend on the username: one counter for every account from that address.
    expect(throttleKeys('patient', 'bob', '1.2.3.4', start).addressKey).toBe(key(start));
  });

  it('allows 99 failures in the window; at 100 the answer is 429 with Retry-After until the window ends', () => {
    expect(thrown(() => requireAddressUnderLimit(99, t0))).toBeUndefined();
    const err = thrown(() => requireAddressUnderLimit(100, at('2026-11-21T10:10:00.000Z')));
    expect(err).toBeInstanceOf(DomainError);
    expect(err?.kind).toBe('too-many-requests');
    expect(err?.code).toBe('too-many-attempts');
    expect(err?.extra.retryAfterSeconds).toBe(300);
    // A part second rounds up: never "retry now" while the window is still on.
    expect(thrown(() => requireAddressUnderLimit(150, at('2026-11-21T10:14:59.500Z')))?.extra.retryAfterSeconds).toBe(1);
    expect(thrown(() => requireAddressUnderLimit(100, t0))?.extra.retryAfterSeconds).toBe(900);
  });
});

describe('rule 5: the account delay', () => {
  const state = (failures: number, secondsAgo = 0) => ({ failures, lastFailureAt: t0.getTime() - secondsAgo * 1000 });

  it('the policy: 5 free failures, 30 s doubling to 15 minutes, a lock at 100, forgotten after a day, 100 per address per 15 minutes', () => {
    expect(throttlePolicy).toEqual({
      freeFailures: 5,
      firstDelaySeconds: 30,
      maxDelaySeconds: 900,
      lockAfterFailures: 100,
      forgetAfterSeconds: 86400,
      addressFailuresPerWindow: 100,
      addressWindowSeconds: 900,
    });
  });

  it('4 failures wait nothing, the 5th makes the next wait 30 s, then 60, 120 … capped at 900', () => {
    expect(accountWaitSeconds(undefined, t0)).toBe(0);
    expect(accountWaitSeconds(state(4), t0)).toBe(0);
    expect(accountWaitSeconds(state(5), t0)).toBe(30);
    expect(accountWaitSeconds(state(6), t0)).toBe(60);
    expect(accountWaitSeconds(state(7), t0)).toBe(120);
    expect(accountWaitSeconds(state(10), t0)).toBe(900);
    expect(accountWaitSeconds(state(99), t0)).toBe(900);
  });

  it('the wait counts from the last failure, rounded up; 0 once it has passed', () => {
    expect(accountWaitSeconds(state(5, 10), t0)).toBe(20);
    expect(accountWaitSeconds(state(5, 29.5), t0)).toBe(1);
    expect(accountWaitSeconds(state(5, 30), t0)).toBe(0);
    expect(accountWaitSeconds(state(5, 3000), t0)).toBe(0);
    expect(accountWaitSeconds(state(10, 899), t0)).toBe(1);
  });

  it('100 failures lock the account (Infinity) even a year later; 99 failures are forgotten after a day, not before', () => {
    expect(accountWaitSeconds(state(100), t0)).toBe(Infinity);
    expect(accountWaitSeconds(state(100, 365 * 86400), t0)).toBe(Infinity);
    // Past the 15-minute cap but within the day: still counted (the next failure would wait again).
    expect(accountWaitSeconds({ failures: 99, lastFailureAt: later(-86400).getTime() }, t0)).toBe(0);
    expect(accountWaitSeconds({ failures: 99, lastFailureAt: later(-86400).getTime() }, later(-86400 + 100))).toBe(800);
  });
});

describe('rule 5: throttledSignIn', () => {
  const keys = { accountKey: 'acct', addressKey: 'addr' };

  it('a locked account is refused with the lock message and a 15-minute Retry-After, without an attempt', async () => {
    const mem = memoryThrottleState();
    mem.accounts.set('acct', { failures: 100, lastFailureAt: t0.getTime() });
    let attempts = 0;
    const err = await throttledSignIn({ throttle: mem.store, clock: () => t0 }, keys, async () => attempts++, { reserve: true }).catch((e: DomainError) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).extra.retryAfterSeconds).toBe(900);
    expect((err as DomainError).message).toMatch(/locked/);
    expect(attempts).toBe(0);
  });

  it('an account that must wait is refused with that wait as Retry-After (both with and without a reservation)', async () => {
    for (const reserve of [true, false]) {
      const mem = memoryThrottleState();
      mem.accounts.set('acct', { failures: 6, lastFailureAt: t0.getTime() - 10_000 });
      const err = await throttledSignIn({ throttle: mem.store, clock: () => t0 }, keys, async () => 'ok', { reserve }).catch((e: DomainError) => e);
      expect((err as DomainError).extra.retryAfterSeconds).toBe(50);
    }
  });

  it('the address limit refuses before the attempt, with its own message, with and without a reservation', async () => {
    for (const reserve of [true, false]) {
      const mem = memoryThrottleState();
      mem.addresses.set('addr', 100);
      let attempts = 0;
      const err = await throttledSignIn({ throttle: mem.store, clock: () => t0 }, keys, async () => attempts++, { reserve }).catch((e: DomainError) => e);
      expect((err as DomainError).code).toBe('too-many-attempts');
      expect((err as DomainError).message).toMatch(/this address/);
      expect(attempts).toBe(0);
    }
  });

  it('without a reservation: a refused password counts on both keys; another error counts nowhere; a success clears the account', async () => {
    const mem = memoryThrottleState();
    const deps = { throttle: mem.store, clock: () => t0 };
    await expect(throttledSignIn(deps, keys, async () => Promise.reject(wrong()))).rejects.toThrow('wrong');
    expect(mem.accounts.get('acct')?.failures).toBe(1);
    expect(mem.addresses.get('addr')).toBe(1);
    await expect(throttledSignIn(deps, keys, async () => Promise.reject(new DomainError('unauthorized', 'other', 'other')))).rejects.toThrow('other');
    await expect(throttledSignIn(deps, keys, async () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(mem.accounts.get('acct')?.failures).toBe(1);
    expect(mem.addresses.get('addr')).toBe(1);
    expect(await throttledSignIn(deps, keys, async () => 'ok')).toBe('ok');
    expect(mem.accounts.has('acct')).toBe(false);
  });

  it('with a reservation: a refused password stays counted and adds the address; another error gives the try back', async () => {
    const mem = memoryThrottleState();
    const deps = { throttle: mem.store, clock: () => t0 };
    await expect(throttledSignIn(deps, keys, async () => Promise.reject(wrong()), { reserve: true })).rejects.toThrow('wrong');
    expect(mem.accounts.get('acct')?.failures).toBe(1);
    expect(mem.addresses.get('addr')).toBe(1);
    await expect(throttledSignIn(deps, keys, async () => Promise.reject(new DomainError('unauthorized', 'other', 'other')), { reserve: true })).rejects.toThrow();
    expect(mem.accounts.get('acct')?.failures).toBe(1);
    expect(mem.addresses.get('addr')).toBe(1);
    expect(await throttledSignIn(deps, keys, async () => 'ok', { reserve: true })).toBe('ok');
    expect(mem.accounts.has('acct')).toBe(false);
  });

  it('without a reservation (one-time secrets): right answers at once all get through, even at the 5th failure', async () => {
    const mem = memoryThrottleState();
    mem.accounts.set('acct', { failures: 4, lastFailureAt: t0.getTime() });
    const deps = { throttle: mem.store, clock: () => t0 };
    const answers = await Promise.all(Array.from({ length: 5 }, () => throttledSignIn(deps, keys, async () => 'ok').catch((e: DomainError) => e.code)));
    expect(answers).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  });

  it('without a reservation, a success on an account with no failures writes nothing (no clear)', async () => {
    const mem = memoryThrottleState();
    let clears = 0;
    const store = { ...mem.store, clearAccount: async (a: string) => (clears++, mem.store.clearAccount(a)) };
    expect(await throttledSignIn({ throttle: store, clock: () => t0 }, keys, async () => 'ok')).toBe('ok');
    expect(clears).toBe(0);
  });

  it('with a reservation: an account whose count keeps changing under it gets 429 after 20 looks, without an attempt', async () => {
    const mem = memoryThrottleState();
    let looks = 0;
    const store = { ...mem.store, read: async (a: string, ip: string) => (looks++, mem.store.read(a, ip)), reserve: async () => false };
    let attempts = 0;
    const err = await throttledSignIn({ throttle: store, clock: () => t0 }, keys, async () => attempts++, { reserve: true }).catch((e: DomainError) => e);
    expect((err as DomainError).kind).toBe('too-many-requests');
    expect((err as DomainError).extra.retryAfterSeconds).toBe(1);
    expect(looks).toBe(20);
    expect(attempts).toBe(0);
  });
});
