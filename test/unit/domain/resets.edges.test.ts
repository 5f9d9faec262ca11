/**
 * Mutation survivors of lambdas/domain/resets.ts (issue 20), round 6: the reset policy's own
 * checks called as one-time-link.ts calls them (the username secret against any record, the
 * compare guard that counts only a wrong set, rule 6), the rate-limited request's audit outcome
 * (rule 13), a stored reset from before the hourly limit kept its email times, and the
 * "credentials changed" notice of a record with no email (rule 15).
 */
import { describe, expect, it } from 'vitest';
import { DomainError, versionConflict } from '../../../lambdas/domain/errors.ts';
import { refusal, type LinkState } from '../../../lambdas/domain/one-time-link.ts';
import type { StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { confirmReset, requestReset, resetInProgress, resetPolicy, type ResetData } from '../../../lambdas/domain/resets.ts';
import { memoryThrottleState } from '../../support/memory-throttle.ts';

import { harness, newPassword, outcome, requested, sourceIp } from './resets-harness.ts';

const usernameSecret = resetPolicy.secrets.find((s) => s.name === 'username')!;
const state = { patientId: 'P-1', linkId: 'L-1', status: 'Pending', failures: 0, tries: 1, expiresAt: '2026-11-21T11:00:00.000Z', version: 1 } as LinkState<ResetData>;
const recordWith = (over: Partial<StoredRecord>) => ({ ...harness().record(), ...over }) as StoredRecord;

describe('rule 9: the username typed with the link is matched against the record, both sides normalised', () => {
  it('a login name stored with spaces around (an imported record) matches the same name typed plainly', async () => {
    const record = recordWith({ username: '  Maple.Lee ' });
    expect(await usernameSecret.matches('maple.lee', undefined, state, record)).toBe(true);
  });

  it('hostile twin: another name against that record is refused', async () => {
    const record = recordWith({ username: '  Maple.Lee ' });
    expect(await usernameSecret.matches('oak.lee', undefined, state, record)).toBe(false);
  });

  it('a record without a username refuses every typed name (a wrong set, never a crash)', async () => {
    const record = recordWith({ username: undefined });
    await expect(usernameSecret.matches('maple.lee', undefined, state, record)).resolves.toBe(false);
    await expect(usernameSecret.matches('', undefined, state, record)).resolves.toBe(false);
  });
});

describe('rule 6: only a wrong PIN-or-username counts against the source address, not any other failure of the compare', () => {
  const guard = resetPolicy.throttle.guardCompare!;
  const run = async (thrown: unknown) => {
    const throttle = memoryThrottleState();
    const deps = { store: harness().deps.store, links: harness().resets.store, throttle: throttle.store, clock: () => new Date('2026-11-21T10:00:00.000Z') };
    const keys = resetPolicy.throttle.keys('pin:abc', sourceIp, deps.clock());
    const caught = await guard(deps, keys, async () => {
      throw thrown;
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(caught).toBe(thrown);
    return [...throttle.addresses.values()].reduce((a, b) => a + b, 0);
  };

  it('a wrong set is counted once and passed on', async () => {
    expect(await run(refusal())).toBe(1);
  });

  it('a busy link, a version conflict or an outage in the compare is passed on uncounted', async () => {
    expect(await run(resetInProgress())).toBe(0);
    expect(await run(versionConflict())).toBe(0);
    expect(await run(new DomainError('unauthorized', 'wrong-pin-or-username', 'not the refusal itself'))).toBe(0);
    expect(await run(new Error('scrypt failed'))).toBe(0);
  });

  it('a right set counts nothing', async () => {
    const throttle = memoryThrottleState();
    const deps = { store: harness().deps.store, links: harness().resets.store, throttle: throttle.store, clock: () => new Date() };
    await guard(deps, resetPolicy.throttle.keys('pin:abc', sourceIp, new Date()), async () => undefined);
    expect(throttle.addresses.size).toBe(0);
  });
});

describe('rule 13: the 4th request of the hour sends nothing and is audited as a failure', () => {
  it('three emails, then the 4th audited with outcome failure and reason rate-limited', async () => {
    const h = harness();
    for (let i = 0; i < 4; i += 1) await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    expect(h.mail.sent).toHaveLength(3);
    const last = h.audits('reset.requested').at(-1)!;
    expect(last.outcome).toBe('failure');
    expect(last.detail).toEqual({ by: 'patient', emailed: false, reason: 'rate-limited' });
    expect(h.audits('reset.requested').slice(0, 3).map((a) => a.outcome)).toEqual(['success', 'success', 'success']);
  });
});

describe('a stored reset without email times (written before the hourly limit) does not block a request', () => {
  it('the request is sent and the link works; the hour starts counting from it', async () => {
    const h = harness();
    h.resets.states.set('P-1', { patientId: 'P-1', linkId: 'old', status: 'Used', failures: 0, tries: 1, expiresAt: '2026-11-20T10:00:00.000Z', version: 4 });
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    expect(h.mail.sent).toHaveLength(1);
    expect(h.audits('reset.requested').at(-1)!.detail).toEqual({ by: 'patient', emailed: true, replaced: false, minutes: 60 });
    expect(h.resets.states.get('P-1')!.data).toEqual({ sentAt: ['2026-11-21T10:00:00.000Z'] });
    const { token, pin } = h.lastMail();
    expect(await outcome(confirmReset(h.deps, { token, pin, username: 'Maple.Lee', newPassword, sourceIp }))).toBe('ok');
  });
});

describe('rule 15: the "credentials changed" notice goes only to an address the record has', () => {
  it('a record whose email is gone still resets, with no notice sent and no failure audited', async () => {
    const { h, attempt } = await requested();
    h.edit({ email: undefined });
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('ok');
    expect(h.passwords.get('acc-P-1')).toBe(newPassword);
    expect(h.mail.sent).toHaveLength(1);
    expect(h.audits('reset.notice-failed')).toHaveLength(0);
  });

  it('the happy twin: with its email the record gets the notice, with no PIN or link in it', async () => {
    const { h, attempt } = await requested();
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('ok');
    expect(h.mail.sent).toHaveLength(2);
    const notice = h.mail.sent[1]!;
    expect(notice.to).toBe('p-1@example.test');
    expect(notice.text).not.toContain(attempt.pin);
    expect(notice.text).not.toContain(attempt.token);
  });
});
