/**
 * Mutation-testing rules for lambdas/domain/patient-access.ts (issue 20): the edges the other
 * patient-access tests leave open. Register Patient never hands out a password whose record
 * write did not happen (rules 17, 24), a record deleted between two reads is a 404, revoke on a
 * record without a login calls no pool operation. Outcomes only.
 */
import { describe, expect, it } from 'vitest';
import type { StoredRecord } from '../../../lambdas/domain/portal-record.ts';
import { registerWithTemporaryPassword, revokeAccess, syncLoginEnabled } from '../../../lambdas/domain/patient-access.ts';
import { staff } from './invitation-harness.ts';
import { caught, put, setup } from './patient-access-harness.ts';


describe('rule 24: Register Patient takes a failed record write for done only when the record shows it', () => {
  it('a record that had a login, the write failing: the failure is passed on, no password answered, the record as it was', async () => {
    const { h, deps } = setup();
    put(h, 'P-1', { masterCase: 'MC-1', accountId: 'acc-1', username: 'mc-1', registration: 'NormalRegistration' });
    const down = new Error('table down');
    deps.accounts.saveLogin = async () => {
      throw down;
    };
    expect(await caught(registerWithTemporaryPassword(deps, staff, 'P-1', 1))).toBe(down);
    expect(h.record('P-1')).toMatchObject({ registration: 'NormalRegistration', version: 2 });
    expect(h.record('P-1')!.login).toBeUndefined();
  });

  it('hostile: a record edited in the same millisecond (same updatedAt), the write failing: not taken for ours, the new login removed', async () => {
    const { h, deps, users } = setup();
    put(h, 'P-1', { masterCase: 'MC-1', updatedAt: '2026-11-21T10:00:00.000Z' });
    const down = new Error('table down');
    deps.accounts.saveLogin = async () => {
      throw down;
    };
    expect(await caught(registerWithTemporaryPassword(deps, staff, 'P-1', 1))).toBe(down);
    expect(users.size).toBe(0);
    expect(h.record('P-1')).toMatchObject({ registration: 'NotRegistered', version: 2 });
  });
});

describe('rule 25: the register lease', () => {
  it('a crashed attempt\'s lease (its release failed too) holds 30 s: 409 at 29 s, the next Register Patient works at 30 s', async () => {
    const { h, deps } = setup();
    put(h, 'P-1', { masterCase: 'MC-1' });
    const upsert = deps.logins.upsert;
    const release = deps.leases.releaseRegisterLease;
    deps.logins.upsert = async () => {
      throw new Error('crashed');
    };
    deps.leases.releaseRegisterLease = async () => {
      throw new Error('crashed');
    };
    await caught(registerWithTemporaryPassword(deps, staff, 'P-1', 1));
    expect(h.record('P-1')!.registerLease).toBeDefined();
    deps.logins.upsert = upsert;
    deps.leases.releaseRegisterLease = release;
    deps.clock = () => new Date('2026-11-21T10:00:29.999Z');
    expect(await caught(registerWithTemporaryPassword(deps, staff, 'P-1', 1))).toMatchObject({ kind: 'conflict', code: 'registration-in-progress' });
    deps.clock = () => new Date('2026-11-21T10:00:30.000Z');
    expect((await registerWithTemporaryPassword(deps, staff, 'P-1', 1)).username).toBe('mc-1');
  });

  it('the lease refused while the record shows a lease ending exactly now: not held, read again and go on', async () => {
    const { h, deps } = setup();
    put(h, 'P-1', { masterCase: 'MC-1' });
    const take = deps.leases.takeRegisterLease;
    let n = 0;
    deps.leases.takeRegisterLease = async (...args) => {
      if (++n > 1) return take(...args);
      const doc = h.mem.docs.get('patient:P-1')!;
      doc.value = { ...(doc.value as StoredRecord), registerLease: { id: 'other', until: '2026-11-21T10:00:00.000Z' } };
      return false;
    };
    expect((await registerWithTemporaryPassword(deps, staff, 'P-1', 1)).username).toBe('mc-1');
    expect(h.record('P-1')).toMatchObject({ registration: 'ForcedRegistration', version: 3 });
  });

  it('the record deleted between the read and the lease: 404, no login made', async () => {
    const { h, deps, users } = setup();
    put(h, 'P-1', { masterCase: 'MC-1' });
    deps.leases.takeRegisterLease = async () => {
      h.mem.docs.delete('patient:P-1');
      return false;
    };
    expect(await caught(registerWithTemporaryPassword(deps, staff, 'P-1', 1))).toMatchObject({ kind: 'not-found' });
    expect(users.size).toBe(0);
  });
});

describe('rule 17: revoke', () => {
  it('a record without a login calls no pool operation (there is no login to name); one with a login: disabled and signed out', async () => {
    const { h, deps, users } = setup();
    put(h, 'P-1', {});
    const calls: string[] = [];
    const { setEnabled, signOutEverywhere } = deps.logins;
    deps.logins.setEnabled = async (accountId, enabled) => {
      calls.push(`setEnabled:${accountId}:${enabled}`);
      return setEnabled(accountId, enabled);
    };
    deps.logins.signOutEverywhere = async (accountId) => {
      calls.push(`signOut:${accountId}`);
      return signOutEverywhere(accountId);
    };
    await revokeAccess(deps, staff, 'P-1');
    expect(calls).toEqual([]);
    put(h, 'P-2', { accountId: 'acc-2', username: 'pat' });
    users.set('acc-2', { password: 'x', enabled: true, signOuts: 0 });
    await revokeAccess(deps, staff, 'P-2');
    expect(calls).toEqual(['setEnabled:acc-2:false', 'signOut:acc-2']);
    expect(users.get('acc-2')).toMatchObject({ enabled: false, signOuts: 1 });
  });
});

describe('rule 25: a lease held at the first read', () => {
  it('409 from that read: no lease write is tried, no login made', async () => {
    const { h, deps, users } = setup();
    put(h, 'P-1', { masterCase: 'MC-1', registerLease: { id: 'other', until: '2026-11-21T10:00:10.000Z' } });
    let takes = 0;
    const take = deps.leases.takeRegisterLease;
    deps.leases.takeRegisterLease = async (...args) => {
      takes++;
      return take(...args);
    };
    expect(await caught(registerWithTemporaryPassword(deps, staff, 'P-1', 1))).toMatchObject({ kind: 'conflict', code: 'registration-in-progress' });
    expect(takes).toBe(0);
    expect(users.size).toBe(0);
  });
});

describe('rule 24: the record gone when a failed write is checked', () => {
  it('the first failure is passed on and the new login removed (never a login without a record)', async () => {
    const { h, deps, users } = setup();
    put(h, 'P-1', { masterCase: 'MC-1' });
    const down = new Error('table down');
    deps.accounts.saveLogin = async () => {
      h.mem.docs.delete('patient:P-1');
      throw down;
    };
    expect(await caught(registerWithTemporaryPassword(deps, staff, 'P-1', 1))).toBe(down);
    expect(users.size).toBe(0);
  });
});

describe('syncLoginEnabled', () => {
  it('a record without a login calls no pool operation; with one, the pool follows the record', async () => {
    const { deps } = setup();
    const calls: string[] = [];
    deps.logins.setEnabled = async (accountId, enabled) => {
      calls.push(`${accountId}:${enabled}`);
    };
    await syncLoginEnabled(deps, { accessEnabled: false } as never);
    expect(calls).toEqual([]);
    await syncLoginEnabled(deps, { accountId: 'acc-1', accessEnabled: false } as never);
    expect(calls).toEqual(['acc-1:false']);
  });
});
