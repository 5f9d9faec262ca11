/**
 * Mutation-testing rules for lambdas/domain/resets.ts (issue 20), through requestReset /
 * staffReset / confirmReset on the in-memory stores: what each refused request leaves in the
 * audit trail and the log (rule 13: never in the answer), the email that fails, a rename and the
 * names it claims and frees, the sign-in counters a reset clears (rule 5), the notice (rule 15).
 * Outcomes only, never the backend calls made (they are being batched).
 */
import { describe, expect, it } from 'vitest';
import { versionConflict } from '../../../lambdas/domain/errors.ts';
import type { StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { confirmReset, requestReset, resetLink, staffReset } from '../../../lambdas/domain/resets.ts';
import { changeSettings } from '../../../lambdas/domain/settings.ts';
import { accountThrottleKey } from '../../../lambdas/domain/sign-in-throttle.ts';
import { outage } from '../../support/memory-invitations.ts';
import { staff } from './invitation-harness.ts';

import { frontdesk, harness, newPassword, outcome, practice, requested, sourceIp } from './resets-harness.ts';

describe('rule 13: a refused request is the same 202, but the trail and the log say why', () => {
  const refusedWith = (h: ReturnType<typeof harness>, reason: string) => {
    expect(h.mail.sent).toHaveLength(0);
    expect(h.audits('reset.requested')).toEqual([
      expect.objectContaining({ actor: 'anonymous', sourceIp, outcome: 'failure', detail: { by: 'patient', emailed: false, reason } }),
    ]);
    expect(h.warnings).toEqual([{ msg: 'reset requested', fields: { outcome: reason } }]);
    expect(h.resets.states.size).toBe(0);
  };

  it('the practice turned patient resets off', async () => {
    const h = harness();
    await changeSettings({ store: h.mem.store, clock: h.deps.clock, defaults: practice }, staff, { patientReset: false });
    h.mem.audit.length = 0;
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    refusedWith(h, 'patient-reset-off');
  });

  it('access disabled', async () => {
    const h = harness({ accessEnabled: false });
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    refusedWith(h, 'access-disabled');
  });

  it('a record that reads not registered', async () => {
    const h = harness({ registration: 'NotRegistered' });
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    refusedWith(h, 'not-registered');
  });

  it('no email on file', async () => {
    const h = harness({ email: undefined });
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    refusedWith(h, 'no-email');
  });

  it('an unknown username and a login that is no longer the record one: nothing written at all', async () => {
    for (const h of [harness(), harness({ accountId: 'acc-replaced' })]) {
      await requestReset(h.deps, { username: h.record().accountId === 'acc-P-1' ? 'nobody' : 'maple.lee', sourceIp });
      expect(h.mail.sent).toHaveLength(0);
      expect(h.mem.audit).toHaveLength(0);
      expect(h.warnings).toEqual([{ msg: 'reset requested', fields: { outcome: 'no-account' } }]);
    }
  });

  it('a username whose record is gone: nothing written, no error', async () => {
    const h = harness();
    h.mem.docs.delete('patient:P-1');
    await expect(requestReset(h.deps, { username: 'maple.lee', sourceIp })).resolves.toBeUndefined();
    expect(h.mail.sent).toHaveLength(0);
    expect(h.mem.audit).toHaveLength(0);
    expect(h.warnings).toEqual([{ msg: 'reset requested', fields: { outcome: 'no-account' } }]);
  });

  it('the hourly limit met again on a fresh read (a concurrent request sent the 3rd): no email, audited as rate-limited', async () => {
    const h = harness();
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    const plain = { ...h.deps, resets: { ...h.deps.resets } };
    const write = h.deps.resets.write;
    let raced = false;
    h.deps.resets.write = async (change) => {
      if (!raced) {
        raced = true;
        await requestReset(plain, { username: 'maple.lee', sourceIp });
      }
      return write(change);
    };
    h.mem.audit.length = 0;
    h.warnings.length = 0;
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    expect(h.mail.sent).toHaveLength(3);
    expect(h.audits('reset.requested').map((a) => a.detail)).toEqual([
      { by: 'patient', emailed: true, replaced: true, minutes: 60 },
      { by: 'patient', emailed: false, reason: 'rate-limited' },
    ]);
    expect(h.warnings).toEqual([{ msg: 'reset requested', fields: { outcome: 'rate-limited' } }]);
  });

  it('a crowd that keeps losing the race: still no error, logged as a conflict; any other failure is an error', async () => {
    const h = harness();
    h.deps.resets.write = async () => {
      throw versionConflict();
    };
    await expect(requestReset(h.deps, { username: 'maple.lee', sourceIp })).resolves.toBeUndefined();
    expect(h.mail.sent).toHaveLength(0);
    expect(h.warnings).toEqual([{ msg: 'reset requested', fields: { outcome: 'conflict' } }]);
    h.deps.resets.write = async () => {
      throw outage('InternalServerError');
    };
    await expect(requestReset(h.deps, { username: 'maple.lee', sourceIp })).rejects.toMatchObject({ name: 'InternalServerError' });
  });
});

describe('issuing', () => {
  it('audits whether it replaced a live link, and the lifetime; an expired one is not "replaced"', async () => {
    const h = harness();
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    h.advance(61 * 60_000);
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    expect(h.audits('reset.requested').map((a) => a.detail)).toEqual([
      { by: 'patient', emailed: true, replaced: false, minutes: 60 },
      { by: 'patient', emailed: true, replaced: true, minutes: 60 },
      { by: 'patient', emailed: true, replaced: false, minutes: 60 },
    ]);
    expect(h.audits('reset.requested').every((a) => a.outcome === 'success' && a.actor === 'anonymous')).toBe(true);
  });

  it('the link lives resetMinutes exactly: the second before it ends works, at its end it is gone', async () => {
    const { h, attempt } = await requested();
    h.advance(60 * 60_000);
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('gone:reset-link-gone');
    const again = await requested();
    again.h.advance(60 * 60_000 - 1000);
    expect(await outcome(confirmReset(again.h.deps, again.attempt))).toBe('ok');
  });

  it('rule 14: the link is the portal URL without its trailing slashes, the token URL-encoded', () => {
    expect(resetLink('https://portal.maple.test//', 'a+b')).toBe('https://portal.maple.test/portal/reset#token=a%2Bb');
    expect(resetLink('https://portal.maple.test', 'abc')).toBe('https://portal.maple.test/portal/reset#token=abc');
  });

  it('an email SES refuses: the reset stands, the trail and the log say so (no address), staff read Failed', async () => {
    const h = harness();
    h.mail.fail(true);
    await requestReset(h.deps, { username: 'maple.lee', sourceIp });
    expect(h.resets.states.get('P-1')?.status).toBe('Pending');
    expect(h.audits('reset.email-failed')).toEqual([expect.objectContaining({ actor: 'anonymous', outcome: 'failure', detail: { by: 'patient' } })]);
    expect(h.warnings).toEqual([{ msg: 'reset email failed', fields: { errorName: 'MessageRejected' } }]);
    expect(await staffReset(h.deps, frontdesk, 'P-1')).toEqual({ expiresAt: expect.any(String), delivery: 'Failed' });
    expect(h.audits('reset.email-failed').at(-1)).toMatchObject({ actor: 'frontdesk', detail: { by: 'staff' } });
  });

  it('a failed email whose audit fails too: still the answer, no error', async () => {
    const h = harness();
    h.mail.fail(true);
    h.deps.store = { ...h.deps.store, appendAudit: async () => Promise.reject(outage()) };
    expect(await staffReset(h.deps, frontdesk, 'P-1')).toMatchObject({ delivery: 'Failed' });
    h.mail.fail(false);
    expect(await staffReset(h.deps, frontdesk, 'P-1')).toMatchObject({ delivery: 'Sent' });
  });

  it('staff: a record with a login but marked not registered is 409 not-registered; a staff reset is audited as staff', async () => {
    expect(await outcome(staffReset(harness({ registration: 'NotRegistered' }).deps, frontdesk, 'P-1'))).toBe('conflict:not-registered');
    const h = harness();
    const sent = await staffReset(h.deps, frontdesk, 'P-1');
    expect(sent).toEqual({ expiresAt: '2026-11-21T11:00:00.000Z', delivery: 'Sent' });
    expect(h.audits('reset.requested')).toEqual([expect.objectContaining({ actor: 'frontdesk', detail: { by: 'staff', emailed: true, replaced: false, minutes: 60 } })]);
  });
});

describe('confirming', () => {
  it('rule 9: a new username is claimed and the old one freed; the login keeps its account; audited as a change', async () => {
    const { h, attempt } = await requested();
    expect(await outcome(confirmReset(h.deps, { ...attempt, newUsername: 'Oak.Lee' }))).toBe('ok');
    expect(h.record()).toMatchObject({ username: 'Oak.Lee', accountId: 'acc-P-1' });
    expect(h.usernames.get('oak.lee')).toEqual({ accountId: 'acc-P-1', patientId: 'P-1' });
    expect(h.usernames.has('maple.lee')).toBe(false);
    expect(h.audits('reset.completed')).toEqual([
      expect.objectContaining({ actor: 'patient:acc-P-1', sourceIp, outcome: 'success', detail: { usernameChanged: true, wasMustChange: false } }),
    ]);
  });

  it('the same username in another case keeps its claim (nothing freed)', async () => {
    const { h, attempt } = await requested();
    expect(await outcome(confirmReset(h.deps, { ...attempt, newUsername: 'MAPLE.LEE' }))).toBe('ok');
    expect(h.record().username).toBe('MAPLE.LEE');
    expect(h.usernames.get('maple.lee')).toEqual({ accountId: 'acc-P-1', patientId: 'P-1' });
  });

  it('no new username: the same one, audited as unchanged', async () => {
    const { h, attempt } = await requested();
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('ok');
    expect(h.record().username).toBe('Maple.Lee');
    expect(h.audits('reset.completed')[0]?.detail).toEqual({ usernameChanged: false, wasMustChange: false });
  });

  it('a new username another login holds: 409, the try given back, nothing set, the link still works', async () => {
    const { h, attempt } = await requested();
    h.usernames.set('oak.lee', { accountId: 'acc-P-9', patientId: 'P-9' });
    expect(await outcome(confirmReset(h.deps, { ...attempt, newUsername: 'Oak.Lee' }))).toBe('conflict:username-taken');
    expect(h.resets.states.get('P-1')).toMatchObject({ status: 'Pending', tries: 0, failures: 0 });
    expect(h.passwords.size).toBe(0);
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('ok');
  });

  it('rule 3: the new password may not hold the NEW username (the rules use the username the login will have)', async () => {
    const { h, attempt } = await requested();
    expect(await outcome(confirmReset(h.deps, { ...attempt, newUsername: 'kettlequartz', newPassword: 'kettlequartz meadow harbor' }))).toBe('bad-request:validation-error');
    expect(h.passwords.size).toBe(0);
  });

  it('rule 3: nor the email on file', async () => {
    const { h, attempt } = await requested();
    expect(await outcome(confirmReset(h.deps, { ...attempt, newPassword: 'p-1@example.test meadow harbor' }))).toBe('bad-request:validation-error');
  });

  it('rule 5: the sign-in counters of the old and the new username are cleared (a reset is the way out of a lock); others stay', async () => {
    const { h, attempt } = await requested();
    const key = (u: string) => accountThrottleKey('patient', u);
    for (const u of ['maple.lee', 'oak.lee', 'someone.else']) h.throttle.accounts.set(key(u), { failures: 50, lastFailureAt: 0 });
    expect(await outcome(confirmReset(h.deps, { ...attempt, newUsername: 'Oak.Lee' }))).toBe('ok');
    expect(h.throttle.accounts.has(key('maple.lee'))).toBe(false);
    expect(h.throttle.accounts.has(key('oak.lee'))).toBe(false);
    expect(h.throttle.accounts.has(key('someone.else'))).toBe(true);
    expect(h.signedOut).toEqual(['acc-P-1']);
  });

  it('records "was must change" in the audit entry', async () => {
    const { h, attempt } = await requested();
    h.edit({ login: { mustChangePassword: true } });
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('ok');
    expect(h.audits('reset.completed')[0]?.detail).toEqual({ usernameChanged: false, wasMustChange: true });
  });

  it('rules 9 and 29: the record changing under the lease (another login, access off, no username) is the one 410, nothing committed', async () => {
    for (const change of [{ accountId: 'acc-other' }, { accessEnabled: false }, { username: undefined }, { linkGeneration: 5 }] as Partial<StoredRecord>[]) {
      const { h, attempt } = await requested();
      h.deps.logins = {
        ...h.deps.logins,
        setPassword: async (id, password) => {
          h.passwords.set(id, password);
          h.edit(change);
        },
      };
      expect(await outcome(confirmReset(h.deps, attempt))).toBe('gone:reset-link-gone');
      expect(h.resets.states.get('P-1')).toMatchObject({ status: 'Pending', tries: 0 });
      expect(h.resets.states.get('P-1')!.lease).toBeUndefined();
      expect(h.audits('reset.completed')).toHaveLength(0);
    }
  });

  it('rule 15: a notice that cannot be sent leaves the reset done, audited and logged by name only', async () => {
    const { h, attempt } = await requested();
    h.mail.fail(true);
    expect(await confirmReset(h.deps, attempt)).toEqual({ message: expect.any(String) });
    expect(h.resets.states.get('P-1')!.status).toBe('Used');
    expect(h.audits('reset.notice-failed')).toEqual([expect.objectContaining({ actor: 'patient:acc-P-1', sourceIp, outcome: 'failure' })]);
    expect(h.warnings).toEqual([{ msg: 'credentials-changed notice failed', fields: { errorName: 'MessageRejected' } }]);
  });

  it('rule 15: a notice failure whose audit fails too: still done', async () => {
    const { h, attempt } = await requested();
    h.mail.fail(true);
    const append = h.deps.store.appendAudit;
    h.deps.store = { ...h.deps.store, appendAudit: async (e) => (e.action === 'reset.notice-failed' ? Promise.reject(outage()) : append(e)) };
    expect(await confirmReset(h.deps, attempt)).toEqual({ message: expect.any(String) });
  });

  it('rule 15: the notice goes to the address on file, with the practice name', async () => {
    const { h, attempt } = await requested();
    expect(await outcome(confirmReset(h.deps, attempt))).toBe('ok');
    const notice = h.mail.sent.at(-1)!;
    expect(notice.to).toBe('p-1@example.test');
    expect(notice.text).toContain('Maple Clinic');
  });
});
