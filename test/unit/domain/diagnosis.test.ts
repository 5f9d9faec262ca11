/** Issue 15: the diagnosis gives the right reason for each state (table test), and never a secret. */
import { describe, expect, it } from 'vitest';
import { diagnose, readDiagnosis, type DiagnosisFacts } from '../../../lambdas/domain/diagnosis.ts';
import { newRecord, type StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { accountThrottleKey, throttlePolicy } from '../../../lambdas/domain/sign-in-throttle.ts';
import { Diagnosis } from '../../../lambdas/schemas/diagnosis.ts';
import { memoryStore } from '../../support/memory-store.ts';
import { memoryThrottleState } from '../../support/memory-throttle.ts';

const now = new Date('2026-11-21T10:00:00.000Z');
const minutesAgo = (m: number) => now.getTime() - m * 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** A registered patient who can sign in: the baseline every row changes one fact of. */
function registered(change: Partial<StoredRecord> = {}): StoredRecord {
  return {
    ...newRecord('P-1', new Date(minutesAgo(60 * 24 * 30))),
    version: 3,
    email: 'pat@example.test',
    accountId: 'acc-1',
    username: 'pat.one',
    registration: 'NormalRegistration',
    invite: { status: 'Accepted', sentAt: iso(minutesAgo(60 * 24 * 20)) },
    ...change,
  };
}
const notRegistered = (invite: StoredRecord['invite'], change: Partial<StoredRecord> = {}) =>
  registered({ accountId: undefined, username: undefined, registration: 'NotRegistered', invite, ...change } as Partial<StoredRecord>);

const facts = (record: StoredRecord, more: Partial<DiagnosisFacts> = {}): DiagnosisFacts => ({ record, settings: { patientReset: true }, now, ...more });

type Row = [state: string, facts: DiagnosisFacts, code: string, canSignIn: boolean, words: RegExp];
const rows: Row[] = [
  ['access off', facts(registered({ accessEnabled: false })), 'access-disabled', false, /access is turned off.*turn access on/i],
  ['no login', facts(notRegistered({ status: 'None' })), 'no-login', false, /no portal login.*Send an invitation.*Register Patient/],
  [
    'invitation expired',
    facts(notRegistered({ status: 'Pending', sentAt: iso(minutesAgo(60 * 24 * 15)), expiresAt: iso(minutesAgo(60 * 24)) })),
    'invitation-expired',
    false,
    /invitation expired at 10:00 UTC on 20 Nov 2026.*Send a new invitation/,
  ],
  ['invitation locked', facts(notRegistered({ status: 'Locked', sentAt: iso(minutesAgo(60)) })), 'invitation-locked', false, /locked after too many wrong PINs.*checking who is calling/],
  [
    'invitation bounced',
    facts(notRegistered({ status: 'Pending', sentAt: iso(minutesAgo(5)), expiresAt: iso(minutesAgo(-60 * 24)), delivery: 'Bounced' } as unknown as StoredRecord["invite"])),
    'email-bounced',
    false,
    /last email to pat@example.test bounced.*Check the address/,
  ],
  [
    'waiting',
    facts(registered(), { throttle: { failures: 7, lastFailureAt: minutesAgo(0.5) } }),
    'sign-in-waiting',
    false,
    /After 7 failed tries the sign-in must wait until 10:01 UTC/,
  ],
  [
    'locked',
    facts(registered(), { throttle: { failures: throttlePolicy.lockAfterFailures, lastFailureAt: Date.parse('2026-11-21T09:14:00.000Z') } }),
    'sign-in-locked',
    false,
    /^The sign-in is locked after 100 failed tries since 9:14 UTC\. After checking who is calling, clear the lock\.$/,
  ],
  [
    'temporary password expired',
    facts(registered({ registration: 'ForcedRegistration', login: { mustChangePassword: true, temporaryPasswordExpiresAt: iso(minutesAgo(30)) } })),
    'temporary-password-expired',
    false,
    /temporary password expired at 9:30 UTC.*Register Patient/,
  ],
  [
    'must change password',
    facts(registered({ registration: 'ForcedRegistration', login: { mustChangePassword: true, temporaryPasswordExpiresAt: iso(minutesAgo(-60 * 72)) } })),
    'must-change-password',
    true,
    /sign in with the temporary password before 10:00 UTC on 24 Nov 2026/,
  ],
  ['no email', facts(registered({ email: undefined })), 'no-email', true, /no email address on the record/],
  ['nothing wrong', facts(registered()), 'can-sign-in', true, /Nothing on our side stops a sign-in as "pat.one"/],
];

describe('diagnosis: the right reason for each state', () => {
  it.each(rows)('%s', (_state, input, code, canSignIn, words) => {
    const d = diagnose(input);
    expect(Diagnosis.parse(d)).toEqual(d);
    const reason = d.reasons.find((r) => r.code === code);
    expect(reason, JSON.stringify(d.reasons)).toBeDefined();
    expect(reason!.words).toMatch(words);
    expect(d.canSignIn).toBe(canSignIn);
    // One plain sentence each (or two short ones: the fact, then what to do), no codes or field names.
    for (const r of d.reasons) expect(r.words).toMatch(/^[A-Z].*\.$/);
  });

  it('a healthy login has no problem reasons, and every problem state drops the "can sign in" one', () => {
    expect(diagnose(facts(registered())).reasons.map((r) => r.code)).toEqual(['can-sign-in']);
    for (const [state, input, code, canSignIn] of rows) {
      if (!canSignIn) expect(diagnose(input).reasons.map((r) => r.code), state).not.toContain('can-sign-in');
      else if (code !== 'can-sign-in') expect(diagnose(input).reasons.map((r) => r.code), state).toContain(code);
    }
  });

  it('the lock and the wait are reported with their facts: failures, waitUntil, locked', () => {
    const waiting = diagnose(facts(registered(), { throttle: { failures: 7, lastFailureAt: minutesAgo(0.5) } }));
    expect(waiting.login).toMatchObject({ failures: 7, locked: false, waitUntil: '2026-11-21T10:01:30.000Z' });
    const locked = diagnose(facts(registered(), { throttle: { failures: 100, lastFailureAt: minutesAgo(46) } }));
    expect(locked.login).toMatchObject({ failures: 100, locked: true });
    expect(locked.login.waitUntil).toBeUndefined();
    // Five failures are free: no wait, nothing to say.
    const free = diagnose(facts(registered(), { throttle: { failures: 4, lastFailureAt: minutesAgo(0.1) } }));
    expect(free.reasons.map((r) => r.code)).toEqual(['can-sign-in']);
    expect(free.canSignIn).toBe(true);
  });

  it('a pending invitation says what the patient does next; complaint, suppression and failed sends count as a bad delivery', () => {
    const pending = diagnose(facts(notRegistered({ status: 'Pending', sentAt: iso(minutesAgo(5)), expiresAt: iso(minutesAgo(-60)) })));
    expect(pending.reasons.map((r) => r.code)).toEqual(['invitation-pending', 'no-login']);
    for (const delivery of ['Complained', 'Suppressed', 'Failed']) {
      const d = diagnose(facts(notRegistered({ status: 'Pending', sentAt: iso(minutesAgo(5)), delivery } as unknown as StoredRecord["invite"])));
      expect(d.reasons.map((r) => r.code), delivery).toContain('email-bounced');
      expect(d.email.lastDelivery).toBe(delivery);
    }
    for (const delivery of ['Sent', 'Delivered']) {
      const d = diagnose(facts(notRegistered({ status: 'Pending', sentAt: iso(minutesAgo(5)), delivery } as unknown as StoredRecord["invite"])));
      expect(d.reasons.map((r) => r.code), delivery).not.toContain('email-bounced');
      expect(d.email.lastDelivery).toBe(delivery);
    }
  });

  it('never a secret, a hash or a password: internal state on the record does not reach the answer', () => {
    const record = registered({
      login: { mustChangePassword: true, temporaryPasswordExpiresAt: iso(minutesAgo(-60)) },
      revokedAt: iso(minutesAgo(10)),
      linkGeneration: 4,
      registerLease: { id: 'lease-secret-id', until: iso(minutesAgo(-1)) },
      comment: 'internal note',
    } as Partial<StoredRecord>);
    const d = diagnose(facts(record, { throttle: { failures: 3, lastFailureAt: minutesAgo(1) } }));
    const answer = JSON.stringify(d);
    for (const hidden of ['lease-secret-id', 'revokedAt', 'linkGeneration', 'internal note']) expect(answer).not.toContain(hidden);
    const keys: string[] = [];
    const walk = (v: unknown): void => {
      if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) (keys.push(k), walk(x));
    };
    walk(d);
    expect(keys.filter((k) => /^(password|temporaryPassword|pin|.*Hash|token|secret)$/i.test(k))).toEqual([]);
  });
});

