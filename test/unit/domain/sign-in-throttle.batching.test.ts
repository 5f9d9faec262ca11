/**
 * throttledSignIn's reads and its clear (issue 20): the flows that ask for it read the counters in
 * one call (`together`, or with `alsoRead`: issue 16), the others keep their own call; and with
 * `clearLater` a right password leaves its reservation for the caller to clear together with its
 * audit entry (rule 5: the try stays counted until that one write).
 */
import { describe, expect, it } from 'vitest';
import { throttledSignIn, type ThrottleStore } from '../../../lambdas/domain/sign-in-throttle.ts';
import { memoryThrottleState } from '../../support/memory-throttle.ts';

const t0 = new Date('2026-11-21T10:00:00.000Z');
const keys = { accountKey: 'acct', addressKey: 'addr' };

/** A throttle store that can batch reads (as the DynamoDB one does): `calls` lists each backend call as it went out. */
function batching() {
  const mem = memoryThrottleState();
  const calls: string[] = [];
  let batch: string[] | undefined;
  const note = (name: string) => (batch ? batch.push(name) : calls.push(name));
  const store: ThrottleStore = {
    ...mem.store,
    async together(reads) {
      batch = [];
      try {
        return await reads();
      } finally {
        calls.push(`batch(${batch.join(',')})`);
        batch = undefined;
      }
    },
    async read(a, ip) {
      note('read');
      return mem.store.read(a, ip);
    },
  };
  return { mem, store, calls, note };
}

describe('issue 16: the counters are read in one call only where the flow asks for it', () => {
  it('`together`: the counters go out as one batched call', async () => {
    const b = batching();
    expect(await throttledSignIn({ throttle: b.store, clock: () => t0 }, keys, async () => 'ok', { together: true })).toBe('ok');
    expect(b.calls).toEqual(['batch(read)']);
  });

  it('`alsoRead`: the counters and the extra item in one batch, and the item handed to the attempt', async () => {
    const b = batching();
    const seen: string[] = [];
    const alsoRead = async () => {
      b.note('account');
      return 'login';
    };
    expect(await throttledSignIn({ throttle: b.store, clock: () => t0 }, keys, async (login: string) => (seen.push(login), 'ok'), { alsoRead })).toBe('ok');
    expect(b.calls).toEqual(['batch(read,account)']);
    expect(seen).toEqual(['login']);
  });

  it('neither: the flow keeps its plain read (its call sequence unchanged), with and without a reservation', async () => {
    for (const reserve of [false, true]) {
      const b = batching();
      expect(await throttledSignIn({ throttle: b.store, clock: () => t0 }, keys, async () => 'ok', { reserve })).toBe('ok');
      expect(b.calls).toEqual(['read']);
    }
  });
});

describe('rule 5: with `clearLater` a right password leaves its try counted until the caller clears it', () => {
  it('clearLater: the reservation is still there after the success; the caller clears it', async () => {
    const mem = memoryThrottleState();
    const deps = { throttle: mem.store, clock: () => t0 };
    expect(await throttledSignIn(deps, keys, async () => 'ok', { reserve: true, clearLater: true })).toBe('ok');
    expect(mem.accounts.get('acct')).toEqual({ failures: 1, lastFailureAt: t0.getTime() });
    await mem.store.clearAccount('acct');
    expect(mem.accounts.has('acct')).toBe(false);
  });

  it('the twin without clearLater: the success clears the count itself', async () => {
    const mem = memoryThrottleState();
    mem.accounts.set('acct', { failures: 3, lastFailureAt: t0.getTime() - 1000 });
    expect(await throttledSignIn({ throttle: mem.store, clock: () => t0 }, keys, async () => 'ok', { reserve: true })).toBe('ok');
    expect(mem.accounts.has('acct')).toBe(false);
  });
});
