/**
 * "I can't get in" (issue 15), the rules beside the table test: a fact that is not this login's
 * (a throttle counter on a record without a login, an old invitation's delivery after an email
 * change, consecutive failures forgotten after a day) never shows; each boundary (a temporary
 * password expiring this very millisecond, a wait of 0) is on the right side; the answer holds
 * exactly the fields it is given and never a secret (nothing spread from a stored item).
 */
import { describe, expect, it } from 'vitest';
import { diagnose, readDiagnosis, spokenTime, type DiagnosisFacts } from '../../../lambdas/domain/diagnosis.ts';
import { newRecord, type StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { accountThrottleKey } from '../../../lambdas/domain/sign-in-throttle.ts';
import { memoryStore } from '../../support/memory-store.ts';
import { memoryThrottleState } from '../../support/memory-throttle.ts';

const now = new Date('2026-11-21T10:00:00.000Z');
const ago = (minutes: number) => now.getTime() - minutes * 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

function registered(change: Partial<StoredRecord> = {}): StoredRecord {
  return {
    ...newRecord('P-1', new Date(ago(60 * 24 * 30))),
    version: 3,
    email: 'pat@example.test',
    accountId: 'acc-1',
    username: 'pat.one',
    registration: 'NormalRegistration',
    invite: { status: 'Accepted', sentAt: iso(ago(60 * 24 * 20)) },
    ...change,
  };
}
const notRegistered = (invite: StoredRecord['invite'], change: Partial<StoredRecord> = {}) =>
  registered({ accountId: undefined, username: undefined, registration: 'NotRegistered', invite, ...change } as Partial<StoredRecord>);
const facts = (record: StoredRecord, more: Partial<DiagnosisFacts> = {}): DiagnosisFacts => ({ record, settings: { patientReset: true }, now, ...more });
const codes = (f: DiagnosisFacts) => diagnose(f).reasons.map((r) => r.code);
const words = (f: DiagnosisFacts, code: string) => diagnose(f).reasons.find((r) => r.code === code)?.words;

describe('spokenTime', () => {
  it('today: the time alone, minutes in two digits; another day (even the same time): with the date', () => {
    expect(spokenTime('2026-11-21T09:05:00.000Z', now)).toBe('9:05 UTC');
    expect(spokenTime(Date.parse('2026-11-21T23:59:00.000Z'), now)).toBe('23:59 UTC');
    expect(spokenTime('2026-11-20T10:00:00.000Z', now)).toBe('10:00 UTC on 20 Nov 2026');
    expect(spokenTime('2025-11-21T10:00:00.000Z', now)).toBe('10:00 UTC on 21 Nov 2025');
  });
});

describe('diagnose: only this login\'s facts', () => {
  it('a throttle counter given for a record without a login is not shown (no lock, no failures)', () => {
    const d = diagnose(facts(notRegistered({ status: 'None' }), { throttle: { failures: 100, lastFailureAt: ago(1) } }));
    expect(d.reasons.map((r) => r.code)).toEqual(['no-login']);
    expect(d.login).toStrictEqual({ exists: false, mustChangePassword: false, failures: 0, locked: false });
  });

  it('the latest email event counts before the invitation\'s own mark; a mark of an invitation no longer pending does not count', () => {
    const bounced = registered({ emailDelivery: { status: 'Bounced', at: iso(ago(5)), purpose: 'reset' }, invite: { status: 'Accepted', delivery: 'Delivered' } as StoredRecord['invite'] });
    const d = diagnose(facts(bounced));
    expect(d.reasons.map((r) => r.code)).toEqual(['email-bounced', 'can-sign-in']);
    expect(d.canSignIn).toBe(true);
    expect(d.email).toStrictEqual({ address: 'pat@example.test', lastDelivery: 'Bounced' });
    const delivered = registered({ emailDelivery: { status: 'Delivered', at: iso(ago(5)), purpose: 'invitation' }, invite: { status: 'Pending', delivery: 'Bounced' } as StoredRecord['invite'] });
    expect(codes(facts(delivered))).not.toContain('email-bounced');
    // Cancelled with an email change: its bounce is forgotten.
    const cancelled = notRegistered({ status: 'Cancelled', delivery: 'Bounced' } as StoredRecord['invite']);
    expect(codes(facts(cancelled))).toEqual(['no-login']);
    expect(diagnose(facts(cancelled)).email).toStrictEqual({ address: 'pat@example.test' });
    // Something SES never says is no delivery state.
    expect(diagnose(facts(registered({ emailDelivery: { status: 'Opened', at: iso(ago(1)), purpose: 'other' } as never }))).email).toStrictEqual({ address: 'pat@example.test' });
  });

  it('a bounce with no address on the record names "the patient", beside the no-email reason', () => {
    const f = facts(registered({ email: undefined, emailDelivery: { status: 'Bounced', at: iso(ago(5)), purpose: 'reset' } }));
    expect(words(f, 'email-bounced')).toMatch(/^The last email to the patient bounced\./);
    expect(codes(f)).toEqual(['email-bounced', 'no-email', 'can-sign-in']);
  });
});

describe('diagnose: each boundary on its side', () => {
  it('a temporary password expiring this very millisecond has expired; one that has not, and a change not forced, have not', () => {
    const expiring = (at: number, mustChangePassword = true) => facts(registered({ login: { mustChangePassword, temporaryPasswordExpiresAt: iso(at) } }));
    expect(codes(expiring(now.getTime()))).toEqual(['temporary-password-expired']);
    expect(diagnose(expiring(now.getTime())).canSignIn).toBe(false);
    expect(codes(expiring(now.getTime() + 1))).toEqual(['must-change-password', 'can-sign-in']);
    const notForced = diagnose(expiring(ago(60), false));
    expect(notForced.reasons.map((r) => r.code)).toEqual(['can-sign-in']);
    expect(notForced.login).not.toHaveProperty('temporaryPasswordExpiresAt');
    expect(notForced.login.mustChangePassword).toBe(false);
  });

  it('a forced change without a temporary password: choose a new password after signing in, and sign-in works', () => {
    const f = facts(registered({ login: { mustChangePassword: true } }));
    expect(codes(f)).toEqual(['must-change-password', 'can-sign-in']);
    expect(words(f, 'must-change-password')).toMatch(/sign in with their current password/);
    expect(diagnose(f).login).not.toHaveProperty('temporaryPasswordExpiresAt');
  });

  it('a wait that has just ended is no wait; one second left is one', () => {
    // 6 failures: a 60 s wait after the last.
    expect(codes(facts(registered(), { throttle: { failures: 6, lastFailureAt: now.getTime() - 60_000 } }))).toEqual(['can-sign-in']);
    const d = diagnose(facts(registered(), { throttle: { failures: 6, lastFailureAt: now.getTime() - 59_000 } }));
    expect(d.reasons.map((r) => r.code)).toEqual(['sign-in-waiting']);
    expect(d.login).toMatchObject({ waitUntil: '2026-11-21T10:00:01.000Z', failures: 6, locked: false });
    expect(d.canSignIn).toBe(false);
  });

  it('access off with a login that could sign in: no "can sign in", canSignIn false', () => {
    const d = diagnose(facts(registered({ accessEnabled: false })));
    expect(d.reasons.map((r) => r.code)).toEqual(['access-disabled']);
    expect(d.canSignIn).toBe(false);
  });

  it('a problem beside a forced change still drops "can sign in" (only a forced change, a bounce or no email leave it)', () => {
    const f = facts(registered({ accessEnabled: false, login: { mustChangePassword: true } }));
    expect(codes(f)).toEqual(['access-disabled', 'must-change-password']);
  });
});

describe('diagnose: the words staff read aloud', () => {
  it('a pending invitation: when it was sent and until when it works, or "until it is used" without an expiry', () => {
    const sent = facts(notRegistered({ status: 'Pending', sentAt: iso(ago(5)), expiresAt: iso(ago(-60)) }));
    expect(words(sent, 'invitation-pending')).toMatch(/^An invitation was sent at 9:55 UTC and works until 11:00 UTC\. /);
    const bare = facts(notRegistered({ status: 'Pending' }));
    expect(words(bare, 'invitation-pending')).toMatch(/^An invitation was sent and works until it is used\. /);
    expect(words(facts(notRegistered({ status: 'Expired' })), 'invitation-expired')).toMatch(/^The invitation expired\. Send a new invitation/);
  });

  it('"can sign in" names the username and what to do about a forgotten password, by the practice setting', () => {
    expect(words(facts(registered()), 'can-sign-in')).toBe(
      'Nothing on our side stops a sign-in as "pat.one". If the password is forgotten, the patient can reset it from the sign-in page, or you can send a reset.',
    );
    expect(words(facts(registered(), { settings: { patientReset: false } }), 'can-sign-in')).toBe(
      'Nothing on our side stops a sign-in as "pat.one". If the password is forgotten, send a credential reset.',
    );
    expect(words(facts(registered({ username: undefined })), 'can-sign-in')).toMatch(/^Nothing on our side stops a sign-in as ""\./);
  });

  it('the wait and the lock in words: failures, until when, since when', () => {
    expect(words(facts(registered(), { throttle: { failures: 6, lastFailureAt: now.getTime() - 30_000 } }), 'sign-in-waiting')).toBe(
      'After 6 failed tries the sign-in must wait until 10:00 UTC. The patient can try again then; after checking who is calling, you can clear the wait.',
    );
  });
});

describe('diagnose: exactly the fields it is given', () => {
  it('everything given: every field; nothing given: none of the optional ones', () => {
    const full = registered({
      login: { mustChangePassword: true, temporaryPasswordExpiresAt: iso(ago(-60)) },
      invite: { status: 'Accepted', sentAt: iso(ago(600)), expiresAt: iso(ago(-6000)), delivery: 'Delivered' } as StoredRecord['invite'],
      emailDelivery: { status: 'Delivered', at: iso(ago(500)), purpose: 'invitation' },
    });
    const d = diagnose(
      facts(full, {
        throttle: { failures: 6, lastFailureAt: ago(0.5) },
        lastSignInAt: iso(ago(50)),
        lastFailedSignInAt: iso(ago(1)),
        reset: { pendingUntil: iso(ago(-30)), delivery: 'Sent' },
      }),
    );
    expect(d.login).toStrictEqual({
      exists: true,
      username: 'pat.one',
      mustChangePassword: true,
      temporaryPasswordExpiresAt: iso(ago(-60)),
      lastSignInAt: iso(ago(50)),
      lastFailedSignInAt: iso(ago(1)),
      failures: 6,
      waitUntil: '2026-11-21T10:00:30.000Z',
      locked: false,
    });
    expect(d.invitation).toStrictEqual({ status: 'Accepted', sentAt: iso(ago(600)), expiresAt: iso(ago(-6000)), delivery: 'Delivered' });
    expect(d.reset).toStrictEqual({ pendingUntil: iso(ago(-30)), delivery: 'Sent' });
    expect(d.email).toStrictEqual({ address: 'pat@example.test', lastDelivery: 'Delivered' });
    expect(d.patientId).toBe('P-1');

    const bare = diagnose(facts(notRegistered({ status: 'None' }, { email: undefined })));
    expect(bare).toStrictEqual({
      patientId: 'P-1',
      canSignIn: false,
      reasons: bare.reasons,
      login: { exists: false, mustChangePassword: false, failures: 0, locked: false },
      invitation: { status: 'None' },
      reset: {},
      email: {},
    });
    expect(bare.reasons.map((r) => r.code)).toEqual(['no-login', 'no-email']);
  });
});

describe('readDiagnosis: the facts read', () => {
  const defaults = { practiceName: 'P', portalUrl: 'https://portal.example' };
  async function setup(record: StoredRecord, audit: { at: number; action?: string; outcome: 'success' | 'failure'; target?: string }[] = []) {
    const store = memoryStore();
    const throttle = memoryThrottleState();
    await store.store.saveRecord({ ...record, version: 1 }, 0, { target: 'patient:P-1', at: iso(ago(600)), actor: 's', action: 'portal-record.created', outcome: 'success', sourceIp: '1', detail: {} });
    for (const a of audit) {
      await store.store.appendAudit({ target: a.target ?? 'patient:P-1', at: iso(a.at), actor: 'anonymous', action: a.action ?? 'patient.sign-in', outcome: a.outcome, sourceIp: '1', detail: {} });
    }
    return { throttle, deps: { store: store.store, throttle: throttle.store, clock: () => now, settingsDefaults: defaults } };
  }

  it('the last success and the last failure are the newest of each among sign-ins only; the practice setting decides the reset words', async () => {
    const { deps } = await setup(registered(), [
      { at: ago(300), outcome: 'success' },
      { at: ago(200), outcome: 'failure' },
      { at: ago(100), outcome: 'success' },
      { at: ago(50), outcome: 'failure' },
      { at: ago(40), outcome: 'success' },
      { at: ago(10), outcome: 'success', action: 'portal-record.updated' },
      { at: ago(9), outcome: 'failure', action: 'invitation.pin-failed' },
    ]);
    const d = await readDiagnosis(deps, 'P-1');
    expect(d.login).toMatchObject({ lastSignInAt: iso(ago(40)), lastFailedSignInAt: iso(ago(50)) });
    expect(d.reasons.map((r) => r.code)).toEqual(['can-sign-in']);
    expect(d.reasons[0]!.words).toMatch(/the patient can reset it from the sign-in page/);
  });

  it('no sign-ins on the trail: neither time; a record without a login: no trail or counter read', async () => {
    const { deps } = await setup(registered(), [{ at: ago(10), outcome: 'success', action: 'portal-record.updated' }]);
    const d = await readDiagnosis(deps, 'P-1');
    expect(d.login).not.toHaveProperty('lastSignInAt');
    expect(d.login).not.toHaveProperty('lastFailedSignInAt');
    const none = await setup(notRegistered({ status: 'None' }, { username: 'pat.one' } as Partial<StoredRecord>), [{ at: ago(10), outcome: 'success' }]);
    none.throttle.accounts.set(accountThrottleKey('patient', 'pat.one'), { failures: 100, lastFailureAt: ago(1) });
    const d2 = await readDiagnosis(none.deps, 'P-1');
    expect(d2.login).toStrictEqual({ exists: false, username: 'pat.one', mustChangePassword: false, failures: 0, locked: false });
  });

  it('a patient without a record is a 404 that says what was not found', async () => {
    const { deps } = await setup(registered());
    await expect(readDiagnosis(deps, 'P-2')).rejects.toMatchObject({ kind: 'not-found', message: expect.stringMatching(/^The portal record /) });
  });

  it('a login without a username reads no counter (nothing to key it by)', async () => {
    const { deps, throttle } = await setup(registered({ username: undefined }));
    throttle.accounts.set(accountThrottleKey('patient', ''), { failures: 100, lastFailureAt: ago(1) });
    expect((await readDiagnosis(deps, 'P-1')).login).toMatchObject({ locked: false, failures: 0 });
  });

  it('consecutive failures are forgotten after a day (not a moment before), unless the login is locked', async () => {
    const key = accountThrottleKey('patient', 'pat.one');
    const day = 24 * 60 * 60 * 1000;
    const failuresAfter = async (failures: number, lastFailureAt: number) => {
      const { deps, throttle } = await setup(registered());
      throttle.accounts.set(key, { failures, lastFailureAt });
      return (await readDiagnosis(deps, 'P-1')).login;
    };
    expect(await failuresAfter(7, now.getTime() - day)).toMatchObject({ failures: 7, locked: false });
    expect(await failuresAfter(7, now.getTime() - day - 1)).toMatchObject({ failures: 0, locked: false });
    expect(await failuresAfter(99, now.getTime() - 2 * day)).toMatchObject({ failures: 0, locked: false });
    expect(await failuresAfter(100, now.getTime() - 30 * day)).toMatchObject({ failures: 100, locked: true });
  });
});
