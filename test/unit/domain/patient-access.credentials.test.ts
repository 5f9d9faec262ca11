/**
 * PUT /account/credentials for a patient (changeCredentials, rules 5, 15, 17, 24, 27): the proof
 * of the current password, the password rules, the username claim, the record's generation bump,
 * the notice, and what happens when a step fails. Outcomes only: what the caller gets, what the
 * record and the pool hold, what was mailed and audited.
 */
import { describe, expect, it } from 'vitest';
import { DomainError, versionConflict } from '../../../lambdas/domain/errors.ts';
import { changeCredentials, type CredentialChangeDeps } from '../../../lambdas/domain/patient-access.ts';
import { sessionStillLive, type StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import type { AccountLink, PatientLogins } from '../../../lambdas/domain/ports.ts';
import { accountThrottleKey } from '../../../lambdas/domain/sign-in-throttle.ts';
import { memoryMailer } from '../../support/memory-invitations.ts';
import { memoryStore } from '../../support/memory-store.ts';
import { memoryThrottleState } from '../../support/memory-throttle.ts';

const now = new Date('2026-11-21T10:00:00.000Z');
const old = 'walnut ferry glacier pigeon';
const fresh = 'copper lantern meadow otter';
const practice = { practiceName: 'Maple Clinic', portalUrl: 'https://portal.maple.test/' };

function world(over: Partial<StoredRecord> = {}) {
  const mem = memoryStore();
  const record: StoredRecord = {
    patientId: 'P-1',
    accountId: 'acc-1',
    username: 'pat.smith',
    email: 'pat@example.test',
    accessEnabled: true,
    cases: [],
    registration: 'NormalRegistration',
    invite: { status: 'Accepted' },
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    version: 4,
    linkGeneration: 2,
    ...over,
  };
  mem.docs.set('patient:P-1', { value: record, version: record.version });
  const names = new Map<string, AccountLink>([
    ['pat.smith', { accountId: 'acc-1', patientId: 'P-1' }],
    ['taken.name', { accountId: 'acc-2', patientId: 'P-2' }],
    ['mine.also', { accountId: 'acc-1', patientId: 'P-1' }],
  ]);
  const passwords = new Map<string, string>([['acc-1', old]]);
  const throttle = memoryThrottleState();
  const mail = memoryMailer();
  const warnings: { message: string; fields: Record<string, string> }[] = [];
  let signIns = 0;
  let lookups = 0;
  let signOuts = 0;
  const failNext = new Map<string, Error>();
  const logins: PatientLogins = {
    async upsert() {
      throw new Error('not used');
    },
    async setPassword(accountId, password) {
      const e = failNext.get('setPassword');
      if (e) throw e;
      passwords.set(accountId, password);
    },
    async signIn(accountId, password) {
      signIns++;
      const e = failNext.get(`signIn${signIns}`);
      if (e) throw e;
      if (passwords.get(accountId) !== password) throw new DomainError('unauthorized', 'invalid-credentials', 'no');
      if (failNext.has('challenge') && signIns > 1) return { kind: 'challenge', challenge: 'NEW_PASSWORD_REQUIRED', session: 's' };
      const r = mem.docs.get('patient:P-1')!.value as StoredRecord;
      return { kind: 'tokens', accessToken: `at-${r.linkGeneration}`, idToken: 'id', refreshToken: 'rt', expiresIn: 3600 };
    },
    async signOutEverywhere() {
      signOuts++;
    },
    async revokeRefreshToken() {},
    async setEnabled() {},
    async remove() {},
  };
  let saveFails: Error | undefined;
  const deps: CredentialChangeDeps = {
    store: mem.store,
    accounts: {
      async findByUsername(u) {
        lookups++;
        return names.get(u.toLowerCase());
      },
      async findByAccountId() {
        return undefined;
      },
      async saveLogin(next, expected, audit, options) {
        if (saveFails) throw saveFails;
        const doc = mem.docs.get(`patient:${next.patientId}`)!;
        if (doc.version !== expected) throw versionConflict();
        const claim = options.claim?.toLowerCase();
        if (claim && names.has(claim) && names.get(claim)!.accountId !== next.accountId) throw new DomainError('conflict', 'username-taken', 'taken');
        if (options.release && options.release.toLowerCase() !== claim) names.delete(options.release.toLowerCase());
        if (claim) names.set(claim, { accountId: next.accountId!, patientId: next.patientId });
        mem.docs.set(`patient:${next.patientId}`, { value: structuredClone(next), version: expected + 1 });
        mem.audit.push(audit);
      },
    },
    logins,
    throttle: throttle.store,
    clock: () => now,
    mailer: mail.mailer,
    settingsDefaults: practice,
    warn: (message, fields) => warnings.push({ message, fields }),
  };
  return {
    mem,
    deps,
    names,
    passwords,
    throttle,
    mail,
    warnings,
    failNext,
    failSave: (e: Error | undefined) => (saveFails = e),
    record: () => mem.docs.get('patient:P-1')!.value as StoredRecord,
    counts: () => ({ signIns, lookups, signOuts }),
    audits: (action: string) => mem.audit.filter((a) => a.action === action),
  };
}

const me = { accountId: 'acc-1', patientId: 'P-1', sourceIp: '198.51.100.7' };

const caught = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('rule 17: a changed password ends every other session; fresh tokens carry the new generation', () => {
  it('sets the password, bumps the generation, audits as the patient, mails the notice, answers tokens minted after the bump', async () => {
    const w = world();
    const tokens = await changeCredentials(w.deps, me, { currentPassword: old, newPassword: fresh });
    expect(w.passwords.get('acc-1')).toBe(fresh);
    const after = w.record();
    expect(after).toMatchObject({ username: 'pat.smith', linkGeneration: 3, revokedAt: now.toISOString(), updatedAt: now.toISOString(), version: 5 });
    expect(sessionStillLive(2, after)).toBe(false);
    expect(tokens.accessToken).toBe('at-3');
    expect(w.counts().signOuts).toBe(1);
    expect(w.audits('patient.credentials-changed')).toEqual([
      {
        target: 'patient:P-1',
        at: now.toISOString(),
        actor: 'patient:acc-1',
        action: 'patient.credentials-changed',
        outcome: 'success',
        sourceIp: '198.51.100.7',
        detail: { passwordChanged: true, usernameChanged: false },
      },
    ]);
    expect(w.mail.sent).toHaveLength(1);
    expect(w.mail.sent[0]!.to).toBe('pat@example.test');
    expect(w.mail.sent[0]!.subject).toContain('Maple Clinic');
    expect(w.mail.sent[0]!.text).toContain('The password of your Maple Clinic patient portal login was changed');
    expect(w.mail.sent[0]!.text).toContain('on its account page');
    expect(w.mail.sent[0]!.text).not.toContain(fresh);
  });

  it('a new username: claimed, the old one released, the notice says the username changed, the password stays', async () => {
    const w = world();
    await changeCredentials(w.deps, me, { currentPassword: old, newUsername: 'Robin.Smith' });
    expect(w.record()).toMatchObject({ username: 'Robin.Smith', linkGeneration: 3 });
    expect(w.names.get('robin.smith')).toEqual({ accountId: 'acc-1', patientId: 'P-1' });
    expect(w.names.has('pat.smith')).toBe(false);
    expect(w.passwords.get('acc-1')).toBe(old);
    expect(w.audits('patient.credentials-changed')[0]!.detail).toEqual({ passwordChanged: false, usernameChanged: true });
    expect(w.mail.sent[0]!.text).toContain('The username of your Maple Clinic patient portal login was changed');
  });

  it('both at once: the notice names both', async () => {
    const w = world();
    await changeCredentials(w.deps, me, { currentPassword: old, newPassword: fresh, newUsername: 'robin.smith' });
    expect(w.mail.sent[0]!.text).toContain('The password and username of your Maple Clinic patient portal login were changed');
  });

  it('the settings\' practice name is the one in the notice', async () => {
    const w = world();
    w.mem.docs.set('settings', { value: { practiceName: 'Birch Surgery' }, version: 1 });
    await changeCredentials(w.deps, me, { currentPassword: old, newPassword: fresh });
    expect(w.mail.sent[0]!.text).toContain('Birch Surgery');
  });

  it('no change asked: every session still ends, the current password is not judged, nothing released', async () => {
    const w = world();
    w.passwords.set('acc-1', 'pat.smith');
    await changeCredentials(w.deps, me, { currentPassword: 'pat.smith' });
    expect(w.record()).toMatchObject({ username: 'pat.smith', linkGeneration: 3 });
    expect(w.names.get('pat.smith')).toEqual({ accountId: 'acc-1', patientId: 'P-1' });
    expect(w.audits('patient.credentials-changed')[0]!.detail).toEqual({ passwordChanged: false, usernameChanged: false });
  });

  it('a record with no username or email: the login is named \'\', no notice is sent, nothing released', async () => {
    const w = world({ username: undefined, email: undefined });
    await changeCredentials(w.deps, me, { currentPassword: old, newPassword: fresh });
    expect(w.record()).toMatchObject({ username: '', linkGeneration: 3 });
    expect(w.mail.sent).toEqual([]);
    expect(w.names.get('pat.smith')).toEqual({ accountId: 'acc-1', patientId: 'P-1' });
  });

  it('a record written meanwhile: the commit is done again on the record as it is now (nothing of the other write lost)', async () => {
    const w = world();
    let raced = false;
    const save = w.deps.accounts.saveLogin;
    w.deps.accounts.saveLogin = async (next, expected, audit, options) => {
      if (!raced) {
        raced = true;
        const doc = w.mem.docs.get('patient:P-1')!;
        doc.value = { ...(doc.value as StoredRecord), cases: ['C-9'] as unknown as StoredRecord['cases'], version: 5 };
        doc.version = 5;
      }
      return save(next, expected, audit, options);
    };
    await changeCredentials(w.deps, me, { currentPassword: old, newPassword: fresh });
    expect(w.record()).toMatchObject({ cases: ['C-9'], version: 6, linkGeneration: 3 });
  });

  it('no tokens after the change (a challenge) is an error', async () => {
    const w = world();
    w.failNext.set('challenge', new Error());
    await expect(changeCredentials(w.deps, me, { currentPassword: old, newPassword: fresh })).rejects.toThrow();
  });
});

describe('hostile: the caller and the record', () => {
  it('a token naming another patient\'s record (account ids differ) is refused before any guess', async () => {
    const w = world();
    const err = await caught(changeCredentials(w.deps, { ...me, accountId: 'acc-2' }, { currentPassword: old, newPassword: fresh }));
    expect(err).toMatchObject({ kind: 'unauthorized', code: 'invalid-credentials' });
    expect(w.counts().signIns).toBe(0);
    expect(w.passwords.get('acc-1')).toBe(old);
  });

  it('a record that is gone is refused the same', async () => {
    const w = world();
    w.mem.docs.delete('patient:P-1');
    expect(await caught(changeCredentials(w.deps, me, { currentPassword: old, newPassword: fresh }))).toMatchObject({ code: 'invalid-credentials' });
    expect(w.counts().signIns).toBe(0);
  });
});

describe('rules 5 and 24: proving the current password', () => {
  it('a wrong current password with a new one: 401 on the current password, two counted guesses under the username', async () => {
    const w = world();
    const err = await caught(changeCredentials(w.deps, me, { currentPassword: 'not the password at all', newPassword: fresh }));
    expect(err).toMatchObject({ kind: 'unauthorized', code: 'invalid-credentials' });
    expect((err as DomainError).extra.errors?.map((e) => e.path)).toEqual(['body.currentPassword']);
    expect(w.throttle.accounts.get(accountThrottleKey('patient', 'pat.smith'))?.failures).toBe(2);
    expect(w.record().linkGeneration).toBe(2);
    expect(w.mail.sent).toEqual([]);
  });

  it('a wrong current password with no new one: one guess', async () => {
    const w = world();
    await expect(changeCredentials(w.deps, me, { currentPassword: 'not the password at all', newUsername: 'robin.smith' })).rejects.toMatchObject({ code: 'invalid-credentials' });
    expect(w.counts().signIns).toBe(1);
    expect(w.throttle.accounts.get(accountThrottleKey('patient', 'pat.smith'))?.failures).toBe(1);
  });

  it('rule 5: twelve wrong guesses at once reach the sign-in service no more often than one after another would (5), the rest 429', async () => {
    const w = world();
    const signIn = w.deps.logins.signIn;
    let reached = 0;
    w.deps.logins.signIn = async (id, p) => {
      reached++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return signIn(id, p);
    };
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, () => changeCredentials(w.deps, me, { currentPassword: 'not the password at all' }).then(() => 'ok', (e: DomainError) => e.code)),
    );
    expect(reached).toBe(5);
    expect(outcomes.filter((o) => o === 'invalid-credentials')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'too-many-attempts')).toHaveLength(7);
  });

  it('rule 5: a wait already due is a 429 as it is, not a wrong password, and no guess reaches the service', async () => {
    const w = world();
    w.throttle.accounts.set(accountThrottleKey('patient', 'pat.smith'), { failures: 5, lastFailureAt: now.getTime() });
    expect(await caught(changeCredentials(w.deps, me, { currentPassword: old, newPassword: fresh }))).toMatchObject({ code: 'too-many-attempts' });
    expect(w.counts().signIns).toBe(0);
    expect(w.passwords.get('acc-1')).toBe(old);
  });

  it('a record without a username is throttled under its account id', async () => {
    const w = world({ username: undefined });
    await expect(changeCredentials(w.deps, me, { currentPassword: 'not the password at all' })).rejects.toMatchObject({ code: 'invalid-credentials' });
    expect(w.throttle.accounts.get(accountThrottleKey('patient', 'acc-1'))?.failures).toBe(1);
  });

  it('a retry after the password was set: the new password proves it and the change completes', async () => {
    const w = world();
    w.passwords.set('acc-1', fresh);
    await changeCredentials(w.deps, me, { currentPassword: old, newPassword: fresh });
    expect(w.record().linkGeneration).toBe(3);
  });

  it('an outage at the first proof is passed on as it is; no second guess', async () => {
    const w = world();
    const outage = new Error('pool down');
    w.failNext.set('signIn1', outage);
    expect(await caught(changeCredentials(w.deps, me, { currentPassword: old, newPassword: fresh }))).toBe(outage);
    expect(w.counts().signIns).toBe(1);
  });

  it('an outage at the second proof is passed on as it is', async () => {
    const w = world();
    const outage = new Error('pool down');
    w.failNext.set('signIn2', outage);
    expect(await caught(changeCredentials(w.deps, me, { currentPassword: 'not the password at all', newPassword: fresh }))).toBe(outage);
    expect(w.record().linkGeneration).toBe(2);
  });
});

