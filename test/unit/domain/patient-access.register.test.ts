/**
 * Register Patient, clear the lock and revoke at their edges (rules 17, 24, 25; issue 14 item 5):
 * the default username, the lease that makes one of concurrent requests win, and what is left
 * when a step fails. Outcomes only: the answer, the record, the pool, the audit trail.
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import { accountView, clearSignInLock, registerWithTemporaryPassword, revokeAccess, syncLoginEnabled } from '../../../lambdas/domain/patient-access.ts';
import type { StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { accountThrottleKey } from '../../../lambdas/domain/sign-in-throttle.ts';
import { staff } from './invitation-harness.ts';
import { caught, put, setup } from './patient-access-harness.ts';




describe('Register Patient: the username it gives', () => {
  it('the patient\'s own username first, in lower case', async () => {
    const { h, deps, names } = setup();
    put(h, 'P-1', { username: 'Pat.Smith', accountId: 'acc-1', masterCase: 'MC-1' });
    const out = await registerWithTemporaryPassword(deps, staff, 'P-1', 1);
    expect(out.username).toBe('Pat.Smith');
    expect(h.record('P-1')).toMatchObject({ username: 'Pat.Smith', accountId: 'acc-1' });
    expect(names.get('pat.smith')?.accountId).toBe('acc-1');
  });

  it('else the case number, else the patientId: lower case, only safe characters, at least 3, at most 58', async () => {
    const { h, deps } = setup();
    put(h, 'P-1', { masterCase: 'Mc 7/7' });
    put(h, 'Q', {});
    put(h, 'P-3', { masterCase: `A${'b'.repeat(70)}` });
    expect((await registerWithTemporaryPassword(deps, staff, 'P-1', 1)).username).toBe('mc77');
    expect((await registerWithTemporaryPassword(deps, staff, 'Q', 1)).username).toBe('q00');
    expect((await registerWithTemporaryPassword(deps, staff, 'P-3', 1)).username).toBe(`a${'b'.repeat(57)}`);
  });

  it('a default name someone else holds: a suffixed one instead, and the login made for the first try is gone', async () => {
    const { h, deps, names, users } = setup();
    names.set('mc-1', { accountId: 'acc-other', patientId: 'P-9' });
    put(h, 'P-1', { masterCase: 'MC-1' });
    const out = await registerWithTemporaryPassword(deps, staff, 'P-1', 1);
    expect(out.username).toMatch(/^mc-1-[a-z0-9]{4}$/);
    expect(h.record('P-1')!.username).toBe(out.username);
    expect(names.get('mc-1')?.accountId).toBe('acc-other');
    expect(users.size).toBe(1);
    expect(users.get(h.record('P-1')!.accountId!)?.password).toBe(out.temporaryPassword);
  });

  it('five names taken in a row: 409 username-taken, no login left behind, the record as it was', async () => {
    const { h, deps, users } = setup();
    put(h, 'P-1', { masterCase: 'MC-1' });
    deps.accounts.saveLogin = async () => {
      throw new DomainError('conflict', 'username-taken', 'taken');
    };
    expect(await caught(registerWithTemporaryPassword(deps, staff, 'P-1', 1))).toMatchObject({ kind: 'conflict', code: 'username-taken' });
    expect(users.size).toBe(0);
    expect(h.record('P-1')).toMatchObject({ registration: 'NotRegistered', version: 2 });
    expect(h.record('P-1')!.registerLease).toBeUndefined();
  });
});

describe('Register Patient: how long it looks for a free name', () => {
  it('gives up after five names (409), even when a sixth would have been free', async () => {
    const { h, deps, users } = setup();
    put(h, 'P-1', { masterCase: 'MC-1' });
    const save = deps.accounts.saveLogin;
    let tries = 0;
    deps.accounts.saveLogin = async (...args) => {
      if (++tries <= 5) throw new DomainError('conflict', 'username-taken', 'taken');
      return save(...args);
    };
    expect(await caught(registerWithTemporaryPassword(deps, staff, 'P-1', 1))).toMatchObject({ code: 'username-taken' });
    expect(users.size).toBe(0);
    expect(h.record('P-1')!.registration).toBe('NotRegistered');
  });
});

describe('Register Patient: what it leaves', () => {
  it('expiry in hours from now; the lease gone; registeredAt set once; every session and link ended (rule 17)', async () => {
    const { h, deps } = setup();
    put(h, 'P-1', { masterCase: 'MC-1', linkGeneration: 4 });
    const out = await registerWithTemporaryPassword(deps, staff, 'P-1', 5);
    expect(out.expiresAt).toBe('2026-11-21T15:00:00.000Z');
    const after = h.record('P-1')!;
    expect(after).toMatchObject({ registration: 'ForcedRegistration', linkGeneration: 5, revokedAt: '2026-11-21T10:00:00.000Z', registeredAt: '2026-11-21T10:00:00.000Z', updatedAt: '2026-11-21T10:00:00.000Z', version: 3 });
    expect(after.registerLease).toBeUndefined();
    expect(h.mem.audit.at(-1)).toMatchObject({ target: 'patient:P-1', action: 'patient.registered-with-temporary-password', detail: { newLogin: true } });
    put(h, 'P-2', { masterCase: 'MC-2', accountId: 'acc-2', username: 'mc-2', registeredAt: '2026-01-01T00:00:00.000Z', registration: 'NormalRegistration' });
    await registerWithTemporaryPassword(deps, staff, 'P-2', 5);
    expect(h.record('P-2')).toMatchObject({ registeredAt: '2026-01-01T00:00:00.000Z', accountId: 'acc-2' });
    expect(h.mem.audit.at(-1)).toMatchObject({ detail: { newLogin: true } });
  });

  it('a locked invitation is cancelled too; an accepted one stays as it is', async () => {
    const { h, deps } = setup();
    put(h, 'P-1', { masterCase: 'MC-1', invite: { status: 'Locked' } });
    put(h, 'P-2', { masterCase: 'MC-2', invite: { status: 'Accepted' } });
    expect((await registerWithTemporaryPassword(deps, staff, 'P-1', 1)).record.invite.status).toBe('Cancelled');
    expect((await registerWithTemporaryPassword(deps, staff, 'P-2', 1)).record.invite.status).toBe('Accepted');
  });

  it('rule 25: while another Register Patient holds the lease: 409 registration-in-progress, nothing set; after it lapses: works', async () => {
    const { h, deps, users } = setup();
    put(h, 'P-1', { masterCase: 'MC-1', registerLease: { id: 'other', until: '2026-11-21T10:00:00.001Z' } });
    expect(await caught(registerWithTemporaryPassword(deps, staff, 'P-1', 1))).toMatchObject({ kind: 'conflict', code: 'registration-in-progress' });
    expect(users.size).toBe(0);
    put(h, 'P-2', { masterCase: 'MC-2', registerLease: { id: 'other', until: '2026-11-21T10:00:00.000Z' } });
    expect((await registerWithTemporaryPassword(deps, staff, 'P-2', 1)).username).toBe('mc-2');
  });

  it('rule 25: two at once: exactly one password is handed out, the other is 409', async () => {
    const { h, deps, users } = setup();
    put(h, 'P-1', { masterCase: 'MC-1' });
    const outcomes = await Promise.all([registerWithTemporaryPassword(deps, staff, 'P-1', 1), registerWithTemporaryPassword(deps, staff, 'P-1', 1)].map((p) => p.then((r) => r.temporaryPassword, (e: DomainError) => e.code)));
    const passwords = outcomes.filter((o) => o !== 'registration-in-progress');
    expect(passwords).toHaveLength(1);
    expect(users.get(h.record('P-1')!.accountId!)?.password).toBe(passwords[0]);
  });

  it('lease refused because a staff edit moved the version: read again and go on', async () => {
    const { h, deps } = setup();
    put(h, 'P-1', { masterCase: 'MC-1' });
    const take = deps.leases.takeRegisterLease;
    let n = 0;
    deps.leases.takeRegisterLease = async (...args) => {
      if (++n === 1) {
        const doc = h.mem.docs.get('patient:P-1')!;
        doc.value = { ...(doc.value as StoredRecord), comment: 'edited', version: 3 };
        doc.version = 3;
      }
      return take(...args);
    };
    await registerWithTemporaryPassword(deps, staff, 'P-1', 1);
    expect(h.record('P-1')).toMatchObject({ comment: 'edited', registration: 'ForcedRegistration', version: 4 });
  });

  it('lease refused because another Register Patient finished meanwhile (a new temporary password): 409, not a second password', async () => {
    const { h, deps } = setup();
    put(h, 'P-1', { masterCase: 'MC-1' });
    deps.leases.takeRegisterLease = async () => {
      const doc = h.mem.docs.get('patient:P-1')!;
      doc.value = { ...(doc.value as StoredRecord), login: { mustChangePassword: true, temporaryPasswordExpiresAt: '2026-11-21T11:00:00.000Z' }, version: 3 };
      doc.version = 3;
      return false;
    };
    expect(await caught(registerWithTemporaryPassword(deps, staff, 'P-1', 1))).toMatchObject({ code: 'registration-in-progress' });
  });

  it('a lease whose answer was lost: let go of it, so a retry need not wait it out', async () => {
    const { h, deps } = setup();
    put(h, 'P-1', { masterCase: 'MC-1' });
    const take = deps.leases.takeRegisterLease;
    const lost = new Error('timeout');
    deps.leases.takeRegisterLease = async (...args) => {
      await take(...args);
      throw lost;
    };
    expect(await caught(registerWithTemporaryPassword(deps, staff, 'P-1', 1))).toBe(lost);
    expect(h.record('P-1')!.registerLease).toBeUndefined();
    deps.leases.takeRegisterLease = take;
    expect((await registerWithTemporaryPassword(deps, staff, 'P-1', 1)).username).toBe('mc-1');
  });

  it('the record write fails: the new login is removed, the lease let go, the failure passed on; a retry completes', async () => {
    const { h, deps, users } = setup();
    put(h, 'P-1', { masterCase: 'MC-1' });
    const save = deps.accounts.saveLogin;
    const down = new Error('table down');
    deps.accounts.saveLogin = async () => {
      throw down;
    };
    expect(await caught(registerWithTemporaryPassword(deps, staff, 'P-1', 1))).toBe(down);
    expect(users.size).toBe(0);
    expect(h.record('P-1')).toMatchObject({ registration: 'NotRegistered', version: 2 });
    expect(h.record('P-1')!.registerLease).toBeUndefined();
    deps.accounts.saveLogin = save;
    await registerWithTemporaryPassword(deps, staff, 'P-1', 1);
    expect(users.size).toBe(1);
  });

  it('the record write fails for a record that had a login: that login stays (it is the patient\'s)', async () => {
    const { h, deps, users } = setup();
    put(h, 'P-1', { masterCase: 'MC-1', accountId: 'acc-1', username: 'mc-1', registration: 'NormalRegistration' });
    users.set('acc-1', { password: 'old', enabled: true, signOuts: 0 });
    deps.accounts.saveLogin = async () => {
      throw new Error('table down');
    };
    await caught(registerWithTemporaryPassword(deps, staff, 'P-1', 1));
    expect(users.has('acc-1')).toBe(true);
  });

  it('a write whose answer was lost but which was done: the work completes (tokens end, lock cleared) and the password is answered', async () => {
    const { h, deps, users, lockOut, isLocked } = setup();
    put(h, 'P-1', { masterCase: 'MC-1' });
    lockOut('mc-1');
    const save = deps.accounts.saveLogin;
    deps.accounts.saveLogin = async (...args) => {
      await save(...args);
      throw new Error('answer lost');
    };
    const out = await registerWithTemporaryPassword(deps, staff, 'P-1', 1);
    const id = h.record('P-1')!.accountId!;
    expect(users.get(id)).toMatchObject({ password: out.temporaryPassword, signOuts: 1 });
    expect(isLocked('mc-1')).toBe(false);
  });

  it('a refusal of ours at the write (a conflict) is never taken for a done write', async () => {
    const { h, deps, users } = setup();
    put(h, 'P-1', { masterCase: 'MC-1' });
    const save = deps.accounts.saveLogin;
    deps.accounts.saveLogin = async (...args) => {
      await save(...args);
      throw new DomainError('conflict', 'something-else', 'x');
    };
    expect(await caught(registerWithTemporaryPassword(deps, staff, 'P-1', 1))).toMatchObject({ code: 'something-else' });
    expect(users.size).toBe(0);
  });

  it('the record is read again after an unknown failure and it fails too: the first failure is passed on, nothing kept', async () => {
    const { h, deps, users } = setup();
    put(h, 'P-1', { masterCase: 'MC-1' });
    const down = new Error('table down');
    const get = h.mem.store.getRecord;
    deps.accounts.saveLogin = async () => {
      h.mem.store.getRecord = async () => {
        throw new Error('read down');
      };
      throw down;
    };
    expect(await caught(registerWithTemporaryPassword(deps, staff, 'P-1', 1))).toBe(down);
    h.mem.store.getRecord = get;
    expect(users.size).toBe(0);
  });
});

describe('clear the lock: what the audit says', () => {
  it('a login that waits (not locked): its failures, wasLocked false; a record with no login: noLogin', async () => {
    const { h, deps, throttle } = setup();
    put(h, 'P-1', { username: 'pat', accountId: 'acc-1' });
    put(h, 'P-2', {});
    throttle.accounts.set(accountThrottleKey('patient', 'pat'), { failures: 7, lastFailureAt: Date.parse('2026-11-21T09:59:00.000Z') });
    await clearSignInLock(deps, staff, 'P-1');
    expect(h.mem.audit.at(-1)).toEqual({ target: 'patient:P-1', at: '2026-11-21T10:00:00.000Z', actor: 'frontdesk', action: 'patient.sign-in-lock-cleared', outcome: 'success', sourceIp: staff.sourceIp, detail: { failures: 7, wasLocked: false } });
    expect(throttle.accounts.size).toBe(0);
    await clearSignInLock(deps, staff, 'P-1');
    expect(h.mem.audit.at(-1)!.detail).toEqual({ failures: 0, wasLocked: false });
    const shown = await clearSignInLock(deps, staff, 'P-2');
    expect(shown.patientId).toBe('P-2');
    expect(h.mem.audit.at(-1)).toEqual({ target: 'patient:P-2', at: '2026-11-21T10:00:00.000Z', actor: 'frontdesk', action: 'patient.sign-in-lock-cleared', outcome: 'success', sourceIp: staff.sourceIp, detail: { failures: 0, wasLocked: false, noLogin: true } });
  });
});

describe('rule 17: revoke', () => {
  it('bumps the generation, audits, cancels only a pending invitation; a record without a login touches no pool user', async () => {
    const { h, deps, users } = setup();
    put(h, 'P-1', { linkGeneration: 2, invite: { status: 'Pending' } });
    put(h, 'P-2', { invite: { status: 'Accepted' } });
    const shown = await revokeAccess(deps, staff, 'P-1');
    expect(shown.invite.status).toBe('Cancelled');
    expect(h.record('P-1')).toMatchObject({ accessEnabled: false, linkGeneration: 3, revokedAt: '2026-11-21T10:00:00.000Z', updatedAt: '2026-11-21T10:00:00.000Z', version: 3 });
    expect(h.mem.audit.at(-1)).toMatchObject({ target: 'patient:P-1', action: 'patient.access-revoked', actor: 'frontdesk' });
    expect((await revokeAccess(deps, staff, 'P-2')).invite.status).toBe('Accepted');
    expect(users.size).toBe(0);
    expect(await caught(revokeAccess(deps, staff, 'P-404'))).toMatchObject({ kind: 'not-found' });
  });

  it('a record written meanwhile: revoked as it is now', async () => {
    const { h, deps } = setup();
    put(h, 'P-1', {});
    let raced = false;
    h.mem.onBeforeSave(() => {
      if (raced) return;
      raced = true;
      const doc = h.mem.docs.get('patient:P-1')!;
      doc.value = { ...(doc.value as StoredRecord), comment: 'edited', version: 3 };
      doc.version = 3;
    });
    await revokeAccess(deps, staff, 'P-1');
    expect(h.record('P-1')).toMatchObject({ comment: 'edited', accessEnabled: false, version: 4 });
  });

  it('syncLoginEnabled follows the record; a record without a login touches nothing', async () => {
    const { deps, users } = setup();
    users.set('acc-1', { password: 'x', enabled: true, signOuts: 0 });
    await syncLoginEnabled(deps, { accountId: 'acc-1', accessEnabled: false } as never);
    expect(users.get('acc-1')!.enabled).toBe(false);
    await syncLoginEnabled(deps, { accountId: 'acc-1', accessEnabled: true } as never);
    expect(users.get('acc-1')!.enabled).toBe(true);
    await syncLoginEnabled(deps, { accessEnabled: false } as never);
    expect(users.get('acc-1')!.enabled).toBe(true);
  });

  it('accountView: no email key without an email; an empty username without one', () => {
    const base = { patientId: 'P-1', accountId: 'acc-1', accessEnabled: true, cases: [], registration: 'NormalRegistration', invite: { status: 'None' }, createdAt: '', updatedAt: '', version: 1 } as StoredRecord;
    expect(accountView(base)).toStrictEqual({ accountId: 'acc-1', username: '', cases: [] });
    expect(accountView({ ...base, username: 'pat', email: 'p@example.test' })).toStrictEqual({ accountId: 'acc-1', username: 'pat', email: 'p@example.test', cases: [] });
  });
});
