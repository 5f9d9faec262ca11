/**
 * Issue 15 over the local stack: the diagnosis ("I can't get in") for each state a record can
 * really reach, the unlock (happy and hostile), and Register Patient refused while access is off.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { accountThrottleKey } from '../../lambdas/domain/sign-in-throttle.ts';
import { api, dynamodb, setClockOffset, stack } from './support/stack.ts';
import { enrolled, firstPassword, invited, register, registered, signIn, staffTokens, type StaffTokens } from './support/patients.ts';

let t: StaffTokens;
beforeAll(async () => {
  t = await staffTokens();
});
afterEach(async () => {
  await setClockOffset(0);
  await api(`/staff/${stack().staff.username}/permissions`, { method: 'PUT', token: t.admin, body: { canInvite: true } });
});

const diagnosis = async (patientId: string, token = t.staff) => {
  const res = await api(`/patients/${patientId}/portal/diagnosis`, { token });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json as { canSignIn: boolean; reasons: { code: string; words: string }[]; login: Record<string, unknown>; email: Record<string, unknown>; invitation: Record<string, unknown> };
};
const codes = async (patientId: string) => (await diagnosis(patientId)).reasons.map((r) => r.code);
const unlock = (patientId: string, token = t.staff) => api(`/patients/${patientId}/portal/sign-in-lock`, { method: 'DELETE', token });

/** The counter as 100 failed sign-ins leave it (written directly: reaching it takes hours of waits). */
async function lockOut(username: string) {
  await dynamodb().send(
    new PutItemCommand({
      TableName: stack().tableName,
      Item: { pk: { S: `THROTTLE#account#${accountThrottleKey('patient', username)}` }, sk: { S: 'FAILURES' }, failures: { N: '100' }, lastFailureAt: { N: String(Date.now()) } },
    }),
  );
}

describe('the diagnosis of each state', () => {
  it('no login and no email; then access off', async () => {
    const p = await enrolled(t.staff, 'DX-NL', { email: null });
    expect(await codes(p.patientId)).toEqual(['no-login', 'no-email']);
    await api(`/patients/${p.patientId}/portal`, { method: 'PUT', token: t.staff, body: { accessEnabled: false } });
    const d = await diagnosis(p.patientId);
    expect(d.canSignIn).toBe(false);
    expect(d.reasons[0]!.code).toBe('access-disabled');
  });

  it('a pending invitation, then locked by wrong PINs; the words tell staff what to do', async () => {
    const p = await invited(t.staff, 'DX-IN');
    expect(await codes(p.patientId)).toEqual(['invitation-pending', 'no-login']);
    for (let i = 0; i < 5; i++) await register({ token: p.token, pin: p.pin === '222222' ? '333333' : '222222', username: `dx-${i}-${p.patientId.toLowerCase()}`, password: firstPassword });
    const d = await diagnosis(p.patientId);
    expect(d.reasons.map((r) => r.code)).toEqual(['invitation-locked', 'no-login']);
    expect(d.reasons[0]!.words).toMatch(/checking who is calling/);
    // Never the PIN or the link's token in it.
    expect(JSON.stringify(d)).not.toContain(p.pin);
    expect(JSON.stringify(d)).not.toContain(p.token);
  });

  it('an invitation past its expiry', async () => {
    const p = await invited(t.staff, 'DX-EX');
    await setClockOffset(15 * 24 * 3_600_000);
    expect((await codes(p.patientId))[0]).toBe('invitation-expired');
  });

  it('must change password, then the temporary password expired (test clock)', async () => {
    const p = await enrolled(t.staff, 'DX-TP');
    const reg = await api(`/patients/${p.patientId}/portal/registration`, { method: 'POST', token: t.staff });
    expect(reg.status).toBe(201);
    const d = await diagnosis(p.patientId);
    expect(d.canSignIn).toBe(true);
    expect(d.reasons.map((r) => r.code)).toEqual(['must-change-password', 'can-sign-in']);
    expect(JSON.stringify(d)).not.toContain(reg.json.temporaryPassword);
    await setClockOffset(73 * 3_600_000);
    const later = await diagnosis(p.patientId);
    expect(later.canSignIn).toBe(false);
    expect(later.reasons.map((r) => r.code)).toEqual(['temporary-password-expired']);
  });

  it('waiting after real failed sign-ins, with the failures and the last failed sign-in', async () => {
    const p = await registered(t.staff, 'DX-W');
    for (let i = 0; i < 5; i++) expect((await signIn(p.username, `wrong guess number ${i}`)).status).toBe(401);
    expect((await signIn(p.username, firstPassword)).status).toBe(429);
    const d = await diagnosis(p.patientId);
    expect(d.reasons.map((r) => r.code)).toEqual(['sign-in-waiting']);
    expect(d.login).toMatchObject({ failures: 5, locked: false, waitUntil: expect.any(String), lastFailedSignInAt: expect.any(String), lastSignInAt: expect.any(String) });
  });
});