describe('readDiagnosis: reads the facts for a record', () => {
  it('reads the throttle of the login\'s username (any case) and the last sign-ins from the audit trail; 404 for no record', async () => {
    const store = memoryStore();
    const throttle = memoryThrottleState();
    const record = registered({ version: 0 });
    record.version = 1;
    await store.store.saveRecord(record, 0, { target: 'patient:P-1', at: iso(minutesAgo(60)), actor: 's', action: 'portal-record.created', outcome: 'success', sourceIp: '1', detail: {} });
    await store.store.appendAudit({ target: 'patient:P-1', at: iso(minutesAgo(30)), actor: 'anonymous', action: 'patient.sign-in', outcome: 'success', sourceIp: '1', detail: {} });
    await store.store.appendAudit({ target: 'patient:P-1', at: iso(minutesAgo(2)), actor: 'anonymous', action: 'patient.sign-in', outcome: 'failure', sourceIp: '1', detail: {} });
    throttle.accounts.set(accountThrottleKey('patient', 'PAT.ONE'), { failures: 100, lastFailureAt: minutesAgo(1) });
    const deps = { store: store.store, throttle: throttle.store, clock: () => now, settingsDefaults: { practiceName: 'P', portalUrl: 'https://portal.example' } };
    const d = await readDiagnosis(deps, 'P-1');
    expect(d.reasons.map((r) => r.code)).toEqual(['sign-in-locked']);
    expect(d.login).toMatchObject({ exists: true, username: 'pat.one', locked: true, lastSignInAt: iso(minutesAgo(30)), lastFailedSignInAt: iso(minutesAgo(2)) });
    // Another login's counter is not this one's.
    throttle.accounts.clear();
    throttle.accounts.set(accountThrottleKey('patient', 'someone.else'), { failures: 100, lastFailureAt: minutesAgo(1) });
    expect((await readDiagnosis(deps, 'P-1')).login.locked).toBe(false);
    await expect(readDiagnosis(deps, 'P-2')).rejects.toMatchObject({ kind: 'not-found' });
  });
});
