/**
 * Staff actions on a patient's login (lambdas/domain/patient-access.ts; issue 14 item 5, issue 15):
 * Register Patient, clearing the sign-in lock, revoke.
 */
import { describe, expect, it } from 'vitest';
import type { Actor } from '../../../lambdas/domain/audit.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';
import { sendInvitation } from '../../../lambdas/domain/invitations.ts';
import { clearSignInLock, registerWithTemporaryPassword, revokeAccess } from '../../../lambdas/domain/patient-access.ts';
import { harness, staff } from './invitation-harness.ts';
import { setup } from './patient-access-harness.ts';

const noInvite: Actor = { id: 'temp', sourceIp: '203.0.113.9', staff: { sub: 'sub-temp', roles: ['staff'], permissions: { canInvite: false, autoInvite: false } } };


const refusal = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof DomainError) return `${err.kind}:${err.code}`;
    throw err;
  }
};

describe('Register Patient', () => {
  it('gives a temporary password that must be changed, and the record reads Forced Registration', async () => {
    const { h, deps, users } = setup();
    await h.seed('P-1', { email: 'p1@example.test', masterCase: 'MC-77' });
    const result = await registerWithTemporaryPassword(deps, staff, 'P-1', 72);
    expect(result.username).toBe('mc-77');
    expect(result.expiresAt).toBe('2026-11-24T10:00:00.000Z');
    expect(result.record.statusMessage).toBe('Enabled / Forced Registration / No Invite');
    const stored = h.record('P-1')!;
    expect(stored.login).toEqual({ mustChangePassword: true, temporaryPasswordExpiresAt: result.expiresAt });
    expect(users.get(stored.accountId!)?.password).toBe(result.temporaryPassword);
    expect(h.mem.audit.at(-1)).toMatchObject({ action: 'patient.registered-with-temporary-password', actor: 'frontdesk', detail: { newLogin: true } });
    expect(JSON.stringify(h.mem.audit)).not.toContain(result.temporaryPassword);
  });

  it('cancels a pending invitation: the status stops reading "Invite" and its link dies (the link generation moves)', async () => {
    const { h, deps } = setup();
    await h.seed('P-1');
    await sendInvitation(h.deps, staff, 'P-1');
    const before = h.record('P-1')!;
    expect(before.invite.status).toBe('Pending');
    const { record } = await registerWithTemporaryPassword(deps, staff, 'P-1', 72);
    expect(record.invite.status).toBe('Cancelled');
    expect(record.status.invite).toBe('No Invite');
    expect(h.record('P-1')!.linkGeneration).toBe((before.linkGeneration ?? 0) + 1);
  });

  it('is refused in words (409) while access is off, and touches nothing', async () => {
    const { h, deps, users } = setup();
    await h.seed('P-1', { email: 'p1@example.test', accessEnabled: false });
    const version = h.mem.docs.get('patient:P-1')!.version;
    const err = await registerWithTemporaryPassword(deps, staff, 'P-1', 72).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ kind: 'conflict', code: 'access-disabled' });
    expect((err as DomainError).message).toMatch(/access is turned off.*Turn access on/);
    expect(users.size).toBe(0);
    expect(h.mem.docs.get('patient:P-1')!.version).toBe(version);
  });

  it('clears the sign-in lock of the login it registers, and no other', async () => {
    const { h, deps, lockOut, isLocked } = setup();
    await h.seed('P-1', { email: 'p1@example.test', masterCase: 'MC-1' });
    lockOut('mc-1');
    lockOut('someone.else');
    await registerWithTemporaryPassword(deps, staff, 'P-1', 72);
    expect(isLocked('mc-1')).toBe(false);
    expect(isLocked('someone.else')).toBe(true);
  });

  it('needs no record to be refused: 404 for an unknown patient', async () => {
    const { deps } = setup();
    expect(await refusal(registerWithTemporaryPassword(deps, staff, 'P-404', 72))).toBe('not-found:not-found');
  });
});

describe('clear the sign-in lock', () => {
  async function lockedPatient() {
    const s = setup();
    await s.h.seed('P-1', { email: 'p1@example.test', masterCase: 'MC-1' });
    await s.h.seed('P-2', { email: 'p2@example.test', masterCase: 'MC-2' });
    const one = await registerWithTemporaryPassword(s.deps, staff, 'P-1', 72);
    const two = await registerWithTemporaryPassword(s.deps, staff, 'P-2', 72);
    s.lockOut(one.username);
    s.lockOut(two.username);
    return { ...s, one, two };
  }

  it('staff with invite permission clear the waits and lock of that login, audited with what was cleared', async () => {
    const { h, deps, isLocked, one } = await lockedPatient();
    const record = await clearSignInLock(deps, staff, 'P-1');
    expect(record.patientId).toBe('P-1');
    expect(isLocked(one.username)).toBe(false);
    expect(h.mem.audit.at(-1)).toMatchObject({ target: 'patient:P-1', actor: 'frontdesk', action: 'patient.sign-in-lock-cleared', detail: { failures: 100, wasLocked: true } });
  });

  it('hostile: a staff user without invite permission is refused (403) and the lock stays', async () => {
    const { h, deps, isLocked, one } = await lockedPatient();
    const audits = h.mem.audit.length;
    expect(await refusal(clearSignInLock(deps, noInvite, 'P-1'))).toBe('forbidden:forbidden');
    expect(isLocked(one.username)).toBe(true);
    expect(h.mem.audit.length).toBe(audits);
  });

  it("hostile: clearing one patient's lock leaves another patient's lock in place", async () => {
    const { deps, isLocked, one, two } = await lockedPatient();
    await clearSignInLock(deps, staff, 'P-2');
    expect(isLocked(two.username)).toBe(false);
    expect(isLocked(one.username)).toBe(true);
  });

  it('is safe to repeat, and 404 for an unknown patient', async () => {
    const { deps, isLocked, one } = await lockedPatient();
    await clearSignInLock(deps, staff, 'P-1');
    await clearSignInLock(deps, staff, 'P-1');
    expect(isLocked(one.username)).toBe(false);
    expect(await refusal(clearSignInLock(deps, staff, 'P-404'))).toBe('not-found:not-found');
  });
});

describe('revoke', () => {
  it('turns access off, cancels a pending invitation, disables the login and signs it out', async () => {
    const { h, deps, users } = setup();
    await h.seed('P-1', { email: 'p1@example.test', masterCase: 'MC-1' });
    const { record: registered } = await registerWithTemporaryPassword(deps, staff, 'P-1', 72);
    const signOuts = users.get(registered.accountId!)!.signOuts;
    const record = await revokeAccess(deps, staff, 'P-1');
    expect(record.accessEnabled).toBe(false);
    expect(record.statusMessage).toMatch(/^Disabled/);
    expect(users.get(registered.accountId!)).toMatchObject({ enabled: false, signOuts: signOuts + 1 });
    expect(h.record('P-1')!.revokedAt).toBeDefined();
  });
});