describe('rules 3 and 27: the new password and username', () => {
  it('a new password containing the email\'s local part is refused on the password field; nothing set', async () => {
    const w = world();
    const err = await caught(changeCredentials(w.deps, me, { currentPassword: old, newPassword: 'hello pat from the meadow' }));
    expect(err).toMatchObject({ kind: 'bad-request', code: 'validation-error' });
    expect((err as DomainError).extra.errors?.map((e) => e.path)).toEqual(['body.newPassword']);
    expect(w.passwords.get('acc-1')).toBe(old);
    expect(w.record().linkGeneration).toBe(2);
  });

  it('a new username the current password contains is refused on the username field', async () => {
    const w = world();
    const err = await caught(changeCredentials(w.deps, me, { currentPassword: old, newUsername: 'glacier' }));
    expect((err as DomainError).extra.errors?.map((e) => e.path)).toEqual(['body.newUsername']);
    expect(w.record().linkGeneration).toBe(2);
  });

  it('a record without an email: no email rule applies', async () => {
    const w = world({ email: undefined });
    await changeCredentials(w.deps, me, { currentPassword: old, newPassword: 'hello pat from the meadow' });
    expect(w.passwords.get('acc-1')).toBe('hello pat from the meadow');
  });

  it('a username held by another login: 409 after the proof, nothing set', async () => {
    const w = world();
    const err = await caught(changeCredentials(w.deps, me, { currentPassword: old, newPassword: fresh, newUsername: 'Taken.Name' }));
    expect(err).toMatchObject({ kind: 'conflict', code: 'username-taken' });
    expect(w.passwords.get('acc-1')).toBe(old);
    expect(w.record().linkGeneration).toBe(2);
  });

  it('a username already this login\'s is not taken; the same one in another case is not even looked up', async () => {
    const w = world();
    await changeCredentials(w.deps, me, { currentPassword: old, newUsername: 'mine.also' });
    expect(w.record().username).toBe('mine.also');
    const same = world();
    await changeCredentials(same.deps, me, { currentPassword: old, newUsername: 'Pat.Smith' });
    expect(same.counts().lookups).toBe(0);
    expect(same.record().username).toBe('Pat.Smith');
  });

  it('a record without a username names its first one: claimed after a look-up, audited as a username change', async () => {
    const w = world({ username: undefined });
    await changeCredentials(w.deps, me, { currentPassword: old, newUsername: 'first.name' });
    expect(w.record().username).toBe('first.name');
    expect(w.names.get('first.name')).toEqual({ accountId: 'acc-1', patientId: 'P-1' });
    expect(w.counts().lookups).toBe(1);
    expect(w.audits('patient.credentials-changed')[0]!.detail).toEqual({ passwordChanged: false, usernameChanged: true });
  });
});