describe('clear the lock: DELETE /patients/{patientId}/portal/sign-in-lock', () => {
  it('staff with invite permission clear it: the diagnosis says locked, then nothing stops the patient, who signs in', async () => {
    const p = await registered(t.staff, 'DX-L');
    await lockOut(p.username);
    expect((await signIn(p.username, firstPassword)).status).toBe(429);
    const d = await diagnosis(p.patientId);
    expect(d.reasons.map((r) => r.code)).toEqual(['sign-in-locked']);
    expect(d.reasons[0]!.words).toMatch(/^The sign-in is locked after 100 failed tries since \d{1,2}:\d\d UTC\. After checking who is calling, clear the lock\.$/);
    const res = await unlock(p.patientId);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json.patientId).toBe(p.patientId);
    expect(await codes(p.patientId)).toEqual(['can-sign-in']);
    expect((await signIn(p.username, firstPassword)).status).toBe(200);
    const audit = await api(`/patients/${p.patientId}/portal/audit`, { token: t.admin });
    expect(audit.json.items).toContainEqual(expect.objectContaining({ action: 'patient.sign-in-lock-cleared', detail: expect.objectContaining({ failures: 100, wasLocked: true }) }));
  });

  it('hostile: a staff user without invite permission gets 403 and the lock stays; the diagnosis is still open to them', async () => {
    const p = await registered(t.staff, 'DX-H');
    await lockOut(p.username);
    await api(`/staff/${stack().staff.username}/permissions`, { method: 'PUT', token: t.admin, body: { canInvite: false } });
    const res = await unlock(p.patientId);
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect((await diagnosis(p.patientId)).reasons.map((r) => r.code)).toEqual(['sign-in-locked']);
    expect((await signIn(p.username, firstPassword)).status).toBe(429);
  });

  it("hostile: clearing another patient's id leaves this patient's lock in place; unknown id 404; no token 401", async () => {
    const locked = await registered(t.staff, 'DX-A');
    const other = await registered(t.staff, 'DX-B');
    await lockOut(locked.username);
    expect((await unlock(other.patientId)).status).toBe(200);
    expect((await signIn(locked.username, firstPassword)).status).toBe(429);
    expect((await unlock('DX-NOPE-404')).status).toBe(404);
    expect((await api(`/patients/${locked.patientId}/portal/sign-in-lock`, { method: 'DELETE' })).status).toBe(401);
    expect((await api(`/patients/${locked.patientId}/portal/diagnosis`)).status).toBe(401);
    expect((await api('/patients/DX-NOPE-404/portal/diagnosis', { token: t.staff })).status).toBe(404);
  });
});

describe('Register Patient, done right', () => {
  it('refused with 409 in words while access is off', async () => {
    const p = await enrolled(t.staff, 'DX-RA', { accessEnabled: false });
    const res = await api(`/patients/${p.patientId}/portal/registration`, { method: 'POST', token: t.staff });
    expect(res.status).toBe(409);
    expect(res.json.detail).toMatch(/access is turned off/i);
    expect(await codes(p.patientId)).toContain('access-disabled');
  });

  it('cancels a pending invitation (the status stops reading "Invite") and clears the sign-in lock', async () => {
    const p = await invited(t.staff, 'DX-RP');
    const reg = await api(`/patients/${p.patientId}/portal/registration`, { method: 'POST', token: t.staff });
    expect(reg.status).toBe(201);
    expect(reg.json.record.status.invite).toBe('No Invite');
    await lockOut(reg.json.username);
    expect((await signIn(reg.json.username, reg.json.temporaryPassword)).status).toBe(429);
    const again = await api(`/patients/${p.patientId}/portal/registration`, { method: 'POST', token: t.staff });
    expect(again.status).toBe(201);
    expect((await signIn(again.json.username, again.json.temporaryPassword)).json.challenge).toBe('NEW_PASSWORD_REQUIRED');
  });
});