describe('rule 15: the notice, whatever becomes of the commit', () => {
  it('a failed notice is warned (no address in it) and audited as a failure; the change stands', async () => {
    const w = world();
    w.mail.fail(true);
    const tokens = await changeCredentials(w.deps, me, { currentPassword: old, newPassword: fresh });
    expect(tokens.kind).toBe('tokens');
    expect(w.warnings).toEqual([{ message: 'credentials-changed notice failed', fields: { errorName: 'MessageRejected' } }]);
    expect(w.audits('patient.credentials-notice-failed')).toEqual([
      { target: 'patient:P-1', at: now.toISOString(), actor: 'patient:acc-1', action: 'patient.credentials-notice-failed', outcome: 'failure', sourceIp: '198.51.100.7', detail: {} },
    ]);
  });

  it('a failure that is not an Error is warned as unknown; an audit that fails too is swallowed', async () => {
    const w = world();
    w.deps.mailer = { send: async () => Promise.reject('nope') };
    w.deps.store.appendAudit = async () => {
      throw new Error('audit down');
    };
    await changeCredentials(w.deps, me, { currentPassword: old, newPassword: fresh });
    expect(w.warnings).toEqual([{ message: 'credentials-changed notice failed', fields: { errorName: 'unknown' } }]);
  });

  it('a failed notice without a warn function still completes', async () => {
    const w = world();
    w.mail.fail(true);
    delete w.deps.warn;
    await expect(changeCredentials(w.deps, me, { currentPassword: old, newPassword: fresh })).resolves.toMatchObject({ kind: 'tokens' });
  });

  it('the commit failing after the password was set: the owner is told all the same, and the failure is passed on', async () => {
    const w = world();
    const down = new Error('table down');
    w.failSave(down);
    expect(await caught(changeCredentials(w.deps, me, { currentPassword: old, newPassword: fresh }))).toBe(down);
    expect(w.passwords.get('acc-1')).toBe(fresh);
    expect(w.mail.sent).toHaveLength(1);
  });

  it('the commit failing on a username-only change: nothing changed at the pool, no notice', async () => {
    const w = world();
    const down = new Error('table down');
    w.failSave(down);
    expect(await caught(changeCredentials(w.deps, me, { currentPassword: old, newUsername: 'robin.smith' }))).toBe(down);
    expect(w.mail.sent).toEqual([]);
  });
});
